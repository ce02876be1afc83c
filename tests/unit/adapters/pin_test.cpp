// PIN hashing: the pepper matters, the salt differs per hash, the check is exact, and weak PINs
// are recognised.
#include <array>
#include <cstdlib>
#include <set>

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

TEST_CASE("one-time codes are digits of the asked length, and vary", "[pin]") {
  std::set<std::string> seen;
  std::array<int, 10> digit_counts{};
  for (int i = 0; i < 2000; ++i) {
    const auto c = new_code(6);
    REQUIRE(c.size() == 6);
    for (char ch : c) {
      REQUIRE(ch >= '0');
      REQUIRE(ch <= '9');
      ++digit_counts[static_cast<std::size_t>(ch - '0')];
    }
    seen.insert(c);
  }
  // 2,000 draws from 10^6: a repeat is possible (about 2 expected) but not many.
  CHECK(seen.size() > 1990);
  // 12,000 digits: each of the ten appears near 1,200 times (far outside +-300 means bias).
  for (int n : digit_counts) CHECK(std::abs(n - 1200) < 300);
  CHECK(new_code(4).size() == 4);
  CHECK(new_code(9).size() == 9);
  CHECK_THROWS(new_code(3));
  CHECK_THROWS(new_code(10));
}

TEST_CASE("a code's digest binds the pepper, the number and the purpose", "[pin]") {
  const std::string pepper = "pepper-0123456789abcdef";
  const auto d = code_digest("123456", pepper, "923001234567", "register");
  CHECK(d.size() == 32);
  CHECK(d == code_digest("123456", pepper, "923001234567", "register"));
  CHECK(d != code_digest("123457", pepper, "923001234567", "register"));
  CHECK(d != code_digest("123456", pepper + "x", "923001234567", "register"));
  CHECK(d != code_digest("123456", pepper, "923001234568", "register"));
  CHECK(d != code_digest("123456", pepper, "923001234567", "reset"));
  CHECK(d.find("123456") == std::string::npos);
}
