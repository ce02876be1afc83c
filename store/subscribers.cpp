#include "store/subscribers.hpp"

namespace ussdpay::store {

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
         "language = CASE WHEN ?2 = '' THEN subscribers.language ELSE ?2 END, pin_hash = ?3, "
         "pin_salt = ?4, "
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

std::optional<db_error> set_language(db& d, std::string_view msisdn, std::string_view language) {
  stmt s(d, "UPDATE subscribers SET language = ? WHERE msisdn = ?");
  return s.bind(1, language).bind(2, msisdn).run();
}

void for_each_registered(
    db& d, std::size_t limit,
    const std::function<void(std::string_view msisdn, std::string_view language)>& each) {
  stmt s(d, "SELECT msisdn, language FROM subscribers WHERE pin_hash IS NOT NULL LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(limit));
  while (s.step()) each(s.text(0), s.text(1));
}

}  // namespace ussdpay::store
