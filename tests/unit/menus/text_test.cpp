#include "menus/text.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using namespace ussdpay::menus;
using namespace std::string_literals;
using namespace std::string_view_literals;

namespace {

// The tables below are written out again from TS 23.038 as UTF-8 text, independently of the
// char16_t tables in text.cpp, so a wrong slot there shows up here as a mismatch.

// 6.2.1, the default alphabet by septet; "" at 0x1B (the escape, not a character).
// clang-format off
const std::vector<std::string> default_alphabet_utf8 = {
  "@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø", "ø", "\r", "Å", "å",
  "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", "",   "Æ", "æ", "ß", "É",
  " ", "!", "\"", "#", "¤", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
  "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
  "¡", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
  "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "Ä", "Ö", "Ñ", "Ü", "§",
  "¿", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
  "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "ä", "ö", "ñ", "ü", "à",
};
// clang-format on

// 6.2.1.1, the extension table: septet after 0x1B, character.
const std::vector<std::pair<std::uint8_t, std::string>> extension_utf8 = {
    {0x0A, "\f"}, {0x14, "^"}, {0x28, "{"}, {0x29, "}"}, {0x2F, "\\"},
    {0x3C, "["},  {0x3D, "~"}, {0x3E, "]"}, {0x40, "|"}, {0x65, "€"},
};

// A UTF-8 encoder written here, so tests do not trust the one under test.
std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// A reference validator by a different route: read the bit pattern generically, then reject a
// sequence that is truncated, overlong, a surrogate or beyond U+10FFFF.
bool reference_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((b & 0x80) == 0) {
      n = 1;
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      n = 2;
      cp = b & 0x1Fu;
    } else if ((b & 0xF0) == 0xE0) {
      n = 3;
      cp = b & 0x0Fu;
    } else if ((b & 0xF8) == 0xF0) {
      n = 4;
      cp = b & 0x07u;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const std::uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n]) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    if (cp > 0x10FFFF) return false;
    i += n;
  }
  return true;
}

std::string octets(std::initializer_list<int> bytes) {
  std::string s;
  for (const int b : bytes) s += static_cast<char>(b);
  return s;
}

constexpr auto gsm = default_alphabet::gsm0338;
constexpr auto latin1 = default_alphabet::latin1;

}  // namespace

TEST_CASE("every septet of the default alphabet maps both ways", "[text]") {
  REQUIRE(default_alphabet_utf8.size() == 128);
  for (std::size_t s = 0; s < 128; ++s) {
    if (s == 0x1B) continue;
    const std::string& ch = default_alphabet_utf8[s];
    const std::string septet(1, static_cast<char>(s));
    INFO("septet 0x" << std::hex << s << " '" << ch << "'");
    CHECK(gsm_length(ch) == 1u);
    CHECK(measure(ch).enc == encoding::gsm7);
    CHECK(measure(ch).length == 1u);
    CHECK(to_default_alphabet(ch, gsm) == septet);
    CHECK(decode_input(septet, 0, gsm) == ch);
  }
}

TEST_CASE("the septets people get wrong", "[text]") {
  CHECK(to_default_alphabet("@", gsm) == octets({0x00}));
  CHECK(to_default_alphabet("$", gsm) == octets({0x02}));
  CHECK(to_default_alphabet("_", gsm) == octets({0x11}));
  CHECK(to_default_alphabet("¤", gsm) == octets({0x24}));
  CHECK(to_default_alphabet("¡", gsm) == octets({0x40}));
  CHECK(to_default_alphabet("¿", gsm) == octets({0x60}));
  CHECK(to_default_alphabet("à", gsm) == octets({0x7F}));
  CHECK(to_default_alphabet("Ç", gsm) == octets({0x09}));
  // 0x24 and 0x40 read as ¤ and ¡, not as ASCII '$' and '@'.
  CHECK(decode_input(octets({0x24, 0x40}), 0, gsm) == "¤¡");
}

TEST_CASE("every extension character counts 2 septets and is escaped", "[text]") {
  for (const auto& [septet, ch] : extension_utf8) {
    INFO("extension 0x" << std::hex << int{septet} << " '" << ch << "'");
    const std::string encoded = octets({0x1B, septet});
    CHECK(gsm_length(ch) == 2u);
    CHECK(measure(ch).enc == encoding::gsm7);
    CHECK(measure(ch).length == 2u);
    CHECK(to_default_alphabet(ch, gsm) == encoded);
    CHECK(decode_input(encoded, 0, gsm) == ch);
  }
  CHECK(gsm_length("{[~]}|\\^€\f") == 20u);
  CHECK(gsm_length("a{b") == 4u);
}

TEST_CASE("no other code point of the BMP or beyond is GSM", "[text]") {
  std::set<std::string> expected;
  for (const auto& ch : default_alphabet_utf8) {
    if (!ch.empty()) expected.insert(ch);
  }
  for (const auto& e : extension_utf8) expected.insert(e.second);
  REQUIRE(expected.size() == 137);

  std::size_t found = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    if (cp > 0xFFFF && cp % 97 != 0) continue;  // a sample above the BMP (no GSM there)
    const std::string ch = utf8(cp);
    const bool is_gsm = gsm_length(ch).has_value();
    if (is_gsm != (expected.count(ch) == 1)) {
      FAIL_CHECK("U+" << std::hex << static_cast<std::uint32_t>(cp) << " gsm=" << is_gsm);
    }
    if (is_gsm) ++found;
  }
  CHECK(found == 137);
}

TEST_CASE("look-alikes and near misses are not GSM", "[text]") {
  for (const std::string& ch : std::vector<std::string>{"`",
                                                        "ç",
                                                        "á",
                                                        "Á",
                                                        "í",
                                                        "ó",
                                                        "ú",
                                                        "â",
                                                        "ê",
                                                        "Œ",
                                                        "α",
                                                        "Α",
                                                        "Β",
                                                        "\x7F",
                                                        "\t",
                                                        "\x01",
                                                        std::string(1, '\0'),
                                                        "\u00A0",
                                                        "©",
                                                        "«",
                                                        "−"}) {
    INFO("'" << ch << "'");
    CHECK_FALSE(gsm_length(ch).has_value());
    CHECK_FALSE(to_default_alphabet(ch, gsm).has_value());
    CHECK(measure(ch).enc == encoding::ucs2);
  }
  CHECK(measure("`").length == 1u);
  CHECK(measure("Pay `now`").enc == encoding::ucs2);
  CHECK(measure("Pay `now`").length == 9u);
}

TEST_CASE("measure picks GSM when it can and counts in that encoding", "[text]") {
  CHECK(measure("").enc == encoding::gsm7);
  CHECK(measure("").length == 0u);
  CHECK(measure("1. Pay LESCO bill").enc == encoding::gsm7);
  CHECK(measure("1. Pay LESCO bill").length == 17u);
  CHECK(measure("Total: €12 {PKR}").length == 19u);  // € { } 2 each
  CHECK(measure("Ünïcode").enc == encoding::ucs2);   // ï is not GSM
  CHECK(measure("Ünïcode").length == 7u);
  CHECK(measure("ΔΦΓΛΩΠΨΣΘΞ").enc == encoding::gsm7);
  CHECK(measure("ΔΦΓΛΩΠΨΣΘΞ").length == 10u);
}

TEST_CASE("182 characters, the USSD limit, measured at the boundary", "[text]") {
  const std::string full(182, 'a');
  CHECK(measure(full).enc == encoding::gsm7);
  CHECK(measure(full).length == 182u);
  CHECK(to_default_alphabet(full, gsm)->size() == 182u);

  // One extension character in 182 characters takes the text to 183 septets.
  const std::string with_euro = std::string(181, 'a') + "€";
  CHECK(measure(with_euro).enc == encoding::gsm7);
  CHECK(measure(with_euro).length == 183u);
  CHECK(to_default_alphabet(with_euro, gsm)->size() == 183u);
  CHECK(measure(std::string(180, 'a') + "€").length == 182u);

  // One non-GSM character turns all 182 into UCS-2 characters.
  const std::string with_urdu = std::string(181, 'a') + "ل";
  CHECK(measure(with_urdu).enc == encoding::ucs2);
  CHECK(measure(with_urdu).length == 182u);
  CHECK(to_ucs2be(with_urdu)->size() == 364u);
}

TEST_CASE("Urdu: لیسکو is 5 UCS-2 characters", "[text]") {
  const std::string lesco = "لیسکو";
  CHECK(valid_utf8(lesco));
  CHECK_FALSE(gsm_length(lesco).has_value());
  CHECK(ucs2_length(lesco) == 5u);
  CHECK(measure(lesco).enc == encoding::ucs2);
  CHECK(measure(lesco).length == 5u);
  // ل U+0644, ی U+06CC, س U+0633, ک U+06A9, و U+0648
  const std::string be = octets({0x06, 0x44, 0x06, 0xCC, 0x06, 0x33, 0x06, 0xA9, 0x06, 0x48});
  CHECK(to_ucs2be(lesco) == be);
  CHECK(decode_input(be, 8, gsm) == lesco);
  CHECK_FALSE(to_default_alphabet(lesco, gsm).has_value());
  CHECK_FALSE(to_default_alphabet(lesco, latin1).has_value());
}

TEST_CASE("Hindi: नमस्ते counts its combining marks", "[text]") {
  const std::string namaste = "नमस्ते";  // न म स ् त े
  CHECK(ucs2_length(namaste) == 6u);
  CHECK(measure(namaste).enc == encoding::ucs2);
  CHECK(measure(namaste).length == 6u);
  const std::string be =
      octets({0x09, 0x28, 0x09, 0x2E, 0x09, 0x38, 0x09, 0x4D, 0x09, 0x24, 0x09, 0x47});
  CHECK(to_ucs2be(namaste) == be);
  CHECK(decode_input(be, 8, latin1) == namaste);
}

TEST_CASE("an emoji outside the BMP is 2 UCS-2 characters and never GSM", "[text]") {
  const std::string grin = "😀";  // U+1F600
  CHECK(grin == utf8(0x1F600));
  CHECK(valid_utf8(grin));
  CHECK_FALSE(gsm_length(grin).has_value());
  CHECK(ucs2_length(grin) == 2u);
  CHECK(measure(grin).enc == encoding::ucs2);
  CHECK(measure(grin).length == 2u);
  CHECK(measure("Paid 😀").length == 7u);
  CHECK(to_ucs2be(grin) == octets({0xD8, 0x3D, 0xDE, 0x00}));
  CHECK(decode_input(octets({0xD8, 0x3D, 0xDE, 0x00}), 8, gsm) == grin);
  CHECK(to_ucs2be(utf8(0x10FFFF)) == octets({0xDB, 0xFF, 0xDF, 0xFF}));
  CHECK(to_ucs2be(utf8(0x10000)) == octets({0xD8, 0x00, 0xDC, 0x00}));
}

TEST_CASE("valid UTF-8 at the edges of each length", "[text]") {
  for (const char32_t cp : {0x00u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0xFFFFu,
                            0x10000u, 0x10FFFFu}) {
    INFO("U+" << std::hex << static_cast<std::uint32_t>(cp));
    CHECK(valid_utf8(utf8(cp)));
    CHECK(ucs2_length(utf8(cp)) == (cp > 0xFFFF ? 2u : 1u));
  }
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("a\0b"sv));
  CHECK(ucs2_length("a\0b"sv) == 3u);
}

TEST_CASE("malformed UTF-8 is rejected by every function", "[text]") {
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"lone continuation", octets({0x80})},
      {"continuation after ASCII", "a" + octets({0xBF})},
      {"overlong '/' in 2 bytes", octets({0xC0, 0xAF})},
      {"overlong U+007F in 2 bytes", octets({0xC1, 0xBF})},
      {"overlong '/' in 3 bytes", octets({0xE0, 0x80, 0xAF})},
      {"overlong U+07FF in 3 bytes", octets({0xE0, 0x9F, 0xBF})},
      {"overlong '/' in 4 bytes", octets({0xF0, 0x80, 0x80, 0xAF})},
      {"overlong U+FFFF in 4 bytes", octets({0xF0, 0x8F, 0xBF, 0xBF})},
      {"high surrogate U+D800", octets({0xED, 0xA0, 0x80})},
      {"low surrogate U+DFFF", octets({0xED, 0xBF, 0xBF})},
      {"CESU-8 surrogate pair", octets({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})},
      {"U+110000", octets({0xF4, 0x90, 0x80, 0x80})},
      {"lead F5", octets({0xF5, 0x80, 0x80, 0x80})},
      {"lead F8 (5 bytes)", octets({0xF8, 0x88, 0x80, 0x80, 0x80})},
      {"byte FE", octets({0xFE})},
      {"byte FF", octets({0xFF})},
      {"truncated 2-byte at end", "ab" + octets({0xC3})},
      {"truncated 3-byte at end", octets({0xE2, 0x82})},
      {"truncated 4-byte at end", octets({0xF0, 0x9F, 0x98})},
      {"lead followed by ASCII", octets({0xC3, 'A'})},
      {"3-byte lead, one trail, ASCII", octets({0xE2, 0x82, 'A'})},
      {"Latin-1 é as a raw byte", "caf" + octets({0xE9})},
      {"good text then bad", "لیسکو" + octets({0x80})},
  };
  for (const auto& [name, s] : cases) {
    INFO(name);
    CHECK_FALSE(valid_utf8(s));
    CHECK_FALSE(reference_valid_utf8(s));
    CHECK_FALSE(gsm_length(s).has_value());
    CHECK_FALSE(ucs2_length(s).has_value());
    CHECK(measure(s).enc == encoding::ucs2);
    CHECK(measure(s).length == std::numeric_limits<std::size_t>::max());
    CHECK_FALSE(to_default_alphabet(s, gsm).has_value());
    CHECK_FALSE(to_default_alphabet(s, latin1).has_value());
    CHECK_FALSE(to_ucs2be(s).has_value());
  }
}

TEST_CASE("valid_utf8 agrees with a reference on every string of up to 3 bytes", "[text]") {
  std::size_t disagreements = 0;
  std::string s;
  const auto check = [&] {
    if (valid_utf8(s) != reference_valid_utf8(s)) {
      if (++disagreements <= 5) FAIL_CHECK("disagree on " << s.size() << " bytes");
    }
  };
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    check();
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      check();
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        check();
      }
    }
  }
  // 4-byte strings: every first two bytes, with the last two varied over a few telling values.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (const int c : {0x00, 0x7F, 0x80, 0xBF, 0xC0}) {
        for (const int d : {0x41, 0x80, 0xBF, 0xC2}) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          check();
        }
      }
    }
  }
  CHECK(disagreements == 0);
}

TEST_CASE("every scalar value round-trips through UCS-2", "[text]") {
  std::size_t failures = 0;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string ch = utf8(cp);
    const auto be = to_ucs2be(ch);
    const bool ok = valid_utf8(ch) && be && be->size() == (cp > 0xFFFF ? 4u : 2u) &&
                    decode_input(*be, 8, gsm) == ch;
    if (!ok && ++failures <= 5) {
      FAIL_CHECK("U+" << std::hex << static_cast<std::uint32_t>(cp));
    }
  }
  CHECK(failures == 0);
}

TEST_CASE("round trips through the default alphabet", "[text]") {
  for (const std::string& text :
       std::vector<std::string>{"", "Dear customer, your bill is Rs. 1,250.", "@£$¥èéùìòÇ\nØø\rÅå",
                                "ΔΦΓΛΩΠΨΣΘΞ_ÆæßÉ ¤¡ÄÖÑÜ§¿äöñüà", "{json:[1,2]} ~ | \\ ^ €\f"}) {
    INFO(text);
    const auto encoded = to_default_alphabet(text, gsm);
    REQUIRE(encoded);
    CHECK(encoded->size() == gsm_length(text));
    CHECK(decode_input(*encoded, 0, gsm) == text);
    const auto be = to_ucs2be(text);
    REQUIRE(be);
    CHECK(decode_input(*be, 8, gsm) == text);
  }
}

TEST_CASE("Latin-1 as the default alphabet", "[text]") {
  CHECK(to_default_alphabet("café", latin1) == "caf" + octets({0xE9}));
  CHECK(to_default_alphabet("`", latin1) == "`");  // not GSM, but Latin-1
  CHECK(to_default_alphabet("ÿ", latin1) == octets({0xFF}));
  CHECK(to_default_alphabet("$@_", latin1) == "$@_");         // ASCII stays ASCII
  CHECK_FALSE(to_default_alphabet("€", latin1).has_value());  // U+20AC is not in ISO-8859-1
  CHECK_FALSE(to_default_alphabet("Δ", latin1).has_value());
  CHECK_FALSE(to_default_alphabet("Ā", latin1).has_value());  // U+0100, the first beyond
  CHECK_FALSE(to_default_alphabet("😀", latin1).has_value());

  // Every octet decodes (data_coding 0 as Latin-1, and 3) and encodes back to itself.
  for (int b = 0; b < 256; ++b) {
    const std::string o(1, static_cast<char>(b));
    INFO("octet " << b);
    const auto text = decode_input(o, 3, gsm);
    REQUIRE(text);
    CHECK(*text == utf8(static_cast<char32_t>(b)));
    CHECK(decode_input(o, 0, latin1) == text);
    CHECK(to_default_alphabet(*text, latin1) == o);
  }
}

TEST_CASE("GSM input: escapes, unknown extensions and malformed octets", "[text]") {
  // Each 0x1B xx: an extension character, 0x1B 0x1B a space, anything else the default
  // character of xx (TS 23.038 6.2.1.1: display the default-alphabet character).
  for (int x = 0; x < 128; ++x) {
    INFO("0x1B 0x" << std::hex << x);
    std::string expected = x == 0x1B ? " " : default_alphabet_utf8[static_cast<std::size_t>(x)];
    for (const auto& [septet, ch] : extension_utf8) {
      if (septet == x) expected = ch;
    }
    CHECK(decode_input(octets({0x1B, x}), 0, gsm) == expected);
  }
  CHECK(decode_input(octets({'A', 0x1B, 0x1B, 'B'}), 0, gsm) == "A B");
  CHECK(decode_input(octets({0x1B, 0x65, 0x31, 0x30}), 0, gsm) == "€10");

  CHECK_FALSE(decode_input(octets({0x1B}), 0, gsm).has_value());
  CHECK_FALSE(decode_input(octets({'1', 0x1B}), 0, gsm).has_value());
  CHECK_FALSE(decode_input(octets({0x80}), 0, gsm).has_value());
  CHECK_FALSE(decode_input(octets({'1', 0xFF}), 0, gsm).has_value());
  CHECK_FALSE(decode_input(octets({0x1B, 0xA8}), 0, gsm).has_value());  // 0x28 with bit 7 set
  CHECK(decode_input("", 0, gsm) == "");
  CHECK(decode_input("*123#", 0, gsm) == "*123#");
}

TEST_CASE("data_coding 0xF0-0xF3 read like 0, other codings are refused", "[text]") {
  const std::string o = octets({0x31, 0x00, 0x02, 0xE9});  // '1', '@', '$', then é in Latin-1
  for (const int code : {0xF0, 0xF1, 0xF2, 0xF3}) {
    const auto dc = static_cast<std::uint8_t>(code);
    INFO("data_coding " << int{dc});
    CHECK(decode_input(o, dc, latin1) == decode_input(o, 0, latin1));
    CHECK(decode_input(octets({0x31, 0x00, 0x02}), dc, gsm) == "1@$");
    CHECK_FALSE(decode_input(o, dc, gsm).has_value());  // 0xE9 is no septet
  }
  CHECK(decode_input(octets({0x31, 0x00, 0x02}), 0, latin1) == "1"s + '\0' + "\x02");

  for (const int dc : {0x02, 0x04, 0x05, 0x06, 0x07, 0x09, 0x0A, 0x0D, 0x0E, 0x10, 0x11, 0x18, 0xC0,
                       0xE0, 0xF4, 0xF7, 0xF8, 0xFF}) {
    INFO("data_coding " << dc);
    CHECK_FALSE(decode_input("123", static_cast<std::uint8_t>(dc), gsm).has_value());
    CHECK_FALSE(decode_input("123", static_cast<std::uint8_t>(dc), latin1).has_value());
  }
}

TEST_CASE("ASCII input (data_coding 1)", "[text]") {
  CHECK(decode_input("Pay 1250 `ok` {x}", 1, gsm) == "Pay 1250 `ok` {x}");
  CHECK(decode_input(octets({0x00, 0x7F}), 1, gsm) == octets({0x00, 0x7F}));
  CHECK_FALSE(decode_input(octets({'1', 0x80}), 1, gsm).has_value());
  CHECK_FALSE(decode_input(octets({0xC3, 0xA9}), 1, latin1).has_value());  // UTF-8 é is not ASCII
}

TEST_CASE("UCS-2 input (data_coding 8): odd lengths and unpaired surrogates", "[text]") {
  CHECK(decode_input("", 8, gsm) == "");
  CHECK(decode_input(octets({0x00, 0x31, 0x00, 0x32}), 8, gsm) == "12");
  CHECK(decode_input(octets({0xFF, 0xFF}), 8, gsm) == utf8(0xFFFF));
  CHECK(decode_input(octets({0x20, 0xAC}), 8, gsm) == "€");

  CHECK_FALSE(decode_input(octets({0x00}), 8, gsm).has_value());
  CHECK_FALSE(decode_input(octets({0x00, 0x31, 0x00}), 8, gsm).has_value());
  CHECK_FALSE(decode_input(octets({0xD8, 0x3D, 0xDE}), 8, gsm).has_value());
  CHECK_FALSE(decode_input(octets({0xD8, 0x3D}), 8, gsm).has_value());  // high at the end
  CHECK_FALSE(decode_input(octets({0xD8, 0x3D, 0x00, 0x41}), 8, gsm).has_value());  // high, 'A'
  CHECK_FALSE(decode_input(octets({0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00}), 8, gsm).has_value());
  CHECK_FALSE(decode_input(octets({0xDE, 0x00}), 8, gsm).has_value());              // low alone
  CHECK_FALSE(decode_input(octets({0xDE, 0x00, 0xD8, 0x3D}), 8, gsm).has_value());  // reversed
  CHECK_FALSE(decode_input(octets({0x00, 0x41, 0xDC, 0x00}), 8, gsm).has_value());
}
