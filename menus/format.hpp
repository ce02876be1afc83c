// Money and dates as subscribers read them: integer minor units with the currency's symbol and
// thousands separators ("Rs4,520", "KSh1,250.50"), dates as DD/MM/YYYY. No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ussdpay::menus {

struct currency_info {
  std::string_view code;    ///< ISO 4217
  std::string_view symbol;  ///< GSM-safe ASCII, as shown on screens and in SMS
  std::uint8_t decimals;    ///< minor-unit digits
};

/// The currency's display facts; unknown codes get the code itself as symbol and 2 decimals.
currency_info currency(std::string_view code);

/// "Rs4,520" (no decimals when the minor part is zero), "Rs4,520.50", "-Rs100".
std::string format_money(std::int64_t minor, std::string_view currency_code);

/// A subscriber's amount ("4520", "4,520", "4520.5", "4520.50") in minor units. nullopt for
/// anything else: more decimals than the currency has, misplaced separators, signs, overflow.
std::optional<std::int64_t> parse_money(std::string_view text, std::string_view currency_code);

/// "2026-12-25" -> "25/12/2026"; anything not YYYY-MM-DD is returned unchanged.
std::string format_date(std::string_view iso);

}  // namespace ussdpay::menus
