// The contract between the menus and the gateway: the variables a menu may use and the actions
// it may ask for, with the outcomes each action can report. The loader rejects menus that use
// anything else, so a typo in etc/menus/ is caught by `ussdpay check-menus`, not by a subscriber.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

// The vocabulary as X-macro tables: one row per entry, expanded into the enums below and into
// the name tables of vocabulary.cpp, so that an enum and its table can never disagree. The
// gateway names variables and actions by these enums; the menus (TOML) by the quoted names.

/// X(enumerator, "name", type, max_length): every variable a menu may read or write.
#define USSDPAY_MENU_VARIABLES(X)                                        \
  /* Set by the gateway when the dialog starts. */                       \
  X(currency, "currency", text, 3)                                       \
  X(service_code, "service.code", text, 12)                              \
  X(support_phone, "support.phone", text, 16)                            \
  X(language, "language", text, 2)                                       \
  X(balance, "balance", money, 12)                                       \
  /* Choices and inputs. */                                              \
  X(category, "category", text, 12)                                      \
  X(account, "account", text, 20)                                        \
  X(account_label, "account.label", text, 10)                            \
  X(amount, "amount", money, 12)                                         \
  X(pin, "pin", secret, 4)                                               \
  X(pin_new, "pin.new", secret, 4)                                       \
  X(pin_confirm, "pin.confirm", secret, 4)                               \
  X(code, "code", secret, 9)                                             \
  X(code_purpose, "code.purpose", text, 8)                               \
  X(code_tries_left, "code.tries_left", text, 2)                         \
  X(code_minutes, "code.minutes", text, 2)                               \
  X(payment_ref, "payment.ref", text, 10)                                \
  X(confirm_duplicate, "confirm.duplicate", text, 3)                     \
  /* The biller chosen from a list (its item fields are copied here). */ \
  X(biller_id, "biller.id", text, 16)                                    \
  X(biller_name, "biller.name", text, 16)                                \
  X(biller_account_min, "biller.account_min", text, 2)                   \
  X(biller_account_max, "biller.account_max", text, 2)                   \
  X(biller_account_check, "biller.account_check", text, 5)               \
  X(biller_exactness, "biller.exactness", text, 8)                       \
  /* The biller's answer to an inquiry. */                               \
  X(bill_name, "bill.name", text, 24)                                    \
  X(bill_period, "bill.period", text, 7)                                 \
  X(bill_due_date, "bill.due_date", date, 10)                            \
  X(bill_amount, "bill.amount", money, 12)                               \
  X(bill_after_due, "bill.after_due", money, 12)                         \
  X(bill_min, "bill.min", money, 12)                                     \
  X(bill_max, "bill.max", money, 12)                                     \
  X(bill_paid_on, "bill.paid_on", date, 10)                              \
  /* The quote before the PIN, and the payment's result. */              \
  X(quote_fee, "quote.fee", money, 12)                                   \
  X(quote_total, "quote.total", money, 12)                               \
  X(dup_ref, "dup.ref", text, 10)                                        \
  X(dup_minutes, "dup.minutes", text, 4)                                 \
  X(pin_tries_left, "pin.tries_left", text, 1)                           \
  X(pin_locked_minutes, "pin.locked_minutes", text, 4)                   \
  X(payment_amount, "payment.amount", money, 12)                         \
  X(payment_biller, "payment.biller", text, 16)                          \
  X(payment_account, "payment.account", text, 20)                        \
  X(payment_date, "payment.date", date, 10)                              \
  X(payment_status, "payment.status", text, 12)                          \
  X(limit_amount, "limit.amount", money, 12)                             \
  X(ticket_ref, "ticket.ref", text, 10)                                  \
  X(month_total, "month.total", money, 12)                               \
  X(account_saved, "account.saved", text, 3)                             \
  /* SMS texts ([sms]): a payment's receipt and the one-time code. */    \
  X(payment_time, "payment.time", text, 5)                               \
  X(payment_fee, "payment.fee", money, 12)                               \
  X(payment_total, "payment.total", money, 12)                           \
  X(payment_biller_ref, "payment.biller_ref", text, 20)                  \
  X(sms_code, "sms.code", text, 9)                                       \
  /* Reminders and auto-pay (saved accounts). */                         \
  X(account_remind, "account.remind", text, 3)                           \
  X(account_autopay, "account.autopay", text, 3)                         \
  X(autopay_max, "autopay.max", money, 12)                               \
  X(autopay_days, "autopay.days", text, 2)                               \
  X(sms_shortcut, "sms.shortcut", text, 16)

/// X(enumerator, "name", type, max_length): every field a dynamic list item may carry.
#define USSDPAY_MENU_ITEM_FIELDS(X)               \
  X(id, "item.id", text, 16)                      \
  X(name, "item.name", text, 16)                  \
  X(label, "item.label", text, 10)                \
  X(account, "item.account", text, 20)            \
  X(amount, "item.amount", money, 12)             \
  X(category, "item.category", text, 12)          \
  X(date, "item.date", date, 10)                  \
  X(ref, "item.ref", text, 10)                    \
  X(status, "item.status", text, 12)              \
  X(account_min, "item.account_min", text, 2)     \
  X(account_max, "item.account_max", text, 2)     \
  X(account_check, "item.account_check", text, 5) \
  X(exactness, "item.exactness", text, 8)         \
  X(remind, "item.remind", text, 3)               \
  X(autopay, "item.autopay", text, 3)             \
  X(autopay_max, "item.autopay_max", money, 12)

/// X(enumerator, produces_a_list, outcomes besides error and timeout...): every action.
#define USSDPAY_MENU_ACTIONS(X)                                                                    \
  X(billers, true, ok, empty)                                                                      \
  X(saved_accounts, true, ok, empty)                                                               \
  X(saved_for_biller, true, ok, empty)                                                             \
  X(inquire, false, ok, paid, not_found, invalid)                                                  \
  X(quote, false, ok, too_low, too_high, limit, duplicate, insufficient)                           \
  X(pay, false, ok, pending, rejected, wrong_pin, locked, insufficient, limit, duplicate, too_low) \
  X(save_account, false, ok, exists, full)                                                         \
  X(remove_account, false, ok)                                                                     \
  X(last_payments, true, ok, empty)                                                                \
  X(month_totals, true, ok, empty)                                                                 \
  X(resend_receipt, false, ok, not_found)                                                          \
  X(report_problem, false, ok, not_found)                                                          \
  X(change_pin, false, ok, wrong_pin, weak, mismatch, locked)                                      \
  X(set_language, false, ok)                                                                       \
  X(subscriber, false, ok, not_found, closed)                                                      \
  X(send_code, false, ok, limit, not_found, exists)                                                \
  X(verify_code, false, ok, wrong_code, expired)                                                   \
  X(set_pin, false, ok, weak, mismatch, expired, not_found, exists)                                \
  X(set_reminders, false, ok, not_found)                                                           \
  X(autopay_on, false, ok, wrong_pin, locked, not_found)                                           \
  X(autopay_off, false, ok, not_found)

namespace ussdpay::menus {

enum class var_type : std::uint8_t {
  text,    ///< shown as is
  money,   ///< integer minor units, shown with the session's currency ("Rs4,520")
  date,    ///< YYYY-MM-DD, shown DD/MM/YYYY
  secret,  ///< a PIN: never shown, never logged, wiped when the dialog ends
};

struct var_def {
  std::string_view name;
  var_type type;
  std::uint8_t max_length;  ///< longest value as shown, for the screen-length check
};

/// Every variable a menu may read or write. Names with a dot group by source.
enum class var_id : std::uint16_t {
#define USSDPAY_MENU_X(id, name, type, max_length) id,
  USSDPAY_MENU_VARIABLES(USSDPAY_MENU_X)
#undef USSDPAY_MENU_X
      count_
};
/// The index the dialog state keys variables by.
constexpr std::uint16_t index(var_id v) {
  return static_cast<std::uint16_t>(v);
}
std::span<const var_def> variables();
std::optional<std::uint16_t> find_var(std::string_view name);
const var_def& var(std::uint16_t id);

/// Fields a dynamic list item may carry (`{item.name}` in an item template).
enum class item_field : std::uint16_t {
#define USSDPAY_MENU_X(id, name, type, max_length) id,
  USSDPAY_MENU_ITEM_FIELDS(USSDPAY_MENU_X)
#undef USSDPAY_MENU_X
      count_
};
constexpr std::uint16_t index(item_field f) {
  return static_cast<std::uint16_t>(f);
}
std::span<const var_def> item_fields();
std::optional<std::uint16_t> find_item_field(std::string_view name);

/// Every action ends with one of these outcomes. `error` and `timeout` are possible for every
/// action (the gateway's bounded wait produces `timeout`).
enum class outcome : std::uint8_t {
  ok,
  empty,
  paid,
  not_found,
  invalid,
  too_low,
  too_high,
  limit,
  duplicate,
  insufficient,
  pending,
  rejected,
  wrong_pin,
  locked,
  exists,
  full,
  weak,
  mismatch,
  error,
  timeout,
  closed,      ///< not registered, and self-registration is off
  wrong_code,  ///< a one-time code did not match
  expired,     ///< no valid one-time code (expired, used, or void after wrong tries)
  count_
};
std::string_view to_string(outcome o);
std::optional<outcome> parse_outcome(std::string_view s);

struct action_def {
  std::string_view name;
  bool list;               ///< produces list items
  std::uint32_t outcomes;  ///< bit per outcome it may report, besides error and timeout
};
/// Every action, in table order: a `switch` over it (with -Wswitch) proves each has a handler.
enum class action_id : std::uint8_t {
#define USSDPAY_MENU_X(id, ...) id,
  USSDPAY_MENU_ACTIONS(USSDPAY_MENU_X)
#undef USSDPAY_MENU_X
      count_
};
constexpr std::uint8_t index(action_id a) {
  return static_cast<std::uint8_t>(a);
}
std::span<const action_def> actions();
std::optional<std::uint8_t> find_action(std::string_view name);
bool action_may(std::uint8_t action, outcome o);

}  // namespace ussdpay::menus
