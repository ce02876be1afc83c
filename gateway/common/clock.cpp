#include "gateway/common/clock.hpp"

#include <charconv>
#include <chrono>
#include <ctime>

namespace ussdpay::clock {

namespace {

std::tm local_tm(std::int64_t unix_ms) {
  const auto t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm;
}

std::int64_t unix_ms_of(std::tm tm) {
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;  // mktime decides whether midnight was summer time
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

std::optional<int> number(std::string_view s) {
  int n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

std::string format(std::int64_t unix_ms, const char* pattern) {
  const std::tm tm = local_tm(unix_ms);
  char buf[32];
  std::strftime(buf, sizeof buf, pattern, &tm);
  return buf;
}

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string local_date(std::int64_t unix_ms) {
  return format(unix_ms, "%Y-%m-%d");
}

std::string local_date_time(std::int64_t unix_ms) {
  return format(unix_ms, "%Y-%m-%d %H:%M:%S");
}

std::string local_time_of_day(std::int64_t unix_ms) {
  return format(unix_ms, "%H:%M");
}

std::string local_today() {
  return local_date(now_ms());
}

std::int64_t local_day_start_ms(std::int64_t unix_ms) {
  return unix_ms_of(local_tm(unix_ms));
}

std::int64_t local_month_start_ms(std::int64_t unix_ms) {
  std::tm tm = local_tm(unix_ms);
  tm.tm_mday = 1;
  return unix_ms_of(tm);
}

std::optional<std::int32_t> day_number(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  for (std::size_t i = 0; i < date.size(); ++i)
    if (i != 4 && i != 7 && (date[i] < '0' || date[i] > '9')) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{*number(date.substr(0, 4))},
                           month{static_cast<unsigned>(*number(date.substr(5, 2)))},
                           day{static_cast<unsigned>(*number(date.substr(8, 2)))}};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<std::int32_t>(sys_days(ymd).time_since_epoch().count());
}

std::optional<std::int64_t> local_midnight_ms(std::int32_t day) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day}}};
  std::tm tm{};
  tm.tm_year = static_cast<int>(ymd.year()) - 1900;
  tm.tm_mon = static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
  tm.tm_mday = static_cast<int>(static_cast<unsigned>(ymd.day()));
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(t) * 1000;
}

local_moment local_at(std::int64_t unix_ms) {
  const std::tm tm = local_tm(unix_ms);
  using namespace std::chrono;
  const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                           day{static_cast<unsigned>(tm.tm_mday)}};
  return {unix_ms, static_cast<std::int32_t>(sys_days(ymd).time_since_epoch().count()),
          tm.tm_hour * 60 + tm.tm_min};
}

}  // namespace ussdpay::clock
