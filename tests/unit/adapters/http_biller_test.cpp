// The HTTP biller's wire format and circuit breaker, without sockets: base URL parsing, request
// paths and bodies, and the mapping of every kind of answer to a typed outcome
// (adapters/http_biller_json.hpp, docs/biller-api.md). The adapter itself over TLS is tested
// against ussdpay-billersim in tests/billersim/http_biller_test.cpp.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "adapters/http_biller.hpp"
#include "adapters/http_biller_json.hpp"

using namespace ussdpay::adapters;
using namespace ussdpay::adapters::http_json;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {

wire_response json_answer(unsigned status, std::string body) {
  return {status, "application/json; charset=utf-8", std::move(body)};
}

const std::string unpaid_bill = R"({
  "consumerNumber": "04123456789012", "customerName": "M ASLAM", "billStatus": "U",
  "billingMonth": "2026-12", "dueDate": "2026-12-25",
  "amountWithinDueDate": {"value": 452000, "currency": "PKR"},
  "amountAfterDueDate": {"value": 497200, "currency": "PKR"},
  "billReference": "LESCO-2026-12-0001", "responseCode": "00", "futureField": [1, 2]})";

const std::string accepted = R"({"paymentId": "pay-1", "status": "accepted",
  "billerReference": "BS0000000042", "responseCode": "00"})";

// The unpaid bill with one member replaced: `key` set to the JSON text `value`.
std::string bill_with(const std::string& key, const std::string& value) {
  auto v = boost::json::parse(unpaid_bill).as_object();
  if (value.empty())
    v.erase(key);
  else
    v[key] = boost::json::parse(value);
  return boost::json::serialize(v);
}

}  // namespace

TEST_CASE("base URL: https only, host, port, prefix, bounded", "[http_biller]") {
  auto u = parse_base_url("https://billers.example.com:8443/v1/lesco/");
  REQUIRE(u);
  CHECK(u->host == "billers.example.com");
  CHECK(u->port == 8443);
  CHECK(u->prefix == "/v1/lesco");
  CHECK(u->host_header == "billers.example.com:8443");
  CHECK_FALSE(u->host_is_ip);

  u = parse_base_url("HTTPS://127.0.0.1");
  REQUIRE(u);
  CHECK(u->port == 443);
  CHECK(u->prefix.empty());
  CHECK(u->host_header == "127.0.0.1");
  CHECK(u->host_is_ip);

  u = parse_base_url("https://[::1]:9443/x");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->host_header == "[::1]:9443");
  CHECK(u->host_is_ip);

  std::string why;
  for (const char* bad :
       {"http://billers.example.com", "https://", "https://user:pw@host/", "https://host:0/",
        "https://host:65536/", "https://host:/", "https://host/a?b=1", "https://host/#f",
        "https://ho st/", "https://host/a b", "https://host/%zz", "https://[::1/", "https://a..b/",
        "ftp://host"}) {
    INFO(bad);
    CHECK_FALSE(parse_base_url(bad, &why));
    CHECK_FALSE(why.empty());
  }
  CHECK_FALSE(parse_base_url("https://host/" + std::string(3000, 'a')));
}

TEST_CASE("requests: paths under the prefix, JSON bodies, idempotency keys", "[http_biller]") {
  const auto url = *parse_base_url("https://b.example/v1/lesco");

  const auto inq = inquiry_request(url, "04123456789012");
  CHECK_FALSE(inq.post);
  CHECK(inq.target == "/v1/lesco/bills/04123456789012");
  CHECK(inq.idempotency_key.empty());
  CHECK(inquiry_request(url, "a/b c").target == "/v1/lesco/bills/a%2Fb%20c");

  const auto pay = pay_wire_request(url, {"pay-1", "04123456789012", 452000, "PKR", "REF-1"});
  CHECK(pay.post);
  CHECK(pay.target == "/v1/lesco/payments");
  CHECK(pay.idempotency_key == "pay-1");
  const auto body = boost::json::parse(pay.body).as_object();
  CHECK(body.at("paymentId").as_string() == "pay-1");
  CHECK(body.at("consumerNumber").as_string() == "04123456789012");
  CHECK(body.at("amount").at("value").as_int64() == 452000);
  CHECK(body.at("amount").at("currency").as_string() == "PKR");
  CHECK(body.at("billReference").as_string() == "REF-1");

  CHECK(status_request(url, "pay-1").target == "/v1/lesco/payments/pay-1");
  CHECK(status_request(url, "pay-1").idempotency_key == "pay-1");
  const auto rev = reverse_request(url, "pay-1");
  CHECK(rev.post);
  CHECK(rev.target == "/v1/lesco/payments/pay-1/reversal");
  CHECK(rev.idempotency_key == "pay-1");

  CHECK(valid_payment_id("3f2b8c1e-9d4a-4c7e-8f00-1234567890ab"));
  CHECK_FALSE(valid_payment_id(""));
  CHECK_FALSE(valid_payment_id("has space"));
  CHECK_FALSE(valid_payment_id("a/b"));
  CHECK_FALSE(valid_payment_id(std::string(65, 'a')));
}

TEST_CASE("inquiry answers: found, already paid, blocked, not found, invalid", "[http_biller]") {
  auto m = map_inquiry(json_answer(200, unpaid_bill), "04123456789012");
  CHECK_FALSE(m.fault);
  REQUIRE(m.result.status == inquiry_status::found);
  CHECK(m.result.found.customer_name == "M ASLAM");
  CHECK(m.result.found.amount_due == 452000);
  CHECK(m.result.found.amount_after_due == 497200);
  CHECK(m.result.found.period == "2026-12");
  CHECK(m.result.found.due_date == "2026-12-25");
  CHECK(m.result.found.bill_reference == "LESCO-2026-12-0001");
  CHECK(m.result.code == "00");

  // No after-due amount: the same as within the due date.
  m = map_inquiry(json_answer(200, bill_with("amountAfterDueDate", "")), "04123456789012");
  REQUIRE(m.result.status == inquiry_status::found);
  CHECK(m.result.found.amount_after_due == 452000);

  auto paid = bill_with("billStatus", R"("P")");
  CHECK(map_inquiry(json_answer(200, paid), "04123456789012").fault);  // P needs datePaid
  paid = boost::json::serialize([&] {
    auto o = boost::json::parse(paid).as_object();
    o["datePaid"] = "2026-12-02";
    return o;
  }());
  m = map_inquiry(json_answer(200, paid), "04123456789012");
  REQUIRE(m.result.status == inquiry_status::already_paid);
  CHECK(m.result.found.paid_on == "2026-12-02");

  m = map_inquiry(json_answer(200, R"({"consumerNumber":"04123456789012","billStatus":"B"})"),
                  "04123456789012");
  CHECK_FALSE(m.fault);
  CHECK(m.result.status == inquiry_status::not_found);

  m = map_inquiry(json_answer(404, R"({"errorCode":"01","errorDescription":"no such"})"),
                  "04123456789012");
  CHECK_FALSE(m.fault);
  CHECK(m.result.status == inquiry_status::not_found);
  CHECK(m.result.code == "01");
  m = map_inquiry(json_answer(400, R"({"errorCode":"02"})"), "04123456789012");
  CHECK(m.result.status == inquiry_status::invalid);
  CHECK(map_inquiry(json_answer(422, R"({"errorCode":"02"})"), "x").result.status ==
        inquiry_status::invalid);
}

TEST_CASE("inquiry answers outside the contract are unavailable faults", "[http_biller]") {
  const std::string acct = "04123456789012";
  const auto fault = [&](const wire_response& r) {
    const auto m = map_inquiry(r, acct);
    return m.fault && m.result.status == inquiry_status::unavailable;
  };
  CHECK(fault(json_answer(500, "")));
  CHECK(fault(json_answer(503, R"({"errorCode":"X"})")));
  CHECK(fault({200, "text/html", unpaid_bill}));              // wrong content type
  CHECK(fault({200, "", unpaid_bill}));                       // none
  CHECK(fault(json_answer(200, "{\"consumerNumber\": \"")));  // truncated
  CHECK(fault(json_answer(200, "[]")));                       // not an object
  CHECK(fault(json_answer(200, unpaid_bill + "x")));          // trailing garbage
  CHECK(fault(json_answer(404, "<html>Not Found</html>")));   // a proxy's 404
  CHECK(fault(json_answer(302, "")));
  CHECK(map_inquiry(json_answer(200, unpaid_bill), "04123456789099").fault);  // other number
  // Every field checked and bounded.
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"customerName", R"("")"},
           {"customerName", "\"" + std::string(81, 'A') + "\""},
           {"customerName", R"("A\u0007B")"},
           {"customerName", ""},
           {"billStatus", R"("X")"},
           {"billingMonth", R"("2026-13")"},
           {"dueDate", R"("2026-02-30")"},
           {"dueDate", "20261225"},
           {"amountWithinDueDate", R"({"value": 4520.5, "currency": "PKR"})"},
           {"amountWithinDueDate", R"({"value": -1, "currency": "PKR"})"},
           {"amountWithinDueDate", R"({"value": 1e30, "currency": "PKR"})"},
           {"amountWithinDueDate", R"({"value": "452000", "currency": "PKR"})"},
           {"amountWithinDueDate", R"({"value": 452000, "currency": "pkr"})"},
           {"amountWithinDueDate", R"({"value": 452000})"},
           {"amountAfterDueDate", R"({"value": 1, "currency": "PKR"})"},
           {"amountAfterDueDate", R"({"value": 497200, "currency": "USD"})"},
           {"billReference", "\"" + std::string(65, 'R') + "\""},
           {"billReference", R"("has space")"},
           {"responseCode", R"(7)"},
           {"datePaid", R"("2026-12-01")"},  // on an unpaid bill
       }) {
    INFO(key << " = " << value);
    CHECK(fault(json_answer(200, bill_with(key, value))));
  }
  // Nesting beyond the bound.
  CHECK(fault(json_answer(200, bill_with("deep", "[[[[[[[[[[1]]]]]]]]]]"))));
  // A refusal that is not a business answer: unavailable, but no fault (the biller works).
  const auto m = map_inquiry(json_answer(401, R"({"errorCode":"AUTH"})"), acct);
  CHECK_FALSE(m.fault);
  CHECK(m.result.status == inquiry_status::unavailable);
  CHECK(m.result.code == "AUTH");
}

TEST_CASE("payment answers: accepted, rejected, pending, reversed", "[http_biller]") {
  auto m = map_payment(call_kind::pay, json_answer(200, accepted), "pay-1");
  CHECK_FALSE(m.fault);
  CHECK(m.result.status == pay_status::accepted);
  CHECK(m.result.biller_reference == "BS0000000042");
  CHECK(map_payment(call_kind::pay, json_answer(201, accepted), "pay-1").result.status ==
        pay_status::accepted);

  // Another payment's answer is malformed, never accepted.
  m = map_payment(call_kind::pay, json_answer(200, accepted), "pay-2");
  CHECK(m.fault);
  CHECK(m.result.status == pay_status::unknown);

  m = map_payment(
      call_kind::pay,
      json_answer(200, R"({"paymentId":"pay-1","status":"rejected","responseCode":"05"})"),
      "pay-1");
  CHECK(m.result.status == pay_status::rejected);
  CHECK(m.result.code == "05");
  // A rejection without its code, or an acceptance without a reference: malformed.
  CHECK(map_payment(call_kind::pay,
                    json_answer(200, R"({"paymentId":"pay-1","status":"rejected"})"), "pay-1")
            .fault);
  CHECK(map_payment(call_kind::pay,
                    json_answer(200, R"({"paymentId":"pay-1","status":"accepted"})"), "pay-1")
            .fault);

  m = map_payment(call_kind::status,
                  json_answer(200, R"({"paymentId":"pay-1","status":"pending"})"), "pay-1");
  CHECK_FALSE(m.fault);
  CHECK(m.result.status == pay_status::unknown);

  const std::string reversed =
      R"({"paymentId":"pay-1","status":"reversed","billerReference":"BS0000000042"})";
  m = map_payment(call_kind::status, json_answer(200, reversed), "pay-1");
  CHECK(m.result.status == pay_status::rejected);
  CHECK(m.result.code == "RV");
  m = map_payment(call_kind::reverse, json_answer(200, reversed), "pay-1");
  CHECK(m.result.status == pay_status::accepted);
  // The reversal endpoint answering a payment still accepted: not reversed, not refused.
  m = map_payment(call_kind::reverse, json_answer(200, accepted), "pay-1");
  CHECK(m.result.status == pay_status::unknown);
}

TEST_CASE("payment 4xx: definitive for pay and reverse, no record for status", "[http_biller]") {
  const auto err = json_answer(422, R"({"errorCategory":"businessRule","errorCode":"04",
                                        "errorDescription":"wrong amount"})");
  auto m = map_payment(call_kind::pay, err, "pay-1");
  CHECK_FALSE(m.fault);
  CHECK(m.result.status == pay_status::rejected);
  CHECK(m.result.code == "04");
  CHECK_THAT(m.result.detail, Contains("wrong amount"));

  const auto none = json_answer(404, R"({"errorCode":"NOTFOUND"})");
  m = map_payment(call_kind::status, none, "pay-1");
  CHECK(m.result.status == pay_status::unknown);
  CHECK(m.result.no_record);
  m = map_payment(call_kind::reverse, none, "pay-1");
  CHECK(m.result.status == pay_status::rejected);
  CHECK(m.result.no_record);
  m = map_payment(call_kind::pay, json_answer(404, R"({"errorCode":"01"})"), "pay-1");
  CHECK(m.result.status == pay_status::rejected);
  CHECK_FALSE(m.result.no_record);
}

TEST_CASE("payment answers outside the contract are unknown, never rejected", "[http_biller]") {
  for (const auto kind : {call_kind::pay, call_kind::status, call_kind::reverse}) {
    for (const auto& r : std::vector<wire_response>{
             json_answer(500, R"({"paymentId":"pay-1","status":"rejected","responseCode":"05"})"),
             json_answer(502, "<html>bad gateway</html>"),
             json_answer(200, "{\"paymentId\": \"pay-1\""),
             {200, "text/plain", accepted},
             json_answer(200, R"({"paymentId":"pay-1","status":"maybe"})"),
             json_answer(422, "not json"),
             json_answer(400, R"({"errorCode": ""})"),
             json_answer(404, R"({"message": "no errorCode"})"),
         }) {
      INFO(r.status << " " << r.body);
      const auto m = map_payment(kind, r, "pay-1");
      CHECK(m.fault);
      CHECK(m.result.status == pay_status::unknown);
    }
    // 409 (idempotency conflict), 429, 401: the biller refused on purpose; still unknown.
    for (const unsigned status : {401u, 403u, 409u, 429u}) {
      const auto m = map_payment(kind, json_answer(status, R"({"errorCode":"X"})"), "pay-1");
      CHECK_FALSE(m.fault);
      CHECK(m.result.status == pay_status::unknown);
    }
  }
  CHECK(is_json_content_type("Application/JSON ; charset=utf-8"));
  CHECK_FALSE(is_json_content_type("application/json-patch+json"));
  CHECK_FALSE(is_json_content_type("text/json"));
}

TEST_CASE("circuit breaker: opens, fails fast, one trial, closes or opens again", "[http_biller]") {
  using clock = circuit_breaker::clock;
  const auto t0 = clock::time_point{} + 1h;
  circuit_breaker b(3, 10s);

  // Two failures and a success: the count starts again.
  for (int i = 0; i < 2; ++i) {
    REQUIRE(b.try_acquire(t0));
    b.on_failure(t0);
  }
  REQUIRE(b.try_acquire(t0));
  b.on_success();
  CHECK(b.consecutive_failures() == 0);

  // Three in a row open it.
  for (int i = 0; i < 3; ++i) {
    REQUIRE(b.try_acquire(t0));
    b.on_failure(t0);
  }
  CHECK(b.current() == circuit_breaker::state::open);
  CHECK_FALSE(b.try_acquire(t0 + 9s));

  // After the cooldown: one trial, and no second one while it is out.
  CHECK(b.try_acquire(t0 + 10s));
  CHECK(b.current() == circuit_breaker::state::half_open);
  CHECK_FALSE(b.try_acquire(t0 + 10s));
  // The trial gave no verdict (never sent): the next attempt is the trial.
  b.on_abandoned();
  CHECK(b.try_acquire(t0 + 10s));
  // It fails: open again for a whole cooldown.
  b.on_failure(t0 + 11s);
  CHECK(b.current() == circuit_breaker::state::open);
  CHECK_FALSE(b.try_acquire(t0 + 20s));
  CHECK(b.try_acquire(t0 + 21s));
  b.on_success();
  CHECK(b.current() == circuit_breaker::state::closed);
  CHECK(b.try_acquire(t0 + 21s));

  // Threshold 0: never opens.
  circuit_breaker off(0, 10s);
  for (int i = 0; i < 100; ++i) off.on_failure(t0);
  CHECK(off.try_acquire(t0));
}

TEST_CASE("http_biller refuses bad configuration at construction", "[http_biller]") {
  boost::asio::io_context io;
  boost::asio::ssl::context tls(boost::asio::ssl::context::tls_client);
  biller_info info;
  info.id = "lesco";
  const auto make = [&](http_biller_config c) {
    return http_biller(io.get_executor(), tls, info, std::move(c));
  };
  http_biller_config good;
  good.base_url = "https://127.0.0.1:8443/lesco";
  CHECK_NOTHROW(make(good));
  auto c = good;
  c.base_url = "http://127.0.0.1/";
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c = good;
  c.api_key = "two words";
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c = good;
  c.api_key = "line\r\nInjected: header";
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c = good;
  c.pool_size = 0;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
  c = good;
  c.request_timeout = 0ms;
  CHECK_THROWS_AS(make(c), std::invalid_argument);
}
