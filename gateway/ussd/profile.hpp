// How one operator's USSD centre speaks USSD over SMPP 3.4: which ussd_service_op values mean
// begin / continue / end / abort, where the dialog id lives, and how text is coded. Operators
// disagree (../shared/research/gateways.md section 5); the differences are configuration
// ([smpp.ussd] in etc/ussdpay.toml), never code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "menus/text.hpp"

namespace ussdpay::ussd {

/// Where the USSD centre puts the dialog id.
enum class session_id_source : std::uint8_t {
  its_session_info,        ///< TLV 0x1383: octet 1 session number, octet 2 seq<<1 | end bit
  user_message_reference,  ///< TLV 0x0204 (Mica)
  none,                    ///< no id: dialogs are keyed by MSISDN and service code (Huawei)
};

struct profile {
  /// Name for logs and `[smpp.ussd] profile`.
  std::string name = "default";

  // Inbound (deliver_sm from the USSD centre): ussd_service_op values.
  std::vector<std::uint8_t> begin_ops = {1};      ///< PSSR indication: the subscriber dialed
  std::vector<std::uint8_t> continue_ops = {18};  ///< USSR confirm: a reply to our screen
  std::vector<std::uint8_t> end_ops = {};         ///< the network closed the dialog
  std::vector<std::uint8_t> abort_ops = {};       ///< the subscriber or network aborted
  /// An inbound its_session_info with the end bit set closes the dialog (vumi default).
  bool end_bit_closes = true;

  // Outbound (our submit_sm).
  std::uint8_t continue_op = 2;  ///< USSR request: show and wait for input
  std::uint8_t end_op = 17;      ///< PSSR response: final screen
  /// Echo its_session_info, with the end bit set on the final screen.
  bool echo_session_info = true;
  session_id_source session_id = session_id_source::its_session_info;
  /// service_type on our submit_sm (at most 5 characters).
  std::string service_type = "USSD";

  // Text.
  std::uint8_t data_coding_gsm = 0;   ///< data_coding for GSM 7-bit screens
  std::uint8_t data_coding_ucs2 = 8;  ///< data_coding for UCS-2 screens
  menus::default_alphabet alphabet = menus::default_alphabet::gsm0338;  ///< meaning of dc 0
  std::uint16_t max_gsm_chars = 182;  ///< screen limit in GSM 7-bit characters
  std::uint16_t max_ucs2_chars = 80;  ///< screen limit in UCS-2 characters

  bool is_begin(std::uint8_t op) const { return contains(begin_ops, op); }
  bool is_continue(std::uint8_t op) const { return contains(continue_ops, op); }
  bool is_end(std::uint8_t op) const { return contains(end_ops, op); }
  bool is_abort(std::uint8_t op) const { return contains(abort_ops, op); }

 private:
  static bool contains(const std::vector<std::uint8_t>& v, std::uint8_t op) {
    for (auto x : v)
      if (x == op) return true;
    return false;
  }
};

/// The built-in profiles, by name: "default" (design.md section 5), "sixdee" (6D: 0x81 abort,
/// 0x17 close), "mica" (session id in user_message_reference, 0x17 close), "huawei" (no session
/// id, keyed by MSISDN and service code). nullopt for an unknown name.
std::optional<profile> builtin_profile(std::string_view name);

/// Names of the built-in profiles, for error messages.
std::vector<std::string> builtin_profile_names();

}  // namespace ussdpay::ussd
