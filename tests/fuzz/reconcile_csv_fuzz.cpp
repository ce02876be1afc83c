// libFuzzer target for biller statements (gateway/reconcile/reconcile.hpp): the CSV a biller
// sends for `ussdpay reconcile`, read as untrusted input.
//
// Input layout: byte 0 picks the limits (bit 0: the defaults, or tight ones that the fuzzer can
// reach: 64-byte records, 8 rows, 6 columns, 3 errors); the rest is the statement text (the seed
// corpus holds good statements with quotes, CRLF and a BOM, and broken ones).
// Invariants checked (abort on violation):
//   * parse_statement never crashes; it gives rows or errors, never both, and at most
//     max_errors + 1 errors, each on a line that exists;
//   * every row is within its bounds (id 1-64 safe characters, amount 1..max_amount, a
//     3-letter currency, at most max_rows rows, lines in increasing order), and its amount
//     survives format_amount -> parse_amount;
//   * matching the rows against a few payments puts every row in exactly one item, and the
//     report's CSV has one record per item.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/reconcile/reconcile.hpp"

namespace rec = ussdpay::reconcile;

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "reconcile_csv_fuzz: %s\ntext (%zu bytes): %.*s\n", what, text.size(),
               static_cast<int>(text.size()), text.data());
  std::abort();
}

std::vector<ussdpay::store::payment_record> our_payments() {
  using ussdpay::store::payment_state;
  std::vector<ussdpay::store::payment_record> out;
  const payment_state states[] = {payment_state::committed, payment_state::completed,
                                  payment_state::unknown, payment_state::failed,
                                  payment_state::reversed};
  const char* refs[] = {"K7Q2M9XPLA", "K7Q2M9XPLB", "K7Q2M9XPLC", "K7Q2M9XPLD", "K7Q2M9XPLE"};
  for (std::size_t i = 0; i < std::size(refs); ++i) {
    ussdpay::store::payment_record p;
    p.ref = refs[i];
    p.biller = "lesco";
    p.account = "04123456789012";
    p.amount = 452'000;
    p.fee = 1'000;
    p.state = states[i];
    out.push_back(p);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  rec::statement_limits limits;
  if ((data[0] & 1) != 0) {
    limits.max_record = 64;
    limits.max_rows = 8;
    limits.max_columns = 6;
    limits.max_errors = 3;
  }
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto st = rec::parse_statement(text, limits);

  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  if (!st.errors.empty()) {
    if (!st.rows.empty()) fail("rows with errors", text);
    if (st.errors.size() > limits.max_errors + 1) fail("too many errors", text);
    for (const auto& e : st.errors)
      if (e.line < 1 || e.line > lines || e.message.empty()) fail("an error off the text", text);
    return 0;
  }
  if (st.rows.size() > limits.max_rows) fail("more rows than allowed", text);
  std::size_t last = 1;
  for (const auto& r : st.rows) {
    if (r.line <= last || r.line > lines) fail("row lines out of order", text);
    last = r.line;
    if (r.payment_id.empty() || r.payment_id.size() > 64) fail("payment id size", text);
    if (r.amount < 1 || r.amount > rec::max_amount) fail("amount out of bounds", text);
    if (r.currency.size() != 3) fail("currency", text);
    if (r.biller_reference.size() > 64 || r.account.size() > 64 || r.paid_at.size() > 32)
      fail("field size", text);
    if (rec::parse_amount(rec::format_amount(r.amount, r.currency), r.currency) != r.amount)
      fail("amount does not survive formatting", text);
  }

  const auto ours = our_payments();
  const auto report = rec::match(ours, st.rows);
  std::size_t with_line = 0, differences = 0;
  for (const auto& i : report.items) {
    if (i.line != 0) ++with_line;
    if (rec::is_difference(i.what)) ++differences;
  }
  if (with_line != st.rows.size()) fail("a row not in exactly one item", text);
  if (differences != report.differences) fail("differences miscounted", text);
  // The report's CSV reads back as records: one per item plus the header (notes and fields may
  // hold quotes and commas from the statement).
  const auto csv = rec::report_csv(report);
  std::size_t records = 0;
  bool quoted = false;
  for (const char c : csv) {
    if (c == '"') quoted = !quoted;
    if (c == '\n' && !quoted) ++records;
  }
  if (quoted || records != report.items.size() + 1) fail("report CSV records", text);
  return 0;
}
