// Unit tests for the simulator's USSD centre (tests/sim/ussd_centre.hpp): per operator profile,
// what a subscriber's dial, reply and abort look like on the wire, and which screens from the
// gateway fit the profile. Each scenario walks one dialog step by step, without sockets.
#include "tests/sim/ussd_centre.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "gateway/smpp/pdu.hpp"
#include "gateway/ussd/profile.hpp"

namespace {

namespace sim = ussdpay::sim;
namespace smpp = ussdpay::smpp;
namespace ussd = ussdpay::ussd;
namespace tag = smpp::tag;

const std::string alice = "923001234567";
const std::string bob = "923007654321";

sim::ussd_centre_fsm centre(const char* profile) {
  auto p = ussd::builtin_profile(profile);
  REQUIRE(p.has_value());
  return sim::ussd_centre_fsm(*p, "123");
}

int op_of(const smpp::sm_body& b) {
  return smpp::tlv_u8(b.tlvs, tag::ussd_service_op).value_or(-1);
}
std::optional<std::uint16_t> session_of(const smpp::sm_body& b) {
  return smpp::tlv_u16(b.tlvs, tag::its_session_info);
}
std::optional<std::uint16_t> ref_of(const smpp::sm_body& b) {
  return smpp::tlv_u16(b.tlvs, tag::user_message_reference);
}

/// A screen from the gateway to `msisdn`.
smpp::sm_body screen(const std::string& msisdn, std::uint8_t op, const std::string& text = "Menu") {
  smpp::sm_body b;
  b.service_type = "USSD";
  b.source = {0, 0, "123"};
  b.destination = {1, 1, msisdn};
  b.short_message = text;
  b.tlvs.push_back(smpp::tlv::u8(tag::ussd_service_op, op));
  return b;
}
smpp::sm_body with_session(smpp::sm_body b, std::uint16_t info) {
  b.tlvs.push_back(smpp::tlv::u16(tag::its_session_info, info));
  return b;
}
smpp::sm_body with_ref(smpp::sm_body b, std::uint16_t ref) {
  b.tlvs.push_back(smpp::tlv::u16(tag::user_message_reference, ref));
  return b;
}

}  // namespace

TEST_CASE("default profile: a three-screen dialog", "[sim][ussd]") {
  auto c = centre("default");
  smpp::sm_body out;

  // The subscriber dials *123#: PSSR indication (1), session 1, sequence 0, from the subscriber
  // to the short code, in the GSM data_coding.
  c.dial(alice, "*123#", out);
  CHECK(op_of(out) == 1);
  CHECK(session_of(out) == std::optional<std::uint16_t>(0x0100));
  CHECK_FALSE(ref_of(out).has_value());
  CHECK(out.source.addr == alice);
  CHECK(out.destination.addr == "123");
  CHECK(out.short_message == "*123#");
  CHECK(int{out.data_coding} == 0);
  CHECK(c.is_open(alice));

  // The gateway shows a menu (USSR request, 2) echoing the session: it continues.
  auto v = c.on_submit(with_session(screen(alice, 2), 0x0100));
  CHECK(v.ussd);
  CHECK(v.protocol_error.empty());
  CHECK(v.continues);
  CHECK_FALSE(v.ends_dialog);

  // The subscriber answers "1": USSR confirm (18), same session, sequence + 2.
  REQUIRE(c.reply(alice, "1", out));
  CHECK(op_of(out) == 18);
  CHECK(session_of(out) == std::optional<std::uint16_t>(0x0102));
  CHECK(out.short_message == "1");

  // The gateway's final screen (PSSR response, 17, end bit set) ends the dialog.
  v = c.on_submit(with_session(screen(alice, 17), 0x0103));
  CHECK(v.protocol_error.empty());
  CHECK(v.ends_dialog);
  CHECK_FALSE(v.continues);
  CHECK_FALSE(c.is_open(alice));

  // A second screen is one too many.
  v = c.on_submit(with_session(screen(alice, 17), 0x0103));
  CHECK(v.protocol_error.find("after the dialog ended") != std::string::npos);

  // A late input still goes out in that dialog (sequence + 2); the gateway's ending answer to
  // it fits.
  REQUIRE(c.reply(alice, "1", out));
  CHECK(session_of(out) == std::optional<std::uint16_t>(0x0104));
  CHECK(c.is_open(alice));
  v = c.on_submit(with_session(screen(alice, 17, "Your session has ended."), 0x0105));
  CHECK(v.protocol_error.empty());
  CHECK_FALSE(c.is_open(alice));
  CHECK(c.open_dialogs() == 0);

  // Nobody who never dialed can reply; an ended dialog cannot be aborted.
  CHECK_FALSE(c.reply(bob, "1", out));
  CHECK_FALSE(c.abort(alice, out));
}

TEST_CASE("default profile: op 2 with the end bit ends the dialog (vumi style)", "[sim][ussd]") {
  auto c = centre("default");
  smpp::sm_body out;
  c.dial(alice, "*123#", out);
  const auto v = c.on_submit(with_session(screen(alice, 2), 0x0101));
  CHECK(v.protocol_error.empty());
  CHECK(v.ends_dialog);
  CHECK_FALSE(v.continues);
  CHECK_FALSE(c.is_open(alice));
}

TEST_CASE("default profile: screens that do not fit are flagged", "[sim][ussd]") {
  auto c = centre("default");
  smpp::sm_body out;
  c.dial(alice, "*123#", out);  // session 1

  SECTION("an op that is neither continue nor end") {
    const auto v = c.on_submit(with_session(screen(alice, 3), 0x0100));
    CHECK(v.ussd);
    CHECK(int{v.op} == 3);
    CHECK(v.protocol_error.find("neither continue") != std::string::npos);
  }
  SECTION("its_session_info not echoed") {
    const auto v = c.on_submit(screen(alice, 2));
    CHECK(v.protocol_error.find("its_session_info missing") != std::string::npos);
  }
  SECTION("another session's screen does not close the dialog") {
    const auto v = c.on_submit(with_session(screen(alice, 17), 0x0701));
    CHECK(v.protocol_error.find("session 7") != std::string::npos);
    CHECK(c.is_open(alice));
  }
  SECTION("a screen for a subscriber without a dialog") {
    const auto v = c.on_submit(with_session(screen(bob, 2), 0x0100));
    CHECK(v.protocol_error.find("never dialed") != std::string::npos);
  }
  SECTION("another service_type") {
    auto b = with_session(screen(alice, 2), 0x0100);
    b.service_type = "";
    const auto v = c.on_submit(b);
    CHECK(v.protocol_error.find("service_type") != std::string::npos);
  }
  SECTION("an SMS is not a USSD screen and not an error") {
    smpp::sm_body sms;
    sms.destination.addr = alice;
    sms.short_message = "Receipt";
    const auto v = c.on_submit(sms);
    CHECK_FALSE(v.ussd);
    CHECK(v.protocol_error.empty());
    CHECK(c.is_open(alice));
  }
}

TEST_CASE("a new dial replaces the open dialog with a new session", "[sim][ussd]") {
  auto c = centre("default");
  smpp::sm_body out;
  c.dial(alice, "*123#", out);
  CHECK(session_of(out) == std::optional<std::uint16_t>(0x0100));
  c.dial(alice, "*123#", out);
  CHECK(session_of(out) == std::optional<std::uint16_t>(0x0200));
  CHECK(c.open_dialogs() == 1);
  // The old session's screen is now foreign.
  CHECK_FALSE(c.on_submit(with_session(screen(alice, 2), 0x0100)).protocol_error.empty());
  CHECK(c.on_submit(with_session(screen(alice, 2), 0x0200)).protocol_error.empty());
}

TEST_CASE("sixdee: 0x12 replies, 0x81 aborts, 0x17 closes", "[sim][ussd]") {
  auto c = centre("sixdee");
  smpp::sm_body out;
  c.dial(alice, "*123#", out);
  CHECK(op_of(out) == 1);
  CHECK(c.on_submit(with_session(screen(alice, 2), 0x0100)).continues);

  REQUIRE(c.reply(alice, "2", out));
  CHECK(op_of(out) == 0x12);
  CHECK(session_of(out) == std::optional<std::uint16_t>(0x0102));
  CHECK(c.on_submit(with_session(screen(alice, 2), 0x0102)).protocol_error.empty());

  // The subscriber aborts: 0x81, the same session with the end-of-session bit; the dialog is
  // closed on the USSD centre's side.
  REQUIRE(c.can_abort());
  REQUIRE(c.abort(alice, out));
  CHECK(op_of(out) == 0x81);
  CHECK(session_of(out) == std::optional<std::uint16_t>(0x0105));
  CHECK(out.short_message.empty());
  CHECK_FALSE(c.is_open(alice));

  // A new dialog is closed by the gateway with 0x17.
  c.dial(alice, "*123#", out);
  auto v = c.on_submit(with_session(screen(alice, 0x17), 0x0201));
  CHECK(v.protocol_error.empty());
  CHECK(v.ends_dialog);

  // PSSR response (17) is not this operator's end op.
  c.dial(alice, "*123#", out);
  v = c.on_submit(with_session(screen(alice, 17), 0x0301));
  CHECK_FALSE(v.protocol_error.empty());
}

TEST_CASE("mica: the dialog id is user_message_reference", "[sim][ussd]") {
  auto c = centre("mica");
  smpp::sm_body out;
  c.dial(alice, "*123#", out);
  CHECK(op_of(out) == 1);
  CHECK_FALSE(session_of(out).has_value());
  REQUIRE(ref_of(out).has_value());
  const std::uint16_t ref = *ref_of(out);
  c.dial(bob, "*123#", out);
  CHECK(ref_of(out) != std::optional<std::uint16_t>(ref));  // one id per dialog

  CHECK(c.on_submit(with_ref(screen(alice, 2), ref)).continues);
  REQUIRE(c.reply(alice, "1", out));
  CHECK(op_of(out) == 0x02);  // mica's first continue op
  CHECK(ref_of(out) == std::optional<std::uint16_t>(ref));

  // Without the reference, or with another one, the screen is flagged; neither closes.
  CHECK(c.on_submit(screen(alice, 0x17)).protocol_error.find("user_message_reference missing") !=
        std::string::npos);
  CHECK_FALSE(c.on_submit(with_ref(screen(alice, 0x17), static_cast<std::uint16_t>(ref + 9)))
                  .protocol_error.empty());
  CHECK(c.is_open(alice));

  // 0x17 with the right reference closes it; mica has no abort.
  const auto v = c.on_submit(with_ref(screen(alice, 0x17), ref));
  CHECK(v.protocol_error.empty());
  CHECK(v.ends_dialog);
  CHECK_FALSE(c.is_open(alice));
  CHECK_FALSE(c.can_abort());
}

TEST_CASE("huawei: no dialog id at all", "[sim][ussd]") {
  auto c = centre("huawei");
  smpp::sm_body out;
  c.dial(alice, "*123#", out);
  CHECK(out.tlvs.size() == 1);  // only ussd_service_op
  CHECK(c.on_submit(screen(alice, 2)).continues);
  REQUIRE(c.reply(alice, "1", out));
  CHECK(op_of(out) == 0x12);
  CHECK(out.tlvs.size() == 1);
  const auto v = c.on_submit(screen(alice, 17));
  CHECK(v.protocol_error.empty());
  CHECK(v.ends_dialog);
  CHECK_FALSE(c.abort(alice, out));
}

TEST_CASE("text typed on the phone goes out in the operator's coding", "[sim][ussd]") {
  auto c = centre("default");
  smpp::sm_body out;
  // GSM 03.38 unpacked: e-acute is 0x05.
  c.dial(alice, "*123#", out);
  REQUIRE(c.reply(alice, "caf\xC3\xA9", out));
  CHECK(int{out.data_coding} == 0);
  CHECK(out.short_message == std::string("caf\x05"));
  // Not in GSM: UCS-2 big-endian with the UCS-2 data_coding.
  REQUIRE(c.reply(alice, "\xE4\xB8\xAD", out));  // U+4E2D
  CHECK(int{out.data_coding} == 8);
  CHECK(out.short_message == std::string("\x4E\x2D"));
}

TEST_CASE("screen text is decoded by data_coding and profile", "[sim][ussd]") {
  const ussd::profile p;
  CHECK(sim::decode_text("Pay bill", 0, p) == "Pay bill");
  CHECK(sim::decode_text(std::string("\x00\x48\x00\xE9", 4), 8, p) == "H\xC3\xA9");
  CHECK(sim::decode_text(std::string("\x00", 1), 0, p) == "@");  // GSM 03.38 '@'
  // An odd number of UCS-2 octets does not decode: shown as hex.
  CHECK(sim::decode_text(std::string("\x00\x48\x00", 3), 8, p) == "[hex 004800]");
}

TEST_CASE("MSISDN keys keep leading zeros apart", "[sim][ussd]") {
  CHECK(sim::msisdn_key("300") != sim::msisdn_key("0300"));
  CHECK(sim::msisdn_key("923001234567").has_value());
  CHECK_FALSE(sim::msisdn_key("+92300").has_value());
  CHECK_FALSE(sim::msisdn_key("").has_value());
  CHECK_FALSE(sim::msisdn_key("1234567890123456").has_value());  // 16 digits

  // Both kinds of MSISDN hold dialogs.
  auto c = centre("default");
  smpp::sm_body out;
  c.dial("subscriber-x", "*123#", out);
  c.dial(alice, "*123#", out);
  CHECK(c.is_open("subscriber-x"));
  CHECK(c.open_dialogs() == 2);
  CHECK(c.on_submit(with_session(screen("subscriber-x", 17), 0x0101)).protocol_error.empty());
  CHECK_FALSE(c.is_open("subscriber-x"));
}
