#include "adapters/pin.hpp"

#include <array>
#include <charconv>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace ussdpay::adapters {
namespace {

constexpr std::string_view kdf_prefix = "pbkdf2-sha256:";

std::string derive(std::string_view pin, std::string_view pepper, std::string_view salt,
                   std::uint32_t iterations) {
  // The pepper first: without it the stored hash says nothing about the PIN.
  std::array<unsigned char, 32> keyed{};
  unsigned int keyed_len = 0;
  if (HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()),
           reinterpret_cast<const unsigned char*>(pin.data()), pin.size(), keyed.data(),
           &keyed_len) == nullptr)
    throw std::runtime_error("HMAC-SHA256 failed");
  std::string out(32, '\0');
  const int ok =
      PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(keyed.data()), static_cast<int>(keyed_len),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
  OPENSSL_cleanse(keyed.data(), keyed.size());
  if (ok != 1) throw std::runtime_error("PBKDF2-HMAC-SHA256 failed");
  return out;
}

}  // namespace

pin_hash hash_pin(std::string_view pin, std::string_view pepper, std::uint32_t iterations) {
  pin_hash h;
  h.salt.resize(16);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(h.salt.data()), 16) != 1)
    throw std::runtime_error("RAND_bytes failed");
  if (iterations == 0) iterations = 1;
  h.hash = derive(pin, pepper, h.salt, iterations);
  h.kdf = std::string(kdf_prefix) + std::to_string(iterations);
  return h;
}

bool verify_pin(std::string_view pin, std::string_view pepper, const pin_hash& stored) {
  std::string_view kdf = stored.kdf;
  if (!kdf.starts_with(kdf_prefix) || stored.hash.size() != 32) return false;
  kdf.remove_prefix(kdf_prefix.size());
  std::uint32_t iterations = 0;
  auto [end, ec] = std::from_chars(kdf.data(), kdf.data() + kdf.size(), iterations);
  if (ec != std::errc() || end != kdf.data() + kdf.size() || iterations == 0 ||
      iterations > 10'000'000)
    return false;
  std::string got = derive(pin, pepper, stored.salt, iterations);
  const bool same = CRYPTO_memcmp(got.data(), stored.hash.data(), got.size()) == 0;
  wipe(got);
  return same;
}

bool pin_format_ok(std::string_view pin) {
  if (pin.size() != 4) return false;
  for (char c : pin)
    if (c < '0' || c > '9') return false;
  return true;
}

bool weak_pin(std::string_view pin) {
  if (!pin_format_ok(pin)) return true;
  const int d[4] = {pin[0] - '0', pin[1] - '0', pin[2] - '0', pin[3] - '0'};
  bool up = true, down = true;
  for (int i = 1; i < 4; ++i) {
    up = up && d[i] == (d[i - 1] + 1) % 10;
    down = down && d[i] == (d[i - 1] + 9) % 10;
  }
  if (up || down) return true;                                    // 1234, 7890, 4321
  if (d[0] == d[1] && d[1] == d[2] && d[2] == d[3]) return true;  // 0000
  if (d[0] == d[2] && d[1] == d[3]) return true;                  // 1212
  if (d[0] == d[1] && d[2] == d[3]) return true;                  // 1122
  // The most common 4-digit PINs in published PIN-frequency studies, besides the patterns above.
  static constexpr std::array<std::string_view, 8> common{"2000", "1004", "6969", "2580",
                                                          "1010", "0852", "1998", "2001"};
  for (auto c : common)
    if (pin == c) return true;
  return false;
}

std::string new_code(unsigned digits) {
  if (digits < 4 || digits > 9) throw std::invalid_argument("a code has 4..9 digits");
  std::uint32_t range = 1;
  for (unsigned i = 0; i < digits; ++i) range *= 10;
  // Rejection sampling: values at or above the largest multiple of range would bias the code.
  const std::uint32_t limit = UINT32_MAX - UINT32_MAX % range;
  std::uint32_t v = 0;
  do {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1)
      throw std::runtime_error("RAND_bytes failed");
  } while (v >= limit);
  v %= range;
  std::string out(digits, '0');
  for (unsigned i = digits; i-- > 0; v /= 10) out[i] = static_cast<char>('0' + v % 10);
  return out;
}

std::string code_digest(std::string_view code, std::string_view pepper, std::string_view msisdn,
                        std::string_view purpose) {
  std::string message;
  message.reserve(purpose.size() + msisdn.size() + code.size() + 2);
  message.append(purpose).append(":").append(msisdn).append(":").append(code);
  std::string out(32, '\0');
  unsigned int len = 0;
  const bool ok = HMAC(EVP_sha256(), pepper.data(), static_cast<int>(pepper.size()),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<unsigned char*>(out.data()), &len) != nullptr;
  wipe(message);
  if (!ok || len != 32) throw std::runtime_error("HMAC-SHA256 failed");
  return out;
}

void wipe(std::string& s) {
  OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace ussdpay::adapters
