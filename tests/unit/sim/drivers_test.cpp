// Unit tests for ussdpay-sim's load and hold drivers (tests/sim/drivers.hpp), against a fake
// network that records what the subscribers send; the test plays the gateway and the clock.
#include "tests/sim/drivers.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

namespace {

namespace sim = ussdpay::sim;
using namespace std::chrono_literals;

struct sent {
  std::string kind, msisdn, text;
};

class fake_phones final : public sim::phones {
 public:
  bool dial(std::string_view m, std::string_view t) override { return add("dial", m, t); }
  bool reply(std::string_view m, std::string_view t) override { return add("reply", m, t); }
  bool abort(std::string_view m) override { return add("abort", m, {}); }
  bool can_abort() const override { return aborts; }

  /// What was sent since the last call.
  std::vector<sent> take() { return std::exchange(log, {}); }

  bool aborts = false;
  bool link_up = true;
  std::vector<sent> log;

 private:
  bool add(const char* kind, std::string_view m, std::string_view t) {
    if (!link_up) return false;
    log.push_back({kind, std::string(m), std::string(t)});
    return true;
  }
};

const sim::sim_clock::time_point t0{};
constexpr std::uint64_t first = 923000000000;

sim::load_options two_subscribers(std::vector<std::string> steps) {
  sim::load_options o;
  o.steps = std::move(steps);
  o.sessions = 2;
  o.first_msisdn = first;
  o.duration = 10s;
  o.hop_timeout = 1s;
  return o;
}

}  // namespace

TEST_CASE("load: each subscriber walks the steps, then aborts and dials again", "[sim][load]") {
  fake_phones net;
  net.aborts = true;
  sim::load_driver d(net, two_subscribers({"*123#", "1", "{account}"}));

  // Both subscribers dial at once.
  d.start(t0);
  auto s = net.take();
  REQUIRE(s.size() == 2);
  CHECK(s[0].kind == "dial");
  CHECK(s[0].msisdn == "923000000000");
  CHECK(s[0].text == "*123#");
  CHECK(s[1].msisdn == "923000000001");

  // The first one's menu arrives 100 us later: it answers "1" at once.
  d.on_screen("923000000000", false, false, t0 + 100us);
  s = net.take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].kind == "reply");
  CHECK(s[0].text == "1");

  // The next screen asks for the account: dialog 1's account number.
  d.on_screen("923000000000", false, false, t0 + 300us);
  s = net.take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].text == "04000000000001");

  // The last step's screen leaves the dialog open: the subscriber aborts it and dials again,
  // as dialog 3 (dialog 2 is the other subscriber's).
  d.on_screen("923000000000", false, false, t0 + 450us);
  s = net.take();
  REQUIRE(s.size() == 2);
  CHECK(s[0].kind == "abort");
  CHECK(s[1].kind == "dial");
  CHECK(d.totals().completed == 1);
  CHECK(d.totals().aborts == 1);
  CHECK(d.totals().dials == 3);
  CHECK(d.totals().hops == 3);
  // Hop latencies 100, 200 and 150 us.
  CHECK(d.latencies().percentile(50) == 150);
  CHECK(d.latencies().max() == 200);
}

TEST_CASE("load: without an abort op, a final screen that ends the dialog is simply redialed",
          "[sim][load]") {
  fake_phones net;
  sim::load_driver d(net, two_subscribers({"*123#"}));
  d.start(t0);
  net.take();
  // One step: a screen that ends the dialog; that completes the iteration.
  d.on_screen("923000000001", true, false, t0 + 1ms);
  const auto s = net.take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].kind == "dial");
  CHECK(s[0].msisdn == "923000000001");
  CHECK(d.totals().completed == 1);
  CHECK(d.totals().ended_early == 0);
  CHECK(d.totals().aborts == 0);
}

TEST_CASE("load: a screen that ends the dialog early starts the next iteration", "[sim][load]") {
  fake_phones net;
  sim::load_driver d(net, two_subscribers({"*123#", "1", "1"}));
  d.start(t0);
  net.take();
  d.on_screen("923000000000", true, false, t0 + 1ms);  // "Service unavailable", ending
  const auto s = net.take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].kind == "dial");
  CHECK(d.totals().ended_early == 1);
  CHECK(d.totals().completed == 0);
}

TEST_CASE("load: timeouts, protocol errors and stray screens", "[sim][load]") {
  fake_phones net;
  sim::load_driver d(net, two_subscribers({"*123#", "1"}));
  d.start(t0);
  net.take();

  // Subscriber 0 gets a screen that does not fit the profile: counted, and it starts over.
  d.on_screen("923000000000", false, true, t0 + 1ms);
  CHECK(d.totals().protocol_errors == 1);
  auto s = net.take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].kind == "dial");

  // Nothing for subscriber 1 within the hop timeout: a timeout, and it dials again.
  d.on_tick(t0 + 999ms);
  CHECK(net.take().empty());
  d.on_tick(t0 + 1s);
  CHECK(d.totals().timeouts == 1);
  s = net.take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].msisdn == "923000000001");

  // Screens for numbers that are not subscribers here are stray.
  d.on_screen("923000000002", false, false, t0 + 1s);
  d.on_screen("0923000000000", false, false, t0 + 1s);
  CHECK(d.totals().stray == 2);
}

TEST_CASE("load: the run ends at the deadline once the hops in flight are answered",
          "[sim][load]") {
  fake_phones net;
  auto o = two_subscribers({"*123#", "1"});
  o.duration = 100ms;
  sim::load_driver d(net, o);
  d.start(t0);
  net.take();

  // The deadline passes with both dials in flight: not done yet.
  d.on_tick(t0 + 100ms);
  CHECK_FALSE(d.done());
  // Their screens arrive; nobody replies or dials any more.
  d.on_screen("923000000000", false, false, t0 + 101ms);
  d.on_screen("923000000001", true, false, t0 + 101ms);
  CHECK(net.take().empty());
  CHECK(d.done());
  CHECK(d.totals().hops == 2);
}

TEST_CASE("load: at most max_dialogs dialogs start", "[sim][load]") {
  fake_phones net;
  auto o = two_subscribers({"*123#"});
  o.max_dialogs = 3;
  sim::load_driver d(net, o);
  d.start(t0);
  d.on_screen("923000000000", true, false, t0 + 1ms);  // dialog 3 starts
  d.on_screen("923000000001", true, false, t0 + 1ms);  // no dialog 4
  d.on_screen("923000000000", true, false, t0 + 2ms);
  CHECK(d.totals().dials == 3);
  CHECK(d.totals().completed == 3);
  CHECK(d.done());
}

TEST_CASE("load: a dial that cannot be sent is retried after a pause", "[sim][load]") {
  fake_phones net;
  net.link_up = false;
  sim::load_driver d(net, two_subscribers({"*123#"}));
  d.start(t0);
  CHECK(d.totals().failures == 2);
  CHECK(d.totals().dials == 0);
  net.link_up = true;
  d.on_tick(t0 + 5ms);
  CHECK(net.take().empty());
  d.on_tick(t0 + 10ms);
  CHECK(net.take().size() == 2);
  CHECK(d.totals().dials == 2);
}

TEST_CASE("hold: N dials, at most C outstanding, each dialog left open", "[sim][hold]") {
  fake_phones net;
  sim::hold_options o;
  o.sessions = 5;
  o.concurrency = 2;
  o.first_msisdn = first;
  o.hop_timeout = 1s;
  sim::hold_driver d(net, o);

  d.start(t0);
  auto s = net.take();
  REQUIRE(s.size() == 2);
  CHECK(s[0].msisdn == "923000000000");
  CHECK(s[1].msisdn == "923000000001");

  // The second answers first with a menu: held; the third dials.
  d.on_screen("923000000001", false, false, t0 + 2ms);
  s = net.take();
  REQUIRE(s.size() == 1);
  CHECK(s[0].msisdn == "923000000002");
  // The first gets a screen that ends the dialog: not held.
  d.on_screen("923000000000", true, false, t0 + 3ms);
  CHECK(net.take().size() == 1);  // the fourth
  // The third never answers; the fourth does.
  d.on_screen("923000000003", false, false, t0 + 4ms);
  CHECK(net.take().size() == 1);  // the fifth
  d.on_screen("923000000004", false, false, t0 + 5ms);
  CHECK_FALSE(d.done());
  d.on_tick(t0 + 2ms + 1s);
  CHECK(d.done());

  const auto& r = d.totals();
  CHECK(r.dialed == 5);
  CHECK(r.held == 3);
  CHECK(r.ended == 1);
  CHECK(r.timeouts == 1);
  CHECK(r.failed() == 2);
  CHECK(d.latencies().count() == 4);

  // Later the gateway closes an idle held dialog: released. A repeat is stray.
  d.on_screen("923000000001", true, false, t0 + 200s);
  d.on_screen("923000000001", true, false, t0 + 200s);
  CHECK(d.totals().released == 1);
  CHECK(d.totals().stray == 1);
}

TEST_CASE("latency histogram: exact when small, within 1% when large", "[sim]") {
  sim::latency_histogram h;
  CHECK(h.percentile(50) == 0);
  for (std::uint64_t us = 1; us <= 100; ++us) h.record(us);
  CHECK(h.count() == 100);
  CHECK(h.percentile(50) == 50);
  CHECK(h.percentile(99) == 99);
  CHECK(h.percentile(100) == 100);
  CHECK(h.max() == 100);

  sim::latency_histogram big;
  big.record(123'456);
  big.record(10'000'000);
  const auto p50 = big.percentile(50);
  CHECK(p50 >= 123'456);
  CHECK(p50 <= 123'456 * 101 / 100);
  CHECK(big.percentile(100) == 10'000'000);
  big.record(~std::uint64_t{0});  // does not overflow a bucket index
  CHECK(big.max() == ~std::uint64_t{0});
}

TEST_CASE("inputs: steps and {account}", "[sim]") {
  CHECK(sim::split_steps("*123#,1,,{account}") ==
        std::vector<std::string>{"*123#", "1", "", "{account}"});
  std::string out;
  sim::input_template("{account}").expand(42, out);
  CHECK(out == "04000000000042");
  sim::input_template("a{account}b{account}").expand(1'000'000'000'123ULL, out);
  CHECK(out == "a04000000000123b04000000000123");  // the counter keeps 12 digits
  sim::input_template("1").expand(7, out);
  CHECK(out == "1");

  char buf[24];
  CHECK(sim::msisdn_text(first, 12, buf) == "923000000012");
  CHECK(sim::msisdn_index("923000000012", first, 100) == 12);
  CHECK(sim::msisdn_index("923000000112", first, 100) == 100);
  CHECK(sim::msisdn_index("9230000000x2", first, 100) == 100);
}
