// Inside the actions room: one handler per vocabulary action, grouped by menu branch, and the
// helpers they share. Each handler reads the dialog's variables, does its work through the
// context and calls `done` exactly once, never inline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "gateway/actions/actions.hpp"
#include "menus/vocabulary.hpp"

namespace ussdpay::actions {

using menus::item_field;
using menus::outcome;
using menus::var_id;

// ---- helpers (context.cpp) ---------------------------------------------------------------------

/// A variable's value for an action_result.
inline std::pair<std::uint16_t, std::string> var(var_id v, std::string value) {
  return {menus::index(v), std::move(value)};
}
/// A variable of the dialog, "" when unset.
std::string text_of(const menus::dialog_state& s, var_id v);
/// A variable of the dialog as a whole number, nullopt when unset or not one.
std::optional<std::int64_t> number_of(const menus::dialog_state& s, var_id v);
ussd::action_result only(outcome o);

/// Posts `r` to `done` (never inline).
void finish(context& c, done_fn& done, ussd::action_result r);
/// A store read on the reader pool; the result goes back to the network thread.
void read(context& c, done_fn done, std::function<ussd::action_result(store::db&)> job);
/// A store write on the group writer, durable before the answer (error when it did not commit).
void write(context& c, done_fn done, std::function<ussd::action_result(store::db&)> job);
/// A store read on the reader pool (`fetch`) whose rows are shown on the network thread
/// (`show`): whatever reads the biller registry runs there, never beside a SIGHUP's swap.
template <class Rows>
void read_then(context& c, done_fn done, std::function<Rows(store::db&)> fetch,
               std::function<ussd::action_result(const Rows&)> show) {
  auto rows = std::make_shared<Rows>();
  read(
      c,
      [done = std::move(done), rows, show = std::move(show)](ussd::action_result r) {
        if (r.result != outcome::ok) return done(std::move(r));
        done(show(*rows));
      },
      [rows, fetch = std::move(fetch)](store::db& d) {
        *rows = fetch(d);
        return only(outcome::ok);
      });
}
/// Calls `poke` (when set) after an ok result, then `done`.
done_fn poke_after_ok(done_fn done, std::function<void()> poke);

/// The biller the dialog chose (var_id::biller_id), nullptr when none or not configured.
const billers::registry::slot* chosen_biller(const context& c, const menus::dialog_state& s);
/// A biller as a list item: what the menus copy into biller.* when it is chosen.
menus::list_item biller_item(const adapters::biller_info& i);

/// What to do when a wrong PIN has just locked the PIN: queue the "locked" SMS in the dialog's
/// language (captured now: the dialog may be gone when the answer comes).
using lock_notice_fn = std::function<void(std::uint32_t minutes)>;
lock_notice_fn lock_notice(context& c, const menus::dialog_state& s, const std::string& msisdn);
/// A PIN the wallet refused, as the screen shows it: wrong_pin with the tries left, or locked
/// with the minutes (and the "locked" SMS queued when this very PIN locked it). The one mapping
/// for paying, changing the PIN and consenting to auto-pay.
struct pin_refusal {
  bool locked = false;  ///< false: a wrong PIN, not locked yet
  std::uint32_t tries_left = 0, locked_minutes = 0;
  bool just_locked = false;
};
void show_pin_refusal(ussd::action_result& out, const pin_refusal& p, const lock_notice_fn& notice);

// ---- handlers, by menu branch ------------------------------------------------------------------

// bills.cpp: the biller lists and the bill inquiry.
void list_billers(context& c, const ussd::action_call& call, done_fn done);
void inquire(context& c, const ussd::action_call& call, done_fn done);
// pay.cpp: the quote (fee, limits, duplicate, balance) and the payment through the saga.
void quote_or_pay(context& c, const ussd::action_call& call, done_fn done, bool pay);
// pin.cpp: changing the PIN.
void change_pin(context& c, const ussd::action_call& call, done_fn done);
// accounts.cpp: saved accounts, reminders and auto-pay.
void saved_accounts(context& c, const ussd::action_call& call, done_fn done, bool for_biller);
void save_account(context& c, const ussd::action_call& call, done_fn done);
void remove_account(context& c, const ussd::action_call& call, done_fn done);
void set_reminders(context& c, const ussd::action_call& call, done_fn done);
void autopay_on(context& c, const ussd::action_call& call, done_fn done);
void autopay_off(context& c, const ussd::action_call& call, done_fn done);
// history.cpp: the last payments, this month's totals, a receipt again, a complaint.
void last_payments(context& c, const ussd::action_call& call, done_fn done);
void month_totals(context& c, const ussd::action_call& call, done_fn done);
void resend_receipt(context& c, const ussd::action_call& call, done_fn done);
void report_problem(context& c, const ussd::action_call& call, done_fn done);
// enrolment.cpp: who is dialing, one-time codes, setting a PIN, the language.
void subscriber(context& c, const ussd::action_call& call, done_fn done);
void send_code(context& c, const ussd::action_call& call, done_fn done);
void verify_code(context& c, const ussd::action_call& call, done_fn done);
void set_pin(context& c, const ussd::action_call& call, done_fn done);
void set_language(context& c, const ussd::action_call& call, done_fn done);

}  // namespace ussdpay::actions
