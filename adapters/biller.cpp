#include "adapters/biller.hpp"

#include <algorithm>

#include "menus/check_digit.hpp"

namespace ussdpay::adapters {

namespace {
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
}  // namespace

// An empty number is never valid, whatever min_length says. Without digits_only a number may
// also hold ASCII letters and '-' (some billers issue "LHR-123456"); a check digit needs digits.
bool valid_account(const account_rule& rule, std::string_view account) {
  if (account.empty() || account.size() < rule.min_length || account.size() > rule.max_length)
    return false;
  const auto allowed = [&](char c) {
    return is_digit(c) || (!rule.digits_only && (is_alpha(c) || c == '-'));
  };
  if (!std::all_of(account.begin(), account.end(), allowed)) return false;
  switch (rule.check) {
    case check_digit::none:
      return true;
    case check_digit::luhn:
      return menus::luhn_ok(account);
    case check_digit::mod11:
      return menus::mod11_ok(account);
  }
  return false;
}

}  // namespace ussdpay::adapters
