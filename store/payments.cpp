#include "store/payments.hpp"

#include <array>
#include <string>

namespace ussdpay::store {

namespace {

constexpr std::array<std::string_view, 7> state_names{
    "CREATED", "UNKNOWN", "MANUAL_REVIEW", "COMMITTED", "FAILED", "REVERSED", "COMPLETED"};

}  // namespace

payment_record read_payment(const stmt& s) {
  payment_record p;
  p.ref = s.text(0);
  p.msisdn = s.text(1);
  p.biller = s.text(2);
  p.account = s.text(3);
  p.amount = s.int64(4);
  p.fee = s.int64(5);
  p.currency = s.text(6);
  p.bill_reference = s.text(7);
  p.language = s.text(8);
  p.state = parse_payment_state(s.text(9)).value_or(payment_state::manual_review);
  p.reason = s.text(10);
  p.biller_reference = s.text(11);
  p.biller_code = s.text(12);
  p.queries = s.int64(13);
  p.next_at = s.int64(14);
  p.created_at = s.int64(15);
  p.updated_at = s.int64(16);
  return p;
}

namespace {

std::vector<payment_record> read_payments(stmt& s) {
  std::vector<payment_record> out;
  while (s.step()) out.push_back(read_payment(s));
  return out;
}

std::string select_payments(std::string_view where) {
  return std::string("SELECT ") + std::string(payment_columns) + " FROM payments " +
         std::string(where);
}

// Payments that took money or may yet: everything but FAILED.
constexpr std::string_view not_failed = "state <> 'FAILED'";

}  // namespace

std::string_view to_string(payment_state s) {
  return state_names.at(static_cast<std::size_t>(s));
}

std::optional<payment_state> parse_payment_state(std::string_view text) {
  for (std::size_t i = 0; i < state_names.size(); ++i)
    if (state_names[i] == text) return static_cast<payment_state>(i);
  return std::nullopt;
}

bool is_final(payment_state s) {
  return s == payment_state::committed || s == payment_state::failed ||
         s == payment_state::reversed || s == payment_state::completed;
}

std::optional<db_error> insert_payment(db& d, const payment_record& p) {
  stmt s(d, "INSERT INTO payments(" + std::string(payment_columns) +
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s.ok()) return s.prepare_error();
  return s.bind(1, p.ref)
      .bind(2, p.msisdn)
      .bind(3, p.biller)
      .bind(4, p.account)
      .bind(5, p.amount)
      .bind(6, p.fee)
      .bind(7, p.currency)
      .bind(8, p.bill_reference)
      .bind(9, p.language)
      .bind(10, to_string(p.state))
      .bind(11, p.reason)
      .bind(12, p.biller_reference)
      .bind(13, p.biller_code)
      .bind(14, p.queries)
      .bind(15, p.next_at)
      .bind(16, p.created_at)
      .bind(17, p.updated_at)
      .run();
}

bool update_payment(db& d, const payment_record& p, payment_state from) {
  stmt s(d,
         "UPDATE payments SET state = ?, reason = ?, biller_reference = ?, biller_code = ?, "
         "queries = ?, next_at = ?, updated_at = ? WHERE ref = ? AND state = ?");
  return !s.bind(1, to_string(p.state))
              .bind(2, p.reason)
              .bind(3, p.biller_reference)
              .bind(4, p.biller_code)
              .bind(5, p.queries)
              .bind(6, p.next_at)
              .bind(7, p.updated_at)
              .bind(8, p.ref)
              .bind(9, to_string(from))
              .run() &&
         d.changes() == 1;
}

std::optional<payment_record> find_payment(db& d, std::string_view ref) {
  stmt s(d, select_payments("WHERE ref = ?"));
  s.bind(1, ref);
  if (!s.step()) return std::nullopt;
  return read_payment(s);
}

std::vector<payment_record> payments_in_state(db& d, payment_state st, std::size_t limit) {
  stmt s(d, select_payments("WHERE state = ? ORDER BY created_at, ref LIMIT ?"));
  s.bind(1, to_string(st)).bind(2, static_cast<std::int64_t>(limit));
  return read_payments(s);
}

std::vector<payment_record> recent_payments(db& d, std::string_view msisdn, std::size_t limit) {
  stmt s(d, select_payments("WHERE msisdn = ? ORDER BY created_at DESC, ref LIMIT ?"));
  s.bind(1, msisdn).bind(2, static_cast<std::int64_t>(limit));
  return read_payments(s);
}

usage subscriber_usage(db& d, std::string_view msisdn, std::int64_t day_start_ms,
                       std::int64_t recent_start_ms) {
  stmt s(d,
         "SELECT coalesce(sum(amount), 0), count(*), coalesce(sum(created_at >= ?3), 0) "
         "FROM payments WHERE msisdn = ?1 AND created_at >= ?2 AND " +
             std::string(not_failed));
  s.bind(1, msisdn).bind(2, std::min(day_start_ms, recent_start_ms)).bind(3, recent_start_ms);
  usage u;
  if (!s.step()) return u;
  // The window covers both periods; the day's figures need created_at >= day_start.
  if (day_start_ms <= recent_start_ms) {
    u.amount_since_day = s.int64(0);
    u.count_since_day = s.int64(1);
    u.count_since_recent = s.int64(2);
    return u;
  }
  u.count_since_recent = s.int64(2);
  stmt day(d,
           "SELECT coalesce(sum(amount), 0), count(*) FROM payments WHERE msisdn = ? AND "
           "created_at >= ? AND " +
               std::string(not_failed));
  day.bind(1, msisdn).bind(2, day_start_ms);
  if (day.step()) {
    u.amount_since_day = day.int64(0);
    u.count_since_day = day.int64(1);
  }
  return u;
}

std::optional<payment_record> find_duplicate(db& d, std::string_view msisdn,
                                             std::string_view biller, std::string_view account,
                                             std::int64_t amount, std::int64_t since_ms) {
  stmt s(d, select_payments("WHERE msisdn = ? AND created_at >= ? AND biller = ? AND account = ? "
                            "AND amount = ? AND " +
                            std::string(not_failed) + " ORDER BY created_at DESC LIMIT 1"));
  s.bind(1, msisdn).bind(2, since_ms).bind(3, biller).bind(4, account).bind(5, amount);
  if (!s.step()) return std::nullopt;
  return read_payment(s);
}

std::vector<std::pair<std::string, std::int64_t>> totals_by_biller(db& d, std::string_view msisdn,
                                                                   std::int64_t since_ms) {
  stmt s(d,
         "SELECT biller, sum(amount) AS total FROM payments WHERE msisdn = ? AND created_at >= ? "
         "AND state IN ('COMMITTED', 'COMPLETED') GROUP BY biller ORDER BY total DESC, biller");
  s.bind(1, msisdn).bind(2, since_ms);
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (s.step()) out.emplace_back(s.text(0), s.int64(1));
  return out;
}

// ---- outbox ---------------------------------------------------------------------------------

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

std::optional<db_error> update_message(db& d, std::int64_t id, std::string_view state,
                                       std::string_view message_id, std::string_view message_key,
                                       std::int64_t attempts, std::int64_t next_at,
                                       std::int64_t now) {
  stmt s(d,
         "UPDATE outbox SET state = ?, message_id = ?, message_key = ?, attempts = ?, next_at = ?, "
         "updated_at = ? WHERE id = ?");
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
  for (const auto& key : keys) {
    stmt s(
        d,
        "UPDATE outbox SET state = ?, delivery_stat = ?, delivery_error = ?, delivered_at = ?, "
        "updated_at = ? WHERE id = (SELECT id FROM outbox WHERE message_key = ? AND "
        "message_key != '' AND state = 'sent' ORDER BY id DESC LIMIT 1) RETURNING id, ref, kind");
    s.bind(1, state).bind(2, stat).bind(3, error).bind(4, now).bind(5, now).bind(6, key);
    if (s.step()) return delivery_match{s.int64(0), s.text(1), s.text(2), false};
  }
  for (const auto& key : keys) {
    stmt s(d,
           "SELECT id, ref, kind FROM outbox WHERE message_key = ? AND message_key != '' ORDER BY "
           "id DESC LIMIT 1");
    s.bind(1, key);
    if (s.step()) return delivery_match{s.int64(0), s.text(1), s.text(2), true};
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::int64_t>> open_payment_counts(db& d) {
  stmt s(d,
         "SELECT state, count(*) FROM payments INDEXED BY payments_open WHERE state IN "
         "('CREATED', 'UNKNOWN', 'MANUAL_REVIEW') GROUP BY state");
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (s.step()) out.emplace_back(s.text(0), s.int64(1));
  return out;
}

std::int64_t queued_messages(db& d) {
  stmt s(d, "SELECT count(*) FROM outbox INDEXED BY outbox_queued_by_id WHERE state = 'queued'");
  return s.step() ? s.int64(0) : -1;
}

bool complete_payment(db& d, std::string_view ref, std::int64_t now) {
  stmt s(d,
         "UPDATE payments SET state = 'COMPLETED', updated_at = ? WHERE ref = ? AND "
         "state = 'COMMITTED'");
  return !s.bind(1, now).bind(2, ref).run() && d.changes() == 1;
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

// ---- saved accounts -------------------------------------------------------------------------

save_status save_account(db& d, std::string_view msisdn, const saved_account& a,
                         std::size_t max_saved, std::int64_t now) {
  stmt have(d,
            "SELECT count(*), coalesce(sum(biller = ? AND account = ?), 0) FROM "
            "saved_accounts WHERE msisdn = ?");
  have.bind(1, a.biller).bind(2, a.account).bind(3, msisdn);
  if (!have.step()) return save_status::failed;
  if (have.int64(1) > 0) return save_status::exists;
  if (static_cast<std::size_t>(have.int64(0)) >= max_saved) return save_status::full;
  stmt add(d,
           "INSERT INTO saved_accounts(msisdn, biller, account, label, created_at) VALUES (?, ?, "
           "?, ?, ?)");
  return add.bind(1, msisdn)
                 .bind(2, a.biller)
                 .bind(3, a.account)
                 .bind(4, a.label)
                 .bind(5, now)
                 .run()
             ? save_status::failed
             : save_status::saved;
}

std::vector<saved_account> saved_accounts(db& d, std::string_view msisdn, std::string_view biller) {
  stmt s(d,
         "SELECT s.biller, s.account, s.label, s.reminders, coalesce(a.max_amount, 0) FROM "
         "saved_accounts s LEFT JOIN autopay a ON a.msisdn = s.msisdn AND a.biller = s.biller "
         "AND a.account = s.account WHERE s.msisdn = ?1 AND (?2 = '' OR s.biller = ?2) "
         "ORDER BY s.created_at DESC, s.biller, s.account");
  s.bind(1, msisdn).bind(2, biller);
  std::vector<saved_account> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.int64(3) != 0, s.int64(4)});
  return out;
}

bool remove_saved_account(db& d, std::string_view msisdn, std::string_view biller,
                          std::string_view account) {
  stmt a(d, "DELETE FROM autopay WHERE msisdn = ? AND biller = ? AND account = ?");
  if (a.bind(1, msisdn).bind(2, biller).bind(3, account).run()) return false;
  stmt s(d, "DELETE FROM saved_accounts WHERE msisdn = ? AND biller = ? AND account = ?");
  return !s.bind(1, msisdn).bind(2, biller).bind(3, account).run();
}

// ---- complaints -----------------------------------------------------------------------------

std::optional<std::string> open_complaint(db& d, std::string_view ref, std::string_view msisdn,
                                          std::string_view ticket, std::int64_t now) {
  stmt own(d, "SELECT 1 FROM payments WHERE ref = ? AND msisdn = ?");
  own.bind(1, ref).bind(2, msisdn);
  if (!own.step()) return std::nullopt;
  stmt existing(d, "SELECT ticket FROM complaints WHERE ref = ? AND msisdn = ?");
  existing.bind(1, ref).bind(2, msisdn);
  if (existing.step()) return existing.text(0);
  stmt add(d, "INSERT INTO complaints(ticket, ref, msisdn, created_at) VALUES (?, ?, ?, ?)");
  if (add.bind(1, ticket).bind(2, ref).bind(3, msisdn).bind(4, now).run()) return std::nullopt;
  return std::string(ticket);
}

std::vector<complaint> open_complaints(db& d, std::size_t limit) {
  stmt s(d,
         "SELECT ticket, ref, msisdn, state, note, created_at FROM complaints WHERE state = "
         "'open' ORDER BY created_at LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(limit));
  std::vector<complaint> out;
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5)});
  return out;
}

// ---- operator requests ----------------------------------------------------------------------

std::optional<std::int64_t> add_request(db& d, std::string_view ref, std::string_view action,
                                        std::string_view note, std::int64_t now, std::string& why) {
  stmt s(d,
         "INSERT INTO operator_requests(ref, action, note, created_at, updated_at) VALUES (?, ?, "
         "?, ?, ?)");
  if (auto e = s.bind(1, ref).bind(2, action).bind(3, note).bind(4, now).bind(5, now).run()) {
    why = e->message.find("UNIQUE") != std::string::npos
              ? "a " + std::string(action) + " of this payment is already pending"
              : e->message;
    return std::nullopt;
  }
  return d.last_insert_rowid();
}

namespace {
std::vector<operator_request> read_requests(stmt& s) {
  std::vector<operator_request> out;
  while (s.step())
    out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.int64(6)});
  return out;
}
constexpr std::string_view request_columns =
    "SELECT id, ref, action, state, note, result, created_at FROM operator_requests ";
}  // namespace

std::vector<operator_request> pending_requests(db& d, std::size_t limit) {
  stmt s(d, std::string(request_columns) + "WHERE state = 'pending' ORDER BY id LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(limit));
  return read_requests(s);
}

std::optional<operator_request> find_request(db& d, std::int64_t id) {
  stmt s(d, std::string(request_columns) + "WHERE id = ?");
  s.bind(1, id);
  auto v = read_requests(s);
  if (v.empty()) return std::nullopt;
  return v.front();
}

bool finish_request(db& d, std::int64_t id, std::string_view state, std::string_view result,
                    std::int64_t now) {
  stmt s(d,
         "UPDATE operator_requests SET state = ?, result = ?, updated_at = ? WHERE id = ? AND "
         "state = 'pending'");
  return !s.bind(1, state).bind(2, result).bind(3, now).bind(4, id).run() && d.changes() == 1;
}

// ---- the demo biller's book -----------------------------------------------------------------

std::optional<db_error> put_demo_book(db& d, const demo_book_row& r) {
  stmt s(d,
         "INSERT INTO demo_biller_book(biller, payment_id, account, amount, accepted, reversed, "
         "biller_reference, code, paid_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
         "ON CONFLICT(biller, payment_id) DO UPDATE SET reversed = excluded.reversed");
  if (!s.ok()) return s.prepare_error();
  return s.bind(1, r.biller)
      .bind(2, r.payment_id)
      .bind(3, r.account)
      .bind(4, r.amount)
      .bind(5, std::int64_t{r.accepted})
      .bind(6, std::int64_t{r.reversed})
      .bind(7, r.biller_reference)
      .bind(8, r.code)
      .bind(9, r.paid_on)
      .run();
}

std::vector<demo_book_row> demo_book(db& d, std::string_view biller) {
  stmt s(d,
         "SELECT biller, payment_id, account, amount, accepted, reversed, biller_reference, code, "
         "paid_on FROM demo_biller_book WHERE biller = ? ORDER BY rowid");
  s.bind(1, biller);
  std::vector<demo_book_row> out;
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.int64(3), s.int64(4) != 0, s.int64(5) != 0,
                   s.text(6), s.text(7), s.text(8)});
  return out;
}

}  // namespace ussdpay::store
