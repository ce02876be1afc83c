#include "store/accounts.hpp"

namespace ussdpay::store {

// ---- saved accounts -------------------------------------------------------------------------

save_status save_account(db& d, std::string_view msisdn, const saved_account& a,
                         std::size_t max_saved, std::int64_t now) {
  stmt have(
      d,
      "SELECT count(*), coalesce(sum(CASE WHEN biller = ? AND account = ? THEN 1 ELSE 0 END), 0) "
      "FROM "
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

// ---- reminders and auto-pay ----------------------------------------------------------------

namespace {

// Whether anybody watches the account: the value next_check_at must fall back to otherwise.
constexpr std::string_view watched_sql =
    "(reminders = 1 OR EXISTS (SELECT 1 FROM autopay a WHERE a.msisdn = saved_accounts.msisdn "
    "AND a.biller = saved_accounts.biller AND a.account = saved_accounts.account))";

// The columns of a watched_account, from saved_accounts s, autopay a and subscribers u.
constexpr std::string_view watched_columns =
    "SELECT s.msisdn, s.biller, s.account, s.label, coalesce(u.language, ''), s.reminders, "
    "coalesce(a.max_amount, 0), s.due_date, s.bill_amount, s.next_check_at FROM saved_accounts s ";
constexpr std::string_view watched_joins =
    " LEFT JOIN autopay a ON a.msisdn = s.msisdn AND a.biller = s.biller AND "
    "a.account = s.account LEFT JOIN subscribers u ON u.msisdn = s.msisdn ";

std::vector<watched_account> read_watched(stmt& s) {
  std::vector<watched_account> out;
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5) != 0,
                   s.int64(6), s.text(7), s.int64(8), s.int64(9)});
  return out;
}

}  // namespace

std::vector<watched_account> due_accounts(db& d, std::int64_t now, std::size_t limit) {
  stmt s(d, std::string(watched_columns) + "INDEXED BY saved_accounts_by_check" +
                std::string(watched_joins) +
                "WHERE s.next_check_at <= ? ORDER BY s.next_check_at LIMIT ?");
  s.bind(1, now).bind(2, static_cast<std::int64_t>(limit));
  return read_watched(s);
}

std::vector<watched_account> accounts_of(db& d, std::string_view msisdn) {
  stmt s(d, std::string(watched_columns) + std::string(watched_joins) +
                "WHERE s.msisdn = ? ORDER BY s.created_at, s.biller, s.account");
  s.bind(1, msisdn);
  return read_watched(s);
}

std::optional<db_error> record_check(db& d, std::string_view msisdn, std::string_view biller,
                                     std::string_view account, std::int64_t next_check_at,
                                     std::string_view due_date, std::int64_t bill_amount) {
  stmt s(d, "UPDATE saved_accounts SET next_check_at = CASE WHEN " + std::string(watched_sql) +
                " THEN ?1 ELSE ?2 END, due_date = ?3, bill_amount = ?4 WHERE msisdn = ?5 AND "
                "biller = ?6 AND account = ?7");
  return s.bind(1, next_check_at)
      .bind(2, never)
      .bind(3, due_date)
      .bind(4, bill_amount)
      .bind(5, msisdn)
      .bind(6, biller)
      .bind(7, account)
      .run();
}

bool set_reminders(db& d, std::string_view msisdn, std::string_view biller,
                   std::string_view account, bool on) {
  // On: look at the account at once. Off: it stays watched only for auto-pay. (The SET reads
  // the row as it was, so the test is on the auto-pay row, not on `reminders`.)
  stmt s(d,
         "UPDATE saved_accounts SET reminders = ?1, next_check_at = CASE WHEN ?1 = 1 THEN 0 "
         "WHEN EXISTS (SELECT 1 FROM autopay a WHERE a.msisdn = saved_accounts.msisdn AND "
         "a.biller = saved_accounts.biller AND a.account = saved_accounts.account) THEN "
         "next_check_at ELSE ?2 END WHERE msisdn = ?3 AND biller = ?4 AND account = ?5");
  if (s.bind(1, std::int64_t{on ? 1 : 0})
          .bind(2, never)
          .bind(3, msisdn)
          .bind(4, biller)
          .bind(5, account)
          .run())
    return false;
  return d.changes() == 1;
}

bool set_autopay(db& d, std::string_view msisdn, std::string_view biller, std::string_view account,
                 std::int64_t max_amount, std::string_view currency, std::int64_t now) {
  stmt touch(d,
             "UPDATE saved_accounts SET next_check_at = 0 WHERE msisdn = ? AND biller = ? AND "
             "account = ?");
  if (touch.bind(1, msisdn).bind(2, biller).bind(3, account).run() || d.changes() != 1)
    return false;
  stmt s(d,
         "INSERT INTO autopay(msisdn, biller, account, max_amount, currency, created_at) VALUES "
         "(?, ?, ?, ?, ?, ?) ON CONFLICT (msisdn, biller, account) DO UPDATE SET max_amount = "
         "excluded.max_amount, "
         "currency = excluded.currency, created_at = excluded.created_at");
  return !s.bind(1, msisdn)
              .bind(2, biller)
              .bind(3, account)
              .bind(4, max_amount)
              .bind(5, currency)
              .bind(6, now)
              .run();
}

bool clear_autopay(db& d, std::string_view msisdn, std::string_view biller,
                   std::string_view account) {
  stmt s(d, "DELETE FROM autopay WHERE msisdn = ? AND biller = ? AND account = ?");
  if (s.bind(1, msisdn).bind(2, biller).bind(3, account).run() || d.changes() != 1) return false;
  stmt u(d,
         "UPDATE saved_accounts SET next_check_at = ? WHERE msisdn = ? AND biller = ? AND "
         "account = ? AND reminders = 0");
  return !u.bind(1, never).bind(2, msisdn).bind(3, biller).bind(4, account).run();
}

std::optional<std::int64_t> autopay_max(db& d, std::string_view msisdn, std::string_view biller,
                                        std::string_view account) {
  stmt s(d, "SELECT max_amount FROM autopay WHERE msisdn = ? AND biller = ? AND account = ?");
  s.bind(1, msisdn).bind(2, biller).bind(3, account);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

bool claim_bill_action(db& d, const bill_key& k, std::string_view action, std::string_view outcome,
                       std::int64_t amount, std::int64_t now) {
  stmt s(d,
         "INSERT INTO bill_actions(msisdn, biller, account, due_date, action, outcome, amount, "
         "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
  if (s.bind(1, k.msisdn)
          .bind(2, k.biller)
          .bind(3, k.account)
          .bind(4, k.due_date)
          .bind(5, action)
          .bind(6, outcome)
          .bind(7, amount)
          .bind(8, now)
          .run())
    return false;
  return d.changes() == 1;
}

bool set_bill_action(db& d, const bill_key& k, std::string_view action, std::string_view outcome,
                     std::string_view payment_ref) {
  stmt s(d,
         "UPDATE bill_actions SET outcome = ?, payment_ref = ? WHERE msisdn = ? AND biller = ? "
         "AND account = ? AND due_date = ? AND action = ?");
  if (s.bind(1, outcome)
          .bind(2, payment_ref)
          .bind(3, k.msisdn)
          .bind(4, k.biller)
          .bind(5, k.account)
          .bind(6, k.due_date)
          .bind(7, action)
          .run())
    return false;
  return d.changes() == 1;
}

std::vector<bill_action> bill_actions(db& d, std::string_view msisdn, std::string_view biller,
                                      std::string_view account, std::size_t limit) {
  stmt s(d,
         "SELECT due_date, action, outcome, payment_ref, amount, created_at FROM bill_actions "
         "WHERE msisdn = ? AND biller = ? AND account = ? ORDER BY due_date DESC, action LIMIT ?");
  s.bind(1, msisdn).bind(2, biller).bind(3, account).bind(4, static_cast<std::int64_t>(limit));
  std::vector<bill_action> out;
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.int64(4), s.int64(5)});
  return out;
}

bool open_payment_to(db& d, std::string_view msisdn, std::string_view biller,
                     std::string_view account) {
  stmt s(d,
         "SELECT 1 FROM payments WHERE msisdn = ? AND biller = ? AND account = ? AND state IN "
         "('CREATED', 'UNKNOWN', 'MANUAL_REVIEW') LIMIT 1");
  s.bind(1, msisdn).bind(2, biller).bind(3, account);
  return s.step();
}

}  // namespace ussdpay::store
