#include "gateway/common/log_text.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ussdpay {

std::string loggable(std::string_view text, std::size_t max_chars) {
  // JSON string escapes (\" \\ \uXXXX), so a JSON log line stays one valid object, and a text
  // line one line. Besides C0 controls and DEL: C1 controls (U+0080..U+009F, which some
  // terminals obey) and the bidirectional overrides and isolates (U+202A..U+202E,
  // U+2066..U+2069), which reorder what a reader sees.
  std::string out;
  out.reserve(std::min(text.size(), max_chars) + 16);
  std::size_t at = 0;
  const auto octet = [&](std::size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u;
  };
  while (at < text.size() && out.size() < max_chars) {
    const unsigned c = octet(at);
    unsigned len = 0;  // octets of a code point shown as \uXXXX instead, 0: none
    unsigned hidden = c;
    if (c < 0x20 || c == 0x7F) {
      len = 1;
    } else if (c == 0xC2 && octet(at + 1) >= 0x80 && octet(at + 1) <= 0x9F) {
      hidden = octet(at + 1);
      len = 2;
    } else if (c == 0xE2 &&
               ((octet(at + 1) == 0x80 && octet(at + 2) >= 0xAA && octet(at + 2) <= 0xAE) ||
                (octet(at + 1) == 0x81 && octet(at + 2) >= 0xA6 && octet(at + 2) <= 0xA9))) {
      hidden = 0x2000 + ((octet(at + 1) & 0x3F) << 6) + (octet(at + 2) & 0x3F);
      len = 3;
    }
    if (len > 0) {
      out += fmt::format("\\u{:04x}", hidden);
      at += len;
      continue;
    }
    if (c == '\\' || c == '"') out += '\\';
    out += static_cast<char>(c);
    ++at;
  }
  if (at < text.size()) {
    // Cut between characters, not inside one (other octets past 0x7F are copied one for one).
    while (at > 0 && (octet(at) & 0xC0) == 0x80 && (out.back() & 0x80) != 0) {
      --at;
      out.pop_back();
    }
    out += fmt::format("...(+{} bytes)", text.size() - at);
  }
  return out;
}

}  // namespace ussdpay
