#include "gateway/admin/metrics.hpp"

#include <fmt/format.h>

namespace ussdpay::admin {

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

void prometheus_text::head(std::string_view name, labels l) {
  out_ += name;
  if (l.size() == 0) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : l) {
    if (!first) out_ += ',';
    first = false;
    out_ += fmt::format("{}=\"{}\"", k, escape_label(v));
  }
  out_ += '}';
}

void prometheus_text::sample(std::string_view name, labels l, std::int64_t value) {
  head(name, l);
  out_ += fmt::format(" {}\n", value);
}

void prometheus_text::sample(std::string_view name, labels l, double value) {
  head(name, l);
  out_ += fmt::format(" {}\n", value);
}

}  // namespace ussdpay::admin
