#include "gateway/sms/texts.hpp"

#include <array>
#include <utility>

#include "gateway/common/clock.hpp"
#include "menus/engine.hpp"

namespace ussdpay::sms {

namespace {

std::uint8_t language_of(const menus::catalog& cat, std::string_view code) {
  return cat.language(code).value_or(cat.default_language);
}

}  // namespace

std::string render_receipt(const receipt_context& c, std::string_view kind,
                           const store::payment_record& p, std::int64_t balance) {
  const auto cat = c.templates ? c.templates->get() : nullptr;
  if (!cat) return "Ref " + p.ref;  // no menus loaded: the reference, the one thing that must go
  const std::array<std::pair<menus::var_id, std::string>, 12> vars{{
      {menus::var_id::currency, p.currency},
      {menus::var_id::payment_ref, p.ref},
      {menus::var_id::payment_amount, std::to_string(p.amount)},
      {menus::var_id::payment_biller, c.biller_name ? c.biller_name(p.biller) : p.biller},
      {menus::var_id::payment_account, p.account},
      {menus::var_id::payment_date, clock::local_date(p.updated_at)},
      {menus::var_id::payment_time, clock::local_time_of_day(p.updated_at)},
      {menus::var_id::payment_fee, std::to_string(p.fee)},
      {menus::var_id::payment_total, std::to_string(p.amount + p.fee)},
      {menus::var_id::balance, std::to_string(balance)},
      {menus::var_id::payment_biller_ref, p.biller_reference.empty() ? "-" : p.biller_reference},
      {menus::var_id::support_phone, c.support_phone},
  }};
  return menus::sms_text(cat, language_of(*cat, p.language), kind, vars);
}

std::string render_notice(const receipt_context& c, std::string_view kind, const bill_notice& n) {
  const auto cat = c.templates ? c.templates->get() : nullptr;
  if (!cat) return {};
  const std::array<std::pair<menus::var_id, std::string>, 12> vars{{
      {menus::var_id::currency, n.currency},
      {menus::var_id::biller_name, c.biller_name ? c.biller_name(n.biller) : n.biller},
      {menus::var_id::account, n.account},
      {menus::var_id::account_label, n.label},
      {menus::var_id::bill_amount, std::to_string(n.bill_amount)},
      {menus::var_id::bill_due_date, n.due_date},
      {menus::var_id::autopay_max, std::to_string(n.autopay_max)},
      {menus::var_id::autopay_days, std::to_string(n.autopay_days)},
      {menus::var_id::payment_total, std::to_string(n.total)},
      {menus::var_id::balance, std::to_string(n.balance)},
      {menus::var_id::sms_shortcut, n.shortcut},
      {menus::var_id::support_phone, c.support_phone},
  }};
  return menus::sms_text(cat, language_of(*cat, n.language), kind, vars);
}

std::string render_code(const std::shared_ptr<const menus::catalog>& cat, std::uint8_t language,
                        std::string_view code, std::string_view minutes) {
  std::array<std::pair<menus::var_id, std::string>, 2> vars{{
      {menus::var_id::sms_code, std::string(code)},
      {menus::var_id::code_minutes, std::string(minutes)},
  }};
  auto out = menus::sms_text(cat, language, "code", vars);
  for (auto& [name, value] : vars) std::fill(value.begin(), value.end(), '\0');
  return out;
}

std::string render_locked(const std::shared_ptr<const menus::catalog>& cat, std::uint8_t language,
                          std::uint32_t minutes, std::string_view service_code,
                          std::string_view support_phone) {
  const std::array<std::pair<menus::var_id, std::string>, 3> vars{{
      {menus::var_id::pin_locked_minutes, std::to_string(minutes)},
      {menus::var_id::service_code, std::string(service_code)},
      {menus::var_id::support_phone, std::string(support_phone)},
  }};
  return menus::sms_text(cat, language, "locked", vars);
}

}  // namespace ussdpay::sms
