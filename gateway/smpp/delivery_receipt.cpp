#include "gateway/smpp/delivery_receipt.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include <fmt/format.h>

namespace ussdpay::smpp {

namespace {

constexpr std::size_t max_id = 65;      // a C-Octet String of 65 (SMPP 3.4 section 5.2.23)
constexpr std::size_t max_text = 1024;  // a receipt's text is about 150 octets; more is noise
constexpr std::size_t max_field = 16;   // stat and err values

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool id_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '_' || c == '.' || c == ':';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

// The value after "key:" in a receipt text, the key matched without regard to case at the start
// or after a space; up to the next space. nullopt if absent.
std::optional<std::string_view> field(std::string_view text, std::string_view key) {
  for (std::size_t at = 0; at + key.size() < text.size(); ++at) {
    if (at > 0 && text[at - 1] != ' ') continue;
    bool same = true;
    for (std::size_t i = 0; i < key.size() && same; ++i) same = lower(text[at + i]) == key[i];
    if (!same || text[at + key.size()] != ':') continue;
    const std::size_t from = at + key.size() + 1;
    const std::size_t to = std::min(text.find(' ', from), text.size());
    return text.substr(from, to - from);
  }
  return std::nullopt;
}

delivery from_stat(std::string_view stat) {
  std::string s(stat.substr(0, max_field));
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return lower(c); });
  if (s == "delivrd" || s == "delivered") return delivery::delivered;
  if (s == "undeliv" || s == "undeliverable" || s == "rejectd" || s == "rejected" || s == "deleted")
    return delivery::undeliverable;
  if (s == "expired") return delivery::expired;
  return delivery::pending;  // ENROUTE, ACCEPTD, UNKNOWN, and words we do not know
}

delivery from_message_state(std::uint8_t v) {
  switch (v) {
    case 2:
      return delivery::delivered;
    case 3:
      return delivery::expired;
    case 4:  // DELETED
    case 5:  // UNDELIVERABLE
    case 8:  // REJECTED
      return delivery::undeliverable;
    default:  // 1 ENROUTE, 6 ACCEPTED, 7 UNKNOWN, anything else
      return delivery::pending;
  }
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, max_field)) out.push_back(c >= 0x21 && c <= 0x7E ? c : '?');
  return out;
}

}  // namespace

std::string_view to_string(delivery d) {
  switch (d) {
    case delivery::delivered:
      return "delivered";
    case delivery::undeliverable:
      return "undeliverable";
    case delivery::expired:
      return "expired";
    case delivery::pending:
      break;
  }
  return "";
}

bool is_receipt(const sm_body& in) {
  return (in.esm_class & 0x3C) != 0;
}

std::variant<delivery_receipt, receipt_error> parse_receipt(const sm_body& in) {
  std::string_view text = in.short_message;
  if (text.empty())
    if (auto payload = tlv_octets(in.tlvs, tag::message_payload)) text = *payload;
  if (text.size() > max_text) text = text.substr(0, max_text);

  delivery_receipt r;
  if (auto id = tlv_octets(in.tlvs, tag::receipted_message_id))
    r.message_id = std::string(trim(*id));
  else if (auto f = field(text, "id"))
    r.message_id = std::string(trim(*f));
  if (r.message_id.empty()) return receipt_error{"no message id (receipted_message_id or id:)"};
  if (r.message_id.size() > max_id || message_key(r.message_id).empty())
    return receipt_error{"message id is too long or not printable"};

  if (const auto* tlv = find_tlv(in.tlvs, tag::message_state)) {
    if (tlv->value.size() != 1) return receipt_error{"message_state is not 1 octet"};
    const auto v = static_cast<std::uint8_t>(tlv->value[0]);
    r.state = from_message_state(v);
    r.stat = fmt::format("message_state={}", v);
    if (auto f = field(text, "stat")) r.stat = printable(*f);  // the SMSC's word, if it wrote one
  } else if (auto f = field(text, "stat")) {
    r.state = from_stat(*f);
    r.stat = printable(*f);
  } else {
    return receipt_error{"no state (message_state or stat:)"};
  }

  if (auto f = field(text, "err"))
    r.error = printable(*f);
  else if (const auto* tlv = find_tlv(in.tlvs, tag::network_error_code)) {
    for (char c : tlv->value.substr(0, 3))
      r.error += fmt::format("{:02x}", static_cast<std::uint8_t>(c));
  }
  return r;
}

std::string message_key(std::string_view id) {
  id = trim(id);
  if (id.empty() || id.size() > max_id) return {};
  if (!std::all_of(id.begin(), id.end(), id_char)) return {};
  std::string out;
  out.reserve(id.size());
  // Leading zeros are padding only in a number (hex or decimal): "0x1" and "0a-7" keep theirs.
  const bool number = std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
  std::size_t i = 0;
  while (number && i + 1 < id.size() && id[i] == '0') ++i;
  for (; i < id.size(); ++i) out.push_back(lower(id[i]));
  return out;
}

std::vector<std::string> receipt_keys(std::string_view id) {
  std::vector<std::string> keys;
  const std::string own = message_key(id);
  if (own.empty()) return keys;
  keys.push_back(own);
  auto add = [&keys](std::string k) {
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
  };
  std::uint64_t v = 0;
  const char* first = own.data();
  const char* last = own.data() + own.size();
  if (auto [end, ec] = std::from_chars(first, last, v, 10); ec == std::errc() && end == last)
    add(fmt::format("{:x}", v));
  if (auto [end, ec] = std::from_chars(first, last, v, 16); ec == std::errc() && end == last)
    add(fmt::format("{}", v));
  return keys;
}

}  // namespace ussdpay::smpp
