// The admin API's pieces without a socket: the Prometheus text (families, labels, escaping), the
// bearer token check, and the listen address parser.
#include <catch2/catch.hpp>

#include "gateway/admin/api.hpp"
#include "gateway/admin/metrics.hpp"
#include "gateway/admin/server.hpp"

using namespace ussdpay::admin;

TEST_CASE("prometheus text: HELP and TYPE per family, labels quoted and escaped", "[admin]") {
  prometheus_text m;
  m.family("ussdpay_things_total", "counter", "things\nseen \\ counted");
  m.sample("ussdpay_things_total", {{"kind", "a\"b"}, {"where", "x\\y\nz"}}, std::int64_t{3});
  m.sample("ussdpay_things_total", std::int64_t{-1});
  m.family("ussdpay_ratio", "gauge", "a ratio");
  m.sample("ussdpay_ratio", {}, 0.25);
  CHECK(m.text() ==
        "# HELP ussdpay_things_total things\\nseen \\\\ counted\n"
        "# TYPE ussdpay_things_total counter\n"
        "ussdpay_things_total{kind=\"a\\\"b\",where=\"x\\\\y\\nz\"} 3\n"
        "ussdpay_things_total -1\n"
        "# HELP ussdpay_ratio a ratio\n"
        "# TYPE ussdpay_ratio gauge\n"
        "ussdpay_ratio 0.25\n");
}

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
