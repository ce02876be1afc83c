#include "menus/text.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

// Everything here runs on every screen, so it works from constexpr tables built once at compile
// time from the two tables of 3GPP TS 23.038 (6.2.1 and 6.2.1.1), walks the UTF-8 in place and
// allocates at most the one result string (sized before it is filled where that is cheap).

namespace ussdpay::menus {
namespace {

// --- GSM 03.38 tables ---------------------------------------------------------------------------

constexpr char16_t no_char = 0xFFFF;  // a table slot with no character (U+FFFF is a noncharacter)

// TS 23.038 6.2.1, the default alphabet, by septet. 0x1B is the escape to the extension table.
constexpr std::array<char16_t, 128> gsm_default = {
    u'@',      u'\u00A3', u'$',      u'\u00A5', u'\u00E8', u'\u00E9', u'\u00F9', u'\u00EC',  // 0x00
    u'\u00F2', u'\u00C7', u'\n',     u'\u00D8', u'\u00F8', u'\r',     u'\u00C5', u'\u00E5',  // 0x08
    u'\u0394', u'_',      u'\u03A6', u'\u0393', u'\u039B', u'\u03A9', u'\u03A0', u'\u03A8',  // 0x10
    u'\u03A3', u'\u0398', u'\u039E', no_char,   u'\u00C6', u'\u00E6', u'\u00DF', u'\u00C9',  // 0x18
    u' ',      u'!',      u'"',      u'#',      u'\u00A4', u'%',      u'&',      u'\'',      // 0x20
    u'(',      u')',      u'*',      u'+',      u',',      u'-',      u'.',      u'/',       // 0x28
    u'0',      u'1',      u'2',      u'3',      u'4',      u'5',      u'6',      u'7',       // 0x30
    u'8',      u'9',      u':',      u';',      u'<',      u'=',      u'>',      u'?',       // 0x38
    u'\u00A1', u'A',      u'B',      u'C',      u'D',      u'E',      u'F',      u'G',       // 0x40
    u'H',      u'I',      u'J',      u'K',      u'L',      u'M',      u'N',      u'O',       // 0x48
    u'P',      u'Q',      u'R',      u'S',      u'T',      u'U',      u'V',      u'W',       // 0x50
    u'X',      u'Y',      u'Z',      u'\u00C4', u'\u00D6', u'\u00D1', u'\u00DC', u'\u00A7',  // 0x58
    u'\u00BF', u'a',      u'b',      u'c',      u'd',      u'e',      u'f',      u'g',       // 0x60
    u'h',      u'i',      u'j',      u'k',      u'l',      u'm',      u'n',      u'o',       // 0x68
    u'p',      u'q',      u'r',      u's',      u't',      u'u',      u'v',      u'w',       // 0x70
    u'x',      u'y',      u'z',      u'\u00E4', u'\u00F6', u'\u00F1', u'\u00FC', u'\u00E0',  // 0x78
};

constexpr std::uint8_t gsm_escape = 0x1B;

// TS 23.038 6.2.1.1, the extension table: the septet after 0x1B. The other slots are undefined
// (0x0D is a page break control, 0x1B the escape to a further table, neither a character).
struct extension_entry {
  std::uint8_t septet;
  char16_t ch;
};
constexpr std::array<extension_entry, 10> gsm_extension_list = {{
    {0x0A, u'\f'},
    {0x14, u'^'},
    {0x28, u'{'},
    {0x29, u'}'},
    {0x2F, u'\\'},
    {0x3C, u'['},
    {0x3D, u'~'},
    {0x3E, u']'},
    {0x40, u'|'},
    {0x65, u'\u20AC'},
}};

constexpr std::array<char16_t, 128> make_gsm_extension() {
  std::array<char16_t, 128> t{};
  for (auto& c : t) c = no_char;
  for (const auto& e : gsm_extension_list) t[e.septet] = e.ch;
  return t;
}
constexpr std::array<char16_t, 128> gsm_extension = make_gsm_extension();

// The reverse direction, code point -> GSM code. A code is the septet (0x00-0x7F), or
// `extension_bit | septet` for a character of the extension table, or `not_gsm`. Every GSM
// character is in U+0000-U+00FF, the Greek capitals U+0393-U+03A9, or the euro sign.
constexpr std::uint8_t not_gsm = 0xFF;
constexpr std::uint8_t extension_bit = 0x80;  // no extension septet is 0x7F, so never 0xFF
constexpr char32_t greek_first = 0x0393;
constexpr char32_t greek_last = 0x03A9;
constexpr char32_t euro = 0x20AC;
constexpr std::uint8_t euro_code = extension_bit | 0x65;

struct reverse_tables {
  std::array<std::uint8_t, 256> latin1{};
  std::array<std::uint8_t, greek_last - greek_first + 1> greek{};
};

constexpr reverse_tables make_reverse_tables() {
  reverse_tables r;
  for (auto& c : r.latin1) c = not_gsm;
  for (auto& c : r.greek) c = not_gsm;
  const auto put = [&r](char16_t ch, std::uint8_t code) {
    if (ch < 0x100) {
      r.latin1[ch] = code;
    } else if (ch >= greek_first && ch <= greek_last) {
      r.greek[ch - greek_first] = code;
    }
    // The euro sign is the only other one; gsm_code() handles it directly.
  };
  for (std::size_t s = 0; s < gsm_default.size(); ++s) {
    if (gsm_default[s] != no_char) put(gsm_default[s], static_cast<std::uint8_t>(s));
  }
  for (const auto& e : gsm_extension_list) {
    put(e.ch, static_cast<std::uint8_t>(extension_bit | e.septet));
  }
  return r;
}
constexpr reverse_tables gsm_reverse = make_reverse_tables();

constexpr std::uint8_t gsm_code(char32_t cp) {
  if (cp < 0x100) return gsm_reverse.latin1[cp];
  if (cp >= greek_first && cp <= greek_last) return gsm_reverse.greek[cp - greek_first];
  if (cp == euro) return euro_code;
  return not_gsm;
}

// The tables agree with each other: every character decodes back to the code it encodes to.
constexpr bool tables_are_inverse() {
  std::size_t characters = 0;
  for (std::size_t s = 0; s < 128; ++s) {
    if (gsm_default[s] != no_char) {
      ++characters;
      if (gsm_code(gsm_default[s]) != s) return false;
    }
    if (gsm_extension[s] != no_char) {
      ++characters;
      if (gsm_code(gsm_extension[s]) != (extension_bit | s)) return false;
    }
  }
  return characters == 127 + gsm_extension_list.size();
}
static_assert(tables_are_inverse());
static_assert(gsm_code(U'$') == 0x02 && gsm_code(U'@') == 0x00 && gsm_code(U'_') == 0x11);
static_assert(gsm_code(U'`') == not_gsm && gsm_code(U'\u20AC') == (extension_bit | 0x65));

// --- UTF-8
// ----------------------------------------------------------------------------------------

constexpr char32_t bad_utf8 = 0xFFFFFFFF;

// The code point starting at s[i], advancing i past it; bad_utf8 for a malformed sequence
// (Unicode 15, table 3-7: no overlongs, no surrogates, nothing above U+10FFFF, no truncation).
inline char32_t next_code_point(std::string_view s, std::size_t& i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t trail = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80;  // range of the second byte; later bytes are always 0x80-0xBF
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    trail = 1;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    trail = 2;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    trail = 3;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return bad_utf8;  // a continuation byte, C0/C1 (always overlong) or F5-FF
  }
  if (s.size() - i - 1 < trail) return bad_utf8;
  for (std::size_t k = 1; k <= trail; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < lo || b > hi) return bad_utf8;
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  i += trail + 1;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Both lengths in one pass; `gsm` is cleared at the first character outside GSM 03.38 (the
// pass goes on, since UCS-2 still needs the rest validated and counted).
struct lengths {
  bool valid = true;
  bool gsm = true;
  std::size_t septets = 0;
  std::size_t ucs2_units = 0;
};

lengths measure_both(std::string_view utf8) noexcept {
  lengths r;
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t cp = next_code_point(utf8, i);
    if (cp == bad_utf8) {
      r.valid = false;
      r.gsm = false;
      return r;
    }
    r.ucs2_units += cp > 0xFFFF ? 2 : 1;
    if (r.gsm) {
      const std::uint8_t code = gsm_code(cp);
      if (code == not_gsm) {
        r.gsm = false;
      } else {
        r.septets += (code & extension_bit) != 0 ? 2 : 1;
      }
    }
  }
  return r;
}

// --- Decoding subscriber input ------------------------------------------------------------------

// Unpacked GSM 03.38, one septet per octet. After 0x1B, a septet that is not in the extension
// table reads as its default-alphabet character and 0x1B 0x1B as a space: TS 23.038 6.2.1.1
// tells a receiver to display those rather than reject the text. An octet above 0x7F cannot be a
// septet and a 0x1B at the end has nothing to escape: both are malformed.
std::optional<std::string> decode_gsm0338(std::string_view octets) {
  std::string out;
  out.reserve(octets.size());
  for (std::size_t i = 0; i < octets.size(); ++i) {
    auto s = static_cast<unsigned char>(octets[i]);
    if (s > 0x7F) return std::nullopt;
    char16_t ch = gsm_default[s];
    if (s == gsm_escape) {
      if (++i == octets.size()) return std::nullopt;
      s = static_cast<unsigned char>(octets[i]);
      if (s > 0x7F) return std::nullopt;
      if (s == gsm_escape) {
        ch = u' ';
      } else {
        ch = gsm_extension[s] != no_char ? gsm_extension[s] : gsm_default[s];
      }
    }
    append_utf8(out, ch);
  }
  return out;
}

std::optional<std::string> decode_latin1(std::string_view octets) {
  std::string out;
  out.reserve(octets.size());
  for (const char c : octets) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

std::optional<std::string> decode_ascii(std::string_view octets) {
  for (const char c : octets) {
    if (static_cast<unsigned char>(c) > 0x7F) return std::nullopt;
  }
  return std::string(octets);
}

std::optional<std::string> decode_ucs2be(std::string_view octets) {
  if (octets.size() % 2 != 0) return std::nullopt;
  const auto unit = [octets](std::size_t i) -> char32_t {
    return static_cast<char32_t>(static_cast<unsigned char>(octets[i]) << 8) |
           static_cast<unsigned char>(octets[i + 1]);
  };
  std::string out;
  out.reserve(octets.size() + octets.size() / 2);  // at most 3 UTF-8 bytes per 2 octets
  for (std::size_t i = 0; i < octets.size(); i += 2) {
    char32_t cp = unit(i);
    if (cp >= 0xDC00 && cp <= 0xDFFF) return std::nullopt;  // low surrogate first
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 2 == octets.size()) return std::nullopt;  // high surrogate last
      const char32_t low = unit(i + 2);
      if (low < 0xDC00 || low > 0xDFFF) return std::nullopt;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
      i += 2;
    }
    append_utf8(out, cp);
  }
  return out;
}

}  // namespace

// --- Public API
// -----------------------------------------------------------------------------------

bool valid_utf8(std::string_view utf8) {
  for (std::size_t i = 0; i < utf8.size();) {
    if (next_code_point(utf8, i) == bad_utf8) return false;
  }
  return true;
}

std::optional<std::size_t> gsm_length(std::string_view utf8) {
  std::size_t septets = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t cp = next_code_point(utf8, i);
    if (cp == bad_utf8) return std::nullopt;
    const std::uint8_t code = gsm_code(cp);
    if (code == not_gsm) return std::nullopt;
    septets += (code & extension_bit) != 0 ? 2 : 1;
  }
  return septets;
}

std::optional<std::size_t> ucs2_length(std::string_view utf8) {
  std::size_t units = 0;
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t cp = next_code_point(utf8, i);
    if (cp == bad_utf8) return std::nullopt;
    units += cp > 0xFFFF ? 2 : 1;
  }
  return units;
}

measure_result measure(std::string_view utf8) {
  const lengths l = measure_both(utf8);
  if (!l.valid) return {encoding::ucs2, std::numeric_limits<std::size_t>::max()};
  if (l.gsm) return {encoding::gsm7, l.septets};
  return {encoding::ucs2, l.ucs2_units};
}

std::optional<std::string> to_default_alphabet(std::string_view utf8, default_alphabet a) {
  std::string out;
  if (a == default_alphabet::gsm0338) {
    // Measuring first validates the whole text and gives the exact size (one octet a septet).
    const std::optional<std::size_t> septets = gsm_length(utf8);
    if (!septets) return std::nullopt;
    out.reserve(*septets);
    for (std::size_t i = 0; i < utf8.size();) {
      const std::uint8_t code = gsm_code(next_code_point(utf8, i));
      if ((code & extension_bit) != 0) out.push_back(static_cast<char>(gsm_escape));
      out.push_back(static_cast<char>(code & 0x7F));
    }
    return out;
  }
  out.reserve(utf8.size());  // never more octets than UTF-8 bytes
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t cp = next_code_point(utf8, i);
    if (cp > 0xFF) return std::nullopt;  // includes bad_utf8
    out.push_back(static_cast<char>(static_cast<unsigned char>(cp)));
  }
  return out;
}

std::optional<std::string> to_ucs2be(std::string_view utf8) {
  const std::optional<std::size_t> units = ucs2_length(utf8);
  if (!units) return std::nullopt;
  std::string out;
  out.reserve(2 * *units);
  const auto put = [&out](char32_t u) {
    out.push_back(static_cast<char>(static_cast<unsigned char>(u >> 8)));
    out.push_back(static_cast<char>(static_cast<unsigned char>(u & 0xFF)));
  };
  for (std::size_t i = 0; i < utf8.size();) {
    const char32_t cp = next_code_point(utf8, i);
    if (cp > 0xFFFF) {
      put(0xD800 + ((cp - 0x10000) >> 10));
      put(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      put(cp);
    }
  }
  return out;
}

std::optional<std::string> decode_input(std::string_view octets, std::uint8_t data_coding,
                                        default_alphabet a) {
  switch (data_coding) {
    case 0x00:
    case 0xF0:  // GSM 03.38 coding group 1111 with bit 2 clear: default alphabet, classes 0-3
    case 0xF1:
    case 0xF2:
    case 0xF3:
      return a == default_alphabet::gsm0338 ? decode_gsm0338(octets) : decode_latin1(octets);
    case 0x01:
      return decode_ascii(octets);
    case 0x03:
      return decode_latin1(octets);
    case 0x08:
      return decode_ucs2be(octets);
    default:
      return std::nullopt;
  }
}

}  // namespace ussdpay::menus
