// libFuzzer target for the demo billers' bill book (adapters/demo_biller.hpp): etc/demo/bills.csv
// or whatever file [demo] bills_file names, often exported from a spreadsheet.
//
// Input layout: byte 0 picks the limits (bit 0: the defaults, or tight ones that the fuzzer can
// reach: 4 KiB, 6 rows, 3 errors); the rest is the CSV text (the seed corpus holds the shipped
// book and broken ones: quotes, CRLF, a BOM, bad dates and amounts, duplicates). Invariants
// checked (abort on violation):
//   * parse_bill_book never crashes; it always gives a book, at most max_rows bills, and at most
//     max_errors + 1 errors, each "bills.csv:LINE: message" on a line that exists;
//   * every bill found by its plain biller and account fields is within bounds: account and name
//     sizes, amount_due <= amount_after_due, both >= 0, a 3-letter currency, paid_on exactly for
//     paid bills;
//   * parse_amount of any field gives a value >= 0 only for plain decimals.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/demo_biller.hpp"

namespace ad = ussdpay::adapters;

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "bills_csv_fuzz: %s\ntext (%zu bytes): %.*s\n", what, text.size(),
               static_cast<int>(text.size()), text.data());
  std::abort();
}

std::vector<std::string_view> plain_fields(std::string_view line) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto comma = line.find(',');
    out.push_back(line.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    line.remove_prefix(comma + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  ad::bill_book_limits limits;
  if ((data[0] & 1) != 0) {
    limits.max_bytes = 4096;
    limits.max_rows = 6;
    limits.max_errors = 3;
  }
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto r = ad::parse_bill_book(text, "bills.csv", limits);
  if (!r.book) fail("no book", text);
  if (r.book->size() > limits.max_rows) fail("more bills than max_rows", text);
  if (r.errors.size() > limits.max_errors + 1) fail("too many errors", text);
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const auto& e : r.errors) {
    std::string_view rest(e);
    if (!rest.starts_with("bills.csv:")) fail("an error without its source", text);
    rest.remove_prefix(10);
    std::size_t line = 0;
    const auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), line);
    if (ec != std::errc() || line < 1 || line > lines || std::string_view(p).size() < 3)
      fail("an error off the text", text);
  }

  std::string_view t = text;
  while (!t.empty()) {
    const auto nl = t.find('\n');
    std::string_view line = t.substr(0, nl);
    t.remove_prefix(nl == std::string_view::npos ? t.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto f = plain_fields(line);
    for (const auto field : f)
      if (const auto a = ad::parse_amount(field)) {
        if (*a < 0 || field.empty() || field.find_first_not_of("0123456789.") != field.npos)
          fail("parse_amount took more than a decimal", text);
      }
    if (f.size() < 2) continue;
    const auto* b = r.book->find(f[0], f[1]);
    if (b == nullptr) continue;
    const auto& d = b->due;
    if (d.account != f[1] || d.account.empty() || d.account.size() > 24)
      fail("account out of bounds", text);
    if (d.customer_name.empty() || d.customer_name.size() > 40) fail("name out of bounds", text);
    if (d.amount_due < 0 || d.amount_after_due < d.amount_due) fail("amounts out of order", text);
    if (d.currency.size() != 3) fail("currency", text);
    if (b->paid == d.paid_on.empty()) fail("paid_on without paid, or paid without it", text);
  }
  return 0;
}
