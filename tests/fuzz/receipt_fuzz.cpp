// libFuzzer target for delivery receipts (gateway/smpp/delivery_receipt.hpp).
//
// Input layout: byte 0 selects where the text goes (bit 0: short_message or message_payload)
// and which TLVs come with it (bit 1: receipted_message_id, the next byte's count of octets from
// the input; bit 2: message_state, the next byte; bit 3: network_error_code, 3 octets); the rest
// is the receipt text (the seed corpus holds real receipts in every SMSC's style).
// Invariants checked (abort on violation):
//   * parse_receipt never crashes and either reads an id of 1..65 printable characters with a
//     canonical key, or refuses with a reason;
//   * the id's own key comes first among its receipt keys, and every key is canonical
//     (message_key of a key is the key itself).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/smpp/delivery_receipt.hpp"

namespace smpp = ussdpay::smpp;

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "receipt_fuzz: %s\ntext (%zu bytes): %.*s\n", what, text.size(),
               static_cast<int>(text.size()), text.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  auto take = [&rest](std::size_t n) {
    n = std::min(n, rest.size());
    auto out = rest.substr(0, n);
    rest.remove_prefix(n);
    return std::string(out);
  };
  smpp::sm_body b;
  b.esm_class = 0x04;
  if ((mode & 0x02) != 0 && !rest.empty()) {
    const auto n = static_cast<std::uint8_t>(rest[0]);
    rest.remove_prefix(1);
    b.tlvs.push_back(smpp::tlv::octets(smpp::tag::receipted_message_id, take(n)));
  }
  if ((mode & 0x04) != 0 && !rest.empty())
    b.tlvs.push_back(smpp::tlv::octets(smpp::tag::message_state, take(1)));
  if ((mode & 0x08) != 0)
    b.tlvs.push_back(smpp::tlv::octets(smpp::tag::network_error_code, take(3)));
  const std::string text(rest);
  if ((mode & 0x01) != 0)
    b.tlvs.push_back(smpp::tlv::octets(smpp::tag::message_payload, text));
  else
    b.short_message = text;

  auto r = smpp::parse_receipt(b);
  if (auto* e = std::get_if<smpp::receipt_error>(&r)) {
    if (e->reason.empty()) fail("refused without a reason", text);
    return 0;
  }
  const auto& got = std::get<smpp::delivery_receipt>(r);
  if (got.message_id.empty() || got.message_id.size() > 65) fail("id out of bounds", text);
  const auto key = smpp::message_key(got.message_id);
  if (key.empty()) fail("an accepted id has no key", text);
  const auto keys = smpp::receipt_keys(got.message_id);
  if (keys.empty() || keys.front() != key) fail("the id's own key is not first", text);
  for (const auto& k : keys)
    if (smpp::message_key(k) != k) fail("a receipt key is not canonical", text);
  if (got.stat.size() > 32 || got.error.size() > 32) fail("stat or err out of bounds", text);
  return 0;
}
