// PIN hashing: the pepper matters, the salt differs per hash, the check is exact, and weak PINs
// are recognised.
#include <catch2/catch.hpp>

#include "adapters/pin.hpp"

using namespace ussdpay::adapters;

TEST_CASE("a PIN verifies only with the same PIN and pepper", "[pin]") {
  const std::string pepper = "pepper-0123456789abcdef";
  const auto h = hash_pin("4826", pepper, 1000);
  CHECK(h.kdf == "pbkdf2-sha256:1000");
  CHECK(h.salt.size() == 16);
  CHECK(h.hash.size() == 32);
  CHECK(h.hash.find("4826") == std::string::npos);
  CHECK(verify_pin("4826", pepper, h));
  CHECK_FALSE(verify_pin("4827", pepper, h));
  CHECK_FALSE(verify_pin("4826", "another-pepper-0123456789", h));
  // The same PIN hashes differently each time (random salt).
  const auto h2 = hash_pin("4826", pepper, 1000);
  CHECK(h2.salt != h.salt);
  CHECK(h2.hash != h.hash);
  // A damaged record never verifies.
  auto bad = h;
  bad.kdf = "md5:1";
  CHECK_FALSE(verify_pin("4826", pepper, bad));
  bad = h;
  bad.kdf = "pbkdf2-sha256:0";
  CHECK_FALSE(verify_pin("4826", pepper, bad));
  bad = h;
  bad.hash.pop_back();
  CHECK_FALSE(verify_pin("4826", pepper, bad));
}

TEST_CASE("weak PINs are refused, ordinary ones accepted", "[pin]") {
  for (auto p : {"0000", "1111", "1234", "2345", "7890", "9876", "4321", "1212", "1122", "2000",
                 "6969", "12a4", "123", "12345"})
    CHECK(weak_pin(p));
  for (auto p : {"4826", "9731", "1357", "5038", "2718"}) CHECK_FALSE(weak_pin(p));
  CHECK(pin_format_ok("0042"));
  CHECK_FALSE(pin_format_ok("42"));
  CHECK_FALSE(pin_format_ok("４２４２"));
}

TEST_CASE("wipe overwrites and empties", "[pin]") {
  std::string s = "4826";
  const char* p = s.data();
  wipe(s);
  CHECK(s.empty());
  // clear() alone would only write the terminator at [0]; the digits after it are gone too.
  CHECK(p[1] == '\0');
  CHECK(p[2] == '\0');
  CHECK(p[3] == '\0');
}
