// The admin API's client, for the `ussdpay` command line: one request to the daemon's admin
// listener (loopback unless configured otherwise), with the configured bearer token, bounded in
// time. Blocking: it runs its own io_context and is not for the daemon's network thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/admin/server.hpp"

namespace ussdpay::admin {

struct answer {
  unsigned status = 0;
  std::string body;
};

/// `method` is "GET" or "POST" (with a JSON body). nullopt with `why` set when the daemon could
/// not be reached or did not answer within `timeout`. Answers past 1 MiB are refused.
std::optional<answer> call(const admin_config& cfg, std::string_view method,
                           std::string_view target, std::string_view body, std::string& why,
                           std::chrono::milliseconds timeout = std::chrono::seconds(15));

}  // namespace ussdpay::admin
