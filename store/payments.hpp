// The payments repository: payments and their states, the outbox, saved accounts, complaints,
// and the demo biller's book. Functions over a connection, like the ledger: writes run as
// group_writer jobs (inside its transaction), reads on a reader connection. A PostgreSQL backend
// would keep these signatures.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite.hpp"

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
/// Writes p's state, reason, biller reference and code, queries, next_at and updated_at, if the
/// stored state is `from`. false when it is not (another step already moved it) or on error.
/// Every column of a payment, in the order read_payment reads them (a SELECT list).
inline constexpr std::string_view payment_columns =
    "ref, msisdn, biller, account, amount, fee, currency, bill_reference, language, state, "
    "reason, biller_reference, biller_code, queries, next_at, created_at, updated_at";
/// One row of a statement that selected payment_columns.
payment_record read_payment(const stmt& s);

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

// ---- outbox -------------------------------------------------------------------------------

struct outbox_message {
  std::int64_t id = 0;
  std::string ref, kind, msisdn, body, state, message_id;
  std::int64_t attempts = 0, next_at = 0, created_at = 0;
  std::string delivery_stat, delivery_error;  ///< from the delivery receipt, "" before one
  std::int64_t delivered_at = 0;              ///< when the receipt came (ms), 0 before one
};
enum class enqueue_status : std::uint8_t { queued, already_queued, failed };
/// Queues one message per (ref, kind): a second one for the same pair is not queued.
enqueue_status enqueue_message(db& d, std::string_view ref, std::string_view kind,
                               std::string_view msisdn, std::string_view body, std::int64_t now);
/// Queued messages due by `now` with an id above `after_id`, in id order: a sender pages
/// through the queue with the last id it read. A message due after `latest` is due now too:
/// no retry waits that long (the sender passes now + its longest back-off), so the wall clock
/// went back since it was scheduled, and it would otherwise wait as long as the clock jumped.
std::vector<outbox_message> due_messages(
    db& d, std::int64_t now, std::int64_t after_id, std::size_t limit,
    std::int64_t latest = std::numeric_limits<std::int64_t>::max());
/// One message's new state after a submit (see update_message).
struct message_update {
  std::int64_t id = 0;
  std::string state, message_id, message_key;
  std::int64_t attempts = 0, next_at = 0;
};
/// After a submit: the new state, and the SMSC's message id as given and in canonical form
/// (`message_key`, what delivery receipts are matched on; "" when there is none).
std::optional<db_error> update_message(db& d, std::int64_t id, std::string_view state,
                                       std::string_view message_id, std::string_view message_key,
                                       std::int64_t attempts, std::int64_t next_at,
                                       std::int64_t now);
/// What a delivery receipt matched.
struct delivery_match {
  std::int64_t id = 0;
  std::string ref, kind;
  bool repeated = false;  ///< the message already had a final state: this receipt changed nothing
};
/// Records a final delivery state ("delivered", "undeliverable", "expired") on the message
/// whose message_key is the first of `keys` to match a sent message (or, failing that, any
/// message: a repeated receipt). nullopt: no message has any of these keys.
std::optional<delivery_match> record_delivery(db& d, const std::vector<std::string>& keys,
                                              std::string_view state, std::string_view stat,
                                              std::string_view error, std::int64_t now);
/// A committed payment whose receipt (kind "confirmed", or a resent copy) was delivered moves
/// to COMPLETED: the subscriber has their proof. false when it was not COMMITTED (or on error).
bool complete_payment(db& d, std::string_view ref, std::int64_t now);
std::vector<outbox_message> messages_for(db& d, std::string_view ref);
/// Messages still queued (the outbox depth), from the partial index.
std::int64_t queued_messages(db& d);
/// Queues a fresh copy of the newest message about `ref` (kind "<kind>-resend-<n>"), bounded
/// to `max_resends` copies. false when there is none to copy or the bound is reached.
bool requeue_message(db& d, std::string_view ref, std::string_view msisdn, std::int64_t now,
                     int max_resends);

// ---- saved accounts -------------------------------------------------------------------------

struct saved_account {
  std::string biller, account, label;
  bool reminders = true;         ///< bill reminders by SMS (store/bills.hpp)
  std::int64_t autopay_max = 0;  ///< the auto-pay consent's maximum; 0: auto-pay off
};
enum class save_status : std::uint8_t { saved, exists, full, failed };
save_status save_account(db& d, std::string_view msisdn, const saved_account& a,
                         std::size_t max_saved, std::int64_t now);
/// Newest first; `biller` "" = every biller.
std::vector<saved_account> saved_accounts(db& d, std::string_view msisdn, std::string_view biller);
/// Removes a saved account and its auto-pay consent.
bool remove_saved_account(db& d, std::string_view msisdn, std::string_view biller,
                          std::string_view account);

// ---- complaints -------------------------------------------------------------------------------

/// Opens a complaint about payment `ref` of `msisdn` with ticket `ticket`; when one is already
/// open for that payment its ticket is returned instead. nullopt: no such payment of theirs.
std::optional<std::string> open_complaint(db& d, std::string_view ref, std::string_view msisdn,
                                          std::string_view ticket, std::int64_t now);
struct complaint {
  std::string ticket, ref, msisdn, state, note;
  std::int64_t created_at = 0;
};
std::vector<complaint> open_complaints(db& d, std::size_t limit);

// ---- operator requests -------------------------------------------------------------------------

struct operator_request {
  std::int64_t id = 0;
  std::string ref, action, state, note, result;
  std::int64_t created_at = 0;
};
/// Queues a request; nullopt (with `why`) when one is already pending for that payment.
std::optional<std::int64_t> add_request(db& d, std::string_view ref, std::string_view action,
                                        std::string_view note, std::int64_t now, std::string& why);
std::vector<operator_request> pending_requests(db& d, std::size_t limit);
std::optional<operator_request> find_request(db& d, std::int64_t id);
/// Records the outcome of a pending request (state "done" or "refused").
bool finish_request(db& d, std::int64_t id, std::string_view state, std::string_view result,
                    std::int64_t now);

// ---- the demo biller's book -------------------------------------------------------------------

struct demo_book_row {
  std::string biller, payment_id, account;
  std::int64_t amount = 0;
  bool accepted = false, reversed = false;
  std::string biller_reference, code, paid_on;
};
std::optional<db_error> put_demo_book(db& d, const demo_book_row& r);
std::vector<demo_book_row> demo_book(db& d, std::string_view biller);

}  // namespace ussdpay::store
