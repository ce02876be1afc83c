// flow_fsm step by step with a fake clock: a lane's send rate as the SMSC's throttling answers
// move it (gateway/smpp/flow_fsm.hpp).
#include <chrono>
#include <cstdint>

#include <catch2/catch.hpp>

#include "gateway/smpp/flow_fsm.hpp"

using namespace ussdpay::smpp;
using namespace std::chrono_literals;
using tp = flow_fsm::clock::time_point;

namespace {

const tp t0 = tp{} + 1h;

flow_config config() {
  flow_config c;
  c.interval = 100ms;
  c.min_rate = 20;
  c.tolerated_share = 0.3;
  return c;
}

/// A sender and an SMSC, one millisecond at a time: the sender offers `offered` messages per
/// second (as many as try_send lets out); the SMSC answers each at once through `answer`
/// (true: accepted). Returns what happened in the span.
struct tally {
  std::uint64_t sent = 0, accepted = 0, throttled = 0;
  double share() const {
    return sent == 0 ? 0 : static_cast<double>(throttled) / static_cast<double>(sent);
  }
};

template <class Answer>
tally run(flow_fsm& f, tp& now, std::chrono::milliseconds span, double offered, Answer answer) {
  tally t;
  double owed = 0;  // messages the sender wants out and has not sent yet
  for (auto end = now + span; now < end; now += 1ms) {
    owed += offered / 1000;
    while (owed >= 1 && f.try_send(now)) {
      owed -= 1;
      ++t.sent;
      if (answer(now)) {
        ++t.accepted;
        f.on_accepted(now);
      } else {
        ++t.throttled;
        f.on_throttled(now);
      }
    }
  }
  return t;
}

}  // namespace

TEST_CASE("flow_fsm: unlimited until the SMSC throttles", "[flow_fsm]") {
  flow_fsm f(config());
  auto now = t0;
  // A lane that never hears "slower" sends whatever it is asked to.
  const auto t = run(f, now, 2s, 50'000, [](tp) { return true; });
  CHECK(t.sent == 100'000);
  CHECK(f.rate() == 0);
  CHECK(f.next_send() == tp{});
  CHECK(f.stats().cuts == 0);
}

TEST_CASE("flow_fsm: a storm of refusals cuts to min_rate at once, and sending is paced",
          "[flow_fsm]") {
  flow_fsm f(config());
  auto now = t0;
  // The SMSC takes 1,000 a second for a while, then refuses everything.
  run(f, now, 1s, 1'000, [](tp) { return true; });
  // The first nine refusals in an interval wait for its end; the tenth cuts at once.
  for (int i = 0; i < 9; ++i) {
    REQUIRE(f.try_send(now));
    f.on_throttled(now);
  }
  CHECK(f.rate() == 0);
  REQUIRE(f.try_send(now));
  f.on_throttled(now);
  // 0.9 x the 1,000 a second the SMSC took in the last interval.
  CHECK(f.rate() == Approx(900));
  CHECK(f.stats().cuts == 1);

  // Still refused: the next congested interval cuts to what it accepted (none): min_rate.
  const auto storm = run(f, now, 500ms, 1'000, [](tp) { return false; });
  CHECK(f.rate() == Approx(20));
  // Paced: one send, then one every 50 ms (a bucket of one at 20 a second).
  CHECK(storm.sent < 150);
  now += 60ms;
  REQUIRE(f.try_send(now));
  CHECK_FALSE(f.try_send(now));
  CHECK(f.next_send() == now + 50ms);
  CHECK_FALSE(f.try_send(now + 49ms));
  CHECK(f.try_send(now + 50ms));
}

TEST_CASE("flow_fsm: after a storm it climbs back fast to half the best rate seen, then probes",
          "[flow_fsm]") {
  flow_fsm f(config());
  auto now = t0;
  run(f, now, 1s, 2'000, [](tp) { return true; });       // the SMSC takes 2,000 a second
  run(f, now, 2500ms, 2'000, [](tp) { return false; });  // then nothing for 2.5 s
  REQUIRE(f.rate() == Approx(20));
  // The storm is over and a backlog waits: doubling each interval up to 1,000 (half of the
  // best clean interval), +10 % for two intervals, then doubling again.
  const auto after = run(f, now, 1s, 5'000, [](tp) { return true; });
  CHECK(f.rate() >= 2'000);
  CHECK(after.sent > 1'000);
  CHECK(f.stats().raises >= 8);
}

TEST_CASE("flow_fsm: a share of refusals at any rate is sent again without slowing down",
          "[flow_fsm]") {
  flow_fsm f(config());
  auto now = t0;
  // Every 5th submit refused, however fast: 20 %, under the tolerated 30 %.
  std::uint64_t n = 0;
  const auto t = run(f, now, 3s, 10'000, [&n](tp) { return ++n % 5 != 0; });
  CHECK(f.rate() == 0);
  CHECK(f.stats().cuts == 0);
  CHECK(t.sent == 30'000);
  CHECK(t.share() == Approx(0.2));
}

TEST_CASE("flow_fsm: an SMSC with a rate limit: the lane settles just around it", "[flow_fsm]") {
  flow_fsm f(config());
  auto now = t0;
  // The SMSC takes 500 a second (its own token bucket, 10 at once) and refuses the rest; the
  // sender has far more to send.
  double smsc_tokens = 10;
  tp smsc_at = now;
  auto smsc = [&](tp at) {
    smsc_tokens =
        std::min(10.0, smsc_tokens + std::chrono::duration<double>(at - smsc_at).count() * 500);
    smsc_at = at;
    if (smsc_tokens < 1) return false;
    smsc_tokens -= 1;
    return true;
  };
  run(f, now, 2s, 5'000, smsc);  // converging
  CHECK(f.rate() > 0);
  const auto settled = run(f, now, 5s, 5'000, smsc);
  // It gets (nearly) all the SMSC gives, and is not refused much more than tolerated.
  CHECK(static_cast<double>(settled.accepted) >= 0.85 * 500 * 5);
  CHECK(settled.share() <= 0.35);
  // Without the controller the same sender would be refused 90 % of the time.
  CHECK(f.stats().cuts >= 2);
}

TEST_CASE("flow_fsm: a limit that no longer matters is lifted", "[flow_fsm]") {
  flow_fsm f(config());
  auto now = t0;
  run(f, now, 1s, 200, [](tp) { return true; });
  run(f, now, 300ms, 200, [](tp) { return false; });
  REQUIRE(f.rate() > 0);
  // Traffic falls to a trickle the limit never holds back: ten such intervals, and it is gone.
  run(f, now, 2s, 5, [](tp) { return true; });
  CHECK(f.rate() == 0);
  CHECK(f.stats().unlimited == 1);
}

TEST_CASE("flow_fsm: a quiet spell closes its intervals without looping forever", "[flow_fsm]") {
  flow_fsm f(config());
  auto now = t0;
  run(f, now, 1s, 1'000, [](tp) { return true; });
  run(f, now, 200ms, 1'000, [](tp) { return false; });
  REQUIRE(f.rate() > 0);
  // A day later the first send goes at once, and the limit is gone.
  now += 24h;
  CHECK(f.try_send(now));
  CHECK(f.rate() == 0);
}
