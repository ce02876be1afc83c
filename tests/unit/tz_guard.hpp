// tz_guard: sets TZ for one scope (the local calendar a test needs) and puts back what was there,
// or its absence.
#pragma once

#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

namespace ussdpay::test {

class tz_guard {
 public:
  explicit tz_guard(const char* tz) {
    if (const char* old = std::getenv("TZ")) saved_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~tz_guard() {
    if (saved_)
      ::setenv("TZ", saved_->c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }
  tz_guard(const tz_guard&) = delete;
  tz_guard& operator=(const tz_guard&) = delete;

 private:
  std::optional<std::string> saved_;
};

}  // namespace ussdpay::test
