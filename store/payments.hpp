// The payments repository: payments, their durable states and the guarded moves between them,
// and what limits, duplicate checks and metrics read from them. Functions over a connection,
// like the rest of the store: writes run as group_writer jobs (inside its transaction), reads
// on a reader connection. A PostgreSQL backend would keep these signatures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/db.hpp"

namespace ussdpay::store {

/// The durable states of a payment (the saga's transient ones live only in memory).
enum class payment_state : std::uint8_t {
  created,        ///< PIN ok and limits passed; the hold may or may not have been taken
  unknown,        ///< the biller's answer is unknown: resolving by status query
  manual_review,  ///< unknown for too long: the hold is kept for an operator
  committed,      ///< paid: the hold went to the biller's settlement and our fees
  failed,         ///< not paid: the hold, if any, went back to the wallet
  reversed,       ///< paid, then undone by an operator: the money went back to the wallet
  completed,      ///< committed and the receipt was delivered
};
std::string_view to_string(payment_state s);
std::optional<payment_state> parse_payment_state(std::string_view text);
/// committed, failed, reversed, completed: nothing more happens without an operator.
bool is_final(payment_state s);

struct payment_record {
  std::string ref;  ///< 10 characters of Crockford base32; the idempotency key
  std::string msisdn, biller, account;
  std::int64_t amount = 0, fee = 0;  ///< minor units
  std::string currency = "PKR";
  std::string bill_reference, language;
  payment_state state = payment_state::created;
  std::string reason;  ///< why failed / reversed / manual review (never shown raw to subscribers)
  std::string biller_reference, biller_code;
  std::int64_t queries = 0;  ///< status queries and re-posts so far
  std::int64_t next_at = 0;  ///< Unix ms: when the saga looks at it again
  std::int64_t created_at = 0, updated_at = 0;
};

std::optional<db_error> insert_payment(db& d, const payment_record& p);
/// Every column of a payment, in the order read_payment reads them (a SELECT list).
inline constexpr std::string_view payment_columns =
    "ref, msisdn, biller, account, amount, fee, currency, bill_reference, language, state, "
    "reason, biller_reference, biller_code, queries, next_at, created_at, updated_at";
/// One row of a statement that selected payment_columns.
payment_record read_payment(const stmt& s);

/// Writes p's state, reason, biller reference and code, queries, next_at and updated_at, if the
/// stored state is `from`. false when it is not (another step already moved it) or on error.
bool update_payment(db& d, const payment_record& p, payment_state from);
std::optional<payment_record> find_payment(db& d, std::string_view ref);
/// Payments in a state, oldest first, at most `limit`.
std::vector<payment_record> payments_in_state(db& d, payment_state s, std::size_t limit);
/// A subscriber's newest payments first, at most `limit`.
std::vector<payment_record> recent_payments(db& d, std::string_view msisdn, std::size_t limit);

/// What a subscriber has paid (payments not failed) since two moments: for limits.
struct usage {
  std::int64_t amount_since_day = 0, count_since_day = 0, count_since_recent = 0;
};
usage subscriber_usage(db& d, std::string_view msisdn, std::int64_t day_start_ms,
                       std::int64_t recent_start_ms);
/// The newest payment, not failed, of the same amount to the same account since `since_ms`.
std::optional<payment_record> find_duplicate(db& d, std::string_view msisdn,
                                             std::string_view biller, std::string_view account,
                                             std::int64_t amount, std::int64_t since_ms);
/// Amount paid per biller since `since_ms` (payments committed or completed), largest first.
std::vector<std::pair<std::string, std::int64_t>> totals_by_biller(db& d, std::string_view msisdn,
                                                                   std::int64_t since_ms);

/// Open payments (created, unknown, manual review) per state, from the partial index: cheap
/// enough for every metrics scrape.
std::vector<std::pair<std::string, std::int64_t>> open_payment_counts(db& d);

/// A committed payment whose receipt (kind "confirmed", or a resent copy) was delivered moves
/// to COMPLETED: the subscriber has their proof. false when it was not COMMITTED (or on error).
bool complete_payment(db& d, std::string_view ref, std::int64_t now);

}  // namespace ussdpay::store
