// The biller behind ussdpay-billersim, without I/O (but for its journal file): one HTTP request
// in, one HTTP answer out, per the JSON contract of docs/biller-api.md, over the demo bill book
// (etc/demo/bills.csv, adapters::load_bill_book). Serves every biller in the book, each under
// its own path prefix: /{biller}/bills/{consumer}, /{biller}/payments, ...
//
// It is a durable, idempotent peer: every payment is recorded by payment id (= Idempotency-Key);
// a repeated pay returns the stored answer and is counted as a duplicate, never posted twice;
// with a journal, every acceptance and reversal is appended and fsync'd before the answer, and
// reloaded at start, so the book survives restarts.
//
// Fault knobs (a seeded PRNG draws per API request): no answer at all, 503, or a garbled 200.
// The request behind a fault is still processed when accept_after_timeout is set, otherwise
// when a coin says so (half the time) — the biller posted but the answer got lost.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "adapters/demo_biller.hpp"

namespace ussdpay::billersim {

struct sim_faults {
  double fail_5xx_rate = 0;  ///< fraction of API requests answered 503
  double garbage_rate = 0;   ///< fraction answered 200 with a body that is not the contract
  double timeout_rate = 0;   ///< fraction never answered (the connection is held open)
  /// Faulted requests are always processed (the answer is lost), not half of them.
  bool accept_after_timeout = false;
  std::chrono::milliseconds latency{0};  ///< delay before every API answer
};

struct sim_config {
  bool synthesize = false;  ///< invent an unpaid bill for an unknown number of 6-24 digits
  std::string api_key;      ///< "" = no Authorization required; else "Bearer <api_key>"
  std::string journal;      ///< "" = memory only
  std::uint64_t seed = 1;
  std::size_t max_payments = 1'000'000;  ///< payments recorded at most; then 503
  sim_faults faults;
};

struct sim_request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;
  std::string authorization;
  std::string idempotency_key;
  std::string content_type;
  std::string body;
};

struct sim_response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  bool drop = false;  ///< the timeout fault: send nothing, hold the connection
  bool api = false;   ///< a contract request (not /_stats or /_faults)
};

struct sim_stats {
  std::uint64_t connections = 0;      ///< TLS connections accepted
  std::uint64_t api_connections = 0;  ///< connections that carried a contract request
  std::uint64_t requests = 0;         ///< contract requests
  std::uint64_t inquiries = 0;
  std::uint64_t postings = 0;     ///< accepted payments in the book (journal included)
  std::uint64_t duplicates = 0;   ///< pays repeating a known payment id (answered from memory)
  std::uint64_t conflicts = 0;    ///< a known payment id with another consumer or amount
  std::uint64_t rejections = 0;   ///< payments definitively rejected
  std::uint64_t reversals = 0;    ///< accepted payments reversed
  std::int64_t amount_total = 0;  ///< minor units of accepted, not reversed, payments
  std::uint64_t faults_5xx = 0;
  std::uint64_t faults_garbage = 0;
  std::uint64_t faults_timeout = 0;
  std::uint64_t journal_loaded = 0;  ///< journal lines replayed at start
};

class sim_biller {
 public:
  sim_biller(sim_config cfg, std::shared_ptr<const adapters::bill_book> book);
  ~sim_biller();
  sim_biller(const sim_biller&) = delete;
  sim_biller& operator=(const sim_biller&) = delete;

  /// Replays the journal (if configured) and opens it for appending. Errors name file:line; a
  /// torn last line (a crash mid-write) is skipped with a warning in `warnings`.
  std::vector<std::string> open_journal(std::vector<std::string>& warnings);

  /// One request. Never throws for anything a client can send.
  sim_response handle(const sim_request& req);

  sim_stats& stats() { return stats_; }
  const sim_faults& faults() const { return cfg_.faults; }

 private:
  struct payment {
    std::string biller, account, currency, reference, paid_on;
    adapters::minor_units amount = 0;
    unsigned http_status = 200;  ///< the stored answer, replayed for duplicates
    std::string answer;
    bool accepted = false;
    bool reversed = false;
    std::string code;
  };

  sim_response route(const sim_request& req);
  sim_response inquiry(const std::string& biller, const std::string& account);
  sim_response pay(const std::string& biller, const sim_request& req);
  sim_response status(const std::string& biller, const std::string& id);
  sim_response reverse(const std::string& biller, const std::string& id);
  sim_response set_faults(const std::string& body);
  std::string stats_json() const;
  std::string payment_json(const std::string& id, const payment& p) const;
  bool append_journal(const std::string& line);
  double draw();

  sim_config cfg_;
  std::shared_ptr<const adapters::bill_book> book_;
  std::map<std::string, payment> payments_;
  // (biller, account) -> payment id of the acceptance that paid it.
  std::map<std::pair<std::string, std::string>, std::string> paid_;
  std::mt19937_64 rng_;
  int journal_fd_ = -1;
  sim_stats stats_;
};

}  // namespace ussdpay::billersim
