// The daemon's metrics, by component (the Envoy stats pattern): each room keeps its own counters
// and writes its own families (a `write_metrics` beside the room's code); the daemon adds those
// writers to one `registry` in start order; the admin API renders the registry for /metrics
// without knowing any room. The format is Prometheus text (version 0.0.4), written by hand:
// families with HELP and TYPE, samples with escaped label values. No I/O.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ussdpay::metrics {

/// Latencies in fixed buckets (Prometheus histogram semantics, seconds). Observing is a short
/// scan and two additions, cheap enough for every USSD hop and biller call on the network thread.
class latency_histogram {
 public:
  /// Upper bounds in seconds; one more bucket (+Inf) follows.
  static constexpr std::array<double, 14> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  void observe(std::chrono::nanoseconds d);
  /// Per bucket, not cumulative; the last is past every bound.
  const std::array<std::uint64_t, bounds.size() + 1>& counts() const { return counts_; }
  std::uint64_t count() const { return count_; }
  double sum_seconds() const { return static_cast<double>(sum_ns_) / 1e9; }

 private:
  std::array<std::uint64_t, bounds.size() + 1> counts_{};
  std::uint64_t count_ = 0;
  std::int64_t sum_ns_ = 0;
};

class prometheus_text {
 public:
  using labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  /// Starts a metric family: `type` is "counter" or "gauge".
  void family(std::string_view name, std::string_view type, std::string_view help);
  /// One sample of the current family (or of `name` with a suffix, such as _bucket).
  void sample(std::string_view name, labels l, std::int64_t value);
  void sample(std::string_view name, std::int64_t value) { sample(name, {}, value); }
  void sample(std::string_view name, labels l, double value);
  /// The _bucket (cumulative, with le), _sum and _count samples of a histogram family `name`.
  void histogram(std::string_view name, labels l, const latency_histogram& h);
  /// A counter family with one sample per value of one label: {label="what"} count.
  void counters(std::string_view name, std::string_view help, std::string_view label,
                std::initializer_list<std::pair<std::string_view, std::uint64_t>> values);

  const std::string& text() const { return out_; }

 private:
  void head(std::string_view name, labels l, std::string_view le = {});
  std::string out_;
};

/// Every component's metrics writer, rendered in the order they were added.
class registry {
 public:
  using writer = std::function<void(prometheus_text&)>;
  /// `component` names the writer (unique; "smpp", "ussd", "payments", ...).
  void add(std::string component, writer w);
  void render(prometheus_text& out) const;

 private:
  std::vector<std::pair<std::string, writer>> writers_;
};

/// A label value with \, " and newline escaped as the format requires.
std::string escape_label(std::string_view v);

}  // namespace ussdpay::metrics
