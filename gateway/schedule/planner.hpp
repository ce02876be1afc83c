// Bill reminders and auto-pay, the decisions: given a watched saved account, what its biller
// just said about it and the local time, what to do now and when to look again. I/O-free and
// clock-free (the caller passes the moment), so every case is a unit test
// (tests/unit/schedule/planner_test.cpp); gateway/schedule/scheduler.hpp carries it out.
//
//   a bill due on D, lead = autopay_days (auto-pay on) or remind_days (reminders only):
//     today <  D - lead          nothing; look again at D - lead, hours.from (or check_every)
//     D - lead <= today <= D      within sending hours: remind or auto-pay (once per bill: the
//                                 store's claim); outside: look again when they open
//     today >  D                  nothing (overdue: the subscriber pays from the menu)
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/common/clock.hpp"
#include "store/accounts.hpp"

namespace ussdpay::schedule {

/// [schedule]: reminders and auto-pay for saved accounts.
struct schedule_config {
  /// Off: no bill checks, reminders or auto-payments (the menu switches still record choices).
  bool enabled = true;
  /// How often the store is looked at for accounts whose check is due.
  std::chrono::milliseconds interval{60'000};
  /// How often the biller is asked about each watched account (a new bill, a due date).
  std::chrono::milliseconds check_every{6 * 3'600'000};
  /// After the biller did not answer a check, ask again this much later.
  std::chrono::milliseconds retry_after{15 * 60'000};
  /// A check's inquiry counts as unanswered after this long.
  std::chrono::milliseconds inquiry_timeout{20'000};
  /// Accounts read per look, and biller inquiries in flight at once.
  std::uint32_t batch = 200;
  std::uint32_t concurrency = 4;
  /// Local sending hours ("HH:MM-HH:MM", the daemon's time zone): reminders and auto-payments
  /// (whose receipts follow at once) happen only within them.
  std::string hours = "09:00-20:00";
  /// Days before the due date: the reminder, and the auto-payment.
  std::uint32_t remind_days = 3;
  std::uint32_t autopay_days = 2;
  /// The dial string that opens Saved accounts, quoted in the SMS ("*123*2#" on the shipped
  /// menus: main menu option 2).
  std::string shortcut = "*123*2#";
};

/// Sending hours as minutes of the day, [from, to).
struct sending_hours {
  int from = 9 * 60, to = 20 * 60;
};
/// "HH:MM-HH:MM" with from < to (to may be 24:00). nullopt for anything else.
std::optional<sending_hours> parse_hours(std::string_view text);

/// The calendar (gateway/common/clock.hpp).
using clock::day_number;
using clock::local_at;
using clock::local_moment;

/// What a check learned from the biller.
struct bill_seen {
  enum class kind_t : std::uint8_t {
    unpaid,       ///< a bill with something due
    none,         ///< no bill due (paid, no such account, nothing owed)
    unavailable,  ///< no answer
  } kind = kind_t::none;
  std::string due_date;     ///< YYYY-MM-DD (unpaid)
  std::int64_t amount = 0;  ///< minor units due by the due date (unpaid)
  std::string bill_reference;
};

enum class action : std::uint8_t { none, remind, autopay };

struct plan {
  action what = action::none;
  std::int64_t next_check_at = 0;  ///< Unix ms
};

/// The decision for one account. `hours` from parse_hours(cfg.hours).
plan decide(const schedule_config& cfg, const sending_hours& hours,
            const store::watched_account& account, const bill_seen& bill, const local_moment& now);

}  // namespace ussdpay::schedule
