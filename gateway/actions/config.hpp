// The actions' own settings, loaded by gateway/config/ with the rest of the configuration.
#pragma once

#include <chrono>
#include <cstdint>

namespace ussdpay::actions {

/// [registration]: self-registration of unknown numbers and forgotten-PIN reset, both through a
/// one-time code sent by SMS to the number that dialed (store/codes.hpp).
struct registration_config {
  /// A first dial from an unregistered number offers registration (an empty wallet and a PIN
  /// set after an SMS code); false: such numbers get "not registered" and a contact.
  bool self_register = true;
  /// Digits per code, how long it is good, and wrong entries before it is void.
  std::uint32_t code_digits = 6;
  std::chrono::milliseconds code_ttl{5 * 60'000};
  std::uint32_t code_attempts = 3;
  /// Codes one number may be sent per purpose within code_window.
  std::uint32_t codes_per_window = 3;
  std::chrono::milliseconds code_window{60 * 60'000};
};

}  // namespace ussdpay::actions
