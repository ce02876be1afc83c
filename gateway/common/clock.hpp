// One clock and one calendar for the whole daemon. Time is Unix milliseconds from the system
// clock (every row in the store, every timestamp in the admin API); calendar days are read in the
// deployment's local time zone (TZ): bill due dates and lateness, reminders and auto-pay, daily
// and monthly limits, the payment history. docs/payments.md ("One calendar") says why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ussdpay::clock {

/// Now, in Unix milliseconds (the system clock).
std::int64_t now_ms();

/// `unix_ms` as YYYY-MM-DD in the local time zone.
std::string local_date(std::int64_t unix_ms);
/// `unix_ms` as "YYYY-MM-DD HH:MM:SS" in the local time zone (the operator's CLI).
std::string local_date_time(std::int64_t unix_ms);
/// `unix_ms` as HH:MM (24 hours) in the local time zone.
std::string local_time_of_day(std::int64_t unix_ms);
/// Today, YYYY-MM-DD, in the local time zone.
std::string local_today();

/// Local midnight of the day that holds `unix_ms`, as Unix ms (a DST day is 23 or 25 hours).
std::int64_t local_day_start_ms(std::int64_t unix_ms);
/// Local midnight on the first of the month that holds `unix_ms`, as Unix ms.
std::int64_t local_month_start_ms(std::int64_t unix_ms);

/// Days since 1970-01-01 of a "YYYY-MM-DD" that names a real day; nullopt otherwise.
std::optional<std::int32_t> day_number(std::string_view date);
/// Local midnight starting day `day` (days since 1970-01-01), Unix ms; nullopt when the C
/// library cannot say. A day that starts with a DST jump starts when the clocks allow.
std::optional<std::int64_t> local_midnight_ms(std::int32_t day);

/// One moment on the local calendar: Unix ms, the local day (days since 1970-01-01) and the
/// minute of that day.
struct local_moment {
  std::int64_t unix_ms = 0;
  std::int32_t day = 0;
  std::int32_t minute = 0;  ///< 0..1439
};
local_moment local_at(std::int64_t unix_ms);

}  // namespace ussdpay::clock
