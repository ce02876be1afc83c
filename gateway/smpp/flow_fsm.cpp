#include "gateway/smpp/flow_fsm.hpp"

#include <algorithm>

namespace ussdpay::smpp {

namespace {
constexpr double cut_to = 0.9;                    // of the rate the SMSC accepted
constexpr double step = 0.1;                      // additive increase, as a share of the rate
constexpr std::uint64_t judge_at_once = 10;       // throttling answers before the interval ends
constexpr std::uint32_t doubling_after = 3;       // intervals in a row without throttling
constexpr std::uint32_t unlimited_after = 10;     // intervals with less than half the rate used
constexpr std::uint32_t max_idle_intervals = 32;  // closed one by one after a quiet spell
}  // namespace

flow_fsm::flow_fsm(flow_config cfg) : cfg_(cfg) {
  if (cfg_.interval <= std::chrono::milliseconds(0)) cfg_.interval = std::chrono::milliseconds(100);
  if (!(cfg_.min_rate > 0)) cfg_.min_rate = 1;
  if (!(cfg_.tolerated_share >= 0) || cfg_.tolerated_share > 1) cfg_.tolerated_share = 0.3;
}

void flow_fsm::set_rate(double r, clock::time_point now) {
  rate_ = r;
  tokens_ = 1;  // one send at once, then the new rate
  tokens_at_ = now;
}

bool flow_fsm::try_send(clock::time_point now) {
  roll(now);
  if (rate_ > 0) {
    const double burst = std::max(1.0, rate_ / 50);  // at most 20 ms worth at once
    const double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
    if (elapsed > 0) tokens_ = std::min(burst, tokens_ + elapsed * rate_);
    tokens_at_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
  }
  ++sent_;
  return true;
}

flow_fsm::clock::time_point flow_fsm::next_send() const {
  if (rate_ <= 0 || tokens_ >= 1) return {};
  const auto wait = std::chrono::duration<double>((1 - tokens_) / rate_);
  return tokens_at_ + std::chrono::ceil<clock::duration>(wait);
}

void flow_fsm::on_accepted(clock::time_point now) {
  roll(now);
  ++accepted_;
}

void flow_fsm::on_throttled(clock::time_point now) {
  roll(now);
  ++throttled_;
  // Enough throttling answers to judge before the interval ends (a storm: react at once).
  if (!cut_in_interval_ && throttled_ >= judge_at_once &&
      static_cast<double>(throttled_) >
          cfg_.tolerated_share * static_cast<double>(accepted_ + throttled_))
    cut(last_accepted_rate_, now);
}

void flow_fsm::cut(double accepted_rate, clock::time_point now) {
  // A little under what the SMSC took; never up, never under min_rate.
  double to = std::max(cfg_.min_rate, cut_to * accepted_rate);
  if (rate_ > 0) to = std::min(to, std::max(cfg_.min_rate, cut_to * rate_));
  // Where doubling may go back to once it clears: half the best rate seen since the last cut.
  good_rate_ = std::max(to, peak_accepted_rate_ / 2);
  peak_accepted_rate_ = 0;
  set_rate(to, now);
  cut_in_interval_ = true;
  clean_run_ = unused_run_ = 0;
  ++stats_.cuts;
}

void flow_fsm::roll(clock::time_point now) {
  if (interval_end_ == clock::time_point{}) {
    interval_end_ = now + cfg_.interval;
    return;
  }
  for (std::uint32_t i = 0; now >= interval_end_ && i < max_idle_intervals; ++i) {
    close_interval();
    interval_end_ += cfg_.interval;
  }
  if (now >= interval_end_) interval_end_ = now + cfg_.interval;  // a long quiet spell
}

void flow_fsm::close_interval() {
  const double secs = std::chrono::duration<double>(cfg_.interval).count();
  const double accepted_rate = static_cast<double>(accepted_) / secs;
  const bool congested = static_cast<double>(throttled_) >
                         cfg_.tolerated_share * static_cast<double>(accepted_ + throttled_);
  if (cut_in_interval_) {
    // Judged already.
  } else if (congested) {
    cut(accepted_rate, interval_end_);
  } else {
    clean_run_ = throttled_ == 0 ? clean_run_ + 1 : 0;
    if (throttled_ == 0) peak_accepted_rate_ = std::max(peak_accepted_rate_, accepted_rate);
    if (rate_ > 0 && static_cast<double>(sent_) < rate_ * secs / 2) {
      if (++unused_run_ >= unlimited_after) {  // the limit has not mattered for a while
        set_rate(0, interval_end_);
        unused_run_ = 0;
        ++stats_.unlimited;
      }
    } else if (rate_ > 0 && accepted_ > 0) {  // used, and the SMSC took it all: faster
      unused_run_ = 0;
      double to = rate_ + std::max(cfg_.min_rate, step * rate_);
      if (rate_ < good_rate_)
        to = std::min(good_rate_, 2 * rate_);
      else if (clean_run_ >= doubling_after)
        to = 2 * rate_;
      rate_ = to;  // the bucket keeps its tokens
      ++stats_.raises;
    }
  }
  cut_in_interval_ = false;
  last_accepted_rate_ = accepted_rate;
  sent_ = accepted_ = throttled_ = 0;
}

}  // namespace ussdpay::smpp
