// The outbox: the SMS to subscribers (receipts, pending and lockout notices, reminders),
// queued in the same transaction as what they report, one per reference and kind; the sender's
// progress through the queue, and delivery receipts matched back to their message. Functions
// over a connection: writes run as group_writer jobs, reads on a reader connection.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.hpp"

namespace ussdpay::store {

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
/// In a cluster: the queued messages due by `now` with an id above `after_id`, in id order, that
/// no other instance has claimed (or whose claim ended), claimed for `node` until `claim_until`
/// and returned. On PostgreSQL rows another instance is claiming at the same moment are skipped
/// (FOR UPDATE SKIP LOCKED), so two instances never take the same message. A writer job.
std::vector<outbox_message> claim_due_messages(
    db& d, std::string_view node, std::int64_t now, std::int64_t claim_until, std::int64_t after_id,
    std::size_t limit, std::int64_t latest = std::numeric_limits<std::int64_t>::max());

/// One message's new state after a submit (see update_message).
struct message_update {
  std::int64_t id = 0;
  std::string state, message_id, message_key;
  std::int64_t attempts = 0, next_at = 0;
};
/// After a submit: the new state, and the SMSC's message id as given and in canonical form
/// (`message_key`, what delivery receipts are matched on; "" when there is none). A claim on
/// the message ends with it.
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
std::vector<outbox_message> messages_for(db& d, std::string_view ref);
/// Messages still queued (the outbox depth), from the partial index.
std::int64_t queued_messages(db& d);
/// Queues a fresh copy of the newest message about `ref` (kind "<kind>-resend-<n>"), bounded
/// to `max_resends` copies. false when there is none to copy or the bound is reached.
bool requeue_message(db& d, std::string_view ref, std::string_view msisdn, std::int64_t now,
                     int max_resends);

}  // namespace ussdpay::store
