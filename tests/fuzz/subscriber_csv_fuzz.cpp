// libFuzzer target for `ussdpay subscriber import` files (gateway/cli/subscriber_import.hpp): CSV
// an operator exports from elsewhere, read line by line as the CLI does (a header row, CRLF or LF,
// blank lines skipped) and every row checked.
//
// Input layout: byte 0 picks the wallet's currency (PKR, UGX without decimals, KES, an unknown
// code); the rest is the file. Invariants checked (abort on violation):
//   * split_subscriber_line takes exactly the lines of at most 200 octets with 4 fields, and
//     the fields joined with commas give the line back;
//   * check_subscriber accepts only an E.164 MSISDN of 8..15 digits (which normalises to
//     itself), a 4-digit PIN that is not easy to guess, a balance >= 0 that reads back the
//     same, and a known language or none; a refusal says why.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/pin.hpp"
#include "gateway/cli/subscriber_import.hpp"
#include "menus/format.hpp"
#include "store/subscribers.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::string_view line) {
  std::fprintf(stderr, "subscriber_csv_fuzz: %s\nline (%zu bytes): %.*s\n", what, line.size(),
               static_cast<int>(line.size()), line.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const char* currencies[] = {"PKR", "UGX", "KES", "QQQ"};
  const std::string_view currency = currencies[data[0] % 4];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  for (std::size_t lineno = 1; !text.empty(); ++lineno) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (lineno == 1) {
      if (line != ussdpay::subscriber_header) return 0;  // the CLI refuses the whole file
      continue;
    }
    if (line.empty()) continue;

    ussdpay::new_subscriber n;
    const bool split = ussdpay::split_subscriber_line(line, n);
    const auto commas = static_cast<std::size_t>(std::count(line.begin(), line.end(), ','));
    if (split != (line.size() <= 200 && commas == 3)) fail("split takes the wrong lines", line);
    if (!split) continue;
    if (n.msisdn + ',' + n.pin + ',' + n.balance + ',' + n.language != line)
      fail("the fields do not give the line back", line);

    const auto c = ussdpay::check_subscriber(n, currency);
    if (!c.why.empty()) continue;
    if (c.msisdn.size() < 8 || c.msisdn.size() > 15 ||
        !std::all_of(c.msisdn.begin(), c.msisdn.end(), [](char d) { return d >= '0' && d <= '9'; }))
      fail("an MSISDN that is not 8..15 digits", line);
    if (ussdpay::store::normalise_msisdn(c.msisdn) != c.msisdn)
      fail("the MSISDN does not normalise to itself", line);
    if (!ussdpay::adapters::pin_format_ok(n.pin) || ussdpay::adapters::weak_pin(n.pin))
      fail("a PIN that should be refused", line);
    if (c.balance < 0 || ussdpay::menus::parse_money(n.balance, currency) != c.balance)
      fail("a balance that does not read back", line);
    if (!n.language.empty() && n.language != "en" && n.language != "ur" && n.language != "hi" &&
        n.language != "sw")
      fail("an unknown language", line);
  }
  return 0;
}
