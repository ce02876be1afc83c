// `ussdpay reconcile`: the I/O around reconcile.hpp. Reads the biller's statement (bounded),
// the biller's payments of the local day (TZ) from the store in one read transaction, and writes
// reconcile-<biller>-<date>.csv and settlement-<biller>-<date>.csv (each to a temporary file,
// then renamed), then prints the summary. docs/reconcile.md is the operator's side.
#pragma once

#include <iosfwd>
#include <string>

namespace ussdpay {
struct config;
}

namespace ussdpay::reconcile {

struct command_options {
  std::string biller;     ///< a configured biller id
  std::string date;       ///< YYYY-MM-DD, a local day (the daemon's time zone, TZ)
  std::string statement;  ///< the biller's statement, CSV (docs/reconcile.md)
  std::string out_dir = ".";
};

/// Exit codes of `ussdpay reconcile`.
inline constexpr int exit_matched = 0;      ///< every item matches
inline constexpr int exit_differences = 1;  ///< the report lists something that needs a person
inline constexpr int exit_bad_input = 2;    ///< bad arguments, or a bad statement (file:line)
inline constexpr int exit_failed = 3;       ///< the store could not be read or a report written

int run_command(const config& cfg, const command_options& o, std::ostream& out, std::ostream& err);

}  // namespace ussdpay::reconcile
