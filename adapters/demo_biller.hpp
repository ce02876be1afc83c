// The demo biller: a `biller` that answers from a CSV bill book (etc/demo/bills.csv) and, when
// asked to, invents a deterministic unpaid bill for any well-formed consumer number. It exists
// for demos, the simulator and load tests, and can misbehave on purpose (latency, definitive
// rejections, "no answer" timeouts whose payment may still have gone through) so the payment
// saga's unknown-outcome path gets exercised.
//
// Everything it decides happens at call time, on the network thread; only the completion is
// deferred (posted, or after a steady_timer). No locks: call it from the thread that runs its
// executor.
//
//   async_pay(req) --+-- draw < timeout_rate --> [coin: apply or drop] --(timeout)--> unknown
//                    +-- otherwise ------------> apply -----------------(latency)--> result
//   apply = stored result for req.payment_id, else check account, bill, amount, reject_rate;
//           store the outcome; an acceptance marks the bill paid in this adapter's overlay.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/biller.hpp"

namespace ussdpay::adapters {

// ---- The bill book: known bills for every biller, loaded once at startup --------------------

/// A bill in the book, with whether the biller already considers it paid.
struct book_entry {
  bill due;           ///< bill.paid_on is set exactly when `paid`
  bool paid = false;  ///< the CSV's status column: paid or unpaid
};

/// Bills keyed by (biller id, consumer number); at most one (current) bill per account.
/// Immutable once shared: adapters keep their own payments in an overlay.
class bill_book {
 public:
  /// The bill for `account` at biller `biller_id`, or nullptr.
  const book_entry* find(std::string_view biller_id, std::string_view account) const;
  /// Adds a bill; false (and no change) when that biller already has a bill for that account.
  bool add(const std::string& biller_id, book_entry entry);
  /// Bills over all billers.
  std::size_t size() const { return size_; }

 private:
  using accounts = std::map<std::string, book_entry, std::less<>>;
  std::map<std::string, accounts, std::less<>> billers_;
  std::size_t size_ = 0;
};

/// What load_bill_book accepts; the defaults are the production bounds.
struct bill_book_limits {
  std::size_t max_bytes = 16u << 20;  ///< larger files are refused whole
  std::size_t max_rows = 1'000'000;   ///< data rows (after the header); the rest is refused
  std::size_t max_errors = 100;       ///< parsing stops after this many errors
};

/// A loaded book and what was wrong with the file.
struct bill_book_load {
  std::shared_ptr<bill_book> book;  ///< never null: every row that parsed
  std::vector<std::string> errors;  ///< "file:line: message"; empty when the file is good
};

/// Reads and parses a bill book CSV (see adapters/README.md for the format). Blocking file I/O:
/// call at startup, not on the network thread. A caller should refuse to start on any error.
bill_book_load load_bill_book(const std::string& path, const bill_book_limits& limits = {});

/// Parses bill book CSV text; `source` names it in errors ("source:line: message").
bill_book_load parse_bill_book(std::string_view text, std::string_view source,
                               const bill_book_limits& limits = {});

/// Exact decimal money text ("4520", "4520.5", "4520.50") in minor units (2 decimals); nullopt
/// for anything else: signs, exponents, separators, spaces, more than 2 decimals, more than 13
/// integer digits.
std::optional<minor_units> parse_amount(std::string_view text);

// ---- The adapter ----------------------------------------------------------------------------

/// Configuration of one demo biller (`[[billers]] kind = "demo"`).
struct demo_biller_config {
  /// CSV bill book shared by every demo biller; "" = none. Loaded by the wiring with
  /// load_bill_book; the adapter itself never reads files.
  std::string bills_file = "";
  /// Invent a deterministic unpaid bill for a well-formed number missing from the book.
  bool synthesize = true;
  /// Every answer arrives after this delay (a steady_timer); 0 = posted at once.
  std::chrono::milliseconds latency{0};
  /// Fraction (0..1) of new payments definitively rejected with code "05".
  double reject_rate = 0;
  /// Fraction (0..1) of inquiries and payments not answered: they complete after `timeout` as
  /// unavailable / unknown. Half of such payments (a seeded coin) still take effect, so a later
  /// async_status shows the truth. Status and reverse always answer.
  double timeout_rate = 0;
  /// A biller that is down for payments: pay, status and reverse never answer (they complete
  /// after `timeout` as unknown) and nothing is paid; inquiries still answer. For tests of
  /// payments that stay unknown until an operator resolves them.
  bool silent_payments = false;
  /// How long an unanswered call takes to complete as unavailable / unknown.
  std::chrono::milliseconds timeout{5000};
  /// Seed of the fault draws and of biller references: the same seed, the same run.
  std::uint64_t seed = 1;
  /// Payment ids remembered for idempotency, status and reverse (oldest forgotten first), and
  /// bills remembered as paid by this adapter.
  std::size_t remembered_payments = 1'000'000;
};

namespace detail {
struct demo_biller_state;
}

/// What the demo biller remembers about one payment: a line of its own book.
struct demo_posting {
  std::string payment_id;
  std::string account;
  minor_units amount = 0;
  pay_result result;  ///< accepted or rejected, as first decided
  bool reversed = false;
  std::string paid_on;  ///< YYYY-MM-DD of an acceptance
};

/// Makes a posting durable (a real biller commits before it answers); calls `durable(ok)` from
/// any thread once written (ok) or once it could not be (not ok).
using demo_journal = std::function<void(demo_posting, std::function<void(bool ok)> durable)>;

/// A demo `biller`. Result codes (also in adapters/README.md):
///   "00" found / accepted / reversed      "01" no such consumer number
///   "02" malformed consumer number        "03" bill already paid
///   "04" wrong amount or currency         "05" declined (reject_rate)
///   "30" malformed request (payment id empty or over 64 characters)
///   "NOTFOUND" no record of that payment id (status: unknown; reverse: rejected)
///   "NOTPAID" reverse of a rejected payment  "RV" status or pay of a reversed payment
///
/// Destroying the adapter (on the network thread) with calls pending is safe: their timers are
/// cancelled and each completes once, promptly, as unavailable / unknown ("demo biller shut
/// down"). Handlers still queued when the io_context itself is destroyed are destroyed
/// uninvoked, as for any Asio operation.
class demo_biller final : public biller {
 public:
  /// Throws std::invalid_argument for rates outside 0..1, negative durations or
  /// remembered_payments = 0 (bad configuration, at startup). A null `book` means no book.
  demo_biller(boost::asio::any_io_executor ex, biller_info info, demo_biller_config config,
              std::shared_ptr<const bill_book> book);
  ~demo_biller() override;
  demo_biller(const demo_biller&) = delete;
  demo_biller& operator=(const demo_biller&) = delete;

  const biller_info& info() const override;
  void async_inquire(std::string account, handler<void(inquiry_result)> done) override;
  void async_pay(pay_request req, handler<void(pay_result)> done) override;
  void async_status(std::string payment_id, handler<void(pay_result)> done) override;
  void async_reverse(std::string payment_id, handler<void(pay_result)> done) override;

  /// From now on every new decision (payment accepted or rejected, reversal) goes to `journal`
  /// and its answer waits until it is durable; an answer that could not be made durable is
  /// "unknown". Without a journal the adapter remembers in memory only.
  void set_journal(demo_journal journal);
  /// Reloads the book written through the journal (at startup, before any call).
  void restore(const std::vector<demo_posting>& book);

 private:
  std::shared_ptr<detail::demo_biller_state> state_;
};

}  // namespace ussdpay::adapters
