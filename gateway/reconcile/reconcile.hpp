// Reconciliation with a biller's daily statement, the decisions: read the statement (a CSV file
// from outside: untrusted), match it with our payments of that biller and local day, and sum the
// day's settlement. No I/O and no clock: gateway/cli/reconcile.hpp reads the file and the
// store and writes the reports; docs/reconcile.md is the operator's side.
//
//   statement text ──parse_statement──> rows, or errors with line numbers (nothing half-read)
//   our payments of the day + rows ──match──> one item per payment and per statement row,
//                                             and the settlement per currency
//
// The key is the payment id we post to the biller (our 10-character reference: `paymentId` and
// `Idempotency-Key` in docs/biller-api.md); the biller's own receipt number is compared too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/payments.hpp"

namespace ussdpay::reconcile {

/// Money in integer minor units of its currency (paisa, cents). Never floating point.
using minor_units = std::int64_t;

/// The largest amount a statement row may carry (the biller API's bound), minor units.
inline constexpr minor_units max_amount = 1'000'000'000'000'000;

/// Bounds on a statement: it comes from outside.
struct statement_limits {
  std::size_t max_bytes = 64u << 20;  ///< the whole file
  std::size_t max_record = 4096;      ///< one record (a line, or lines inside quotes), in bytes
  std::size_t max_rows = 500'000;     ///< data rows, the header not counted
  std::size_t max_columns = 32;
  std::size_t max_errors = 20;  ///< reading stops after this many errors
};

/// What the biller says became of a payment.
enum class their_status : std::uint8_t { paid, reversed };
std::string_view to_string(their_status s);

/// One data row of a statement.
struct statement_row {
  std::size_t line = 0;          ///< the line the record starts on (the header is line 1 or later)
  std::string payment_id;        ///< what we posted as paymentId: 1-64 of A-Z a-z 0-9 . _ -
  std::string biller_reference;  ///< their receipt number; "" when not given
  std::string account;           ///< consumer number; "" when not given
  minor_units amount = 0;        ///< 1 .. max_amount
  std::string currency;          ///< ISO 4217, 3 capital letters
  std::string paid_at;           ///< as written (informative); "" when not given
  their_status status = their_status::paid;
};

struct statement_error {
  std::size_t line = 0;
  std::string message;
};

/// A statement read: all its rows, or (when anything is wrong) no rows and the errors, at most
/// max_errors + 1 of them.
struct statement {
  std::vector<statement_row> rows;
  std::vector<statement_error> errors;
};

/// Reads a statement: an optional UTF-8 BOM, a header row naming the columns (any order,
/// case-insensitive; payment_id, amount and currency required; biller_reference, account,
/// paid_at and status optional; other columns ignored), then one payment per record. RFC 4180:
/// fields separated by commas, records by LF or CRLF, fields in double quotes may hold commas,
/// line breaks and doubled quotes. Blank lines are skipped.
statement parse_statement(std::string_view text, const statement_limits& limits = {});

/// "4520", "4520.5", "4520.50" in `currency`'s minor units (4520.50 PKR = 452050): digits, at
/// most one '.', at most as many decimals as the currency has, no sign, no separators, no
/// spaces, 1 .. max_amount. nullopt for anything else.
std::optional<minor_units> parse_amount(std::string_view text, std::string_view currency);
/// The other way round, always with the currency's decimals: 452050 PKR -> "4520.50".
std::string format_amount(minor_units v, std::string_view currency);

/// What one item of the report is. The order is the report's.
enum class category : std::uint8_t {
  amount_mismatch,  ///< paid on both sides, amount or currency differ
  detail_mismatch,  ///< paid on both sides, same money, consumer number or receipt number differ
  ours_not_theirs,  ///< paid here, not paid in the statement (absent, or reversed there)
  theirs_not_ours,  ///< paid in the statement, not paid here this day (absent, FAILED, REVERSED)
  duplicate,        ///< the same payment id again in the statement
  pending,          ///< open here (CREATED, UNKNOWN, MANUAL_REVIEW): not settleable, never matched
  matched,          ///< paid on both sides, same amount, currency and (when both give them) numbers
  reversed,  ///< not paid on either side in the end (REVERSED or FAILED here, reversed there)
};
inline constexpr std::size_t category_count = 8;
std::string_view to_string(category c);
/// Everything but matched and reversed needs a person.
bool is_difference(category c);

/// One line of the report: a payment of ours, a statement row, or both.
struct item {
  category what = category::matched;
  std::string payment_id;
  std::string biller_reference;  ///< the statement's when it has one, else ours
  std::string account;
  std::optional<minor_units> our_amount, their_amount;
  std::string our_currency, their_currency;
  std::string our_state;     ///< "" when we have no payment of that day with this id
  std::string their_status;  ///< "" when the statement has no row for it
  std::size_t line = 0;      ///< the statement row's line, 0 when none
  std::string note;
};

/// The settlement of one currency: what the day's payments owe the biller, and what does not.
struct settlement_line {
  std::string currency;
  std::int64_t count = 0;          ///< COMMITTED and COMPLETED payments
  minor_units amount = 0;          ///< their amounts: owed to the biller
  minor_units fees = 0;            ///< our fees on them
  std::int64_t pending_count = 0;  ///< CREATED, UNKNOWN, MANUAL_REVIEW: not settleable yet
  minor_units pending_amount = 0;
  std::int64_t reversed_count = 0;  ///< REVERSED: refunded, not owed
  minor_units reversed_amount = 0;
  std::int64_t failed_count = 0;  ///< FAILED: nothing taken
};

/// One of our payments whose reference a statement row carries but which is not among the
/// day's payments of this biller (another day, another biller), with the local day it was made.
struct payment_elsewhere {
  store::payment_record payment;
  std::string local_day;  ///< YYYY-MM-DD
};

struct report {
  std::vector<item> items;                  ///< by category, then payment id, then line
  std::vector<settlement_line> settlement;  ///< by currency
  std::array<std::size_t, category_count> counts{};
  std::size_t differences = 0;  ///< items that need a person
  std::size_t payments = 0, rows = 0;
};

/// Matches `ours` (the biller's payments made on the day) with the statement's rows. Every row
/// ends up in exactly one item, and so does every payment of ours except a FAILED one that the
/// statement does not mention (it is only counted). `elsewhere` explains rows whose id is ours
/// but of another day or biller.
report match(std::span<const store::payment_record> ours, std::span<const statement_row> rows,
             std::span<const payment_elsewhere> elsewhere = {});

/// The report as CSV (a header, then one line per item), quoted per RFC 4180; a field that a
/// spreadsheet would take for a formula (= + - @ first) gets a leading apostrophe.
std::string report_csv(const report& r);
/// The settlement as CSV: one line per currency.
std::string settlement_csv(const report& r, std::string_view biller, std::string_view date);
/// What the operator reads on the terminal.
std::string summary(const report& r, std::string_view biller, std::string_view date);
/// One CSV field, quoted when needed and guarded against formulas.
std::string csv_field(std::string_view text);

}  // namespace ussdpay::reconcile
