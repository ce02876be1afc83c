// What the admin API reads from a request before the store: the route, the payments query and
// the resolve body (gateway/admin/api.hpp), with the regressions tests/fuzz/admin_request_fuzz.cpp
// found.
#include <catch2/catch.hpp>

#include "gateway/admin/api.hpp"

using namespace ussdpay::admin;
namespace http = boost::beast::http;

TEST_CASE("admin route: paths, methods and the REF", "[admin]") {
  using k = route::kind_t;
  CHECK(route_of(http::verb::get, "/health").kind == k::health);
  CHECK(route_of(http::verb::get, "/metrics?x=1").kind == k::metrics);
  CHECK(route_of(http::verb::post, "/metrics").kind == k::wrong_method);
  const auto p = route_of(http::verb::get, "/api/payments?state=UNKNOWN");
  CHECK(p.kind == k::payments);
  CHECK(p.query == "state=UNKNOWN");
  const auto one = route_of(http::verb::get, "/api/payments/K7Q2M9XPLA");
  CHECK(one.kind == k::payment);
  CHECK(one.ref == "K7Q2M9XPLA");
  const auto r = route_of(http::verb::post, "/api/payments/K7Q2M9XPLA/resolve");
  CHECK(r.kind == k::resolve);
  CHECK(r.ref == "K7Q2M9XPLA");
  const auto get_resolve = route_of(http::verb::get, "/api/payments/K7Q2M9XPLA/resolve");
  CHECK(get_resolve.kind == k::wrong_method);
  CHECK(get_resolve.why == "resolve with POST");
  CHECK(route_of(http::verb::get, "/nothing").kind == k::not_found);
}

TEST_CASE("admin payments query: one of msisdn and state, limit 1..100", "[admin]") {
  auto q = parse_payments_query("msisdn=+923001234567&limit=5");
  CHECK(q.error.empty());
  CHECK(q.msisdn == "923001234567");
  CHECK(q.limit == 5);
  q = parse_payments_query("state=MANUAL_REVIEW");
  CHECK(q.error.empty());
  CHECK(q.state == ussdpay::store::payment_state::manual_review);
  CHECK(q.limit == 20);
  CHECK_FALSE(parse_payments_query("msisdn=923001234567&state=UNKNOWN").error.empty());
  CHECK_FALSE(parse_payments_query("state=UNKNOWN&limit=101").error.empty());
  CHECK_FALSE(parse_payments_query("state=SOMETHING").error.empty());
  CHECK_FALSE(parse_payments_query("").error.empty());
}

TEST_CASE("admin payments query: an msisdn that is not one is a 400, not an empty list",
          "[admin]") {
  // "+" alone became "" (every payment with no MSISDN) before; letters went to the store as is.
  for (const char* q :
       {"msisdn=+", "msisdn=abc", "msisdn=9+2", "msisdn=1234567", "msisdn=1234567890123456"})
    CHECK(parse_payments_query(q).error == "msisdn: 8..15 digits with the country code");
  CHECK(parse_payments_query("msisdn=00923001234567").msisdn == "923001234567");
}

TEST_CASE("admin resolve body: a JSON object with outcome, biller_reference and note", "[admin]") {
  auto r = parse_resolve("K7Q2M9XPLA",
                         R"({"outcome":"paid","biller_reference":"LESCO-1","note":"Ali, LESCO"})");
  CHECK(r.error.empty());
  CHECK(r.resolution.paid);
  CHECK(r.resolution.ref == "K7Q2M9XPLA");
  CHECK(r.resolution.biller_reference == "LESCO-1");
  r = parse_resolve("K7Q2M9XPLA", R"({"outcome":"not_paid","note":"no record"})");
  CHECK(r.error.empty());
  CHECK_FALSE(r.resolution.paid);
  CHECK(parse_resolve("K7Q2M9XPLA", "[]").error == "the body is a JSON object");
  CHECK(parse_resolve("K7Q2M9XPLA", "{").error == "the body is a JSON object");
  CHECK_FALSE(parse_resolve("K7Q2M9XPLA", R"({"outcome":"maybe","note":"x"})").error.empty());
  CHECK_FALSE(parse_resolve("K7Q2M9XPLA", R"({"outcome":"paid","note":"x"})").error.empty());
  CHECK_FALSE(parse_resolve("SHORT", R"({"outcome":"not_paid","note":"x"})").error.empty());
  CHECK_FALSE(
      parse_resolve("K7Q2M9XPLA", R"({"outcome":"not_paid","note":"a\u0001b"})").error.empty());
}
