// Text on the subscriber's screen: GSM 03.38 (7-bit default alphabet plus its extension table)
// and UCS-2, with the lengths the USSD and SMS limits are counted in. Menu texts are UTF-8 in
// memory; they are converted to the operator's octets only when a screen is sent.
//
// No I/O. Every function accepts any bytes (untrusted input) and reports malformed text as
// nullopt instead of guessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ussdpay::menus {

enum class encoding : std::uint8_t { gsm7, ucs2 };

/// True when `utf8` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view utf8);

/// Length in septets when every character is in the GSM 03.38 default alphabet or its
/// extension table (extension characters such as `{`, `}`, `[`, `]`, `~`, `\`, `|`, `^` and the
/// euro sign count 2). nullopt when any character is outside both, or the UTF-8 is malformed.
std::optional<std::size_t> gsm_length(std::string_view utf8);

/// Length in UCS-2 characters (UTF-16 code units; a character outside the BMP counts 2).
/// nullopt when the UTF-8 is malformed.
std::optional<std::size_t> ucs2_length(std::string_view utf8);

/// How a text goes on the air: GSM 7-bit when it can, UCS-2 otherwise, and its length in that
/// encoding. Malformed UTF-8 measures as UCS-2 with length SIZE_MAX so every limit rejects it.
struct measure_result {
  encoding enc = encoding::gsm7;
  std::size_t length = 0;
};
measure_result measure(std::string_view utf8);

/// What data_coding 0 ("SMSC default alphabet") means on the operator's link.
enum class default_alphabet : std::uint8_t {
  gsm0338,  ///< unpacked GSM 03.38, one septet per octet, 0x1B before extension characters
  latin1,   ///< ISO-8859-1 (many SMSCs read data_coding 0 this way)
};

/// Octets for short_message with data_coding 0 in the given alphabet. nullopt when a
/// character cannot be represented.
std::optional<std::string> to_default_alphabet(std::string_view utf8, default_alphabet a);

/// UCS-2 big-endian octets (data_coding 8). Characters outside the BMP are written as UTF-16
/// surrogate pairs. nullopt when the UTF-8 is malformed.
std::optional<std::string> to_ucs2be(std::string_view utf8);

/// Subscriber input (short_message) to UTF-8 by data_coding: 0 per `a`, 1 (IA5/ASCII),
/// 3 (Latin-1), 8 (UCS-2 BE; odd length or unpaired surrogates are malformed), 0xF0-0xF3
/// treated like 0. nullopt for malformed octets or a data_coding we do not read.
std::optional<std::string> decode_input(std::string_view octets, std::uint8_t data_coding,
                                        default_alphabet a);

}  // namespace ussdpay::menus
