// Long SMS as the operator's SMSC expects them: one PDU with message_payload, or concatenated
// segments with a User Data Header or sar_* TLVs; escapes and surrogate pairs never split.
#include <catch2/catch.hpp>

#include "gateway/sms/segments.hpp"

using namespace ussdpay;
using namespace ussdpay::sms;

namespace {

sms_request req(std::string_view text, long_messages mode) {
  sms_request r;
  r.source = "8123";
  r.msisdn = "923001234567";
  r.text = text;
  r.mode = mode;
  r.reference = 0x1234;
  return r;
}

// The text of the segments put back together (the header taken off).
std::string joined(const std::vector<smpp::sm_body>& parts) {
  std::string out;
  for (const auto& p : parts)
    out += (p.esm_class & 0x40) != 0 ? p.short_message.substr(6) : p.short_message;
  return out;
}

}  // namespace

TEST_CASE("segments: a text that fits is one plain submit_sm in any mode", "[sms]") {
  const std::string text(160, 'a');
  for (auto mode : {long_messages::payload, long_messages::udh, long_messages::sar}) {
    auto parts = sms_segments(req(text, mode));
    REQUIRE(parts.size() == 1);
    CHECK(parts[0].short_message == text);
    CHECK(parts[0].data_coding == 0);
    CHECK(parts[0].esm_class == 0);
    CHECK(parts[0].registered_delivery == 1);
    CHECK(parts[0].tlvs.empty());
    CHECK(parts[0].source.ton == 0);  // digits: a short code
  }
  auto named = req("hi", long_messages::payload);
  named.source = "BillPay";
  CHECK(sms_segments(named)[0].source.ton == 5);  // alphanumeric
}

TEST_CASE("segments: payload mode carries a long text in message_payload", "[sms]") {
  const std::string text(400, 'b');
  auto parts = sms_segments(req(text, long_messages::payload));
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].short_message.empty());
  const auto* payload = smpp::find_tlv(parts[0].tlvs, smpp::tag::message_payload);
  REQUIRE(payload != nullptr);
  CHECK(payload->value == text);
}

TEST_CASE("segments: UDH, 153 GSM characters a segment, the receipt asked on the last", "[sms]") {
  const std::string text(400, 'c');
  auto parts = sms_segments(req(text, long_messages::udh));
  REQUIRE(parts.size() == 3);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    CHECK(p.esm_class == 0x40);
    CHECK(p.short_message.substr(0, 6) ==
          std::string{'\x05', '\x00', '\x03', '\x34', '\x03', static_cast<char>(i + 1)});
    CHECK(p.registered_delivery == (i == 2 ? 1 : 0));
    CHECK(p.short_message.size() <= 6 + 153);
  }
  CHECK(parts[0].short_message.size() == 6 + 153);
  CHECK(joined(parts) == text);
}

TEST_CASE("segments: SAR TLVs instead of a header", "[sms]") {
  const std::string text(200, 'd');
  auto parts = sms_segments(req(text, long_messages::sar));
  REQUIRE(parts.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(parts[i].esm_class == 0);
    CHECK(smpp::tlv_u16(parts[i].tlvs, smpp::tag::sar_msg_ref_num) == 0x1234);
    CHECK(smpp::tlv_u8(parts[i].tlvs, smpp::tag::sar_total_segments) == 2);
    CHECK(smpp::tlv_u8(parts[i].tlvs, smpp::tag::sar_segment_seqnum) == i + 1);
  }
  CHECK(joined(parts) == text);
}

TEST_CASE("segments: a GSM escape stays with its character, surrogate pairs stay whole", "[sms]") {
  // 152 plain characters, then a euro sign (escape + 0x65): the escape would be octet 153.
  const std::string text = std::string(152, 'e') + "\xE2\x82\xAC" + std::string(20, 'f');
  auto parts = sms_segments(req(text, long_messages::udh));
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].short_message.size() == 6 + 152);
  CHECK(parts[1].short_message.substr(6, 2) == "\x1b\x65");
  // UCS-2: 66 Urdu letters, then an emoji (a surrogate pair) that would straddle octet 134.
  std::string ucs;
  for (int i = 0; i < 66; ++i) ucs += "\xD8\xA7";  // U+0627
  ucs += "\xF0\x9F\x98\x80";                       // U+1F600
  for (int i = 0; i < 10; ++i) ucs += "\xD8\xA7";
  auto u = sms_segments(req(ucs, long_messages::udh));
  REQUIRE(u.size() == 2);
  CHECK(u[0].data_coding == 8);
  CHECK(u[0].short_message.size() == 6 + 132);
  CHECK(static_cast<std::uint8_t>(u[1].short_message[6]) == 0xD8);  // the high surrogate
  CHECK(static_cast<std::uint8_t>(u[1].short_message[7]) == 0x3D);
}

TEST_CASE("segments: refused when not UTF-8 or longer than max_segments", "[sms]") {
  CHECK(sms_segments(req("\xC3\x28", long_messages::udh)).empty());
  CHECK(sms_segments(req(std::string(153 * max_segments, 'g'), long_messages::udh)).size() ==
        max_segments);
  CHECK(sms_segments(req(std::string(153 * max_segments + 1, 'g'), long_messages::udh)).empty());
  CHECK(parse_long_messages("udh") == long_messages::udh);
  CHECK_FALSE(parse_long_messages("UDH"));
}
