// `ussdpay subscriber import` lines and the checks before the store
// (gateway/cli/subscriber_import.hpp).
#include <string>

#include <catch2/catch.hpp>

#include "gateway/cli/subscriber_import.hpp"

using ussdpay::check_subscriber;
using ussdpay::new_subscriber;
using ussdpay::split_subscriber_line;

TEST_CASE("subscriber import: exactly 4 fields of at most 200 octets", "[subscribers]") {
  new_subscriber n;
  REQUIRE(split_subscriber_line("+923001234567,4826,25000,ur", n));
  CHECK(n.msisdn == "+923001234567");
  CHECK(n.pin == "4826");
  CHECK(n.balance == "25000");
  CHECK(n.language == "ur");
  CHECK(split_subscriber_line(",,,", n));
  CHECK(n.msisdn.empty());
  CHECK_FALSE(split_subscriber_line("923001234567,4826,25000", n));
  CHECK_FALSE(split_subscriber_line("923001234567,4826,25000,en,extra", n));
  CHECK_FALSE(split_subscriber_line(std::string(198, '9') + ",,,", n));
}

TEST_CASE("subscriber import: MSISDN, PIN, balance and language are checked", "[subscribers]") {
  auto c = check_subscriber({"+923001234567", "4826", "2,500.50", "ur"}, "PKR");
  CHECK(c.why.empty());
  CHECK(c.msisdn == "923001234567");
  CHECK(c.balance == 250'050);
  CHECK_FALSE(check_subscriber({"03001234567", "4826", "1", ""}, "PKR").why.empty());
  CHECK_FALSE(check_subscriber({"923001234567", "1234", "1", ""}, "PKR").why.empty());
  CHECK_FALSE(check_subscriber({"923001234567", "48a6", "1", ""}, "PKR").why.empty());
  CHECK_FALSE(check_subscriber({"923001234567", "4826", "-1", ""}, "PKR").why.empty());
  CHECK_FALSE(check_subscriber({"923001234567", "4826", "1.5", ""}, "UGX").why.empty());
  CHECK_FALSE(check_subscriber({"923001234567", "4826", "1", "fr"}, "PKR").why.empty());
}
