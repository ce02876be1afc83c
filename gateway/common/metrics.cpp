#include "gateway/common/metrics.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "gateway/common/assert.hpp"

namespace ussdpay::metrics {

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void prometheus_text::family(std::string_view name, std::string_view type, std::string_view help) {
  // HELP text escapes \ and newline only.
  std::string h;
  for (char c : help)
    h += c == '\n' ? std::string("\\n") : c == '\\' ? std::string("\\\\") : std::string(1, c);
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, h, name, type);
}

void prometheus_text::head(std::string_view name, labels l, std::string_view le) {
  out_ += name;
  if (l.size() == 0 && le.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) out_ += ',';
    first = false;
    out_ += fmt::format("{}=\"{}\"", k, escape_label(v));
  }
  if (!le.empty()) out_ += fmt::format("{}le=\"{}\"", first ? "" : ",", le);
  out_ += '}';
}

void latency_histogram::observe(std::chrono::nanoseconds d) {
  const auto ns = std::max<std::int64_t>(d.count(), 0);
  const double s = static_cast<double>(ns) / 1e9;
  std::size_t i = 0;
  while (i < bounds.size() && s > bounds[i]) ++i;
  ++counts_[i];
  ++count_;
  sum_ns_ += ns;
}

void prometheus_text::histogram(std::string_view name, labels l, const latency_histogram& h) {
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_histogram::bounds.size(); ++i) {
    cumulative += h.counts()[i];
    head(bucket, l, fmt::format("{}", latency_histogram::bounds[i]));
    out_ += fmt::format(" {}\n", cumulative);
  }
  head(bucket, l, "+Inf");
  out_ += fmt::format(" {}\n", h.count());
  head(std::string(name) + "_sum", l);
  out_ += fmt::format(" {}\n", h.sum_seconds());
  head(std::string(name) + "_count", l);
  out_ += fmt::format(" {}\n", h.count());
}

void prometheus_text::sample(std::string_view name, labels l, std::int64_t value) {
  head(name, l);
  out_ += fmt::format(" {}\n", value);
}

void prometheus_text::sample(std::string_view name, labels l, double value) {
  head(name, l);
  out_ += fmt::format(" {}\n", value);
}

void prometheus_text::counters(
    std::string_view name, std::string_view help, std::string_view label,
    std::initializer_list<std::pair<std::string_view, std::uint64_t>> values) {
  family(name, "counter", help);
  for (const auto& [what, v] : values) sample(name, {{label, what}}, static_cast<std::int64_t>(v));
}

void registry::add(std::string component, writer w) {
  for (const auto& [name, _] : writers_)
    USSDPAY_ASSERT(name != component, "each component adds its metrics once");
  writers_.emplace_back(std::move(component), std::move(w));
}

void registry::render(prometheus_text& out) const {
  for (const auto& [_, w] : writers_) w(out);
}

}  // namespace ussdpay::metrics
