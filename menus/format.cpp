#include "menus/format.hpp"

#include <array>
#include <limits>

namespace ussdpay::menus {

currency_info currency(std::string_view code) {
  static constexpr std::array<currency_info, 8> known{{
      {"PKR", "Rs", 2},
      {"INR", "Rs", 2},
      {"KES", "KSh", 2},
      {"TZS", "TSh", 2},
      {"UGX", "USh", 0},
      {"NGN", "NGN", 2},
      {"USD", "USD", 2},
      {"EUR", "EUR", 2},
  }};
  for (const auto& c : known)
    if (c.code == code) return c;
  return {code, code, 2};
}

namespace {

void append_grouped(std::string& out, std::uint64_t whole) {
  const std::string digits = std::to_string(whole);
  const std::size_t n = digits.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && (n - i) % 3 == 0) out += ',';
    out += digits[i];
  }
}

std::uint64_t pow10(std::uint8_t d) {
  std::uint64_t p = 1;
  while (d-- > 0) p *= 10;
  return p;
}

}  // namespace

std::string format_money(std::int64_t minor, std::string_view currency_code) {
  const auto c = currency(currency_code);
  std::string out;
  // Magnitude without overflow for INT64_MIN.
  const std::uint64_t mag =
      minor < 0 ? static_cast<std::uint64_t>(-(minor + 1)) + 1 : static_cast<std::uint64_t>(minor);
  if (minor < 0) out += '-';
  out += c.symbol;
  const std::uint64_t unit = pow10(c.decimals);
  append_grouped(out, mag / unit);
  if (const std::uint64_t frac = mag % unit; frac != 0) {
    std::string f = std::to_string(frac);
    out += '.';
    out.append(c.decimals - f.size(), '0');
    out += f;
  }
  return out;
}

std::optional<std::int64_t> parse_money(std::string_view text, std::string_view currency_code) {
  const auto c = currency(currency_code);
  if (text.empty() || text.size() > 24) return std::nullopt;
  std::uint64_t whole = 0, frac = 0;
  std::size_t whole_digits = 0, frac_digits = 0, group = 0;
  bool seen_comma = false, in_frac = false;
  for (const char ch : text) {
    if (ch >= '0' && ch <= '9') {
      const auto d = static_cast<std::uint64_t>(ch - '0');
      if (in_frac) {
        if (++frac_digits > c.decimals) return std::nullopt;
        frac = frac * 10 + d;
      } else {
        if (++whole_digits > 13) return std::nullopt;
        whole = whole * 10 + d;
        ++group;
      }
    } else if (ch == ',' && !in_frac) {
      // Thousands separators only in the right places: "4,520", never "45,20" or ",520".
      if (whole_digits == 0 || (seen_comma ? group != 3 : group > 3)) return std::nullopt;
      seen_comma = true;
      group = 0;
    } else if (ch == '.' && !in_frac && c.decimals > 0) {
      if (whole_digits == 0) return std::nullopt;
      in_frac = true;
    } else {
      return std::nullopt;
    }
  }
  if (whole_digits == 0 || (seen_comma && group != 3)) return std::nullopt;
  if (in_frac && frac_digits == 0) return std::nullopt;
  frac *= pow10(static_cast<std::uint8_t>(c.decimals - frac_digits));
  const std::uint64_t unit = pow10(c.decimals);
  if (whole > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - frac) / unit)
    return std::nullopt;
  return static_cast<std::int64_t>(whole * unit + frac);
}

std::string format_date(std::string_view iso) {
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i)
      if (iso[i] < '0' || iso[i] > '9') return false;
    return true;
  };
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-' || !digits(0, 4) || !digits(5, 2) ||
      !digits(8, 2))
    return std::string(iso);
  std::string out;
  out.reserve(10);
  out.append(iso.substr(8, 2))
      .append("/")
      .append(iso.substr(5, 2))
      .append("/")
      .append(iso.substr(0, 4));
  return out;
}

}  // namespace ussdpay::menus
