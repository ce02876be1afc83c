// One-time codes sent by SMS: self-registration and forgotten-PIN reset. The store keeps only a
// keyed digest of each code (the caller computes it with the server's pepper), never the code.
//
//   issue_code ──> [code waiting] ──check_code right──> [verified] ──consume_code──> [used]
//                        │ wrong: attempts + 1; at max_attempts the code is void
//                        └ expires_at passed: void
//
// Each (MSISDN, purpose) has one row: a new code replaces the old one. Codes sent are counted
// per window (max_sends per window_ms), so neither the SMS bill nor the guessing is unbounded:
// at most max_sends x max_attempts guesses per window over 10^digits codes. Writes run as
// group_writer jobs. A PostgreSQL backend would keep these signatures.
#pragma once

#include <cstdint>
#include <string_view>

#include "store/db.hpp"

namespace ussdpay::store {

struct code_policy {
  std::int64_t ttl_ms = 5 * 60'000;           ///< a code is good this long after it is sent
  std::int64_t max_attempts = 3;              ///< wrong entries before the code is void
  std::int64_t max_sends = 3;                 ///< codes per MSISDN and purpose per window
  std::int64_t window_ms = 60 * 60'000;       ///< the window max_sends counts over
  std::int64_t verified_ttl_ms = 5 * 60'000;  ///< a verified code must be used within this
};

enum class issue_status : std::uint8_t { issued, too_many, failed };

/// Stores a new code's digest for (msisdn, purpose), replacing any earlier code, unless
/// max_sends codes were already sent in the current window.
issue_status issue_code(db& d, std::string_view msisdn, std::string_view purpose,
                        std::string_view digest, const code_policy& p, std::int64_t now_ms);

struct code_check {
  enum class status_t : std::uint8_t {
    right,    ///< the code matched: it is now verified
    wrong,    ///< did not match; tries_left more before it is void
    expired,  ///< no code waiting: never sent, expired, used, or void after too many tries
    failed,   ///< the store failed
  } status = status_t::failed;
  std::int64_t tries_left = 0;
};

/// Compares `digest` with the waiting code's (in constant time) and counts a wrong one.
code_check check_code(db& d, std::string_view msisdn, std::string_view purpose,
                      std::string_view digest, const code_policy& p, std::int64_t now_ms);

/// Uses up a verified code: true once per verification, within verified_ttl_ms of it.
bool consume_code(db& d, std::string_view msisdn, std::string_view purpose, const code_policy& p,
                  std::int64_t now_ms);

}  // namespace ussdpay::store
