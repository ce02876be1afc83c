// The payment saga as an I/O-free state machine (design.md section 4):
//
//   CREATED --post--> POSTING --accepted--> COMMITTED           (hold -> biller + fees; receipt)
//      ^                 |    --rejected--> FAILED              (hold -> wallet; SMS: refunded)
//      +-- not sent, within post_retry_within (query_initial apart) --+
//                        |    --unknown---> UNKNOWN --query--> accepted | rejected (as above)
//                        |                     |     --no record--> POSTING again (same id)
//                        |                     |     --unknown----> UNKNOWN (back-off)
//                        |                     +--older than manual_review_after--> MANUAL_REVIEW
//   MANUAL_REVIEW keeps the hold and keeps asking (at the longest back-off); an operator may
//   resolve it first. Nothing is ever voided on "unknown": only on a definitive rejection.
//
// The driver (service.hpp) feeds it the biller's answers and carries out what it returns; the
// durable states are the store's (store/payments.hpp). POSTING exists only in memory: after a
// crash a CREATED payment is posted again under the same id, which the biller's idempotency makes
// safe, and the hold (keyed by the same id) is never taken twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "adapters/biller.hpp"
#include "store/payments.hpp"

namespace ussdpay::payments {

/// [payments]: how the saga resolves unknown outcomes.
struct saga_config {
  /// First wait before asking the biller about an unknown outcome; doubles each time.
  std::chrono::milliseconds query_initial{2'000};
  /// The longest wait between two status queries.
  std::chrono::milliseconds query_max{60'000};
  /// An outcome still unknown this long after the payment was created goes to MANUAL_REVIEW.
  std::chrono::milliseconds manual_review_after{30 * 60'000};
  /// A first post that could not even be sent (no free connection to the biller, connect or TLS
  /// refused: the biller never saw it) is sent again every query_initial for this long after the
  /// payment was created; after that it fails and the money goes back. 0 = fail at once.
  std::chrono::milliseconds post_retry_within{10'000};
};

/// What the driver does next.
enum class command : std::uint8_t {
  post,          ///< biller.pay (again) under the payment id
  query,         ///< biller.status after `delay`
  commit,        ///< durable: COMMITTED, hold -> settlement + fees, receipt queued
  fail,          ///< durable: FAILED, hold -> wallet, "failed, refunded" SMS queued
  mark_unknown,  ///< durable: UNKNOWN with next_at; then query after `delay`
  mark_review,   ///< durable: MANUAL_REVIEW; then query after `delay`
};

struct decision {
  command what = command::post;
  std::chrono::milliseconds delay{0};
};

/// The wait before status query number `n` (0-based).
std::chrono::milliseconds query_delay(const saga_config& c, std::int64_t n);

/// What to do with the biller's answer to pay (`from_query` false) or status (true), for a
/// payment whose durable record is `p` (its queries counts earlier queries) at `now_ms`.
decision on_answer(const saga_config& c, const store::payment_record& p,
                   const adapters::pay_result& answer, bool from_query, std::int64_t now_ms);

/// What to do first with a payment found open at start-up (or handed over by an operator).
decision on_recover(const saga_config& c, const store::payment_record& p, std::int64_t now_ms);

/// A fresh payment reference: 10 characters of Crockford base32 (no I, L, O, U) from 50 random
/// bits (OpenSSL's RNG). Unique by the store's primary key; a clash is retried by the caller.
std::string new_reference();
/// Whether `text` looks like a reference (10 Crockford characters, upper case).
bool valid_reference(std::string_view text);

}  // namespace ussdpay::payments

namespace ussdpay::payments {

/// [limits]: what one subscriber may pay. Amounts in minor units; 0 = no such limit.
struct limits_config {
  adapters::minor_units min_amount = 100;           ///< per payment (Rs1)
  adapters::minor_units max_amount = 10'000'000;    ///< per payment (Rs100,000)
  adapters::minor_units daily_amount = 20'000'000;  ///< per subscriber per day (Rs200,000)
  std::int64_t daily_count = 20;                    ///< payments per subscriber per day
  /// Velocity: at most velocity_count payments within velocity_window.
  std::int64_t velocity_count = 5;
  std::chrono::milliseconds velocity_window{10 * 60'000};
  /// The same subscriber, biller, account and amount within this window asks "pay again?".
  std::chrono::milliseconds duplicate_window{30 * 60'000};
};

/// Which limit `amount` breaks given what the subscriber already paid: the limit's amount to
/// show ("Limit reached (Rs200,000)"), or nullopt when it is within every limit.
std::optional<adapters::minor_units> broken_limit(const limits_config& l, const store::usage& u,
                                                  adapters::minor_units amount);

/// What the checks before a payment found.
enum class precheck : std::uint8_t {
  ok,
  too_low,    ///< under min_amount
  limit,      ///< over a limit (precheck_result::limit says which amount to show)
  duplicate,  ///< the same payment was made within duplicate_window
};
struct precheck_result {
  precheck verdict = precheck::ok;
  adapters::minor_units limit = 0;
};
/// The checks before a payment, in one order for the quote (before the PIN screen) and the
/// payment itself, so the two never disagree: the minimum, then the limits, then a recent
/// identical payment (`recent_same`: found within duplicate_window and not confirmed by the
/// subscriber). The balance is checked by the caller (the hold itself, for a payment).
precheck_result check_before_paying(const limits_config& l, const store::usage& u,
                                    adapters::minor_units amount, bool recent_same);

}  // namespace ussdpay::payments
