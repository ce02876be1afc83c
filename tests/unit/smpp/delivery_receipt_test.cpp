// Delivery receipts: read from TLVs or the classic text, bounded, and matched to their message
// whatever form (hex, decimal, case, leading zeros) the SMSC writes the message id in.
#include <algorithm>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "gateway/smpp/delivery_receipt.hpp"

using namespace ussdpay;

namespace {

smpp::sm_body receipt_text(std::string text) {
  smpp::sm_body b;
  b.esm_class = 0x04;
  b.source = {1, 1, "923001234567"};
  b.short_message = std::move(text);
  return b;
}

smpp::delivery_receipt read(const smpp::sm_body& b) {
  auto r = smpp::parse_receipt(b);
  if (auto* e = std::get_if<smpp::receipt_error>(&r)) FAIL("not read: " << e->reason);
  return std::get<smpp::delivery_receipt>(r);
}

std::string why_not(const smpp::sm_body& b) {
  auto r = smpp::parse_receipt(b);
  auto* e = std::get_if<smpp::receipt_error>(&r);
  return e == nullptr ? "" : e->reason;
}

}  // namespace

TEST_CASE("receipt: esm_class bits 2-5 mark receipts and notifications", "[receipt]") {
  smpp::sm_body b;
  CHECK_FALSE(smpp::is_receipt(b));
  for (int esm : {0x04, 0x08, 0x10, 0x20, 0x44}) {
    b.esm_class = static_cast<std::uint8_t>(esm);
    CHECK(smpp::is_receipt(b));
  }
  b.esm_class = 0x40;  // UDHI only: a concatenated SMS, not a receipt
  CHECK_FALSE(smpp::is_receipt(b));
}

TEST_CASE("receipt: the classic text, any case, every final state", "[receipt]") {
  auto r =
      read(receipt_text("id:1A2B3C sub:001 dlvrd:001 submit date:2611221000 done "
                        "date:2611221001 stat:DELIVRD err:000 text:Ref ABCDEFGHJK PAID"));
  CHECK(r.message_id == "1A2B3C");
  CHECK(r.state == smpp::delivery::delivered);
  CHECK(r.stat == "DELIVRD");
  CHECK(r.error == "000");
  CHECK(read(receipt_text("ID:7 STAT:undeliv ERR:0A1")).state == smpp::delivery::undeliverable);
  CHECK(read(receipt_text("id:7 stat:REJECTD err:1")).state == smpp::delivery::undeliverable);
  CHECK(read(receipt_text("id:7 stat:DELETED err:1")).state == smpp::delivery::undeliverable);
  CHECK(read(receipt_text("id:7 stat:EXPIRED err:1")).state == smpp::delivery::expired);
  CHECK(read(receipt_text("id:7 stat:ENROUTE err:0")).state == smpp::delivery::pending);
  CHECK(read(receipt_text("id:7 stat:ACCEPTD err:0")).state == smpp::delivery::pending);
  CHECK(read(receipt_text("id:7 stat:SOMETHING err:0")).state == smpp::delivery::pending);
  CHECK(smpp::to_string(smpp::delivery::pending).empty());
  CHECK(smpp::to_string(smpp::delivery::expired) == "expired");
  // "text:" may itself contain "id:" and "stat:": the first field wins, and only at a word start.
  auto t = read(receipt_text("id:42 sub:001 stat:DELIVRD err:000 text:xid:9 stat:UNDELIV"));
  CHECK(t.message_id == "42");
  CHECK(t.state == smpp::delivery::delivered);
}

TEST_CASE("receipt: TLVs win over the text, message_payload carries the text", "[receipt]") {
  auto b = receipt_text("id:999 stat:UNDELIV err:001");
  b.tlvs.push_back(smpp::tlv::octets(smpp::tag::receipted_message_id, std::string("1a2b\0", 5)));
  b.tlvs.push_back(smpp::tlv::u8(smpp::tag::message_state, 2));
  auto r = read(b);
  CHECK(r.message_id == "1a2b");  // the terminating NUL is not part of the id
  CHECK(r.state == smpp::delivery::delivered);
  CHECK(r.stat == "UNDELIV");  // the SMSC's word is kept as it wrote it
  // TLVs only, with a network error code.
  smpp::sm_body only;
  only.esm_class = 0x04;
  only.tlvs.push_back(smpp::tlv::octets(smpp::tag::receipted_message_id, "77"));
  only.tlvs.push_back(smpp::tlv::u8(smpp::tag::message_state, 5));
  only.tlvs.push_back(
      smpp::tlv::octets(smpp::tag::network_error_code, std::string("\x03\x00\x0b", 3)));
  auto u = read(only);
  CHECK(u.state == smpp::delivery::undeliverable);
  CHECK(u.stat == "message_state=5");
  CHECK(u.error == "03000b");
  for (int v : {1, 6, 7, 0, 200}) {
    only.tlvs[1] = smpp::tlv::u8(smpp::tag::message_state, static_cast<std::uint8_t>(v));
    CHECK(read(only).state == smpp::delivery::pending);
  }
  only.tlvs[1] = smpp::tlv::u8(smpp::tag::message_state, 3);
  CHECK(read(only).state == smpp::delivery::expired);
  // The text in message_payload.
  smpp::sm_body payload;
  payload.esm_class = 0x04;
  payload.tlvs.push_back(smpp::tlv::octets(smpp::tag::message_payload, "id:5 stat:EXPIRED err:0"));
  CHECK(read(payload).state == smpp::delivery::expired);
}

TEST_CASE("receipt: what cannot be read is refused with a reason, never thrown", "[receipt]") {
  CHECK_FALSE(why_not(receipt_text("")).empty());
  CHECK_FALSE(why_not(receipt_text("sub:001 stat:DELIVRD")).empty());   // no id
  CHECK_FALSE(why_not(receipt_text("id:12 sub:001 err:000")).empty());  // no state
  CHECK_FALSE(why_not(receipt_text("id: stat:DELIVRD")).empty());       // empty id
  CHECK_FALSE(why_not(receipt_text("id:" + std::string(66, '1') + " stat:DELIVRD")).empty());
  CHECK_FALSE(why_not(receipt_text("id:a'b;drop stat:DELIVRD")).empty());  // not an id
  auto bad_state = receipt_text("id:1 stat:DELIVRD");
  bad_state.tlvs.push_back(smpp::tlv::u16(smpp::tag::message_state, 2));  // 2 octets, not 1
  CHECK_FALSE(why_not(bad_state).empty());
  // Bounded: a huge text is cut, not scanned to its end.
  CHECK_FALSE(why_not(receipt_text(std::string(100'000, 'x') + " id:1 stat:DELIVRD")).empty());
  // Every prefix of a receipt either reads or is refused.
  const std::string full = "id:1A2B sub:001 dlvrd:001 stat:DELIVRD err:000 text:hello";
  for (std::size_t n = 0; n <= full.size(); ++n)
    (void)smpp::parse_receipt(receipt_text(full.substr(0, n)));
}

TEST_CASE("message ids: one canonical key, a receipt's keys cover hex, decimal, case, zeros",
          "[receipt]") {
  CHECK(smpp::message_key("1A2B3C") == "1a2b3c");
  CHECK(smpp::message_key("0001a2b3c") == "1a2b3c");
  CHECK(smpp::message_key(" 42\0") == "42");
  CHECK(smpp::message_key("000") == "0");
  CHECK(smpp::message_key("ab-12_x.y:z") == "ab-12_x.y:z");
  CHECK(smpp::message_key("").empty());
  CHECK(smpp::message_key("a b").empty());
  CHECK(smpp::message_key(std::string(66, '1')).empty());

  using keys = std::vector<std::string>;
  CHECK(smpp::receipt_keys("1715004") ==
        keys{"1715004", "1a2b3c", "24203268"});  // 1715004 = 0x1A2B3C
  CHECK(smpp::receipt_keys("1A2B3C") == keys{"1a2b3c", "1715004"});
  CHECK(smpp::receipt_keys("0x1") == keys{"0x1"});  // neither: its own key only
  CHECK(smpp::receipt_keys("uuid-like-1") == keys{"uuid-like-1"});
  CHECK(smpp::receipt_keys("").empty());
  // Too large for 64 bits in either base: only its own form.
  CHECK(smpp::receipt_keys("123456789012345678901234567890") ==
        keys{"123456789012345678901234567890"});

  // Whatever form the response and the receipt take, the receipt's keys include the stored key.
  for (std::uint64_t v :
       {0ULL, 9ULL, 10ULL, 255ULL, 4096ULL, 1715004ULL, 0xFFFFFFFFULL, 0xFFFFFFFFFFFFFFFFULL}) {
    const std::string hex_upper = fmt::format("{:X}", v), hex_padded = fmt::format("{:016x}", v),
                      dec = fmt::format("{}", v), dec_padded = fmt::format("{:020}", v);
    for (const auto& submitted : {hex_upper, hex_padded, dec, dec_padded})
      for (const auto& received : {hex_upper, hex_padded, dec, dec_padded}) {
        const auto k = smpp::receipt_keys(received);
        INFO("submitted " << submitted << ", receipt says " << received);
        CHECK(std::find(k.begin(), k.end(), smpp::message_key(submitted)) != k.end());
      }
  }
}
