// Unit tests for the simulator's direct PDU writers (tests/sim/wire.hpp): byte for byte what the
// codec writes, for every profile's dial, reply and abort, and a fallback for what they do not
// handle.
#include "tests/sim/wire.hpp"

#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

#include "gateway/smpp/codec.hpp"
#include "gateway/smpp/pdu.hpp"
#include "gateway/ussd/profile.hpp"
#include "tests/sim/ussd_centre.hpp"

namespace {

namespace sim = ussdpay::sim;
namespace smpp = ussdpay::smpp;

std::string by_codec(const smpp::pdu& p) {
  std::string out;
  REQUIRE_FALSE(smpp::encode(p, out).has_value());
  return out;
}

}  // namespace

TEST_CASE("deliver_sm: the direct writer and the codec agree for every profile", "[sim][wire]") {
  for (const auto& name : ussdpay::ussd::builtin_profile_names()) {
    INFO("profile " << name);
    sim::ussd_centre_fsm c(*ussdpay::ussd::builtin_profile(name), "123");
    smpp::sm_body b;
    c.dial("923001234567", "*123#", b);
    std::string direct = "prefix";  // appends, leaving what was there
    REQUIRE(sim::write_deliver_sm(7, b, direct));
    CHECK(direct == "prefix" + by_codec(smpp::make_deliver(7, b)));

    REQUIRE(c.reply("923001234567", "04000000000042", b));
    direct.clear();
    REQUIRE(sim::write_deliver_sm(0x7FFFFFFF, b, direct));
    CHECK(direct == by_codec(smpp::make_deliver(0x7FFFFFFF, b)));

    if (c.abort("923001234567", b)) {
      direct.clear();
      REQUIRE(sim::write_deliver_sm(9, b, direct));
      CHECK(direct == by_codec(smpp::make_deliver(9, b)));
    }
  }
}

TEST_CASE("deliver_sm: unusual but valid fields are written as the codec writes them",
          "[sim][wire]") {
  smpp::sm_body b;
  b.service_type = "USSD";
  b.source = {5, 9, "ABC"};                        // TON/NPI values libsmpp34 itself would refuse
  b.destination = {0, 0, "12345678901234567890"};  // 20 digits: the most there is room for
  b.esm_class = 0x40;
  b.data_coding = 8;
  b.short_message = std::string(253, 'x');
  b.tlvs.push_back(smpp::tlv::octets(0x1400, "vendor"));
  std::string direct;
  REQUIRE(sim::write_deliver_sm(3, b, direct));
  CHECK(direct == by_codec(smpp::make_deliver(3, b)));
}

TEST_CASE("deliver_sm: what the direct writer leaves to the codec", "[sim][wire]") {
  smpp::sm_body b;
  std::string out = "x";
  b.short_message = std::string(254, 'x');  // needs message_payload
  CHECK_FALSE(sim::write_deliver_sm(1, b, out));
  b.short_message.clear();
  b.service_type = "USSD12";  // 6 characters
  CHECK_FALSE(sim::write_deliver_sm(1, b, out));
  b.service_type.clear();
  b.source.addr = std::string("92\0", 3);
  CHECK_FALSE(sim::write_deliver_sm(1, b, out));
  b.source.addr.clear();
  b.validity_period = "000001000000000R";
  CHECK_FALSE(sim::write_deliver_sm(1, b, out));
  CHECK(out == "x");
}

TEST_CASE("submit_sm_resp: the direct writer and the codec agree", "[sim][wire]") {
  for (const std::string& id : {std::string("5A000000"), std::string(), std::string(64, '9')}) {
    smpp::pdu resp = smpp::make_submit(11, {}).make_response();
    std::get<smpp::message_id_body>(resp.body).message_id = id;
    std::string direct;
    REQUIRE(sim::write_submit_sm_resp(11, id, direct));
    CHECK(direct == by_codec(resp));
  }
  std::string out;
  CHECK_FALSE(sim::write_submit_sm_resp(1, std::string(65, '9'), out));
  CHECK(out.empty());
}
