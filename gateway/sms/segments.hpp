// An SMS text as the submit_sm PDUs that carry it: GSM 7-bit (data_coding 0) when every
// character fits the default alphabet, otherwise UCS-2 (8). A text longer than one SMS (160 GSM
// characters, 70 UCS-2) travels the way the operator's SMSC expects ([sms] long_messages):
//
//   payload  one submit_sm with the whole text in message_payload (SMPP 3.4 section 5.3.2.32)
//   udh      concatenated segments, each with a 6-octet User Data Header (esm_class UDHI,
//            IEI 0x00, an 8-bit reference, total, sequence: 3GPP TS 23.040 9.2.3.24.1)
//   sar      concatenated segments with sar_msg_ref_num, sar_total_segments and
//            sar_segment_seqnum TLVs instead of a header
//
// Segments hold 153 GSM characters or 67 UCS-2 ones; a GSM escape (0x1B) stays with the
// character it extends, and a UTF-16 surrogate pair is never split. Only the last segment asks
// for a delivery receipt, and its message id is the one the outbox keeps. Pure, no I/O.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "gateway/smpp/pdu.hpp"
#include "menus/text.hpp"

namespace ussdpay::sms {

enum class long_messages : std::uint8_t { payload, udh, sar };

/// "payload", "udh", "sar"; nullopt for anything else.
std::optional<long_messages> parse_long_messages(std::string_view s);

/// At most this many segments (a header counts to 255; handsets give up long before).
constexpr std::size_t max_segments = 16;

struct sms_request {
  std::string_view source;  ///< digits (a short code) or up to 11 letters
  std::string_view msisdn;  ///< E.164 digits
  std::string_view text;    ///< UTF-8
  menus::default_alphabet alphabet = menus::default_alphabet::gsm0338;
  long_messages mode = long_messages::payload;
  std::uint16_t reference = 0;      ///< the concatenation reference (udh uses its low 8 bits)
  bool registered_delivery = true;  ///< ask for a receipt (on the last segment only)
};

/// The bodies to submit, in order; empty if the text is not valid UTF-8 or needs more than
/// max_segments segments.
std::vector<smpp::sm_body> sms_segments(const sms_request& r);

}  // namespace ussdpay::sms
