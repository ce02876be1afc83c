// [sms]: the outbox sender's settings. Loaded by gateway/config/; no Asio here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ussdpay::sms {

/// [sms]: how receipts leave.
struct outbox_config {
  /// Sender shown on the handset: digits (a short code) or up to 11 letters (alphanumeric).
  std::string source = "8123";
  /// How often the outbox is read when nothing pokes it.
  std::chrono::milliseconds poll_interval{1'000};
  /// Messages submitted and not yet acknowledged, at most.
  std::size_t max_in_flight = 100;
  /// Messages submitted per second, at most (0: no limit but the window), for SMSCs that
  /// throttle above an agreed rate.
  std::uint32_t max_per_second = 0;
  /// How a text longer than one SMS travels: "payload", "udh" or "sar" (gateway/sms/segments.hpp).
  std::string long_messages = "payload";
  /// Tries before a message is marked failed.
  std::uint32_t max_attempts = 10;
  /// Back-off after a temporary failure: doubles from retry_initial up to retry_max.
  std::chrono::milliseconds retry_initial{5'000};
  std::chrono::milliseconds retry_max{300'000};
};

}  // namespace ussdpay::sms
