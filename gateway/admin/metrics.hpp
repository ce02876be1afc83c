// The Prometheus text exposition format (version 0.0.4), written by hand: families with HELP and
// TYPE, samples with escaped label values. I/O-free; the admin API fills it from the daemon's
// counters and the store.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace ussdpay::admin {

class prometheus_text {
 public:
  using labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  /// Starts a metric family: `type` is "counter" or "gauge".
  void family(std::string_view name, std::string_view type, std::string_view help);
  /// One sample of the current family (or of `name` with a suffix, such as _bucket).
  void sample(std::string_view name, labels l, std::int64_t value);
  void sample(std::string_view name, std::int64_t value) { sample(name, {}, value); }
  void sample(std::string_view name, labels l, double value);

  const std::string& text() const { return out_; }

 private:
  void head(std::string_view name, labels l);
  std::string out_;
};

/// A label value with \, " and newline escaped as the format requires.
std::string escape_label(std::string_view v);

}  // namespace ussdpay::admin
