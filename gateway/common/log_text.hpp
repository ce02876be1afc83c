// Text from outside (a subscriber's input, a request target, a biller's answer) made safe to log.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ussdpay {

/// Text the peer sent (a request target, a USSD input) as it may go into a log line, text or
/// JSON: `"` and `\` escaped, control characters (C0, DEL, C1) and bidirectional overrides as
/// \uXXXX, so it can neither forge a line, break a JSON one, nor reorder what a reader sees; at
/// most about `max_chars` of it, with how many octets more there were.
std::string loggable(std::string_view text, std::size_t max_chars);

}  // namespace ussdpay
