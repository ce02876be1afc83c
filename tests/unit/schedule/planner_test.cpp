// The bill scheduler's decisions (gateway/schedule/planner.hpp), without a clock or a store:
// sending hours and calendar dates parse strictly; decide() reminds or auto-pays only from the
// lead day (remind_days, or autopay_days for an auto-pay account) up to the due day and only
// within sending hours, and otherwise names the exact moment to look again (the window's
// opening, the next day's sending hours, check_every or retry_after); local_at() maps Unix ms
// to the local day and minute under TZ.
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "tests/unit/tz_guard.hpp"

#include "gateway/schedule/planner.hpp"

using namespace ussdpay;
using namespace ussdpay::schedule;

namespace {

constexpr std::int64_t ms_a_minute = 60'000;
constexpr std::int64_t ms_a_day = 86'400'000;
constexpr std::int64_t ms_an_hour = 3'600'000;

/// 2026-12-25, counted independently (date -u -d 2026-12-25 +%s is 1798156800 = 20812 days).
constexpr std::int32_t christmas = 20'812;

/// A moment whose local time is UTC: unix_ms agrees with day and minute.
local_moment moment(std::int32_t day, std::int32_t minute) {
  return {day * ms_a_day + minute * ms_a_minute, day, minute};
}
/// The Unix ms of minute `minute` of day `day` (local = UTC), for expected next checks.
std::int64_t ms_at(std::int32_t day, std::int32_t minute) {
  return day * ms_a_day + minute * ms_a_minute;
}

store::watched_account reminders_only() {
  store::watched_account a;
  a.msisdn = "923001234567";
  a.biller = "lesco";
  a.account = "0400012345678";
  a.label = "Home";
  a.language = "en";
  a.reminders = true;
  a.autopay_max = 0;
  return a;
}
store::watched_account with_autopay(bool reminders = true) {
  auto a = reminders_only();
  a.reminders = reminders;
  a.autopay_max = 500'000;
  return a;
}

bill_seen unpaid(std::string due_date = "2026-12-25", std::int64_t amount = 452'000) {
  bill_seen b;
  b.kind = bill_seen::kind_t::unpaid;
  b.due_date = std::move(due_date);
  b.amount = amount;
  b.bill_reference = "BR-1";
  return b;
}

/// Sending hours 09:00-20:00, reminders three days ahead, auto-pay one day ahead, a check every
/// six hours, a retry after fifteen minutes.
schedule_config config() {
  schedule_config c;
  c.hours = "09:00-20:00";
  c.remind_days = 3;
  c.autopay_days = 1;
  c.check_every = std::chrono::milliseconds{6 * ms_an_hour};
  c.retry_after = std::chrono::milliseconds{15 * ms_a_minute};
  return c;
}
const sending_hours nine_to_eight{9 * 60, 20 * 60};

using ussdpay::test::tz_guard;

}  // namespace

TEST_CASE("parse_hours reads HH:MM-HH:MM with from before to, 24:00 allowed as the end",
          "[schedule]") {
  const auto day = parse_hours("09:00-20:00");
  REQUIRE(day);
  CHECK(day->from == 540);
  CHECK(day->to == 1200);

  const auto whole = parse_hours("00:00-24:00");
  REQUIRE(whole);
  CHECK(whole->from == 0);
  CHECK(whole->to == 1440);

  const auto odd = parse_hours("09:30-17:45");
  REQUIRE(odd);
  CHECK(odd->from == 570);
  CHECK(odd->to == 1065);

  const auto one_minute = parse_hours("23:59-24:00");
  REQUIRE(one_minute);
  CHECK(one_minute->from == 1439);
  CHECK(one_minute->to == 1440);
}

TEST_CASE("parse_hours refuses empty, reversed, out-of-range and malformed hours", "[schedule]") {
  for (const char* bad : {
           "",                   // empty
           "20:00-09:00",        // from after to
           "09:00-09:00",        // from equal to to: an empty window
           "24:00-24:00",        // likewise, at the end of the day
           "25:00-26:00",        // no such hour
           "9:00-20:00",         // one-digit hour
           "09:00-8:00",         // one-digit hour on the right
           "09:60-10:00",        // no such minute
           "09:00-20:60",        // likewise on the right
           "24:30-24:45",        // 24 only as 24:00
           "00:00-24:01",        // likewise on the right
           "09:0020:00",         // no dash
           "0900-2000",          // no colons
           "09:00-",             // no end
           "-20:00",             // no start
           "09:00-20:00-21:00",  // a third time
           " 09:00-20:00",       // stray spaces
           "09:00-20:00 ",       //
           "09:00 - 20:00",      //
           "09.00-20.00",        // wrong separator
           "0a:00-20:00",        // not a digit
           "+9:00-20:00",        // a sign
       }) {
    INFO("hours \"" << bad << "\"");
    CHECK_FALSE(parse_hours(bad));
  }
}

TEST_CASE("day_number counts days since 1970-01-01 for real dates only", "[schedule]") {
  CHECK(day_number("1970-01-01") == 0);
  CHECK(day_number("1970-01-02") == 1);
  CHECK(day_number("1969-12-31") == -1);
  CHECK(day_number("2026-12-25") == christmas);
  // Leap days exist in leap years only (2000 is one; 1900 and 2026 are not).
  CHECK(day_number("2024-02-29") == 19'782);
  CHECK(day_number("2024-03-01") == 19'783);
  CHECK(day_number("2000-02-29") == 11'016);
  CHECK_FALSE(day_number("2026-02-29"));
  CHECK_FALSE(day_number("1900-02-29"));
  CHECK(day_number("2026-03-01") == 20'513);

  for (const char* bad : {
           "",             // empty
           "2026-13-01",   // no month 13
           "2026-00-10",   // no month 0
           "2026-04-31",   // April has 30 days
           "2026-01-00",   // no day 0
           "2026-01-32",   // no day 32
           "2026-1-05",    // one-digit month
           "2026-12-5",    // one-digit day
           "2026/12/25",   // wrong separators
           "20261225",     // none
           "2026-12-25x",  // trailing garbage
           " 2026-12-25",  // leading space
           "2026-12-2a",   // not a digit
           "+026-12-25",   // a sign
           "-026-12-25",   //
           "2026-12-25T00:00",
       }) {
    INFO("date \"" << bad << "\"");
    CHECK_FALSE(day_number(bad));
  }
}

TEST_CASE("local_at gives the local day and minute of a Unix ms under TZ", "[schedule]") {
  // 2026-12-25 13:45:30.5 UTC.
  const std::int64_t t = 1'798'156'800'000 + (13 * 60 + 45) * ms_a_minute + 30'500;
  {
    tz_guard utc("UTC");
    const auto m = local_at(t);
    CHECK(m.unix_ms == t);
    CHECK(m.day == christmas);
    CHECK(m.minute == 13 * 60 + 45);

    const auto epoch = local_at(0);
    CHECK(epoch.day == 0);
    CHECK(epoch.minute == 0);

    // The last minute of a day, then the first of the next.
    const auto late = local_at(ms_at(christmas, 1439) + 59'999);
    CHECK(late.day == christmas);
    CHECK(late.minute == 1439);
    const auto next = local_at(ms_at(christmas + 1, 0));
    CHECK(next.day == christmas + 1);
    CHECK(next.minute == 0);
  }
  {
    // Pakistan Standard Time as a POSIX rule (UTC+5, no DST; needs no tz database): 20:30 UTC
    // is already 01:30 of the next local day, and 03:00 UTC is 08:00 of the same one.
    tz_guard pkt("PKT-5");
    const auto evening = local_at(ms_at(christmas, 20 * 60 + 30));
    CHECK(evening.day == christmas + 1);
    CHECK(evening.minute == 90);
    const auto morning = local_at(ms_at(christmas, 3 * 60));
    CHECK(morning.day == christmas);
    CHECK(morning.minute == 8 * 60);
  }
}

TEST_CASE("decide: no answer from the biller retries after retry_after, whatever else is known",
          "[schedule]") {
  const auto cfg = config();
  const auto now = moment(christmas - 1, 600);  // in hours, in everyone's window
  bill_seen b = unpaid();
  b.kind = bill_seen::kind_t::unavailable;
  for (const auto& account : {reminders_only(), with_autopay()}) {
    const auto p = decide(cfg, nine_to_eight, account, b, now);
    CHECK(p.what == action::none);
    CHECK(p.next_check_at == now.unix_ms + 15 * ms_a_minute);
  }
}

TEST_CASE("decide: nothing due means the regular check every check_every", "[schedule]") {
  const auto cfg = config();
  const auto now = moment(christmas - 1, 600);
  bill_seen none;  // paid, or nothing owed
  none.kind = bill_seen::kind_t::none;
  // A due date left over from an earlier bill is not a bill.
  bill_seen paid = unpaid();
  paid.kind = bill_seen::kind_t::none;
  for (const auto& b : {none, paid}) {
    for (const auto& account : {reminders_only(), with_autopay()}) {
      const auto p = decide(cfg, nine_to_eight, account, b, now);
      CHECK(p.what == action::none);
      CHECK(p.next_check_at == now.unix_ms + 6 * ms_an_hour);
    }
  }
}

TEST_CASE("decide: a bill well before its window waits for the window or the regular check",
          "[schedule]") {
  auto cfg = config();
  cfg.check_every = std::chrono::milliseconds{24 * ms_an_hour};
  // Reminders open at D-3 (2026-12-22) 09:00.
  const std::int64_t opening = ms_at(christmas - 3, 540);

  SECTION("the window opens after the regular check: the regular check") {
    const auto now = moment(christmas - 5, 600);  // opening is 47 hours away
    const auto p = decide(cfg, nine_to_eight, reminders_only(), unpaid(), now);
    CHECK(p.what == action::none);
    CHECK(p.next_check_at == now.unix_ms + 24 * ms_an_hour);
    CHECK(p.next_check_at < opening);
  }
  SECTION("the window opens before the regular check: its opening") {
    const auto now = moment(christmas - 4, 1000);  // 16:40, opening is 16h20m away
    const auto p = decide(cfg, nine_to_eight, reminders_only(), unpaid(), now);
    CHECK(p.what == action::none);
    CHECK(p.next_check_at == opening);
    CHECK(p.next_check_at < now.unix_ms + 24 * ms_an_hour);
  }
  SECTION("with the default six-hour check, the day before the window is regular checks") {
    auto six = config();
    const auto now = moment(christmas - 4, 23 * 60);  // 10 hours before the opening
    const auto p = decide(six, nine_to_eight, reminders_only(), unpaid(), now);
    CHECK(p.what == action::none);
    CHECK(p.next_check_at == now.unix_ms + 6 * ms_an_hour);
  }
}

TEST_CASE("decide: within the window and sending hours a reminder, or an auto-payment",
          "[schedule]") {
  const auto cfg = config();  // remind_days 3, autopay_days 1, 09:00-20:00
  const std::int64_t regular = 6 * ms_an_hour;

  SECTION("reminders: from D-3 to D itself, each day in hours") {
    for (std::int32_t day = christmas - 3; day <= christmas; ++day) {
      INFO("day D" << (day - christmas));
      const auto now = moment(day, 600);
      const auto p = decide(cfg, nine_to_eight, reminders_only(), unpaid(), now);
      CHECK(p.what == action::remind);
      CHECK(p.next_check_at == now.unix_ms + regular);
    }
  }
  SECTION("sending hours are [from, to): 09:00 and 19:59 send") {
    for (std::int32_t minute : {540, 1199}) {
      INFO("minute " << minute);
      const auto now = moment(christmas - 2, minute);
      CHECK(decide(cfg, nine_to_eight, reminders_only(), unpaid(), now).what == action::remind);
    }
  }
  SECTION("auto-pay uses autopay_days: two days before the due date it waits") {
    // A reminders-only account is reminded at D-2; the auto-pay account (reminders on as well)
    // does nothing yet, and looks again at the regular check (D-1 09:00 is 23 hours away).
    const auto now = moment(christmas - 2, 600);
    CHECK(decide(cfg, nine_to_eight, reminders_only(), unpaid(), now).what == action::remind);
    const auto p = decide(cfg, nine_to_eight, with_autopay(), unpaid(), now);
    CHECK(p.what == action::none);
    CHECK(p.next_check_at == now.unix_ms + regular);

    // With a daily check, it looks again exactly when its own window opens.
    auto daily = cfg;
    daily.check_every = std::chrono::milliseconds{24 * ms_an_hour};
    const auto q = decide(daily, nine_to_eight, with_autopay(), unpaid(), now);
    CHECK(q.what == action::none);
    CHECK(q.next_check_at == ms_at(christmas - 1, 540));
  }
  SECTION("auto-pay: from D-1 to D itself, reminders on or off") {
    for (bool reminders : {true, false}) {
      for (std::int32_t day : {christmas - 1, christmas}) {
        INFO("reminders " << reminders << ", day D" << (day - christmas));
        const auto now = moment(day, 600);
        const auto p = decide(cfg, nine_to_eight, with_autopay(reminders), unpaid(), now);
        CHECK(p.what == action::autopay);
        CHECK(p.next_check_at == now.unix_ms + regular);
      }
    }
  }
}

TEST_CASE("decide: outside sending hours on an action day, look again when they open",
          "[schedule]") {
  const auto cfg = config();

  SECTION("before hours: that day's opening") {
    const auto now = moment(christmas - 3, 480);  // 08:00
    const auto p = decide(cfg, nine_to_eight, reminders_only(), unpaid(), now);
    CHECK(p.what == action::none);
    CHECK(p.next_check_at == ms_at(christmas - 3, 540));

    const auto midnight = moment(christmas, 0);
    const auto a = decide(cfg, nine_to_eight, with_autopay(), unpaid(), midnight);
    CHECK(a.what == action::none);
    CHECK(a.next_check_at == ms_at(christmas, 540));
  }
  SECTION("after hours before the due day: the next day's opening") {
    for (std::int32_t minute : {1200, 1439}) {  // 20:00 is already closed
      INFO("minute " << minute);
      const auto now = moment(christmas - 3, minute);
      const auto p = decide(cfg, nine_to_eight, reminders_only(), unpaid(), now);
      CHECK(p.what == action::none);
      CHECK(p.next_check_at == ms_at(christmas - 2, 540));
    }
    const auto now = moment(christmas - 1, 1300);
    const auto a = decide(cfg, nine_to_eight, with_autopay(), unpaid(), now);
    CHECK(a.what == action::none);
    CHECK(a.next_check_at == ms_at(christmas, 540));
  }
  SECTION("after hours on the due day itself: the regular check (tomorrow it is overdue)") {
    const auto now = moment(christmas, 1300);
    for (const auto& account : {reminders_only(), with_autopay()}) {
      const auto p = decide(cfg, nine_to_eight, account, unpaid(), now);
      CHECK(p.what == action::none);
      CHECK(p.next_check_at == now.unix_ms + 6 * ms_an_hour);
    }
  }
  SECTION("other sending hours are honoured") {
    const auto late = parse_hours("13:30-14:00");
    REQUIRE(late);
    const auto before = moment(christmas - 1, 13 * 60 + 29);
    CHECK(decide(cfg, *late, reminders_only(), unpaid(), before).next_check_at ==
          ms_at(christmas - 1, 810));
    CHECK(decide(cfg, *late, reminders_only(), unpaid(), moment(christmas - 1, 810)).what ==
          action::remind);
    const auto after = moment(christmas - 1, 14 * 60);
    const auto p = decide(cfg, *late, reminders_only(), unpaid(), after);
    CHECK(p.what == action::none);
    CHECK(p.next_check_at == ms_at(christmas, 810));
  }
}

TEST_CASE("decide: overdue bills, unwatched accounts and unusable bills do nothing", "[schedule]") {
  const auto cfg = config();
  const auto now = moment(christmas - 1, 600);  // in hours, in everyone's window
  const std::int64_t regular = now.unix_ms + 6 * ms_an_hour;

  SECTION("overdue: the day after the due date, in hours") {
    const auto later = moment(christmas + 1, 600);
    for (const auto& account : {reminders_only(), with_autopay()}) {
      const auto p = decide(cfg, nine_to_eight, account, unpaid(), later);
      CHECK(p.what == action::none);
      CHECK(p.next_check_at == later.unix_ms + 6 * ms_an_hour);
    }
  }
  SECTION("reminders off and no auto-pay") {
    auto quiet = reminders_only();
    quiet.reminders = false;
    const auto p = decide(cfg, nine_to_eight, quiet, unpaid(), now);
    CHECK(p.what == action::none);
    CHECK(p.next_check_at == regular);
  }
  SECTION("an invalid due date") {
    for (const char* due : {"2026-02-29", "", "2026-12-5", "25/12/2026"}) {
      INFO("due date \"" << due << "\"");
      for (const auto& account : {reminders_only(), with_autopay()}) {
        const auto p = decide(cfg, nine_to_eight, account, unpaid(due), now);
        CHECK(p.what == action::none);
        CHECK(p.next_check_at == regular);
      }
    }
  }
  SECTION("nothing to pay: amount 0 or negative") {
    for (std::int64_t amount : {std::int64_t{0}, std::int64_t{-100}}) {
      INFO("amount " << amount);
      for (const auto& account : {reminders_only(), with_autopay()}) {
        const auto p = decide(cfg, nine_to_eight, account, unpaid("2026-12-25", amount), now);
        CHECK(p.what == action::none);
        CHECK(p.next_check_at == regular);
      }
    }
  }
}
