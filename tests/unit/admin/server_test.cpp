// The admin API's pieces without a socket: the bearer token check, the listen address parser
// and the allow-list.
#include <catch2/catch.hpp>

#include "gateway/admin/api.hpp"
#include "gateway/admin/server.hpp"

using namespace ussdpay::admin;

TEST_CASE("the bearer token: exact match in the Bearer scheme only", "[admin]") {
  const std::string token = "0123456789abcdef";
  CHECK(bearer_ok("Bearer 0123456789abcdef", token));
  CHECK_FALSE(bearer_ok("Bearer 0123456789abcdeF", token));
  CHECK_FALSE(bearer_ok("Bearer 0123456789abcde", token));
  CHECK_FALSE(bearer_ok("Bearer 0123456789abcdef ", token));
  CHECK_FALSE(bearer_ok("bearer 0123456789abcdef", token));
  CHECK_FALSE(bearer_ok("Basic 0123456789abcdef", token));
  CHECK_FALSE(bearer_ok("", token));
  CHECK_FALSE(bearer_ok("Bearer ", ""));  // no token configured: nothing passes
}

TEST_CASE("listen addresses: numeric host and port", "[admin]") {
  auto a = parse_listen("127.0.0.1:8780");
  REQUIRE(a);
  CHECK(a->first == "127.0.0.1");
  CHECK(a->second == 8780);
  auto v6 = parse_listen("[::1]:0");
  REQUIRE(v6);
  CHECK(v6->first == "::1");
  CHECK(v6->second == 0);
  for (auto bad : {"localhost:8780", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80x",
                   ":8780", "", "1.2.3:80"})
    CHECK_FALSE(parse_listen(bad));
}

TEST_CASE("the allow-list: CIDR prefixes and addresses, IPv4 and IPv6", "[admin]") {
  namespace ip = boost::asio::ip;
  auto list = parse_allow("127.0.0.1/32, 10.1.0.0/16,192.0.2.7 ,  ::1, 2001:db8::/32");
  REQUIRE(list);
  CHECK(list->size() == 5);
  for (auto yes : {"127.0.0.1", "10.1.0.0", "10.1.255.255", "192.0.2.7", "::1", "2001:db8::5",
                   "::ffff:127.0.0.1", "::ffff:10.1.2.3"})
    CHECK(allowed(*list, ip::make_address(yes)));
  for (auto no :
       {"127.0.0.2", "10.2.0.1", "192.0.2.8", "::2", "2001:db9::1", "0.0.0.0", "::ffff:127.0.0.2"})
    CHECK_FALSE(allowed(*list, ip::make_address(no)));
  // Anyone, and the default (loopback only).
  auto any = parse_allow("0.0.0.0/0, ::/0");
  REQUIRE(any);
  CHECK(allowed(*any, ip::make_address("203.0.113.9")));
  CHECK(allowed(*any, ip::make_address("2001:db8::1")));
  auto loopback = parse_allow(admin_config{}.allow);
  REQUIRE(loopback);
  CHECK(allowed(*loopback, ip::make_address("127.0.0.2")));
  CHECK(allowed(*loopback, ip::make_address("::1")));
  CHECK_FALSE(allowed(*loopback, ip::make_address("192.168.1.10")));
  // Nothing in the list: nobody.
  CHECK_FALSE(allowed({}, ip::make_address("127.0.0.1")));
  for (auto bad :
       {"", " ", "any", "localhost", "127.0.0.1/", "127.0.0.1/33", "::1/129", "127.0.0.1/8",
        "10.1.2.0/16", "127.0.0.1,,::1", "127.0.0.1,", "1.2.3/8", "127.0.0.1/-1", "127.0.0.1/8x"})
    CHECK_FALSE(parse_allow(bad));
}
