#include "store/ledger.hpp"

namespace ussdpay::store {

std::string_view to_string(account_kind k) {
  switch (k) {
    case account_kind::wallet:
      return "wallet";
    case account_kind::hold:
      return "hold";
    case account_kind::settlement:
      return "settlement";
    case account_kind::fees:
      return "fees";
    case account_kind::funding:
      return "funding";
  }
  return "wallet";
}

std::optional<std::int64_t> account_id(db& d, account_kind kind, std::string_view owner,
                                       std::string_view currency, bool create) {
  stmt find(d, "SELECT id FROM accounts WHERE kind = ? AND owner = ? AND currency = ?");
  find.bind(1, to_string(kind)).bind(2, owner).bind(3, currency);
  if (find.step()) return find.int64(0);
  if (!create) return std::nullopt;
  stmt add(d, "INSERT INTO accounts(kind, owner, currency) VALUES (?, ?, ?)");
  if (add.bind(1, to_string(kind)).bind(2, owner).bind(3, currency).run()) return std::nullopt;
  return d.last_insert_rowid();
}

std::optional<std::int64_t> balance(db& d, std::int64_t account) {
  stmt s(d, "SELECT balance FROM accounts WHERE id = ?");
  s.bind(1, account);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

transfer_status transfer(db& d, std::string_view transfer_id, std::int64_t debit,
                         std::int64_t credit, std::int64_t amount, std::int64_t now_ms) {
  if (amount <= 0 || debit == credit) return transfer_status::failed;
  {
    stmt seen(d, "SELECT debit, credit, amount FROM entries WHERE transfer_id = ?");
    seen.bind(1, transfer_id);
    if (seen.step())
      return seen.int64(0) == debit && seen.int64(1) == credit && seen.int64(2) == amount
                 ? transfer_status::already_done
                 : transfer_status::conflict;
  }
  // The balance check and the debit are one statement: only funding may go below zero.
  stmt take(d,
            "UPDATE accounts SET balance = balance - ?1 WHERE id = ?2 AND "
            "(kind = 'funding' OR balance >= ?1)");
  if (take.bind(1, amount).bind(2, debit).run()) return transfer_status::failed;
  if (d.changes() != 1) return transfer_status::insufficient;
  stmt give(d, "UPDATE accounts SET balance = balance + ? WHERE id = ?");
  if (give.bind(1, amount).bind(2, credit).run() || d.changes() != 1)
    return transfer_status::failed;
  stmt entry(d,
             "INSERT INTO entries(transfer_id, debit, credit, amount, created_at) "
             "VALUES (?, ?, ?, ?, ?)");
  if (entry.bind(1, transfer_id)
          .bind(2, debit)
          .bind(3, credit)
          .bind(4, amount)
          .bind(5, now_ms)
          .run())
    return transfer_status::failed;
  return transfer_status::done;
}

std::optional<subscriber_record> find_subscriber(db& d, std::string_view msisdn) {
  stmt s(d,
         "SELECT msisdn, language, pin_hash, pin_salt, pin_kdf, failed_pins, locked_until, "
         "created_at FROM subscribers WHERE msisdn = ?");
  s.bind(1, msisdn);
  if (!s.step()) return std::nullopt;
  return subscriber_record{s.text(0), s.text(1),  s.blob(2),  s.blob(3),
                           s.text(4), s.int64(5), s.int64(6), s.int64(7)};
}

std::optional<db_error> upsert_subscriber(db& d, const subscriber_record& r) {
  stmt s(d,
         "INSERT INTO subscribers(msisdn, language, pin_hash, pin_salt, pin_kdf, created_at) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(msisdn) DO UPDATE SET "
         "language = CASE WHEN ?2 = '' THEN language ELSE ?2 END, pin_hash = ?3, pin_salt = ?4, "
         "pin_kdf = ?5, failed_pins = 0, "
         "locked_until = 0");
  if (!s.ok()) return s.prepare_error();
  return s.bind(1, r.msisdn)
      .bind(2, r.language)
      .bind_blob(3, r.pin_hash)
      .bind_blob(4, r.pin_salt)
      .bind(5, r.pin_kdf)
      .bind(6, r.created_at)
      .run();
}

std::optional<std::string> normalise_msisdn(std::string_view t) {
  if (t.starts_with('+'))
    t.remove_prefix(1);
  else if (t.starts_with("00"))
    t.remove_prefix(2);
  if (t.size() < 8 || t.size() > 15 || t.front() == '0') return std::nullopt;
  for (char c : t)
    if (c < '0' || c > '9') return std::nullopt;
  return std::string(t);
}

}  // namespace ussdpay::store

namespace ussdpay::store {

std::optional<subscriber_record> record_wrong_pin(db& d, std::string_view msisdn,
                                                  std::int64_t max_wrong, std::int64_t lockout_ms,
                                                  std::int64_t now_ms) {
  stmt s(d,
         "UPDATE subscribers SET "
         "locked_until = CASE WHEN failed_pins + 1 >= ?2 THEN ?3 + ?4 ELSE locked_until END, "
         "failed_pins = CASE WHEN failed_pins + 1 >= ?2 THEN 0 ELSE failed_pins + 1 END "
         "WHERE msisdn = ?1");
  if (s.bind(1, msisdn).bind(2, max_wrong).bind(3, now_ms).bind(4, lockout_ms).run() ||
      d.changes() != 1)
    return std::nullopt;
  return find_subscriber(d, msisdn);
}

std::optional<db_error> reset_wrong_pins(db& d, std::string_view msisdn) {
  stmt s(d, "UPDATE subscribers SET failed_pins = 0 WHERE msisdn = ? AND failed_pins <> 0");
  return s.bind(1, msisdn).run();
}

bool set_pin(db& d, std::string_view msisdn, std::string_view hash, std::string_view salt,
             std::string_view kdf) {
  stmt s(d,
         "UPDATE subscribers SET pin_hash = ?, pin_salt = ?, pin_kdf = ?, failed_pins = 0, "
         "locked_until = 0 "
         "WHERE msisdn = ?");
  return !s.bind_blob(1, hash).bind_blob(2, salt).bind(3, kdf).bind(4, msisdn).run() &&
         d.changes() == 1;
}

std::optional<std::int64_t> ledger_sum(db& d) {
  stmt s(d, "SELECT coalesce(sum(balance), 0) FROM accounts");
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

}  // namespace ussdpay::store
