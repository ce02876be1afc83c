// The subscribers (store/subscribers.hpp) over a real SQLite file: E.164 normalisation,
// records and re-imports, wrong-PIN counts and lockout, the menu language, and the registered
// subscribers read at start-up.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "store/subscribers.hpp"
#include "tests/unit/store/scratch_store.hpp"

using namespace ussdpay;
using namespace ussdpay::store;
using fixture = test::store_fixture;

TEST_CASE("subscribers: E.164 normalisation and records", "[store]") {
  CHECK(normalise_msisdn("+923001234567") == "923001234567");
  CHECK(normalise_msisdn("00923001234567") == "923001234567");
  CHECK(normalise_msisdn("254700000001") == "254700000001");
  CHECK_FALSE(normalise_msisdn("03001234567"));  // national: needs the country code
  CHECK_FALSE(normalise_msisdn("+92 300 1234567"));
  CHECK_FALSE(normalise_msisdn("1234567"));
  CHECK_FALSE(normalise_msisdn("1234567890123456"));

  fixture t;
  auto& d = *t.conn;
  subscriber_record r{
      "923001234567", "ur", std::string("\0\x01hash", 6), "salt", "pbkdf2-sha256:1", 0, 0, 42};
  REQUIRE_FALSE(upsert_subscriber(d, r));
  auto got = find_subscriber(d, "923001234567");
  REQUIRE(got);
  CHECK(got->pin_hash == r.pin_hash);  // binary-safe
  CHECK(got->language == "ur");
  // A re-import without a language keeps the old one and clears a lockout.
  REQUIRE_FALSE(d.exec("UPDATE subscribers SET failed_pins = 3, locked_until = 99"));
  r.language.clear();
  REQUIRE_FALSE(upsert_subscriber(d, r));
  got = find_subscriber(d, "923001234567");
  CHECK(got->language == "ur");
  CHECK(got->failed_pins == 0);
  CHECK(got->locked_until == 0);
  CHECK_FALSE(find_subscriber(d, "923000000000"));
}

TEST_CASE("wrong PINs lock after the limit and the count restarts", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(upsert_subscriber(d, {"923001234567", "en", "h", "s", "k", 0, 0, 1}));
  auto r = record_wrong_pin(d, "923001234567", 3, 60'000, 1'000);
  REQUIRE(r);
  CHECK(r->failed_pins == 1);
  CHECK(r->locked_until == 0);
  record_wrong_pin(d, "923001234567", 3, 60'000, 1'000);
  r = record_wrong_pin(d, "923001234567", 3, 60'000, 1'000);
  CHECK(r->locked_until == 61'000);
  CHECK(r->failed_pins == 0);
  CHECK_FALSE(record_wrong_pin(d, "923000000000", 3, 60'000, 1'000));
  REQUIRE_FALSE(reset_wrong_pins(d, "923001234567"));
  CHECK(set_pin(d, "923001234567", "h2", "s2", "k2"));
  CHECK_FALSE(set_pin(d, "923000000000", "h2", "s2", "k2"));
}

TEST_CASE("set_language changes the language of that subscriber only", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(upsert_subscriber(d, {"923001234567", "en", "h", "s", "k", 0, 0, 1}));
  REQUIRE_FALSE(upsert_subscriber(d, {"923009876543", "en", "h", "s", "k", 0, 0, 1}));

  // The subscriber picks Urdu under "5. Language".
  CHECK_FALSE(set_language(d, "923001234567", "ur"));
  CHECK(find_subscriber(d, "923001234567")->language == "ur");
  CHECK(find_subscriber(d, "923009876543")->language == "en");
  // A number with no record: nothing changes, and no record appears.
  CHECK_FALSE(set_language(d, "923000000000", "ur"));
  CHECK_FALSE(find_subscriber(d, "923000000000"));

  // The statement's error comes back: here a read-only connection refuses the write.
  auto reader = t.database.open(open_mode::reader);
  CHECK(set_language(reader, "923001234567", "hi"));
  CHECK(find_subscriber(d, "923001234567")->language == "ur");
}

TEST_CASE("for_each_registered: subscribers with a PIN only, at most the limit", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(upsert_subscriber(d, {"923001234567", "ur", "h", "s", "k", 0, 0, 1}));
  REQUIRE_FALSE(upsert_subscriber(d, {"923009876543", "en", "h", "s", "k", 0, 0, 1}));
  REQUIRE_FALSE(upsert_subscriber(d, {"254700000001", "sw", "h", "s", "k", 0, 0, 1}));
  // A number that started registration but has no PIN yet is not registered.
  stmt pinless(d,
               "INSERT INTO subscribers(msisdn, language, pin_hash, created_at) VALUES "
               "('923005555555', 'hi', NULL, 1)");
  REQUIRE_FALSE(pinless.run());

  using seen = std::vector<std::pair<std::string, std::string>>;
  auto read = [&d](std::size_t limit) {
    seen out;
    for_each_registered(d, limit, [&out](std::string_view msisdn, std::string_view language) {
      out.emplace_back(msisdn, language);
    });
    std::sort(out.begin(), out.end());
    return out;
  };
  CHECK(read(10) == seen{{"254700000001", "sw"}, {"923001234567", "ur"}, {"923009876543", "en"}});
  CHECK(read(2).size() == 2);
  CHECK(read(0).empty());
}
