// The metrics room without a socket: the Prometheus text (families, labels, escaping) and the
// registry every component writes into.
#include <catch2/catch.hpp>

#include "gateway/common/metrics.hpp"

using namespace ussdpay::metrics;

TEST_CASE("prometheus text: HELP and TYPE per family, labels quoted and escaped", "[common]") {
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

TEST_CASE("the registry renders every component's families in the order they were added",
          "[common]") {
  registry r;
  int smpp_calls = 0;
  r.add("smpp", [&](prometheus_text& m) {
    ++smpp_calls;
    m.family("a_total", "counter", "first");
    m.sample("a_total", std::int64_t{1});
  });
  r.add("ussd", [](prometheus_text& m) {
    m.counters("b_total", "second", "event", {{"x", 2}, {"y", 3}});
  });
  prometheus_text m;
  r.render(m);
  CHECK(smpp_calls == 1);
  CHECK(m.text() ==
        "# HELP a_total first\n# TYPE a_total counter\na_total 1\n"
        "# HELP b_total second\n# TYPE b_total counter\nb_total{event=\"x\"} 2\n"
        "b_total{event=\"y\"} 3\n");
}
