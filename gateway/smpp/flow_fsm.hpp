// flow_fsm: how fast one bind sends one lane of traffic (USSD screens, or SMS), learned from the
// SMSC's answers. I/O-free: the link asks it before each send and tells it each answer, with the
// time; tests walk it with a fake clock.
//
// An SMSC says "slower" by answering ESME_RTHROTTLED or ESME_RMSGQFUL. Pausing the whole bind for
// a back-off, as SMPP clients usually do, holds every USSD screen behind it, and a back-off that
// doubles up to seconds turns a short throttle into receipts half a minute late. Instead the rate
// is adjusted per `interval`, additive increase and multiplicative decrease as TCP does:
//
//   unlimited --congested--> limited --10 intervals using less than half of the rate--> unlimited
//                             |   ^
//        congested: cut to    |   | not congested: x2 back up to the last good rate, or after 3
//        0.9 x the rate the   +---+ intervals without a throttling answer; else +10 %
//        SMSC accepted, at least min_rate (once per interval)
//
// An interval is congested when more than `tolerated_share` of its answers were throttling
// answers (checked at its end, or at once when 10 have come). A smaller share is cheaper to send
// again than to slow down for: some SMSCs refuse a share of submits whatever the rate (a quota
// counted per message, shedding at random), and slowing down there only loses throughput. An SMSC
// over its rate refuses a growing share as the rate climbs, and is cut back under it.
//
// Throttled requests are neither dropped nor delayed here: the link sends them again as soon as
// the rate allows.
#pragma once

#include <chrono>
#include <cstdint>

namespace ussdpay::smpp {

/// [smpp] flow_*: how the send rate follows the SMSC's throttling answers.
struct flow_config {
  /// How often the rate is reconsidered, and the span over which answers are counted.
  std::chrono::milliseconds interval{100};
  /// The slowest a lane sends while the SMSC throttles everything (messages per second).
  double min_rate = 20;
  /// Throttling answers up to this share of an interval's answers are sent again at the same
  /// rate; above it the rate is cut.
  double tolerated_share = 0.3;
};

struct flow_stats {
  std::uint64_t cuts = 0, raises = 0, unlimited = 0;
};

class flow_fsm {
 public:
  using clock = std::chrono::steady_clock;

  explicit flow_fsm(flow_config cfg = {});

  /// May one request go out at `now`? Takes a token when it may (and counts the send).
  bool try_send(clock::time_point now);
  /// When try_send may next succeed: time_point{} when it may now (unlimited, or a token ready).
  clock::time_point next_send() const;
  void on_accepted(clock::time_point now);
  /// ESME_RTHROTTLED or ESME_RMSGQFUL.
  void on_throttled(clock::time_point now);

  /// Messages per second allowed now; 0 = unlimited.
  double rate() const { return rate_; }
  const flow_stats& stats() const { return stats_; }
  const flow_config& config() const { return cfg_; }

 private:
  void roll(clock::time_point now);
  void close_interval();
  void cut(double accepted_rate, clock::time_point now);
  void set_rate(double r, clock::time_point now);

  flow_config cfg_;
  double rate_ = 0;  // 0 = unlimited
  double tokens_ = 0;
  clock::time_point tokens_at_{};
  clock::time_point interval_end_{};
  // This interval's counts.
  std::uint64_t sent_ = 0, accepted_ = 0, throttled_ = 0;
  bool cut_in_interval_ = false;
  double last_accepted_rate_ = 0;  // the last whole interval's
  double peak_accepted_rate_ = 0;  // the best interval without throttling since the last cut
  double good_rate_ = 0;           // doubling goes back up to here
  std::uint32_t clean_run_ = 0, unused_run_ = 0;
  flow_stats stats_;
};

}  // namespace ussdpay::smpp
