// PINs: never stored, never logged. What is stored is PBKDF2-HMAC-SHA256 (OpenSSL) over
// HMAC-SHA256(pepper, PIN) with a random per-subscriber salt. The pepper is a server secret read
// from a file or the environment (never from menus or the database), so a stolen database alone
// cannot be brute-forced over the 10,000 possible PINs; the iteration count is the cost of
// each check and is recorded with the hash ("pbkdf2-sha256:N") so it can be raised later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ussdpay::adapters {

struct pin_hash {
  std::string salt;  ///< 16 random octets
  std::string hash;  ///< 32 octets
  std::string kdf;   ///< "pbkdf2-sha256:<iterations>"
};

/// Hashes a 4-digit PIN. Throws std::runtime_error only if OpenSSL's RNG or KDF fails.
pin_hash hash_pin(std::string_view pin, std::string_view pepper, std::uint32_t iterations);

/// Constant-time check of `pin` against a stored hash. False for an unknown kdf string.
bool verify_pin(std::string_view pin, std::string_view pepper, const pin_hash& stored);

/// Exactly four digits.
bool pin_format_ok(std::string_view pin);

/// PINs anyone would try first: one digit repeated (0000), runs up or down (1234, 9876), two
/// digits repeated (1212, 1122), and the most common choices (e.g. 2000, 1004, 6969).
bool weak_pin(std::string_view pin);

/// A one-time code of `digits` decimal digits (4..9), uniform, from OpenSSL's RNG. Throws
/// std::runtime_error only if the RNG fails.
std::string new_code(unsigned digits);

/// What the store keeps of a one-time code: HMAC-SHA256(pepper, purpose ":" msisdn ":" code),
/// 32 octets. Bound to the number and the purpose, so a code sent for one cannot serve another.
std::string code_digest(std::string_view code, std::string_view pepper, std::string_view msisdn,
                        std::string_view purpose);

/// Overwrites a string's characters before it is released (PINs in memory).
void wipe(std::string& s);

}  // namespace ussdpay::adapters
