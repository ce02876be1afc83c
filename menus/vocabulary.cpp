#include "menus/vocabulary.hpp"

#include <array>

namespace ussdpay::menus {
namespace {

using enum var_type;

constexpr std::array<var_def, 57> vars{{
    // Set by the gateway when the dialog starts.
    {"currency", text, 3},
    {"service.code", text, 12},
    {"support.phone", text, 16},
    {"language", text, 2},
    {"balance", money, 12},
    // Choices and inputs.
    {"category", text, 12},
    {"account", text, 20},
    {"account.label", text, 10},
    {"amount", money, 12},
    {"pin", secret, 4},
    {"pin.new", secret, 4},
    {"pin.confirm", secret, 4},
    {"code", secret, 9},
    {"code.purpose", text, 8},
    {"code.tries_left", text, 2},
    {"code.minutes", text, 2},
    {"payment.ref", text, 10},
    {"confirm.duplicate", text, 3},
    // The biller chosen from a list (its item fields are copied here).
    {"biller.id", text, 16},
    {"biller.name", text, 16},
    {"biller.account_min", text, 2},
    {"biller.account_max", text, 2},
    {"biller.account_check", text, 5},
    {"biller.exactness", text, 8},
    // The biller's answer to an inquiry.
    {"bill.name", text, 24},
    {"bill.period", text, 7},
    {"bill.due_date", date, 10},
    {"bill.amount", money, 12},
    {"bill.after_due", money, 12},
    {"bill.min", money, 12},
    {"bill.max", money, 12},
    {"bill.paid_on", date, 10},
    // The quote before the PIN, and the payment's result.
    {"quote.fee", money, 12},
    {"quote.total", money, 12},
    {"dup.ref", text, 10},
    {"dup.minutes", text, 4},
    {"pin.tries_left", text, 1},
    {"pin.locked_minutes", text, 4},
    {"payment.amount", money, 12},
    {"payment.biller", text, 16},
    {"payment.account", text, 20},
    {"payment.date", date, 10},
    {"payment.status", text, 12},
    {"limit.amount", money, 12},
    {"ticket.ref", text, 10},
    {"month.total", money, 12},
    {"account.saved", text, 3},
    // SMS texts ([sms]): a payment's receipt and the one-time code.
    {"payment.time", text, 5},
    {"payment.fee", money, 12},
    {"payment.total", money, 12},
    {"payment.biller_ref", text, 20},
    {"sms.code", text, 9},
    // Reminders and auto-pay (saved accounts).
    {"account.remind", text, 3},
    {"account.autopay", text, 3},
    {"autopay.max", money, 12},
    {"autopay.days", text, 2},
    {"sms.shortcut", text, 16},
}};

constexpr std::array<var_def, 16> items{{
    {"item.id", text, 16},
    {"item.name", text, 16},
    {"item.label", text, 10},
    {"item.account", text, 20},
    {"item.amount", money, 12},
    {"item.category", text, 12},
    {"item.date", date, 10},
    {"item.ref", text, 10},
    {"item.status", text, 12},
    {"item.account_min", text, 2},
    {"item.account_max", text, 2},
    {"item.account_check", text, 5},
    {"item.exactness", text, 8},
    {"item.remind", text, 3},
    {"item.autopay", text, 3},
    {"item.autopay_max", money, 12},
}};

constexpr std::array<std::string_view, static_cast<std::size_t>(outcome::count_)> outcome_names{
    "ok",        "empty",   "paid",      "not_found",    "invalid", "too_low",
    "too_high",  "limit",   "duplicate", "insufficient", "pending", "rejected",
    "wrong_pin", "locked",  "exists",    "full",         "weak",    "mismatch",
    "error",     "timeout", "closed",    "wrong_code",   "expired"};

using enum outcome;
constexpr std::uint32_t mask(std::initializer_list<outcome> os) {
  std::uint32_t m = 0;
  for (auto o : os) m |= 1u << static_cast<unsigned>(o);
  return m;
}
constexpr std::array<action_def, 21> action_table{{
    {"billers", true, mask({ok, empty})},
    {"saved_accounts", true, mask({ok, empty})},
    {"saved_for_biller", true, mask({ok, empty})},
    {"inquire", false, mask({ok, paid, not_found, invalid})},
    {"quote", false, mask({ok, too_low, too_high, limit, duplicate, insufficient})},
    {"pay", false,
     mask({ok, pending, rejected, wrong_pin, locked, insufficient, limit, duplicate, too_low})},
    {"save_account", false, mask({ok, exists, full})},
    {"remove_account", false, mask({ok})},
    {"last_payments", true, mask({ok, empty})},
    {"month_totals", true, mask({ok, empty})},
    {"resend_receipt", false, mask({ok, not_found})},
    {"report_problem", false, mask({ok, not_found})},
    {"change_pin", false, mask({ok, wrong_pin, weak, mismatch, locked})},
    {"set_language", false, mask({ok})},
    {"subscriber", false, mask({ok, not_found, closed})},
    {"send_code", false, mask({ok, limit, not_found, exists})},
    {"verify_code", false, mask({ok, wrong_code, expired})},
    {"set_pin", false, mask({ok, weak, mismatch, expired, not_found, exists})},
    {"set_reminders", false, mask({ok, not_found})},
    {"autopay_on", false, mask({ok, wrong_pin, locked, not_found})},
    {"autopay_off", false, mask({ok, not_found})},
}};

template <class Table>
std::optional<std::uint16_t> find_in(const Table& t, std::string_view name) {
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t[i].name == name) return static_cast<std::uint16_t>(i);
  return std::nullopt;
}

}  // namespace

std::span<const var_def> variables() {
  return vars;
}
std::optional<std::uint16_t> find_var(std::string_view name) {
  return find_in(vars, name);
}
const var_def& var(std::uint16_t id) {
  return vars.at(id);
}
std::span<const var_def> item_fields() {
  return items;
}
std::optional<std::uint16_t> find_item_field(std::string_view name) {
  return find_in(items, name);
}

std::string_view to_string(outcome o) {
  return outcome_names.at(static_cast<std::size_t>(o));
}
std::optional<outcome> parse_outcome(std::string_view s) {
  for (std::size_t i = 0; i < outcome_names.size(); ++i)
    if (outcome_names[i] == s) return static_cast<outcome>(i);
  return std::nullopt;
}

std::span<const action_def> actions() {
  return action_table;
}
std::optional<std::uint8_t> find_action(std::string_view name) {
  auto i = find_in(action_table, name);
  if (!i) return std::nullopt;
  return static_cast<std::uint8_t>(*i);
}
bool action_may(std::uint8_t action, outcome o) {
  if (o == outcome::error || o == outcome::timeout) return true;
  return (action_table.at(action).outcomes >> static_cast<unsigned>(o)) & 1u;
}

}  // namespace ussdpay::menus
