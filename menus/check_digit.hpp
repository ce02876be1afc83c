// Check digits that consumer numbers carry. Pure functions; digits only.
#pragma once

#include <string_view>

namespace ussdpay::menus {

/// Luhn (mod 10) over the whole number, last digit being the check digit.
inline bool luhn_ok(std::string_view digits) {
  if (digits.size() < 2) return false;
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it < '0' || *it > '9') return false;
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

/// Mod 11 with weights 2,3,4,5,6,7 repeating from the right over the body; the check digit is
/// (11 - sum % 11) % 11, where 10 is not allowed (such numbers are never issued).
inline bool mod11_ok(std::string_view digits) {
  if (digits.size() < 2) return false;
  int sum = 0, weight = 2;
  for (std::size_t i = digits.size() - 1; i-- > 0;) {
    const char c = digits[i];
    if (c < '0' || c > '9') return false;
    sum += (c - '0') * weight;
    weight = weight == 7 ? 2 : weight + 1;
  }
  const char last = digits.back();
  if (last < '0' || last > '9') return false;
  const int check = (11 - sum % 11) % 11;
  return check != 10 && check == last - '0';
}

}  // namespace ussdpay::menus
