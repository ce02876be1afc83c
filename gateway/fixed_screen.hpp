// The gateway's answer to a dial until the menu engine (menus/) exists: one fixed, configurable
// screen that ends the dialog, in the default USSD dialect of docs/design.md section 5.
#pragma once

#include <optional>

#include "gateway/config.hpp"
#include "gateway/smpp/pdu.hpp"

namespace ussdpay {

/// ussd_service_op values of the default dialect.
namespace ussd_op {
constexpr std::uint8_t pssr_indication = 1;  // subscriber dialed (begin)
constexpr std::uint8_t ussr_request = 2;     // our screen, input expected (continue)
constexpr std::uint8_t pssr_response = 17;   // our final screen (end)
constexpr std::uint8_t ussr_confirm = 18;    // subscriber's reply (continue)
}  // namespace ussd_op

class fixed_screen_responder {
 public:
  explicit fixed_screen_responder(ussd_config cfg) : cfg_(std::move(cfg)) {}
  void reconfigure(ussd_config cfg) { cfg_ = std::move(cfg); }

  /// The submit_sm answering a USSD deliver_sm, or nullopt when nothing is to be sent (plain
  /// SMS, delivery receipt, abort).
  std::optional<smpp::pdu> answer(const smpp::pdu& deliver) const;

 private:
  ussd_config cfg_;
};

}  // namespace ussdpay
