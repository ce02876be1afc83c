#include "store/outbox.hpp"

#include <algorithm>
#include <string>

namespace ussdpay::store {

namespace {

constexpr std::string_view message_columns =
    "id, ref, kind, msisdn, body, state, message_id, attempts, next_at, created_at, "
    "delivery_stat, delivery_error, delivered_at";

std::vector<outbox_message> read_messages(stmt& s) {
  std::vector<outbox_message> out;
  while (s.step())
    out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6),
                   s.int64(7), s.int64(8), s.int64(9), s.text(10), s.text(11), s.int64(12)});
  return out;
}

}  // namespace

enqueue_status enqueue_message(db& d, std::string_view ref, std::string_view kind,
                               std::string_view msisdn, std::string_view body, std::int64_t now) {
  stmt s(d,
         "INSERT INTO outbox(ref, kind, msisdn, body, next_at, created_at, updated_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref, kind) DO NOTHING");
  if (s.bind(1, ref)
          .bind(2, kind)
          .bind(3, msisdn)
          .bind(4, body)
          .bind(5, now)
          .bind(6, now)
          .bind(7, now)
          .run())
    return enqueue_status::failed;
  return d.changes() == 1 ? enqueue_status::queued : enqueue_status::already_queued;
}

std::vector<outbox_message> due_messages(db& d, std::int64_t now, std::int64_t after_id,
                                         std::size_t limit, std::int64_t latest) {
  stmt s(d, "SELECT " + std::string(message_columns) +
                " FROM outbox INDEXED BY outbox_queued_by_id WHERE state = 'queued' AND id > ? "
                "AND (next_at <= ? OR next_at > ?) ORDER BY id LIMIT ?");
  s.bind(1, after_id).bind(2, now).bind(3, latest).bind(4, static_cast<std::int64_t>(limit));
  return read_messages(s);
}

std::vector<outbox_message> claim_due_messages(db& d, std::string_view node, std::int64_t now,
                                               std::int64_t claim_until, std::int64_t after_id,
                                               std::size_t limit, std::int64_t latest) {
  const std::string pick =
      "SELECT id FROM outbox INDEXED BY outbox_queued_by_id WHERE state = 'queued' AND id > ?3 "
      "AND (next_at <= ?4 OR next_at > ?5) AND (claim_until <= ?4 OR claimed_by = ?1) "
      "ORDER BY id LIMIT ?6";
  const bool skip_locked = d.kind() == backend::postgresql;
  const std::string sql = "UPDATE outbox SET claimed_by = ?1, claim_until = ?2 WHERE id IN (" +
                          pick + (skip_locked ? " FOR UPDATE SKIP LOCKED" : "") + ") RETURNING " +
                          std::string(message_columns);
  stmt s(d, sql);
  s.bind(1, node).bind(2, claim_until).bind(3, after_id).bind(4, now).bind(5, latest);
  s.bind(6, static_cast<std::int64_t>(limit));
  auto out = read_messages(s);
  // RETURNING gives no order: the sender pages by id.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::optional<db_error> update_message(db& d, std::int64_t id, std::string_view state,
                                       std::string_view message_id, std::string_view message_key,
                                       std::int64_t attempts, std::int64_t next_at,
                                       std::int64_t now) {
  stmt s(d,
         "UPDATE outbox SET state = ?, message_id = ?, message_key = ?, attempts = ?, next_at = ?, "
         "updated_at = ?, claim_until = 0 WHERE id = ?");
  return s.bind(1, state)
      .bind(2, message_id)
      .bind(3, message_key)
      .bind(4, attempts)
      .bind(5, next_at)
      .bind(6, now)
      .bind(7, id)
      .run();
}

std::optional<delivery_match> record_delivery(db& d, const std::vector<std::string>& keys,
                                              std::string_view state, std::string_view stat,
                                              std::string_view error, std::int64_t now) {
  // "message_key != ''" lets SQLite use the partial index outbox_by_message_key (it cannot
  // know that the bound key is not empty).
  // A sent message first, by the best key; only then a message that already has its receipt.
  // On PostgreSQL another instance may commit the message's outcome between the two looks: a
  // message the second look finds "sent" takes the receipt then (by id), rather than being
  // taken for one that already had it. The outer state = 'sent' is checked again on a row
  // another transaction changed meanwhile.
  const auto deliver = [&](stmt& s) -> std::optional<delivery_match> {
    s.bind(1, state).bind(2, stat).bind(3, error).bind(4, now).bind(5, now);
    if (s.step()) return delivery_match{s.int64(0), s.text(1), s.text(2), false};
    return std::nullopt;
  };
  for (const auto& key : keys) {
    stmt s(d,
           "UPDATE outbox SET state = ?, delivery_stat = ?, delivery_error = ?, delivered_at = ?, "
           "updated_at = ? WHERE id = (SELECT id FROM outbox WHERE message_key = ? AND "
           "message_key != '' AND state = 'sent' ORDER BY id DESC LIMIT 1) AND state = 'sent' "
           "RETURNING id, ref, kind");
    s.bind(6, key);
    if (auto m = deliver(s)) return m;
  }
  for (const auto& key : keys) {
    stmt s(d,
           "SELECT id, ref, kind, state FROM outbox WHERE message_key = ? AND message_key != '' "
           "ORDER BY id DESC LIMIT 1");
    s.bind(1, key);
    if (!s.step()) continue;
    if (s.text(3) == "sent") {
      stmt by_id(d,
                 "UPDATE outbox SET state = ?, delivery_stat = ?, delivery_error = ?, "
                 "delivered_at = ?, updated_at = ? WHERE id = ? AND state = 'sent' "
                 "RETURNING id, ref, kind");
      by_id.bind(6, s.int64(0));
      if (auto m = deliver(by_id)) return m;
    }
    return delivery_match{s.int64(0), s.text(1), s.text(2), true};
  }
  return std::nullopt;
}

std::int64_t queued_messages(db& d) {
  stmt s(d, "SELECT count(*) FROM outbox INDEXED BY outbox_queued_by_id WHERE state = 'queued'");
  return s.step() ? s.int64(0) : -1;
}

std::vector<outbox_message> messages_for(db& d, std::string_view ref) {
  stmt s(d, "SELECT " + std::string(message_columns) + " FROM outbox WHERE ref = ? ORDER BY id");
  s.bind(1, ref);
  return read_messages(s);
}

bool requeue_message(db& d, std::string_view ref, std::string_view msisdn, std::int64_t now,
                     int max_resends) {
  stmt last(d,
            "SELECT kind, body FROM outbox WHERE ref = ? AND msisdn = ? AND kind NOT LIKE "
            "'%-resend-%' ORDER BY id DESC LIMIT 1");
  last.bind(1, ref).bind(2, msisdn);
  if (!last.step()) return false;
  const std::string kind = last.text(0), body = last.text(1);
  stmt count(d, "SELECT count(*) FROM outbox WHERE ref = ? AND kind LIKE ?");
  count.bind(1, ref).bind(2, kind + "-resend-%");
  const auto n = count.step() ? count.int64(0) : max_resends;
  if (n >= max_resends) return false;
  return enqueue_message(d, ref, kind + "-resend-" + std::to_string(n + 1), msisdn, body, now) ==
         enqueue_status::queued;
}

}  // namespace ussdpay::store
