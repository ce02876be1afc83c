#include "gateway/schedule/planner.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace ussdpay::schedule {

namespace {

constexpr std::int64_t minute_ms = 60'000;
constexpr std::int32_t minutes_a_day = 24 * 60;

std::optional<int> number(std::string_view s) {
  int n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

// "HH:MM" as minutes of the day; 24:00 allowed (the end of the day).
std::optional<int> clock_minutes(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (std::size_t i : {0u, 1u, 3u, 4u})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  const int h = *number(s.substr(0, 2)), m = *number(s.substr(3, 2));
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

}  // namespace

std::optional<sending_hours> parse_hours(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto from = clock_minutes(text.substr(0, dash)), to = clock_minutes(text.substr(dash + 1));
  if (!from || !to || *from >= *to) return std::nullopt;
  return sending_hours{*from, *to};
}

plan decide(const schedule_config& cfg, const sending_hours& hours,
            const store::watched_account& account, const bill_seen& bill, const local_moment& now) {
  const std::int64_t regular = now.unix_ms + cfg.check_every.count();
  if (bill.kind == bill_seen::kind_t::unavailable)
    return {action::none, now.unix_ms + cfg.retry_after.count()};
  const auto due = day_number(bill.due_date);
  const bool autopay = account.autopay_max > 0;
  if (bill.kind != bill_seen::kind_t::unpaid || !due || bill.amount <= 0 ||
      (!autopay && !account.reminders) || now.day > *due)
    return {action::none, regular};
  // The start of minute `m` of day `d`, counted from the start of this minute (local; a DST
  // change in between moves it by an hour).
  const auto at = [&](std::int32_t d, std::int32_t m) {
    return now.unix_ms - now.unix_ms % minute_ms +
           (static_cast<std::int64_t>(d - now.day) * minutes_a_day + m - now.minute) * minute_ms;
  };
  const std::int32_t first =
      *due - static_cast<std::int32_t>(autopay ? cfg.autopay_days : cfg.remind_days);
  if (now.day < first) return {action::none, std::min(regular, at(first, hours.from))};
  if (now.minute < hours.from) return {action::none, at(now.day, hours.from)};
  if (now.minute >= hours.to)
    return {action::none, now.day < *due ? at(now.day + 1, hours.from) : regular};
  return {autopay ? action::autopay : action::remind, regular};
}

}  // namespace ussdpay::schedule
