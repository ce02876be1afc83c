#include "gateway/sms/receipts.hpp"

#include <ctime>

#include <fmt/format.h>

#include "menus/format.hpp"

namespace ussdpay::sms {

namespace {

// "22/11/2026 10:15" in the daemon's time zone.
std::string when(std::int64_t unix_ms) {
  const std::time_t t = unix_ms / 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%d/%m/%Y %H:%M", &tm);
  return buf;
}

}  // namespace

std::string render_receipt(const receipt_context& c, std::string_view kind,
                           const store::payment_record& p, std::int64_t balance) {
  const auto money = [&](std::int64_t v) { return menus::format_money(v, p.currency); };
  const std::string biller = c.biller_name ? c.biller_name(p.biller) : p.biller;
  if (kind == "confirmed")
    return fmt::format(
        "Ref {} PAID {} to {} {} on {}. Fee {}. Bal {}.{}", p.ref, money(p.amount), biller,
        p.account, when(p.updated_at), money(p.fee), money(balance),
        p.biller_reference.empty() ? "" : " " + biller + " ref " + p.biller_reference);
  if (kind == "failed")
    return fmt::format("Ref {} FAILED: {} did not accept {} for {}. {} refunded. Bal {}.", p.ref,
                       biller, money(p.amount), p.account, money(p.amount + p.fee), money(balance));
  if (kind == "reversed")
    return fmt::format("Ref {} REVERSED: {} to {} {} was undone. {} refunded. Bal {}.", p.ref,
                       money(p.amount), biller, p.account, money(p.amount + p.fee), money(balance));
  // pending
  return fmt::format(
      "Ref {} PROCESSING: {} to {} {}. Do not pay again. We will SMS the result. Help {}.", p.ref,
      money(p.amount), biller, p.account, c.support_phone);
}

std::string render_code(std::string_view code, std::string_view minutes) {
  return fmt::format(
      "{} is your Bill Pay code. It expires in {} min. Never share it: we will never ask for it.",
      code, minutes);
}

}  // namespace ussdpay::sms
