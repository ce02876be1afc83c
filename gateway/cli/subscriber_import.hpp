// What `ussdpay subscriber add` and `ussdpay subscriber import` read from an operator, checked
// before anything touches the store: import lines (msisdn,pin,balance,language after a header
// row) and the subscriber each describes. No I/O; PINs pass through but are never copied here
// (the caller wipes them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ussdpay {

/// The first line of an import file.
inline constexpr std::string_view subscriber_header = "msisdn,pin,balance,language";

/// A subscriber as given: the fields as typed.
struct new_subscriber {
  std::string msisdn, pin, balance, language;
};

/// One data line of an import file (without its line end) into `out`: false unless it is at
/// most 200 octets of exactly 4 comma-separated fields.
bool split_subscriber_line(std::string_view line, new_subscriber& out);

/// What check_subscriber found: the MSISDN in E.164 digits and the balance in minor units, or
/// why the subscriber is refused.
struct subscriber_check {
  std::string msisdn;
  std::int64_t balance = 0;
  std::string why = {};  ///< "" when the subscriber may be saved
};

/// An MSISDN with its country code, a 4-digit PIN that is not easy to guess, an amount in
/// `currency`, and a language of en, ur, hi, sw (or "" for the default).
subscriber_check check_subscriber(const new_subscriber& n, std::string_view currency);

}  // namespace ussdpay
