// USSD over SMPP through an operator profile: a deliver_sm becomes a dialog event, a screen
// becomes a submit_sm. No I/O; the profile decides every operator-specific detail.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gateway/smpp/pdu.hpp"
#include "gateway/ussd/profile.hpp"

namespace ussdpay::ussd {

struct event {
  enum class kind_t : std::uint8_t { begin, next, end, abort } kind = kind_t::begin;
  smpp::address subscriber;  ///< source_addr of the deliver_sm
  smpp::address service;     ///< destination_addr (our short code)
  std::string text;          ///< decoded to UTF-8
  /// The dialog id where the profile says it lives (its_session_info's session number, or
  /// user_message_reference); nullopt when the profile has none or the PDU carries none.
  std::optional<std::uint16_t> session_id;
  std::optional<std::uint16_t> its_session_info;        ///< as received, to echo
  std::optional<std::uint16_t> user_message_reference;  ///< as received, to echo
};

/// Why a deliver_sm is not a USSD event, with the SMPP status to answer it with.
struct not_ussd {
  std::uint32_t status = smpp::status::ok;  ///< ok: not for us (plain SMS, receipt), accepted
  std::string reason;
};

/// Maps a deliver_sm through the profile. Plain SMS and delivery receipts are not_ussd with
/// status ok; a USSD PDU we cannot read (unknown op, undecodable text) is not_ussd with an error
/// status.
std::variant<event, not_ussd> parse(const smpp::sm_body& in, const profile& p);

/// What the dialog's screen goes back with.
struct reply_to {
  smpp::address subscriber;
  smpp::address service;
  std::optional<std::uint16_t> its_session_info;
  std::optional<std::uint16_t> user_message_reference;
};

/// The submit_sm body carrying `text` (UTF-8) to the subscriber, continuing or ending the
/// dialog. GSM text goes out in the profile's default alphabet, anything else as UCS-2.
/// nullopt if the text cannot be encoded (never for texts the menu loader accepted).
std::optional<smpp::sm_body> screen(const reply_to& to, std::string_view text, bool end,
                                    const profile& p);

}  // namespace ussdpay::ussd
