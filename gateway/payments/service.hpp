// The payment saga's driver: one coroutine per open payment on the network thread, carrying out
// what saga.hpp decides. Durable steps are group_writer jobs that put the payment's state change,
// its ledger step and its SMS in one transaction; reads and PIN checks run on the reader pool.
//
//   pay(): PIN (wallet) -> [limits, duplicate, insert CREATED, hold]  (one transaction)
//          -> drive(): post -> commit | fail | unknown -> query ... (see saga.hpp)
//   The dialog gets its answer once: paid / failed as soon as they are durable, or "pending,
//   you will get an SMS" (with the reference) after answer_within or on an unknown outcome.
//   recover(): at start-up, every CREATED, UNKNOWN and MANUAL_REVIEW payment is driven again.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "adapters/biller.hpp"
#include "adapters/wallet.hpp"
#include "gateway/common/metrics.hpp"
#include "gateway/payments/config.hpp"
#include "gateway/payments/saga.hpp"
#include "store/requests.hpp"

namespace ussdpay::store {
class db;
class group_writer;
class reader_pool;
}  // namespace ussdpay::store

namespace ussdpay::payments {

/// Renders the SMS about a payment: kind is "confirmed", "failed", "pending" or "reversed";
/// balance is the wallet's balance after the step (minor units).
using receipt_fn = std::function<std::string(std::string_view kind, const store::payment_record& p,
                                             adapters::minor_units balance)>;

struct pay_request {
  std::string msisdn, biller, account, currency, bill_reference, language;
  adapters::minor_units amount = 0, fee = 0;
  std::string pin;                   ///< wiped once checked
  bool duplicate_confirmed = false;  ///< the subscriber chose "pay again"
};

enum class answer_kind : std::uint8_t {
  ok,  ///< quote: within limits and balance; pay: paid
  pending,
  rejected,
  wrong_pin,
  locked,
  insufficient,
  limit,
  duplicate,
  too_low,
  skipped,  ///< pay_scheduled: the claim said there is nothing to pay
  error,
};

struct pay_answer {
  answer_kind kind = answer_kind::error;
  std::string ref;
  adapters::minor_units balance = 0;
  std::uint32_t tries_left = 0, locked_minutes = 0;
  bool just_locked = false;  ///< this wrong PIN locked the PIN
  std::string duplicate_ref;
  std::int64_t duplicate_minutes = 0;
  adapters::minor_units limit = 0;
};

/// What a scheduled payment (auto-pay, gateway/schedule/) adds to the payment's transaction,
/// so the decision to pay a bill and the payment are durable together or not at all.
struct scheduled_hooks {
  /// Runs first: false when there is nothing to pay (the bill was already claimed); the
  /// transaction then commits what claim wrote and the answer is `skipped`.
  std::function<bool(store::db&)> claim;
  /// Runs last: with the payment made (answer ok, `p` set) or why none was (limit,
  /// insufficient, duplicate; `p` null), e.g. to record the outcome and queue an SMS.
  std::function<void(store::db&, const pay_answer&, const store::payment_record* p)> settled;
};

struct service_stats {
  /// Biller calls are counted per biller by gateway/billers/metered.hpp.
  std::uint64_t created = 0, committed = 0, failed = 0, unknown = 0, review = 0, recovered = 0,
                lost_races = 0, reversed = 0;
  std::size_t in_flight = 0;
};

struct resolution;
struct resolve_result;

class service {
 public:
  using biller_lookup = std::function<adapters::biller*(std::string_view id)>;

  /// `wallet.in_store()` must be non-null (the embedded wallet): its ledger steps join the
  /// saga's transactions.
  service(boost::asio::any_io_executor ex, payments_config cfg, store::group_writer& writer,
          store::reader_pool& readers, adapters::wallet& wallet, biller_lookup billers,
          receipt_fn render);
  ~service();

  /// The checks before the PIN screen: limits, duplicate, balance (total = amount + fee).
  void quote(pay_request r, std::function<void(pay_answer)> done);
  /// Pays: PIN, limits, hold, then the saga. `done` is called once, on the executor.
  void pay(pay_request r, std::function<void(pay_answer)> done);
  /// Pays without a PIN, for a payment the subscriber authorised earlier (auto-pay's consent):
  /// `hooks` run inside the transaction that creates it; limits and the duplicate check apply
  /// as in pay(), and a short balance is answered `insufficient` without a hold. The saga then
  /// drives it like any other payment (its receipt included). `hooks.claim` must be set.
  void pay_scheduled(pay_request r, scheduled_hooks hooks, std::function<void(pay_answer)> done);
  /// Drives every open payment found in the store, then starts carrying out operators'
  /// requests (reversals) every scan_interval. Call once at start-up.
  void recover(std::function<void(std::size_t)> done = nullptr);
  /// An operator's decision on an UNKNOWN, MANUAL_REVIEW or stranded CREATED payment
  /// (gateway/payments/resolve.hpp), written through the writer; the receipt goes at once.
  void resolve(resolution r, std::function<void(resolve_result)> done);
  /// Called after a transaction queued an SMS (wires the outbox sender).
  void on_message_queued(std::function<void()> poke) { poke_ = std::move(poke); }

  const service_stats& stats() const { return stats_; }
  /// The payments families of /metrics: transitions since start, payments in flight.
  void write_metrics(metrics::prometheus_text& m) const;
  const payments_config& config() const { return cfg_; }
  void stop();

 private:
  struct flight;
  /// After the PIN (or for a scheduled payment): the creating transaction, then the saga.
  boost::asio::awaitable<void> create(pay_request r, scheduled_hooks hooks,
                                      std::function<void(pay_answer)> done);
  boost::asio::awaitable<void> drive(store::payment_record p, decision first,
                                     std::shared_ptr<flight> f);
  boost::asio::awaitable<adapters::pay_result> call_biller(const store::payment_record& p,
                                                           bool status);
  /// A durable step: done, or not because another writer (an operator) moved the payment
  /// first, or not because the store failed (the step is tried again later).
  enum class written : std::uint8_t { done, raced, failed };
  boost::asio::awaitable<written> finalize(store::payment_record& p, command what,
                                           const adapters::pay_result& answer,
                                           adapters::minor_units& balance);
  boost::asio::awaitable<written> persist(store::payment_record& p, store::payment_state to,
                                          std::int64_t next_at);
  void finished(const std::string& ref);
  boost::asio::awaitable<void> scan_requests();
  boost::asio::awaitable<void> resolve_flow(resolution r, std::function<void(resolve_result)> done);
  boost::asio::awaitable<void> reverse(store::operator_request r);
  void start(store::payment_record p, decision first, std::shared_ptr<flight> f);

  boost::asio::any_io_executor ex_;
  payments_config cfg_;
  store::group_writer& writer_;
  store::reader_pool& readers_;
  adapters::wallet& wallet_;
  adapters::ledger_steps& ledger_;
  biller_lookup billers_;
  receipt_fn render_;
  std::function<void()> poke_;
  std::unordered_set<std::string> active_;
  service_stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ussdpay::payments
