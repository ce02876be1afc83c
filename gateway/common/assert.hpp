// USSDPAY_ASSERT: an invariant the code relies on, checked in every build (release too). A failed
// one is a bug in ussdpay, never bad input: input from the network, a file, a biller or a wallet
// is refused as a value (docs/style.md, "errors"). It logs the condition, the reason and where,
// flushes the log and aborts, so that systemd restarts the daemon and the saga's recovery takes
// over from the store rather than going on from a state that cannot be.
#pragma once

namespace ussdpay::detail {
[[noreturn]] void assert_failed(const char* condition, const char* why, const char* file,
                                int line) noexcept;
}  // namespace ussdpay::detail

#define USSDPAY_ASSERT(condition, why)                                       \
  do {                                                                       \
    if (!(condition)) [[unlikely]]                                           \
      ::ussdpay::detail::assert_failed(#condition, why, __FILE__, __LINE__); \
  } while (false)
