#include "store/codes.hpp"

namespace ussdpay::store {

issue_status issue_code(db& d, std::string_view msisdn, std::string_view purpose,
                        std::string_view digest, const code_policy& p, std::int64_t now_ms) {
  stmt q(d, "SELECT sends, window_start FROM one_time_codes WHERE msisdn = ? AND purpose = ?");
  std::int64_t sends = 0, window_start = now_ms;
  if (q.bind(1, msisdn).bind(2, purpose).step()) {
    if (now_ms - q.int64(1) < p.window_ms) {
      sends = q.int64(0);
      window_start = q.int64(1);
    }
  } else if (q.error()) {
    return issue_status::failed;
  }
  if (sends >= p.max_sends) return issue_status::too_many;
  stmt u(d,
         "INSERT INTO one_time_codes (msisdn, purpose, digest, expires_at, attempts, "
         "verified_at, sends, window_start) VALUES (?1, ?2, ?3, ?4, 0, 0, ?5, ?6) "
         "ON CONFLICT (msisdn, purpose) DO UPDATE SET digest = ?3, expires_at = ?4, "
         "attempts = 0, verified_at = 0, sends = ?5, window_start = ?6");
  if (u.bind(1, msisdn)
          .bind(2, purpose)
          .bind_blob(3, digest)
          .bind(4, now_ms + p.ttl_ms)
          .bind(5, sends + 1)
          .bind(6, window_start)
          .run())
    return issue_status::failed;
  return issue_status::issued;
}

code_check check_code(db& d, std::string_view msisdn, std::string_view purpose,
                      std::string_view digest, const code_policy& p, std::int64_t now_ms) {
  using enum code_check::status_t;
  stmt q(d,
         "SELECT digest, expires_at, attempts, verified_at FROM one_time_codes "
         "WHERE msisdn = ? AND purpose = ?");
  if (!q.bind(1, msisdn).bind(2, purpose).step()) return {q.error() ? failed : expired, 0};
  const std::string stored = q.blob(0);
  const auto expires_at = q.int64(1), attempts = q.int64(2), verified_at = q.int64(3);
  if (stored.empty() || verified_at != 0 || expires_at <= now_ms || attempts >= p.max_attempts)
    return {expired, 0};
  // Constant time over the digest's length (its length is not secret).
  unsigned char diff = stored.size() == digest.size() ? 0 : 1;
  if (stored.size() == digest.size())
    for (std::size_t i = 0; i < digest.size(); ++i)
      diff |= static_cast<unsigned char>(stored[i] ^ digest[i]);
  const bool same = diff == 0;
  if (same) {
    stmt u(d, "UPDATE one_time_codes SET verified_at = ? WHERE msisdn = ? AND purpose = ?");
    if (u.bind(1, now_ms).bind(2, msisdn).bind(3, purpose).run()) return {failed, 0};
    return {right, 0};
  }
  // A wrong code: counted; the last allowed try voids the code (its digest is dropped).
  const auto after = attempts + 1;
  stmt u(d,
         "UPDATE one_time_codes SET attempts = ?1, "
         "digest = CASE WHEN ?1 >= ?2 THEN substr(digest, 1, 0) ELSE digest END "
         "WHERE msisdn = ?3 AND purpose = ?4");
  if (u.bind(1, after).bind(2, p.max_attempts).bind(3, msisdn).bind(4, purpose).run())
    return {failed, 0};
  return {wrong, p.max_attempts - after};
}

bool consume_code(db& d, std::string_view msisdn, std::string_view purpose, const code_policy& p,
                  std::int64_t now_ms) {
  stmt u(d,
         "UPDATE one_time_codes SET digest = substr(digest, 1, 0), verified_at = 0 "
         "WHERE msisdn = ? AND purpose = ? AND verified_at > 0 AND verified_at > ? "
         "AND length(digest) > 0");
  return !u.bind(1, msisdn).bind(2, purpose).bind(3, now_ms - p.verified_ttl_ms).run() &&
         d.changes() == 1;
}

}  // namespace ussdpay::store
