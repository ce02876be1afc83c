#include "gateway/common/clock.hpp"

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

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string local_date(std::int64_t unix_ms) {
  const std::tm tm = local_tm(unix_ms);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string local_time_of_day(std::int64_t unix_ms) {
  const std::tm tm = local_tm(unix_ms);
  char buf[8];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
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

local_moment local_at(std::int64_t unix_ms) {
  const std::tm tm = local_tm(unix_ms);
  using namespace std::chrono;
  const year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                           day{static_cast<unsigned>(tm.tm_mday)}};
  return {unix_ms, static_cast<std::int32_t>(sys_days(ymd).time_since_epoch().count()),
          tm.tm_hour * 60 + tm.tm_min};
}

}  // namespace ussdpay::clock
