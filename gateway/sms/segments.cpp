#include "gateway/sms/segments.hpp"

#include <algorithm>

namespace ussdpay::sms {

namespace {

constexpr std::size_t gsm_single = 160, gsm_part = 153;    // octets of unpacked septets
constexpr std::size_t ucs2_single = 140, ucs2_part = 134;  // octets
constexpr std::uint8_t esm_udhi = 0x40;

// Where to cut `octets` into parts of at most `part` octets: never after a GSM escape, never
// between the two halves of a surrogate pair.
std::vector<std::string_view> cut(std::string_view octets, std::size_t part, bool ucs2,
                                  bool gsm_escapes) {
  std::vector<std::string_view> out;
  while (!octets.empty()) {
    std::size_t n = std::min(part, octets.size());
    if (n < octets.size()) {
      if (ucs2) {
        const auto hi = static_cast<std::uint8_t>(octets[n - 2]);
        if (hi >= 0xD8 && hi <= 0xDB) n -= 2;  // a high surrogate ends the part: keep it whole
      } else if (gsm_escapes && octets[n - 1] == '\x1b') {
        n -= 1;
      }
    }
    out.push_back(octets.substr(0, n));
    octets.remove_prefix(n);
  }
  return out;
}

}  // namespace

std::optional<long_messages> parse_long_messages(std::string_view s) {
  if (s == "payload") return long_messages::payload;
  if (s == "udh") return long_messages::udh;
  if (s == "sar") return long_messages::sar;
  return std::nullopt;
}

std::vector<smpp::sm_body> sms_segments(const sms_request& r) {
  smpp::sm_body b;
  const bool digits = !r.source.empty() && std::all_of(r.source.begin(), r.source.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
  b.source = {static_cast<std::uint8_t>(digits ? 0 : 5), 0, std::string(r.source)};
  b.destination = {1, 1, std::string(r.msisdn)};  // international, E.164
  std::string octets;
  bool ucs2 = false;
  if (auto gsm = menus::to_default_alphabet(r.text, r.alphabet)) {
    b.data_coding = 0;
    octets = std::move(*gsm);
  } else if (auto u = menus::to_ucs2be(r.text)) {
    b.data_coding = 8;
    octets = std::move(*u);
    ucs2 = true;
  } else {
    return {};
  }
  const std::uint8_t receipt = r.registered_delivery ? 1 : 0;
  if (octets.size() <= (ucs2 ? ucs2_single : gsm_single)) {
    b.short_message = std::move(octets);
    b.registered_delivery = receipt;
    return {std::move(b)};
  }
  if (r.mode == long_messages::payload) {
    b.tlvs.push_back(smpp::tlv::octets(smpp::tag::message_payload, octets));
    b.registered_delivery = receipt;
    return {std::move(b)};
  }
  const auto parts = cut(octets, ucs2 ? ucs2_part : gsm_part, ucs2,
                         r.alphabet == menus::default_alphabet::gsm0338);
  if (parts.size() > max_segments) return {};
  std::vector<smpp::sm_body> out;
  const auto total = static_cast<std::uint8_t>(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    smpp::sm_body s = b;
    const auto seq = static_cast<std::uint8_t>(i + 1);
    s.registered_delivery = i + 1 == parts.size() ? receipt : 0;
    if (r.mode == long_messages::udh) {
      s.esm_class |= esm_udhi;
      s.short_message = {'\x05',
                         '\x00',
                         '\x03',
                         static_cast<char>(r.reference & 0xFF),
                         static_cast<char>(total),
                         static_cast<char>(seq)};
      s.short_message += parts[i];
    } else {
      s.short_message = std::string(parts[i]);
      s.tlvs.push_back(smpp::tlv::u16(smpp::tag::sar_msg_ref_num, r.reference));
      s.tlvs.push_back(smpp::tlv::u8(smpp::tag::sar_total_segments, total));
      s.tlvs.push_back(smpp::tlv::u8(smpp::tag::sar_segment_seqnum, seq));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ussdpay::sms
