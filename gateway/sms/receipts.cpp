#include "gateway/sms/receipts.hpp"

#include <array>
#include <ctime>
#include <utility>

#include "menus/engine.hpp"

namespace ussdpay::sms {

namespace {

std::uint8_t language_of(const menus::catalog& cat, std::string_view code) {
  return cat.language(code).value_or(cat.default_language);
}

// The payment's local date (YYYY-MM-DD, shown DD/MM/YYYY) and time (HH:MM).
std::pair<std::string, std::string> date_and_time(std::int64_t unix_ms) {
  const std::time_t t = unix_ms / 1000;
  std::tm tm{};
  localtime_r(&t, &tm);
  char date[16], time[8];
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  std::strftime(time, sizeof time, "%H:%M", &tm);
  return {date, time};
}

}  // namespace

std::string render_receipt(const receipt_context& c, std::string_view kind,
                           const store::payment_record& p, std::int64_t balance) {
  const auto cat = c.templates ? c.templates->get() : nullptr;
  if (!cat) return "Ref " + p.ref;  // no menus loaded: the reference, the one thing that must go
  auto [date, time] = date_and_time(p.updated_at);
  const std::array<std::pair<std::string_view, std::string>, 12> vars{{
      {"currency", p.currency},
      {"payment.ref", p.ref},
      {"payment.amount", std::to_string(p.amount)},
      {"payment.biller", c.biller_name ? c.biller_name(p.biller) : p.biller},
      {"payment.account", p.account},
      {"payment.date", std::move(date)},
      {"payment.time", std::move(time)},
      {"payment.fee", std::to_string(p.fee)},
      {"payment.total", std::to_string(p.amount + p.fee)},
      {"balance", std::to_string(balance)},
      {"payment.biller_ref", p.biller_reference.empty() ? "-" : p.biller_reference},
      {"support.phone", c.support_phone},
  }};
  return menus::sms_text(cat, language_of(*cat, p.language), kind, vars);
}

std::string render_notice(const receipt_context& c, std::string_view kind, const bill_notice& n) {
  const auto cat = c.templates ? c.templates->get() : nullptr;
  if (!cat) return {};
  const std::array<std::pair<std::string_view, std::string>, 12> vars{{
      {"currency", n.currency},
      {"biller.name", c.biller_name ? c.biller_name(n.biller) : n.biller},
      {"account", n.account},
      {"account.label", n.label},
      {"bill.amount", std::to_string(n.bill_amount)},
      {"bill.due_date", n.due_date},
      {"autopay.max", std::to_string(n.autopay_max)},
      {"autopay.days", std::to_string(n.autopay_days)},
      {"payment.total", std::to_string(n.total)},
      {"balance", std::to_string(n.balance)},
      {"sms.shortcut", n.shortcut},
      {"support.phone", c.support_phone},
  }};
  return menus::sms_text(cat, language_of(*cat, n.language), kind, vars);
}

std::string render_code(const std::shared_ptr<const menus::catalog>& cat, std::uint8_t language,
                        std::string_view code, std::string_view minutes) {
  std::array<std::pair<std::string_view, std::string>, 2> vars{{
      {"sms.code", std::string(code)},
      {"code.minutes", std::string(minutes)},
  }};
  auto out = menus::sms_text(cat, language, "code", vars);
  for (auto& [name, value] : vars) std::fill(value.begin(), value.end(), '\0');
  return out;
}

std::string render_locked(const std::shared_ptr<const menus::catalog>& cat, std::uint8_t language,
                          std::uint32_t minutes, std::string_view service_code,
                          std::string_view support_phone) {
  const std::array<std::pair<std::string_view, std::string>, 3> vars{{
      {"pin.locked_minutes", std::to_string(minutes)},
      {"service.code", std::string(service_code)},
      {"support.phone", std::string(support_phone)},
  }};
  return menus::sms_text(cat, language, "locked", vars);
}

}  // namespace ussdpay::sms
