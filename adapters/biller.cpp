#include "adapters/biller.hpp"

#include <ctime>

#include <algorithm>
#include <chrono>

#include "menus/check_digit.hpp"

namespace ussdpay::adapters {

namespace {
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
int digits_value(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}
}  // namespace

bool valid_period(std::string_view s) {
  if (s.size() != 7 || s[4] != '-' || !all_digits(s.substr(0, 4)) || !all_digits(s.substr(5)))
    return false;
  const int month = digits_value(s.substr(5));
  return month >= 1 && month <= 12;
}

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s.substr(0, 4)) ||
      !all_digits(s.substr(5, 2)) || !all_digits(s.substr(8, 2)))
    return false;
  const std::chrono::year_month_day d{
      std::chrono::year{digits_value(s.substr(0, 4))},
      std::chrono::month{static_cast<unsigned>(digits_value(s.substr(5, 2)))},
      std::chrono::day{static_cast<unsigned>(digits_value(s.substr(8, 2)))}};
  return d.ok();
}

// An empty number is never valid, whatever min_length says. Without digits_only a number may
// also hold ASCII letters and '-' (some billers issue "LHR-123456"); a check digit needs digits.
minor_units amount_due_on(const bill& b, std::string_view date) {
  const bool late = !b.due_date.empty() && date > b.due_date && b.amount_after_due > 0;
  return late ? b.amount_after_due : b.amount_due;
}

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
