#include "gateway/cli/subscriber_import.hpp"

#include "adapters/pin.hpp"
#include "menus/format.hpp"
#include "store/subscribers.hpp"

namespace ussdpay {

bool split_subscriber_line(std::string_view line, new_subscriber& out) {
  if (line.size() > 200) return false;
  std::string* fields[] = {&out.msisdn, &out.pin, &out.balance, &out.language};
  std::size_t n = 0, pos = 0;
  for (;;) {
    const auto comma = line.find(',', pos);
    if (n == 4) return false;  // a fifth field
    fields[n++]->assign(
        line.substr(pos, comma == std::string_view::npos ? line.npos : comma - pos));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return n == 4;
}

subscriber_check check_subscriber(const new_subscriber& n, std::string_view currency) {
  subscriber_check out;
  const auto msisdn = store::normalise_msisdn(n.msisdn);
  if (!msisdn)
    out.why = "msisdn must be 8..15 digits with the country code, e.g. +923001234567";
  else if (!adapters::pin_format_ok(n.pin))
    out.why = "pin must be 4 digits";
  else if (adapters::weak_pin(n.pin))
    out.why = "pin is too easy to guess (like 1234 or 0000)";
  const auto amount = menus::parse_money(n.balance, currency);
  if (out.why.empty() && !amount) out.why = "balance must be an amount such as 2500 or 2,500.50";
  if (out.why.empty() && !n.language.empty() && n.language != "en" && n.language != "ur" &&
      n.language != "hi" && n.language != "sw")
    out.why = "language must be en, ur, hi or sw";
  if (out.why.empty()) {
    out.msisdn = *msisdn;
    out.balance = *amount;
  }
  return out;
}

}  // namespace ussdpay
