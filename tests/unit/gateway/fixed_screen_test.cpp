#include "gateway/fixed_screen.hpp"

#include <catch2/catch.hpp>

using namespace ussdpay;
using namespace ussdpay::smpp;

namespace {
pdu dial(const std::string& text, std::uint8_t op, std::optional<std::uint16_t> session) {
  sm_body b;
  b.service_type = "USSD";
  b.source = {1, 1, "254700000001"};
  b.destination = {0, 0, "123"};
  b.short_message = text;
  b.tlvs.push_back(tlv::u8(tag::ussd_service_op, op));
  if (session) b.tlvs.push_back(tlv::u16(tag::its_session_info, *session));
  return make_deliver(1, b);
}
}  // namespace

TEST_CASE("a dial of the service code gets the welcome screen that ends the dialog",
          "[fixed_screen]") {
  fixed_screen_responder r({"*123#", "Hello there"});
  auto out = r.answer(dial("*123#", ussd_op::pssr_indication, 0x0A04));
  REQUIRE(out);
  const auto& b = std::get<sm_body>(out->body);
  CHECK(out->command_id == static_cast<std::uint32_t>(command::submit_sm));
  CHECK(b.short_message == "Hello there");
  CHECK(b.destination.addr == "254700000001");
  CHECK(b.source.addr == "123");
  CHECK(b.service_type == "USSD");
  CHECK(tlv_u8(b.tlvs, tag::ussd_service_op) == ussd_op::pssr_response);
  CHECK(tlv_u16(b.tlvs, tag::its_session_info) == 0x0A05);  // echoed, end bit set
}

TEST_CASE("shortcuts under the service code are ours, other codes are not", "[fixed_screen]") {
  fixed_screen_responder r({"*123#", "Hello"});
  CHECK(std::get<sm_body>(r.answer(dial("*123*1*2#", 1, {}))->body).short_message == "Hello");
  CHECK(std::get<sm_body>(r.answer(dial("*555#", 1, {}))->body).short_message ==
        "Unknown service code.");
  CHECK(std::get<sm_body>(r.answer(dial("*1234#", 1, {}))->body).short_message ==
        "Unknown service code.");
}

TEST_CASE("a session id in user_message_reference is echoed", "[fixed_screen]") {
  fixed_screen_responder r({"*123#", "Hello"});
  pdu in = dial("*123#", 1, {});
  std::get<sm_body>(in.body).tlvs.push_back(tlv::u16(tag::user_message_reference, 0x1234));
  auto out = r.answer(in);
  REQUIRE(out);
  CHECK(tlv_u16(std::get<sm_body>(out->body).tlvs, tag::user_message_reference) == 0x1234);
  CHECK_FALSE(find_tlv(std::get<sm_body>(out->body).tlvs, tag::its_session_info));
}

TEST_CASE("receipts, plain SMS and aborts get no screen", "[fixed_screen]") {
  fixed_screen_responder r({"*123#", "Hello"});
  pdu receipt = dial("id:1 stat:DELIVRD", 1, {});
  std::get<sm_body>(receipt.body).esm_class = 0x04;
  CHECK_FALSE(r.answer(receipt));
  pdu sms = dial("hello", 1, {});
  std::get<sm_body>(sms.body).tlvs.clear();
  CHECK_FALSE(r.answer(sms));
  CHECK_FALSE(r.answer(dial("", 0x81, 0x0A04)));  // vendor user abort
}
