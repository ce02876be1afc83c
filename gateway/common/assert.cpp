#include "gateway/common/assert.hpp"

#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace ussdpay::detail {

void assert_failed(const char* condition, const char* why, const char* file, int line) noexcept {
  try {
    spdlog::critical("invariant broken at {}:{}: {} ({}); aborting", file, line, condition, why);
    spdlog::default_logger()->flush();
  } catch (...) {
  }
  // Also on stderr without the logger, in case the logger is what is broken.
  std::fprintf(stderr, "ussdpay: invariant broken at %s:%d: %s (%s)\n", file, line, condition, why);
  std::abort();
}

}  // namespace ussdpay::detail
