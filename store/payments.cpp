#include "store/payments.hpp"

#include <algorithm>
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
         "SELECT coalesce(sum(amount), 0), count(*), "
         "coalesce(sum(CASE WHEN created_at >= ?3 THEN 1 ELSE 0 END), 0) "
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

std::vector<std::pair<std::string, std::int64_t>> open_payment_counts(db& d) {
  stmt s(d,
         "SELECT state, count(*) FROM payments INDEXED BY payments_open WHERE state IN "
         "('CREATED', 'UNKNOWN', 'MANUAL_REVIEW') GROUP BY state");
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (s.step()) out.emplace_back(s.text(0), s.int64(1));
  return out;
}

bool complete_payment(db& d, std::string_view ref, std::int64_t now) {
  stmt s(d,
         "UPDATE payments SET state = 'COMPLETED', updated_at = ? WHERE ref = ? AND "
         "state = 'COMMITTED'");
  return !s.bind(1, now).bind(2, ref).run() && d.changes() == 1;
}

}  // namespace ussdpay::store
