#include "tests/sim/drivers.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace ussdpay::sim {

// --- latency_histogram -----------------------------------------------------------------------

namespace {
constexpr std::size_t exact_below = 256;  // values below are their own bucket
constexpr std::size_t per_octave = 128;   // buckets per power of two above
constexpr std::size_t bucket_count = exact_below + 56 * per_octave;
}  // namespace

latency_histogram::latency_histogram() : buckets_(bucket_count, 0) {}

std::size_t latency_histogram::bucket(std::uint64_t us) {
  if (us < exact_below) return static_cast<std::size_t>(us);
  const auto shift = static_cast<unsigned>(std::bit_width(us)) - 8;  // 1..56
  const auto top = static_cast<std::size_t>(us >> shift);            // 128..255
  return exact_below + (shift - 1) * per_octave + (top - per_octave);
}

std::uint64_t latency_histogram::upper(std::size_t b) {
  if (b < exact_below) return b;
  const auto shift = static_cast<unsigned>((b - exact_below) / per_octave + 1);
  const auto top = static_cast<std::uint64_t>((b - exact_below) % per_octave + per_octave);
  return ((top + 1) << shift) - 1;
}

void latency_histogram::record(std::uint64_t us) {
  ++buckets_[bucket(us)];
  ++count_;
  max_ = std::max(max_, us);
}

std::uint64_t latency_histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const double want = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(count_));
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(want));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::min(upper(b), max_);
  }
  return max_;
}

// --- inputs and MSISDNs ----------------------------------------------------------------------

namespace {
constexpr std::string_view account_placeholder = "{account}";
}

input_template::input_template(std::string_view text) {
  for (;;) {
    const auto at = text.find(account_placeholder);
    parts_.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + account_placeholder.size());
  }
}

void input_template::expand(std::uint64_t n, std::string& out) const {
  out.assign(parts_.front());
  for (std::size_t k = 1; k < parts_.size(); ++k) {
    // "04" and the dialog number in 12 zero-padded digits.
    char digits[14] = {'0', '4', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'};
    std::uint64_t v = n % 1'000'000'000'000ULL;
    for (int d = 13; d >= 2 && v > 0; --d, v /= 10) digits[d] = static_cast<char>('0' + v % 10);
    out.append(digits, sizeof digits);
    out.append(parts_[k]);
  }
}

std::vector<std::string> split_steps(std::string_view list) {
  std::vector<std::string> steps;
  for (;;) {
    const auto comma = list.find(',');
    steps.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return steps;
}

std::string_view msisdn_text(std::uint64_t first, std::uint64_t index, char (&buf)[24]) {
  const auto r = std::to_chars(buf, buf + sizeof buf, first + index);
  return {buf, static_cast<std::size_t>(r.ptr - buf)};
}

std::uint64_t msisdn_index(std::string_view msisdn, std::uint64_t first, std::uint64_t count) {
  if (msisdn.empty() || msisdn.front() == '0') return count;
  std::uint64_t n = 0;
  const auto r = std::from_chars(msisdn.data(), msisdn.data() + msisdn.size(), n);
  if (r.ec != std::errc{} || r.ptr != msisdn.data() + msisdn.size()) return count;
  if (n < first || n - first >= count) return count;
  return n - first;
}

namespace {
std::uint64_t micros(sim_clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}
}  // namespace

// --- load_driver -----------------------------------------------------------------------------

load_driver::load_driver(phones& p, load_options o)
    : phones_(p), opt_(std::move(o)), subs_(opt_.sessions) {
  if (opt_.steps.empty()) opt_.steps.emplace_back("*123#");
  for (const auto& s : opt_.steps) steps_.emplace_back(s);
}

void load_driver::set_state(subscriber& s, state st) {
  const bool was = s.st != state::stopped;
  const bool is = st != state::stopped;
  if (was != is) {
    if (is)
      ++active_;
    else
      --active_;
  }
  s.st = st;
}

bool load_driver::should_stop(sim_clock::time_point now) {
  if (!stopping_ && (now >= deadline_ || totals_.dials >= opt_.max_dialogs)) stopping_ = true;
  return stopping_;
}

void load_driver::start(sim_clock::time_point now) {
  deadline_ = now + opt_.duration;
  for (std::uint32_t i = 0; i < subs_.size(); ++i) next_dialog(i, now);
  should_stop(now);  // done() at once when nothing may start
}

void load_driver::next_dialog(std::uint32_t i, sim_clock::time_point now) {
  subscriber& s = subs_[i];
  if (should_stop(now)) {
    set_state(s, state::stopped);
    return;
  }
  s.dialog = ++totals_.dials;
  s.step = 0;
  send_step(i, now);
}

void load_driver::send_step(std::uint32_t i, sim_clock::time_point now) {
  subscriber& s = subs_[i];
  steps_[s.step].expand(s.dialog, text_);
  char buf[24];
  const auto msisdn = msisdn_text(opt_.first_msisdn, i, buf);
  const bool sent = s.step == 0 ? phones_.dial(msisdn, text_) : phones_.reply(msisdn, text_);
  if (!sent) {
    ++totals_.failures;
    if (s.step == 0) --totals_.dials;  // that dialog never started
    s.at = now + opt_.retry_pause;
    set_state(s, state::retry);
    return;
  }
  s.at = now;
  set_state(s, state::waiting);
}

void load_driver::on_screen(std::string_view msisdn, bool ends_dialog, bool protocol_error,
                            sim_clock::time_point now) {
  const auto i = msisdn_index(msisdn, opt_.first_msisdn, subs_.size());
  if (i == subs_.size() || subs_[i].st != state::waiting) {
    ++totals_.stray;
    return;
  }
  const auto idx = static_cast<std::uint32_t>(i);
  subscriber& s = subs_[idx];
  latencies_.record(micros(now - s.at));
  if (s.step + 1 == steps_.size()) last_hop_.record(micros(now - s.at));
  ++totals_.hops;
  if (protocol_error) {
    ++totals_.protocol_errors;
    next_dialog(idx, now);
  } else if (s.step + 1 == steps_.size()) {
    ++totals_.completed;
    if (!ends_dialog && phones_.can_abort() && phones_.abort(msisdn)) ++totals_.aborts;
    next_dialog(idx, now);
  } else if (ends_dialog) {
    ++totals_.ended_early;
    next_dialog(idx, now);
  } else if (should_stop(now)) {
    set_state(s, state::stopped);  // the run is over: leave the dialog where it is
  } else if (opt_.think > sim_clock::duration::zero()) {
    ++s.step;
    // splitmix64: a jitter in [0.5, 1.5) of the reading time.
    std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const auto t = opt_.think.count();
    s.at = now + sim_clock::duration(
                     t / 2 + static_cast<sim_clock::rep>(z % static_cast<std::uint64_t>(t)));
    set_state(s, state::thinking);
  } else {
    ++s.step;
    send_step(idx, now);
  }
}

void load_driver::on_tick(sim_clock::time_point now) {
  should_stop(now);
  if (active_ == 0) return;
  for (std::uint32_t i = 0; i < subs_.size(); ++i) {
    subscriber& s = subs_[i];
    if (s.st == state::waiting && now - s.at >= opt_.hop_timeout) {
      ++totals_.timeouts;
      next_dialog(i, now);
    } else if (s.st == state::retry && (stopping_ || now >= s.at)) {
      next_dialog(i, now);
    } else if (s.st == state::thinking && stopping_) {
      set_state(s, state::stopped);
    } else if (s.st == state::thinking && now >= s.at) {
      send_step(i, now);
    }
  }
}

// --- hold_driver -----------------------------------------------------------------------------

hold_driver::hold_driver(phones& p, hold_options o)
    : phones_(p), opt_(std::move(o)), state_(opt_.sessions, state::idle) {
  if (opt_.concurrency == 0) opt_.concurrency = 1;
}

void hold_driver::start(sim_clock::time_point now) {
  fill(now);
}

void hold_driver::fill(sim_clock::time_point now) {
  while (in_flight_ < opt_.concurrency && next_ < opt_.sessions) {
    const std::uint64_t i = next_++;
    char buf[24];
    ++totals_.dialed;
    if (!phones_.dial(msisdn_text(opt_.first_msisdn, i, buf), opt_.code)) {
      ++totals_.failures;
      state_[i] = state::failed;
      continue;
    }
    state_[i] = state::outstanding;
    outstanding_.push_back({i, now});
    ++in_flight_;
  }
}

void hold_driver::on_screen(std::string_view msisdn, bool ends_dialog, bool protocol_error,
                            sim_clock::time_point now) {
  const auto i = msisdn_index(msisdn, opt_.first_msisdn, opt_.sessions);
  if (i == opt_.sessions) {
    ++totals_.stray;
    return;
  }
  state& st = state_[i];
  if (st == state::held && ends_dialog) {  // the gateway closed an idle dialog
    ++totals_.released;
    st = state::released;
    return;
  }
  if (st != state::outstanding) {
    ++totals_.stray;
    return;
  }
  // Dials go out in index order, so the outstanding queue is sorted by index.
  const auto it = std::lower_bound(outstanding_.begin(), outstanding_.end(), i,
                                   [](const pending& p, std::uint64_t k) { return p.index < k; });
  if (it != outstanding_.end() && it->index == i) latencies_.record(micros(now - it->sent));
  --in_flight_;
  if (protocol_error) {
    ++totals_.protocol_errors;
    st = state::failed;
  } else if (ends_dialog) {
    ++totals_.ended;
    st = state::failed;
  } else {
    ++totals_.held;
    st = state::held;
  }
  while (!outstanding_.empty() && state_[outstanding_.front().index] != state::outstanding)
    outstanding_.pop_front();
  fill(now);
}

void hold_driver::on_tick(sim_clock::time_point now) {
  while (!outstanding_.empty()) {
    const pending& p = outstanding_.front();
    if (state_[p.index] == state::outstanding) {
      if (now - p.sent < opt_.hop_timeout) break;
      state_[p.index] = state::failed;
      ++totals_.timeouts;
      --in_flight_;
    }
    outstanding_.pop_front();
  }
  fill(now);
}

}  // namespace ussdpay::sim
