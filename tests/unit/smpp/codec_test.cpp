// Unit tests for the SMPP codec facade (gateway/smpp/codec.hpp): round trips for every PDU kind
// we speak, the libsmpp34 regression vectors of gateways.md section 7, malformed and truncated
// input, encode errors, the framer and make_response.
#include "gateway/smpp/codec.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "gateway/smpp/pdu.hpp"

namespace smpp = ussdpay::smpp;
using smpp::command;

namespace {

std::string to_hex(std::string_view bytes) {
  std::string s;
  for (char c : bytes) s += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return s;
}

// Hex digits to bytes; spaces and '|' are separators.
std::string from_hex(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  REQUIRE(hi < 0);  // odd number of digits is a typo in the test
  return out;
}

// Builds wire bytes by hand (big-endian), independent of the codec under test.
struct wire {
  std::string b;
  wire& u8(std::uint8_t v) {
    b.push_back(static_cast<char>(v));
    return *this;
  }
  wire& u16(std::uint16_t v) {
    return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v & 0xFF));
  }
  wire& u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v >> 16)).u16(static_cast<std::uint16_t>(v & 0xFFFF));
  }
  wire& raw(std::string_view s) {
    b.append(s);
    return *this;
  }
  wire& cstr(std::string_view s) { return raw(s).u8(0); }
  wire& hex(std::string_view h) { return raw(from_hex(h)); }
  wire& tlv(std::uint16_t tag, std::string_view value) {
    return u16(tag).u16(static_cast<std::uint16_t>(value.size())).raw(value);
  }
};

void put32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s[at + static_cast<std::size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
}

// A whole frame: header (command_length computed) + body.
std::string frame(command id, std::uint32_t status, std::uint32_t seq, std::string_view body) {
  return wire{}
      .u32(static_cast<std::uint32_t>(smpp::header_size + body.size()))
      .u32(static_cast<std::uint32_t>(id))
      .u32(status)
      .u32(seq)
      .raw(body)
      .b;
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

smpp::decode_result decode(const std::string& s, const smpp::codec_limits& limits = {}) {
  return smpp::decode(bytes_of(s), limits);
}

smpp::pdu must_decode(const std::string& s, const smpp::codec_limits& limits = {}) {
  INFO("frame " << to_hex(s));
  auto r = decode(s, limits);
  if (auto* e = std::get_if<smpp::decode_error>(&r)) {
    FAIL("decode_error status 0x" << fmt::format("{:02X}", e->status) << ": " << e->reason);
  }
  return std::get<smpp::pdu>(std::move(r));
}

smpp::decode_error must_fail(const std::string& s, const smpp::codec_limits& limits = {}) {
  INFO("frame " << to_hex(s));
  auto r = decode(s, limits);
  REQUIRE(std::holds_alternative<smpp::decode_error>(r));
  return std::get<smpp::decode_error>(std::move(r));
}

std::string must_encode(const smpp::pdu& p) {
  std::string out;
  auto e = smpp::encode(p, out);
  INFO("encode error: " << e.value_or(""));
  REQUIRE_FALSE(e.has_value());
  return out;
}

// Encodes and expects a failure that leaves `out` untouched; returns the reason.
std::string must_not_encode(const smpp::pdu& p) {
  const std::string before = "\x01\x02 already buffered";
  std::string out = before;
  auto e = smpp::encode(p, out);
  REQUIRE(e.has_value());
  CHECK_FALSE(e->empty());
  CHECK(out == before);
  return e.value_or("");
}

// --- Sample bodies --------------------------------------------------------------------------

const smpp::tlv_list vendor_tlvs{
    smpp::tlv::octets(0x1501, std::string("\x00\xFF\x10", 3)),
    smpp::tlv::octets(0x4000, "vendor value"),
    smpp::tlv::octets(0xFFFF, ""),
};

smpp::bind_body sample_bind() {
  return {"ussdpay", "secret", "USSD", 0x34, {1, 1, "^2547"}};
}

smpp::sm_body sample_submit_body() {
  smpp::sm_body b;
  b.service_type = "USSD";
  b.source = {0, 1, "*384*12#"};
  b.destination = {1, 1, "254700000001"};
  b.esm_class = 0x40;
  b.protocol_id = 0;
  b.priority_flag = 1;
  b.schedule_delivery_time = "000000000100000R";
  b.validity_period = "251231235959000+";
  b.registered_delivery = 1;
  b.replace_if_present_flag = 0;
  b.data_coding = 0x0F;
  b.sm_default_msg_id = 0;
  b.short_message = "1. Pay bill\n2. Balance";
  b.tlvs = {
      smpp::tlv::u8(smpp::tag::ussd_service_op, 2),
      smpp::tlv::u16(smpp::tag::its_session_info, 0x0A04),
      smpp::tlv::u16(smpp::tag::user_message_reference, 0xBEEF),
      smpp::tlv::u16(smpp::tag::sar_msg_ref_num, 0x0102),
      smpp::tlv::u8(smpp::tag::sar_total_segments, 3),
      smpp::tlv::u8(smpp::tag::sar_segment_seqnum, 1),
  };
  b.tlvs.insert(b.tlvs.end(), vendor_tlvs.begin(), vendor_tlvs.end());
  return b;
}

smpp::sm_body sample_deliver_body() {
  smpp::sm_body b;
  b.service_type = "USSD";
  b.source = {1, 1, "254700000000"};
  b.destination = {0, 0, "123"};
  b.data_coding = 0;
  b.short_message = "*123#";
  b.tlvs = {
      smpp::tlv::u8(smpp::tag::ussd_service_op, 1),
      smpp::tlv::u16(smpp::tag::its_session_info, 0x0A04),
      smpp::tlv::octets(smpp::tag::receipted_message_id, std::string("0A000000A3D323A1\0", 17)),
      smpp::tlv::u8(smpp::tag::message_state, 2),
      smpp::tlv::octets(smpp::tag::network_error_code, std::string("\x03\x00\x22", 3)),
  };
  b.tlvs.insert(b.tlvs.end(), vendor_tlvs.begin(), vendor_tlvs.end());
  return b;
}

smpp::data_sm_body sample_data_sm_body() {
  smpp::data_sm_body b;
  b.service_type = "USSD";
  b.source = {1, 1, "254700000002"};
  b.destination = {0, 0, std::string(64, '7')};  // data_sm allows 64 octets here
  b.esm_class = 0;
  b.registered_delivery = 0;
  b.data_coding = 8;
  b.tlvs = {
      smpp::tlv::octets(smpp::tag::message_payload, std::string(600, '\xAB')),
      smpp::tlv::u8(smpp::tag::ussd_service_op, 18),
      smpp::tlv::u16(smpp::tag::its_session_info, 0x0A06),
  };
  b.tlvs.insert(b.tlvs.end(), vendor_tlvs.begin(), vendor_tlvs.end());
  return b;
}

smpp::pdu pdu_of(command id, std::uint32_t seq, smpp::body b, std::uint32_t status = 0) {
  return smpp::pdu{static_cast<std::uint32_t>(id), status, seq, std::move(b)};
}

// The deliver_sm body of the gateways.md vectors: USSD, 254700000000 -> 123, "*123#".
std::string ussd_deliver_mandatory() {
  return wire{}
      .hex("55535344 00")
      .hex("01 01")
      .cstr("254700000000")
      .hex("00 00")
      .cstr("123")
      .hex("00 00 00 00 00 00 00 00 00")
      .hex("05")
      .raw("*123#")
      .b;
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<smpp::pdu> {
  static std::string convert(const smpp::pdu& p) {
    std::string out;
    auto e = smpp::encode(p, out);
    return fmt::format("{} status=0x{:X} seq={} body#{} {}", smpp::command_name(p.command_id),
                       p.command_status, p.sequence_number, p.body.index(),
                       e ? "(unencodable: " + *e + ")" : to_hex(out));
  }
};
}  // namespace Catch

// ---------------------------------------------------------------------------------------------
// Round trips.

TEST_CASE("every supported PDU kind survives encode -> decode unchanged", "[codec][roundtrip]") {
  std::vector<smpp::pdu> pdus;
  for (command c : {command::bind_transmitter, command::bind_receiver, command::bind_transceiver})
    pdus.push_back(smpp::make_bind(c, 1, sample_bind()));
  // Longest strings SMPP allows in a bind.
  pdus.push_back(smpp::make_bind(command::bind_transceiver, 2,
                                 {std::string(15, 's'),
                                  std::string(8, 'p'),
                                  std::string(12, 't'),
                                  0x34,
                                  {2, 9, std::string(40, 'a')}}));
  for (command c : {command::bind_transmitter_resp, command::bind_receiver_resp,
                    command::bind_transceiver_resp}) {
    pdus.push_back(pdu_of(c, 3, smpp::bind_resp_body{"SMSC", {}}));
    pdus.push_back(pdu_of(
        c, 4,
        smpp::bind_resp_body{"SMSC", {smpp::tlv::u8(smpp::tag::sc_interface_version, 0x34)}}));
    pdus.push_back(pdu_of(c, 5, smpp::bind_resp_body{"", {}}));
  }
  for (command c :
       {command::unbind, command::unbind_resp, command::enquire_link, command::enquire_link_resp})
    pdus.push_back(smpp::make_empty(c, 0x7FFFFFFF));
  pdus.push_back(smpp::make_empty(command::generic_nack, 6, smpp::status::invalid_command_id));
  pdus.push_back(smpp::make_submit(7, sample_submit_body()));
  {
    auto b = sample_submit_body();
    b.short_message = std::string(253, '\xFF');  // the longest we encode
    b.tlvs.clear();
    pdus.push_back(smpp::make_submit(8, b));
    b.short_message.clear();  // empty message, no TLVs: sm_length is the last byte of the PDU
    pdus.push_back(smpp::make_submit(9, b));
  }
  pdus.push_back(smpp::make_deliver(10, sample_deliver_body()));
  pdus.push_back(pdu_of(command::data_sm, 11, sample_data_sm_body()));
  for (command c : {command::submit_sm_resp, command::data_sm_resp})
    pdus.push_back(pdu_of(c, 12, smpp::message_id_body{"0A000000A3D323A1", {}}));
  // deliver_sm_resp's message_id is unused (SMPP 3.4 section 4.6.2): always empty.
  pdus.push_back(pdu_of(command::deliver_sm_resp, 13, smpp::message_id_body{}));
  pdus.push_back(pdu_of(
      command::data_sm_resp, 14,
      smpp::message_id_body{std::string(64, 'm'),
                            {smpp::tlv::octets(smpp::tag::network_error_code, "\x03\x00\x01"),
                             smpp::tlv::octets(0x4000, "x")}}));
  // Error responses are header-only on the wire.
  pdus.push_back(smpp::pdu{static_cast<std::uint32_t>(command::submit_sm_resp), 0x0B, 15,
                           smpp::message_id_body{}});
  pdus.push_back(smpp::pdu{static_cast<std::uint32_t>(command::bind_transceiver_resp),
                           smpp::status::bind_failed, 16, smpp::bind_resp_body{}});

  for (const smpp::pdu& p : pdus) {
    CAPTURE(p);
    const std::string wire_bytes = must_encode(p);
    // Header as the spec lays it out.
    REQUIRE(wire_bytes.size() >= smpp::header_size);
    const auto h = smpp::peek_header(bytes_of(wire_bytes));
    REQUIRE(h.has_value());
    CHECK(h->command_length == wire_bytes.size());
    CHECK(h->command_id == p.command_id);
    CHECK(h->command_status == p.command_status);
    CHECK(h->sequence_number == p.sequence_number);

    const smpp::pdu back = must_decode(wire_bytes);
    CHECK(back == p);
    // Encoding is deterministic: the decoded value encodes to the same bytes.
    CHECK(to_hex(must_encode(back)) == to_hex(wire_bytes));
  }
}

TEST_CASE("TLVs go on the wire in order, byte-exact, known or not", "[codec][roundtrip][tlv]") {
  const smpp::pdu p = smpp::make_submit(7, sample_submit_body());
  const std::string bytes = must_encode(p);
  const std::string tail = from_hex(
      "0501 0001 02"
      "1383 0002 0a04"
      "0204 0002 beef"
      "020c 0002 0102"
      "020e 0001 03"
      "020f 0001 01"
      "1501 0003 00ff10"
      "4000 000c 76656e646f722076616c7565"  // "vendor value"
      "ffff 0000");
  REQUIRE(bytes.size() > tail.size());
  CHECK(to_hex(bytes.substr(bytes.size() - tail.size())) == to_hex(tail));
  const smpp::pdu back = must_decode(bytes);
  const auto& tlvs = std::get<smpp::sm_body>(back.body).tlvs;
  CHECK(smpp::tlv_u8(tlvs, smpp::tag::ussd_service_op) == 2);
  CHECK(smpp::tlv_u16(tlvs, smpp::tag::its_session_info) == 0x0A04);
  CHECK(smpp::tlv_u16(tlvs, smpp::tag::user_message_reference) == 0xBEEF);
  CHECK(smpp::tlv_u16(tlvs, smpp::tag::sar_msg_ref_num) == 0x0102);
  CHECK(smpp::tlv_u8(tlvs, smpp::tag::sar_total_segments) == 3);
  CHECK(smpp::tlv_u8(tlvs, smpp::tag::sar_segment_seqnum) == 1);
  CHECK(smpp::tlv_octets(tlvs, 0x1501) == std::string_view("\x00\xFF\x10", 3));
  CHECK(smpp::tlv_octets(tlvs, 0x4000) == "vendor value");
  CHECK(smpp::tlv_octets(tlvs, 0xFFFF) == "");
}

TEST_CASE("message_payload longer than libsmpp34's 1024-octet slot passes through",
          "[codec][roundtrip][tlv]") {
  auto b = sample_data_sm_body();
  std::string payload;
  for (int i = 0; i < 3000; ++i) payload.push_back(static_cast<char>(i * 7));
  b.tlvs = {smpp::tlv::octets(smpp::tag::message_payload, payload)};
  const smpp::pdu p = pdu_of(command::data_sm, 3, b);
  const smpp::pdu back = must_decode(must_encode(p));
  CHECK(back == p);
}

TEST_CASE("deliver_sm with its_session_info matches hand-written wire bytes",
          "[codec][roundtrip][tlv]") {
  smpp::sm_body b;
  b.service_type = "USSD";
  b.source = {1, 1, "254700000000"};
  b.destination = {0, 0, "123"};
  b.short_message = "*123#";
  b.tlvs = {smpp::tlv::u8(smpp::tag::ussd_service_op, 1),
            smpp::tlv::u16(smpp::tag::its_session_info, 0x0A04)};
  const smpp::pdu p = smpp::make_deliver(7, b);

  // 57 bytes of header + mandatory part, 5 + 6 of TLVs = 68 = 0x44. its_session_info 0x0A04 is
  // big-endian on the wire (our tlv::u16 is raw network order).
  const std::string expected = from_hex(
      "00000044 00000005 00000000 00000007"
      "55535344 00 | 01 01 323534373030303030303030 00 | 00 00 313233 00 |"
      "00 00 00 00 00 00 00 00 00 | 05 2a31323323"
      "0501 0001 01"
      "1383 0002 0a04");
  CHECK(to_hex(must_encode(p)) == to_hex(expected));
  CHECK(to_hex(expected.substr(expected.size() - 6)) == "138300020a04");
  const smpp::pdu back = must_decode(expected);
  CHECK(back == p);
  CHECK(smpp::tlv_u16(std::get<smpp::sm_body>(back.body).tlvs, smpp::tag::its_session_info) ==
        0x0A04);
}

// ---------------------------------------------------------------------------------------------
// gateways.md section 7 vectors.

namespace {
std::string session_info_flood(std::size_t n) {
  wire w;
  w.hex(fmt::format("{:08X} 00000005 00000000 00000007", 57 + 6 * n));
  w.raw(ussd_deliver_mandatory());
  for (std::size_t i = 0; i < n; ++i) w.hex("1383 0002 0102");
  return w.b;
}
}  // namespace

TEST_CASE("gateways.md 7.2: its_session_info flood is rejected before libsmpp34",
          "[codec][vectors]") {
  CHECK(session_info_flood(29).size() == 0xE7);
  for (std::size_t n : {29u, 70u, 200u}) {
    CAPTURE(n);
    const auto e = must_fail(session_info_flood(n));
    CHECK(e.status == smpp::status::invalid_optional_param_stream);
    CHECK(e.hdr.command_id == static_cast<std::uint32_t>(command::deliver_sm));
    CHECK(e.hdr.sequence_number == 7);
  }
}

TEST_CASE("gateways.md 7.2: with a raised TLV limit, 70 TLVs decode (libsmpp34 never sees them)",
          "[codec][vectors]") {
  smpp::codec_limits limits;
  limits.max_tlvs = 100;
  const smpp::pdu p = must_decode(session_info_flood(70), limits);
  const auto& b = std::get<smpp::sm_body>(p.body);
  REQUIRE(b.tlvs.size() == 70);
  for (const auto& t : b.tlvs) CHECK(t == smpp::tlv::u16(smpp::tag::its_session_info, 0x0102));
  CHECK(b.short_message == "*123#");
  CHECK(b.source.addr == "254700000000");
  CHECK(to_hex(must_encode(p)) == to_hex(session_info_flood(70)));
  // 101 is one too many for that limit.
  CHECK(must_fail(session_info_flood(101), limits).status ==
        smpp::status::invalid_optional_param_stream);
}

TEST_CASE("TLV count limit is exact", "[codec][tlv]") {
  smpp::codec_limits limits;  // max_tlvs = 16
  CHECK(std::get<smpp::sm_body>(must_decode(session_info_flood(16), limits).body).tlvs.size() ==
        16);
  CHECK(must_fail(session_info_flood(17), limits).status ==
        smpp::status::invalid_optional_param_stream);
}

TEST_CASE("gateways.md 7.3: unterminated C-string keeps the header", "[codec][vectors]") {
  const std::string v = from_hex("00000015 00000005 00000000 00000001 5553534458");
  REQUIRE(v.size() == 21);
  const auto e = must_fail(v);
  CHECK(e.hdr.sequence_number == 1);
  CHECK(e.hdr.command_id == static_cast<std::uint32_t>(command::deliver_sm));
  CHECK(e.status == smpp::status::invalid_command_length);
}

TEST_CASE("gateways.md 7.3: bodyless OK submit_sm_resp is accepted", "[codec][vectors]") {
  const smpp::pdu p = must_decode(from_hex("00000010 80000004 00000000 00000003"));
  CHECK(p.command_id == static_cast<std::uint32_t>(command::submit_sm_resp));
  CHECK(p.command_status == 0);
  CHECK(p.sequence_number == 3);
  REQUIRE(std::holds_alternative<smpp::message_id_body>(p.body));
  CHECK(std::get<smpp::message_id_body>(p.body).message_id.empty());
}

TEST_CASE("gateways.md 7.8: error response with a body is accepted", "[codec][vectors]") {
  const smpp::pdu p = must_decode(
      from_hex("00000021 80000004 0000000B 00000002 30413030303030304133443332334131 00"));
  CHECK(p.command_id == static_cast<std::uint32_t>(command::submit_sm_resp));
  CHECK(p.command_status == 0x0B);
  CHECK(p.sequence_number == 2);
  REQUIRE(std::holds_alternative<smpp::message_id_body>(p.body));
  // The body of an error response is ignored, as encode() writes none ...
  CHECK(std::get<smpp::message_id_body>(p.body) == smpp::message_id_body{});
  // ... so the decoded value survives a round trip.
  CHECK(must_decode(must_encode(p)) == p);
}

TEST_CASE("error responses are header-only on the wire", "[codec][encode]") {
  SECTION("with the response's own body type") {
    const smpp::pdu p = smpp::make_submit(5, sample_submit_body()).make_response(0x45);
    const std::string bytes = must_encode(p);
    CHECK(to_hex(bytes) == "00000010800000040000004500000005");
    CHECK(must_decode(bytes) == p);
  }
  SECTION("with an empty_body, as make_empty builds it for a rejected request") {
    const smpp::pdu p = smpp::make_empty(command::data_sm_resp, 6, smpp::status::system_error);
    const std::string bytes = must_encode(p);
    CHECK(to_hex(bytes) == "00000010800001030000000800000006");
    CHECK(must_decode(bytes) ==
          smpp::pdu{p.command_id, p.command_status, p.sequence_number, smpp::message_id_body{}});
  }
  SECTION("but an OK response needs its body") {
    must_not_encode(smpp::make_empty(command::submit_sm_resp, 7));
    must_not_encode(smpp::make_empty(command::bind_receiver_resp, 7));
  }
}

TEST_CASE("gateways.md 7.7: vendor command_status is accepted", "[codec][vectors]") {
  const smpp::pdu p = must_decode(from_hex("00000011 80000004 00000400 00000009 00"));
  CHECK(p.command_id == static_cast<std::uint32_t>(command::submit_sm_resp));
  CHECK(p.command_status == 0x400);
  CHECK(p.sequence_number == 9);
  CHECK(must_decode(must_encode(p)) == p);
}

TEST_CASE("gateways.md 7.6: TLV of unexpected length is kept raw", "[codec][vectors][tlv]") {
  const std::string v =
      frame(command::deliver_sm, 0, 5,
            ussd_deliver_mandatory() + from_hex("0501 0001 01 1383 0004 0A03 0000"));
  const smpp::pdu p = must_decode(v);
  const auto& tlvs = std::get<smpp::sm_body>(p.body).tlvs;
  REQUIRE(tlvs.size() == 2);
  const smpp::tlv* info = smpp::find_tlv(tlvs, smpp::tag::its_session_info);
  REQUIRE(info != nullptr);
  CHECK(info->value == std::string("\x0A\x03\x00\x00", 4));
  CHECK_FALSE(smpp::tlv_u16(tlvs, smpp::tag::its_session_info).has_value());
  CHECK(smpp::tlv_u8(tlvs, smpp::tag::ussd_service_op) == 1);
  CHECK(to_hex(must_encode(p)) == to_hex(v));  // passed through untouched
}

TEST_CASE("gateways.md 5.7: sequence_number 0", "[codec][vectors]") {
  SECTION("on a request it is an error that keeps the header") {
    const auto e = must_fail(frame(command::enquire_link, 0, 0, ""));
    CHECK(e.status != smpp::status::ok);
    CHECK(e.hdr.command_id == static_cast<std::uint32_t>(command::enquire_link));
    const auto e2 = must_fail(frame(command::deliver_sm, 0, 0, ussd_deliver_mandatory()));
    CHECK(e2.status != smpp::status::ok);
  }
  SECTION("on a response it decodes (the link drops it as unmatched)") {
    const smpp::pdu p = must_decode(frame(command::enquire_link_resp, 0, 0, ""));
    CHECK(p.sequence_number == 0);
  }
}

TEST_CASE("gateways.md 7.7: values libsmpp34 rejects are preserved", "[codec][vectors]") {
  SECTION("bind with interface_version 0x50, TON 9, NPI 5") {
    smpp::bind_body b = sample_bind();
    b.interface_version = 0x50;
    b.address_range = {9, 5, "2547"};
    const smpp::pdu p = smpp::make_bind(command::bind_transceiver, 1, b);
    const std::string bytes = must_encode(p);
    const std::string expected =
        frame(command::bind_transceiver, 0, 1,
              wire{}.cstr("ussdpay").cstr("secret").cstr("USSD").hex("50 09 05").cstr("2547").b);
    CHECK(to_hex(bytes) == to_hex(expected));
    CHECK(must_decode(expected) == p);
  }
  SECTION("submit_sm and deliver_sm addresses with TON 9 / NPI 5") {
    for (command c : {command::submit_sm, command::deliver_sm}) {
      smpp::sm_body b = sample_deliver_body();
      b.source = {9, 5, "12345"};
      b.destination = {7, 11, "678"};
      b.tlvs.clear();
      const smpp::pdu p = pdu_of(c, 3, b);
      const std::string bytes = must_encode(p);
      CHECK(to_hex(bytes.substr(16, 19)) ==
            to_hex(wire{}.cstr("USSD").hex("09 05").cstr("12345").hex("07 0b").cstr("678").b));
      CHECK(must_decode(bytes) == p);
    }
  }
  SECTION("data_sm addresses with TON 9 / NPI 5") {
    smpp::data_sm_body b = sample_data_sm_body();
    b.source = {9, 5, "12345"};
    b.destination = {9, 5, "678"};
    const smpp::pdu p = pdu_of(command::data_sm, 3, b);
    CHECK(must_decode(must_encode(p)) == p);
  }
}

// ---------------------------------------------------------------------------------------------
// Malformed and truncated input.

TEST_CASE("every truncation of a submit_sm or deliver_sm is rejected or decoded, never crashes",
          "[codec][malformed]") {
  for (const smpp::pdu& original : {smpp::make_submit(0x1234, sample_submit_body()),
                                    smpp::make_deliver(0x1234, sample_deliver_body())}) {
    CAPTURE(original);
    const std::string full = must_encode(original);
    const auto& tlvs = std::get<smpp::sm_body>(original.body).tlvs;
    // Prefix lengths that end exactly after the mandatory part or after a whole TLV.
    std::size_t mandatory_end = full.size();
    for (const auto& t : tlvs) mandatory_end -= 4 + t.value.size();
    std::vector<std::size_t> boundaries{mandatory_end};
    for (const auto& t : tlvs) boundaries.push_back(boundaries.back() + 4 + t.value.size());
    REQUIRE(boundaries.back() == full.size());

    std::size_t decoded = 0;
    for (std::size_t n = 0; n <= full.size(); ++n) {
      CAPTURE(n);
      std::string prefix = full.substr(0, n);
      if (n >= 4) put32(prefix, 0, static_cast<std::uint32_t>(n));
      const auto r = decode(prefix);
      const auto at = std::find(boundaries.begin(), boundaries.end(), n);
      if (n < smpp::header_size || at == boundaries.end()) {
        REQUIRE(std::holds_alternative<smpp::decode_error>(r));
        const auto& e = std::get<smpp::decode_error>(r);
        CHECK(e.status != smpp::status::ok);
        CHECK_FALSE(e.reason.empty());
        if (n >= smpp::header_size) {
          CHECK(e.hdr.sequence_number == 0x1234);
          if (n < mandatory_end)
            CHECK((e.status == smpp::status::invalid_command_length ||
                   e.status == smpp::status::invalid_message_length));
          else
            CHECK(e.status == smpp::status::invalid_optional_param_stream);
        }
      } else {
        REQUIRE(std::holds_alternative<smpp::pdu>(r));
        smpp::pdu expected = original;
        std::get<smpp::sm_body>(expected.body)
            .tlvs.resize(static_cast<std::size_t>(at - boundaries.begin()));
        CHECK(std::get<smpp::pdu>(r) == expected);
        ++decoded;
      }
    }
    CHECK(decoded == boundaries.size());
  }
}

TEST_CASE("command_length must match the frame and the limits", "[codec][malformed]") {
  const std::string good = must_encode(smpp::make_deliver(3, sample_deliver_body()));
  SECTION("shorter than a header") {
    for (std::size_t n : {0u, 1u, 15u}) {
      const auto e = must_fail(good.substr(0, n));
      CHECK(e.status == smpp::status::invalid_command_length);
    }
  }
  SECTION("frame cut without patching command_length") {
    const auto e = must_fail(good.substr(0, good.size() - 1));
    CHECK(e.status == smpp::status::invalid_command_length);
    CHECK(e.hdr.sequence_number == 3);
  }
  SECTION("command_length larger or smaller than the frame") {
    for (std::uint32_t len :
         {static_cast<std::uint32_t>(good.size() + 1), static_cast<std::uint32_t>(good.size() - 1),
          0u, 8u, 15u, 0xFFFFFFFFu}) {
      CAPTURE(len);
      std::string f = good;
      put32(f, 0, len);
      const auto e = must_fail(f);
      CHECK(e.status == smpp::status::invalid_command_length);
      CHECK(e.hdr.command_length == len);
      CHECK(e.hdr.sequence_number == 3);
    }
  }
  SECTION("command_length 8 on a 16-byte frame") {
    std::string f = frame(command::enquire_link, 0, 1, "");
    put32(f, 0, 8);
    CHECK(must_fail(f).status == smpp::status::invalid_command_length);
  }
  SECTION("larger than max_command_length") {
    smpp::codec_limits limits;
    limits.max_command_length = static_cast<std::uint32_t>(good.size() - 1);
    CHECK(must_fail(good, limits).status == smpp::status::invalid_command_length);
    limits.max_command_length = static_cast<std::uint32_t>(good.size());
    CHECK(must_decode(good, limits) == smpp::make_deliver(3, sample_deliver_body()));
  }
}

TEST_CASE("sm_length beyond the body or the SMPP maximum", "[codec][malformed]") {
  auto body_with_sm_length = [](std::uint8_t sm_length, std::string_view text) {
    return wire{}
        .cstr("USSD")
        .hex("01 01")
        .cstr("254700000000")
        .hex("00 00")
        .cstr("123")
        .hex("00 00 00 00 00 00 00 00 00")
        .u8(sm_length)
        .raw(text)
        .b;
  };
  for (command c : {command::submit_sm, command::deliver_sm}) {
    CAPTURE(smpp::command_name(static_cast<std::uint32_t>(c)));
    CHECK(must_fail(frame(c, 0, 4, body_with_sm_length(6, "*123#"))).status ==
          smpp::status::invalid_message_length);
    CHECK(must_fail(frame(c, 0, 4, body_with_sm_length(255, std::string(255, 'x')))).status ==
          smpp::status::invalid_message_length);
    // The body ends right at sm_length.
    CHECK(must_fail(frame(c, 0, 4, body_with_sm_length(1, ""))).status ==
          smpp::status::invalid_message_length);
    // Sanity: the right length decodes.
    const smpp::pdu ok = must_decode(frame(c, 0, 4, body_with_sm_length(5, "*123#")));
    CHECK(std::get<smpp::sm_body>(ok.body).short_message == "*123#");
  }
}

TEST_CASE("over-long strings give the field's own status", "[codec][malformed]") {
  struct field_case {
    const char* name;
    std::string frame;
    std::uint32_t status;
  };
  auto sm = [](std::string_view svc, std::string_view src, std::string_view dst,
               std::string_view sched, std::string_view validity) {
    return wire{}
        .cstr(svc)
        .hex("01 01")
        .cstr(src)
        .hex("01 01")
        .cstr(dst)
        .hex("00 00 00")
        .cstr(sched)
        .cstr(validity)
        .hex("00 00 00 00")
        .hex("01")
        .raw("x")
        .b;
  };
  auto bind = [](std::string_view id, std::string_view pw, std::string_view type,
                 std::string_view range) {
    return wire{}.cstr(id).cstr(pw).cstr(type).hex("34 00 00").cstr(range).b;
  };
  auto data_sm = [](std::string_view src, std::string_view dst) {
    return wire{}.cstr("").hex("01 01").cstr(src).hex("01 01").cstr(dst).hex("00 00 00").b;
  };
  const std::string s21(21, '1'), s65(65, 'm');
  const std::vector<field_case> cases{
      {"service_type", frame(command::submit_sm, 0, 1, sm("USSDXY", "1", "2", "", "")), 0x15},
      {"source_addr", frame(command::submit_sm, 0, 1, sm("", s21, "2", "", "")), 0x0A},
      {"destination_addr", frame(command::submit_sm, 0, 1, sm("", "1", s21, "", "")), 0x0B},
      {"deliver source_addr", frame(command::deliver_sm, 0, 1, sm("", s21, "2", "", "")), 0x0A},
      {"deliver destination_addr", frame(command::deliver_sm, 0, 1, sm("", "1", s21, "", "")),
       0x0B},
      {"schedule_delivery_time",
       frame(command::submit_sm, 0, 1, sm("", "1", "2", std::string(17, '0'), "")), 0x61},
      {"validity_period",
       frame(command::submit_sm, 0, 1, sm("", "1", "2", "", std::string(17, '0'))), 0x62},
      {"system_id", frame(command::bind_transmitter, 0, 1, bind(std::string(16, 's'), "", "", "")),
       0x0F},
      {"password", frame(command::bind_receiver, 0, 1, bind("id", std::string(9, 'p'), "", "")),
       0x0E},
      {"system_type",
       frame(command::bind_transceiver, 0, 1, bind("id", "pw", std::string(13, 't'), "")), 0x53},
      {"address_range",
       frame(command::bind_transceiver, 0, 1, bind("id", "pw", "", std::string(41, 'a'))), 0x0A},
      {"bind_resp system_id",
       frame(command::bind_transceiver_resp, 0, 1, wire{}.cstr(std::string(16, 's')).b), 0x0F},
      {"data_sm source_addr", frame(command::data_sm, 0, 1, data_sm(s21, "2")), 0x0A},
      {"data_sm destination_addr", frame(command::data_sm, 0, 1, data_sm("1", s65)), 0x0B},
      {"message_id", frame(command::submit_sm_resp, 0, 1, wire{}.cstr(s65).b), 0x0C},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto e = must_fail(c.frame);
    CHECK(e.status == c.status);
    CHECK(e.hdr.sequence_number == 1);
  }
  // One byte shorter is fine in every place.
  CHECK(
      std::get<smpp::bind_body>(must_decode(frame(command::bind_transmitter, 0, 1,
                                                  bind(std::string(15, 's'), std::string(8, 'p'),
                                                       std::string(12, 't'), std::string(40, 'a'))))
                                    .body)
          .system_id == std::string(15, 's'));
  CHECK(std::get<smpp::data_sm_body>(
            must_decode(
                frame(command::data_sm, 0, 1, data_sm(std::string(20, '1'), std::string(64, 'm'))))
                .body)
            .destination.addr == std::string(64, 'm'));
}

TEST_CASE("broken TLV area is ESME_RINVOPTPARSTREAM", "[codec][malformed][tlv]") {
  const std::string m = ussd_deliver_mandatory();
  SECTION("TLV header truncated") {
    for (std::string_view tail : {"05", "0501", "0501 00"}) {
      CAPTURE(tail);
      const auto e = must_fail(frame(command::deliver_sm, 0, 2, m + from_hex(tail)));
      CHECK(e.status == smpp::status::invalid_optional_param_stream);
      CHECK(e.hdr.sequence_number == 2);
    }
  }
  SECTION("TLV length runs past the end") {
    for (std::string_view tail : {"0501 0002 01", "1383 0002", "0501 0001 01 0424 ffff 00"}) {
      CAPTURE(tail);
      const auto e = must_fail(frame(command::deliver_sm, 0, 2, m + from_hex(tail)));
      CHECK(e.status == smpp::status::invalid_optional_param_stream);
    }
  }
  SECTION("zero-length TLV is fine") {
    const smpp::pdu p = must_decode(frame(command::deliver_sm, 0, 2, m + from_hex("1380 0000")));
    const auto& tlvs = std::get<smpp::sm_body>(p.body).tlvs;
    REQUIRE(tlvs.size() == 1);
    CHECK(tlvs[0] == smpp::tlv{smpp::tag::its_reply_type, ""});
  }
  SECTION("a broken TLV area in an error response is ignored") {
    const smpp::pdu p = must_decode(frame(command::data_sm_resp, smpp::status::system_error, 2,
                                          wire{}.cstr("id").hex("0423 0003 03").b));
    CHECK(p.command_status == smpp::status::system_error);
    CHECK(std::holds_alternative<smpp::message_id_body>(p.body));
    CHECK(must_decode(must_encode(p)) == p);
  }
}

TEST_CASE("unknown command ids are ESME_RINVCMDID with the header kept", "[codec][malformed]") {
  for (std::uint32_t id :
       {0x00000003u /* query_sm */, 0x00000007u /* replace_sm */, 0x00000021u /* submit_multi */,
        0x00000102u /* alert_notification */, 0x80000021u, 0x12345678u, 0x00000000u, 0xFFFFFFFFu}) {
    CAPTURE(id);
    std::string f = wire{}.u32(20).u32(id).u32(0).u32(77).hex("01020304").b;
    const auto e = must_fail(f);
    CHECK(e.status == smpp::status::invalid_command_id);
    CHECK(e.hdr.command_id == id);
    CHECK(e.hdr.sequence_number == 77);
  }
}

TEST_CASE("header-only PDUs ignore a stray body", "[codec][malformed]") {
  const smpp::pdu p = must_decode(frame(command::enquire_link, 0, 5, "junk"));
  CHECK(p == smpp::make_empty(command::enquire_link, 5));
}

TEST_CASE("error responses with an unparseable body are accepted", "[codec][malformed]") {
  // A message_id with no NUL and a bind_resp system_id that is too long.
  for (const std::string& f :
       {frame(command::submit_sm_resp, 0x45, 9, "abc"),
        frame(command::bind_transmitter_resp, 0x0D, 9, std::string(40, 's') + '\0')}) {
    const smpp::pdu p = must_decode(f);
    CHECK(p.sequence_number == 9);
    CHECK(p.command_status != 0);
    CHECK(must_decode(must_encode(p)) == p);
  }
  // The same body with status OK is an error.
  CHECK(must_fail(frame(command::submit_sm_resp, 0, 9, "abc")).status ==
        smpp::status::invalid_command_length);
}

// ---------------------------------------------------------------------------------------------
// Encode errors.

TEST_CASE("encode refuses what SMPP cannot carry and leaves out unchanged", "[codec][encode]") {
  SECTION("system_id of 16 characters") {
    smpp::bind_body b = sample_bind();
    b.system_id = std::string(16, 's');
    must_not_encode(smpp::make_bind(command::bind_transmitter, 1, b));
    must_not_encode(
        pdu_of(command::bind_transmitter_resp, 1, smpp::bind_resp_body{b.system_id, {}}));
  }
  SECTION("password of 9, system_type of 13, address_range of 41 characters") {
    smpp::bind_body b = sample_bind();
    b.password = std::string(9, 'p');
    must_not_encode(smpp::make_bind(command::bind_receiver, 1, b));
    b = sample_bind();
    b.system_type = std::string(13, 't');
    must_not_encode(smpp::make_bind(command::bind_receiver, 1, b));
    b = sample_bind();
    b.address_range.addr = std::string(41, 'a');
    must_not_encode(smpp::make_bind(command::bind_receiver, 1, b));
  }
  SECTION("short_message of 254 octets") {
    smpp::sm_body b = sample_submit_body();
    b.short_message = std::string(254, 'x');
    must_not_encode(smpp::make_submit(1, b));
    must_not_encode(smpp::make_deliver(1, [&] {
      auto d = sample_deliver_body();
      d.short_message = b.short_message;
      return d;
    }()));
  }
  SECTION("addresses and service_type too long") {
    smpp::sm_body b = sample_submit_body();
    b.source.addr = std::string(21, '1');
    must_not_encode(smpp::make_submit(1, b));
    b = sample_submit_body();
    b.destination.addr = std::string(21, '1');
    must_not_encode(smpp::make_submit(1, b));
    b = sample_submit_body();
    b.service_type = "USSDXY";
    must_not_encode(smpp::make_submit(1, b));
    smpp::data_sm_body d = sample_data_sm_body();
    d.destination.addr = std::string(65, '1');
    must_not_encode(pdu_of(command::data_sm, 1, d));
  }
  SECTION("time fields") {
    smpp::sm_body b = sample_deliver_body();
    b.schedule_delivery_time = "000000000100000R";
    must_not_encode(smpp::make_deliver(1, b));
    b = sample_deliver_body();
    b.validity_period = "000000000100000R";
    must_not_encode(smpp::make_deliver(1, b));
    b = sample_submit_body();
    b.validity_period = std::string(17, '0');
    must_not_encode(smpp::make_submit(1, b));
  }
  SECTION("a message_id in deliver_sm_resp (unused, libsmpp34 holds none)") {
    must_not_encode(pdu_of(command::deliver_sm_resp, 1, smpp::message_id_body{"1", {}}));
  }
  SECTION("message_id of 65 characters") {
    must_not_encode(
        pdu_of(command::submit_sm_resp, 1, smpp::message_id_body{std::string(65, 'm'), {}}));
  }
  SECTION("a NUL inside a C-string") {
    smpp::sm_body b = sample_submit_body();
    b.source.addr = std::string("12\0003", 4);
    must_not_encode(smpp::make_submit(1, b));
  }
  SECTION("a TLV longer than 65535 octets, or a PDU longer than 65535") {
    smpp::data_sm_body d = sample_data_sm_body();
    d.tlvs = {smpp::tlv::octets(smpp::tag::message_payload, std::string(65536, 'x'))};
    must_not_encode(pdu_of(command::data_sm, 1, d));
    d.tlvs = {smpp::tlv::octets(smpp::tag::message_payload, std::string(65535, 'x'))};
    must_not_encode(pdu_of(command::data_sm, 1, d));
  }
  SECTION("the wrong body type for the command") {
    must_not_encode(pdu_of(command::submit_sm, 1, sample_bind()));
    must_not_encode(pdu_of(command::deliver_sm, 1, smpp::data_sm_body{}));
    must_not_encode(pdu_of(command::data_sm, 1, sample_submit_body()));
    must_not_encode(pdu_of(command::bind_transmitter, 1, sample_submit_body()));
    must_not_encode(pdu_of(command::bind_receiver_resp, 1, smpp::message_id_body{}));
    must_not_encode(pdu_of(command::submit_sm_resp, 1, smpp::bind_resp_body{}));
    must_not_encode(pdu_of(command::data_sm_resp, 1, smpp::empty_body{}));
    must_not_encode(pdu_of(command::enquire_link, 1, sample_submit_body()));
    must_not_encode(pdu_of(command::generic_nack, 1, smpp::message_id_body{"x", {}}));
  }
}

// ---------------------------------------------------------------------------------------------
// Framer.

namespace {

std::vector<smpp::pdu> stream_pdus() {
  return {
      smpp::make_bind(command::bind_transceiver, 1, sample_bind()),
      pdu_of(command::bind_transceiver_resp, 1,
             smpp::bind_resp_body{"SMSC", {smpp::tlv::u8(smpp::tag::sc_interface_version, 0x34)}}),
      smpp::make_empty(command::enquire_link, 2),
      smpp::make_deliver(3, sample_deliver_body()),
      pdu_of(command::deliver_sm_resp, 3, smpp::message_id_body{}),
      smpp::make_submit(4, sample_submit_body()),
      pdu_of(command::submit_sm_resp, 4, smpp::message_id_body{"0A000000A3D323A1", {}}),
      pdu_of(command::data_sm, 5, sample_data_sm_body()),
      smpp::pdu{static_cast<std::uint32_t>(command::data_sm_resp), 0x0B, 5,
                smpp::message_id_body{}},
      smpp::make_empty(command::generic_nack, 6, smpp::status::invalid_command_id),
      smpp::make_empty(command::unbind, 7),
      smpp::make_empty(command::unbind_resp, 7),
  };
}

// Takes every whole frame out of f, decoded.
void drain(smpp::framer& f, std::vector<smpp::pdu>& got) {
  for (;;) {
    auto r = f.next();
    if (std::holds_alternative<smpp::framer::need_more>(r)) return;
    if (auto* e = std::get_if<smpp::framer::framing_error>(&r))
      FAIL("framing error: " << e->reason);
    const auto span = std::get<std::span<const std::uint8_t>>(r);
    got.push_back(
        must_decode(std::string(reinterpret_cast<const char*>(span.data()), span.size())));
  }
}

}  // namespace

TEST_CASE("framer: one byte at a time gives back the same PDUs in order", "[codec][framer]") {
  const auto pdus = stream_pdus();
  std::string stream;
  for (const auto& p : pdus) stream += must_encode(p);
  smpp::framer f;
  std::vector<smpp::pdu> got;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    f.feed(bytes_of(stream).subspan(i, 1));
    drain(f, got);
  }
  CHECK(f.buffered() == 0);
  REQUIRE(got.size() == pdus.size());
  for (std::size_t i = 0; i < pdus.size(); ++i) CHECK(got[i] == pdus[i]);
}

TEST_CASE("framer: random chunk sizes, through feed and through prepare/commit",
          "[codec][framer]") {
  const auto pdus = stream_pdus();
  std::string stream;
  for (int round = 0; round < 5; ++round)
    for (const auto& p : pdus) stream += must_encode(p);
  std::mt19937 rng(20240601);
  for (int run = 0; run < 20; ++run) {
    CAPTURE(run);
    smpp::framer f;
    std::vector<smpp::pdu> got;
    std::size_t pos = 0;
    const std::size_t max_chunk = run < 10 ? 40 : 3000;
    while (pos < stream.size()) {
      const std::size_t n = std::min<std::size_t>(
          std::uniform_int_distribution<std::size_t>(1, max_chunk)(rng), stream.size() - pos);
      if (rng() % 2 == 0) {
        f.feed(bytes_of(stream).subspan(pos, n));
      } else {
        // Like a socket read: ask for room, fill part of it.
        auto room = f.prepare(n);
        REQUIRE(room.size() >= n);
        std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(pos), n,
                    reinterpret_cast<char*>(room.data()));
        f.commit(n);
      }
      pos += n;
      drain(f, got);
    }
    CHECK(f.buffered() == 0);
    REQUIRE(got.size() == 5 * pdus.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == pdus[i % pdus.size()]);
  }
}

TEST_CASE("framer: out-of-bounds command_length is a framing error", "[codec][framer]") {
  for (std::uint32_t len : {0u, 8u, 15u, 4097u, 65536u, 70000u, 0xFFFFFFFFu}) {
    CAPTURE(len);
    smpp::framer f;
    f.feed(bytes_of(wire{}.u32(len).u32(0x15).u32(0).u32(42).b));
    auto r = f.next();
    REQUIRE(std::holds_alternative<smpp::framer::framing_error>(r));
    const auto& e = std::get<smpp::framer::framing_error>(r);
    CHECK(e.hdr.command_length == len);
    CHECK(e.hdr.sequence_number == 42);
    CHECK_FALSE(e.reason.empty());
  }
  SECTION("the limit is configurable up to the spec's 65535") {
    smpp::codec_limits limits;
    limits.max_command_length = 70000;
    smpp::framer f(limits);
    f.feed(bytes_of(wire{}.u32(65535).u32(0x15).u32(0).u32(1).b));
    CHECK(std::holds_alternative<smpp::framer::need_more>(f.next()));
    smpp::framer g(limits);
    g.feed(bytes_of(wire{}.u32(70000).u32(0x15).u32(0).u32(1).b));
    CHECK(std::holds_alternative<smpp::framer::framing_error>(g.next()));
  }
}

TEST_CASE("framer: partial input needs more", "[codec][framer]") {
  const std::string one = must_encode(smpp::make_deliver(3, sample_deliver_body()));
  smpp::framer f;
  CHECK(std::holds_alternative<smpp::framer::need_more>(f.next()));
  f.feed({});
  CHECK(std::holds_alternative<smpp::framer::need_more>(f.next()));
  f.feed(bytes_of(one).first(15));  // partial header
  CHECK(std::holds_alternative<smpp::framer::need_more>(f.next()));
  CHECK(f.buffered() == 15);
  f.feed(bytes_of(one).subspan(15, one.size() - 16));  // all but the last byte
  CHECK(std::holds_alternative<smpp::framer::need_more>(f.next()));
  CHECK(f.buffered() == one.size() - 1);
  f.feed(bytes_of(one).last(1));
  auto r = f.next();
  REQUIRE(std::holds_alternative<std::span<const std::uint8_t>>(r));
  const auto span = std::get<std::span<const std::uint8_t>>(r);
  CHECK(std::string(reinterpret_cast<const char*>(span.data()), span.size()) == one);
  CHECK(f.buffered() == 0);
  CHECK(std::holds_alternative<smpp::framer::need_more>(f.next()));
}

TEST_CASE("framer: a header-only frame and a frame with a bad length after it", "[codec][framer]") {
  smpp::framer f;
  f.feed(
      bytes_of(frame(command::enquire_link, 0, 1, "") + wire{}.u32(8).u32(0x15).u32(0).u32(2).b));
  auto r = f.next();
  REQUIRE(std::holds_alternative<std::span<const std::uint8_t>>(r));
  CHECK(std::get<std::span<const std::uint8_t>>(r).size() == 16);
  CHECK(std::holds_alternative<smpp::framer::framing_error>(f.next()));
}

// ---------------------------------------------------------------------------------------------
// make_response.

TEST_CASE("make_response copies the sequence number and picks the response kind", "[codec][pdu]") {
  struct expect {
    smpp::pdu request;
    command response;
    std::size_t body_index;
  };
  const std::vector<expect> cases{
      {smpp::make_bind(command::bind_transmitter, 11, sample_bind()),
       command::bind_transmitter_resp, 2},
      {smpp::make_bind(command::bind_receiver, 12, sample_bind()), command::bind_receiver_resp, 2},
      {smpp::make_bind(command::bind_transceiver, 13, sample_bind()),
       command::bind_transceiver_resp, 2},
      {smpp::make_submit(14, sample_submit_body()), command::submit_sm_resp, 5},
      {smpp::make_deliver(15, sample_deliver_body()), command::deliver_sm_resp, 5},
      {pdu_of(command::data_sm, 16, sample_data_sm_body()), command::data_sm_resp, 5},
      {smpp::make_empty(command::enquire_link, 17), command::enquire_link_resp, 0},
      {smpp::make_empty(command::unbind, 0x7FFFFFFF), command::unbind_resp, 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.request);
    for (std::uint32_t st : {smpp::status::ok, smpp::status::throttled, 0x400u}) {
      const smpp::pdu r = c.request.make_response(st);
      CHECK(r.command_id == static_cast<std::uint32_t>(c.response));
      CHECK(r.command_status == st);
      CHECK(r.sequence_number == c.request.sequence_number);
      CHECK(r.body.index() == c.body_index);
      // A response made this way always encodes, and decodes to itself.
      CHECK(must_decode(must_encode(r)) == r);
    }
  }
  CHECK(smpp::make_submit(3, {}).make_response().command_status == smpp::status::ok);
}
