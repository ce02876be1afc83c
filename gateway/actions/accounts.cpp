// "Saved accounts": the list, saving and removing a consumer number, bill reminders and the
// auto-pay consent (the scheduler, gateway/schedule/, acts on them).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/pin.hpp"
#include "gateway/actions/handlers.hpp"
#include "gateway/common/clock.hpp"
#include "store/accounts.hpp"
#include "store/outbox.hpp"

namespace ussdpay::actions {

namespace {

ussd::action_result saved_list(const context& c, const std::vector<store::saved_account>& saved) {
  ussd::action_result r;
  for (const auto& a : saved) {
    const auto* b = c.billers.find(a.biller);
    if (b == nullptr) continue;  // a biller no longer configured
    menus::list_item item = biller_item(b->cfg.info);
    item.set(item_field::label, a.label);
    item.set(item_field::account, a.account);
    item.set(item_field::remind, a.reminders ? "on" : "off");
    item.set(item_field::autopay, a.autopay_max > 0 ? "on" : "off");
    if (a.autopay_max > 0) item.set(item_field::autopay_max, std::to_string(a.autopay_max));
    r.items.push_back(std::move(item));
  }
  r.result = r.items.empty() ? outcome::empty : outcome::ok;
  return r;
}

/// After a committed switch the scheduler looks at the account now.
done_fn schedule_after(const context& c, done_fn done) {
  return poke_after_ok(std::move(done), c.b.schedule_changed);
}

}  // namespace

void saved_accounts(context& c, const ussd::action_call& call, done_fn done, bool for_biller) {
  const std::string msisdn(call.msisdn);
  const std::string biller = for_biller ? text_of(*call.state, var_id::biller_id) : "";
  read_then<std::vector<store::saved_account>>(
      c, std::move(done),
      [msisdn, biller](store::db& d) { return store::saved_accounts(d, msisdn, biller); },
      [&c](const std::vector<store::saved_account>& saved) { return saved_list(c, saved); });
}

void save_account(context& c, const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  store::saved_account a{text_of(s, var_id::biller_id), text_of(s, var_id::account),
                         text_of(s, var_id::account_label)};
  if (a.biller.empty() || a.account.empty() || a.label.empty())
    return finish(c, done, only(outcome::error));
  write(c, std::move(done), [msisdn, a, max = c.cfg.max_saved](store::db& d) {
    switch (store::save_account(d, msisdn, a, max, clock::now_ms())) {
      case store::save_status::saved:
        return ussd::action_result{outcome::ok, {var(var_id::account_saved, "yes")}, {}};
      case store::save_status::exists:
        return only(outcome::exists);
      case store::save_status::full:
        return only(outcome::full);
      case store::save_status::failed:
        break;
    }
    return only(outcome::error);
  });
}

void remove_account(context& c, const ussd::action_call& call, done_fn done) {
  const std::string msisdn(call.msisdn);
  const std::string biller = text_of(*call.state, var_id::biller_id),
                    account = text_of(*call.state, var_id::account);
  write(c, std::move(done), [msisdn, biller, account](store::db& d) {
    return only(store::remove_saved_account(d, msisdn, biller, account) ? outcome::ok
                                                                        : outcome::error);
  });
}

void set_reminders(context& c, const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  const std::string biller = text_of(s, var_id::biller_id), account = text_of(s, var_id::account);
  const bool on = text_of(s, var_id::account_remind) == "on";
  write(c, schedule_after(c, std::move(done)), [msisdn, biller, account, on](store::db& d) {
    return only(store::set_reminders(d, msisdn, biller, account, on) ? outcome::ok
                                                                     : outcome::not_found);
  });
}

void autopay_off(context& c, const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  const std::string biller = text_of(s, var_id::biller_id), account = text_of(s, var_id::account);
  write(c, schedule_after(c, std::move(done)), [msisdn, biller, account](store::db& d) {
    return only(store::clear_autopay(d, msisdn, biller, account) ? outcome::ok
                                                                 : outcome::not_found);
  });
}

// The consent: the PIN once (counted toward the lockout like any PIN), then the maximum is kept
// and the subscriber told by SMS, in one transaction. The PIN itself is never kept.
void autopay_on(context& c, const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  const std::string biller = text_of(s, var_id::biller_id), account = text_of(s, var_id::account);
  done_fn changed = schedule_after(c, std::move(done));
  const auto max = number_of(s, var_id::autopay_max);
  const auto* b = c.billers.find(biller);
  std::string pin = text_of(s, var_id::pin);
  if (b == nullptr || !max || *max <= 0 || account.empty()) {
    adapters::wipe(pin);
    return finish(c, changed, only(outcome::error));
  }
  sms::bill_notice n;
  n.language = c.subscribers.language(msisdn);
  n.biller = biller;
  n.account = account;
  n.label = text_of(s, var_id::account_label);
  n.currency = b->cfg.info.currency;
  n.autopay_max = *max;
  n.autopay_days = c.cfg.autopay_days;
  n.shortcut = c.cfg.shortcut;
  const std::string text = c.b.render_notice ? c.b.render_notice("autopay_on", n) : std::string();
  auto authorized = [&c, msisdn, biller, account, max = *max, currency = n.currency, text,
                     changed = std::move(changed),
                     locked = lock_notice(c, s, msisdn)](adapters::auth_result a) mutable {
    using adapters::auth_status;
    if (a.status == auth_status::wrong_pin || a.status == auth_status::locked) {
      ussd::action_result out;
      show_pin_refusal(
          out, {a.status == auth_status::locked, a.tries_left, a.locked_minutes, a.just_locked},
          locked);
      return changed(std::move(out));
    }
    if (a.status != auth_status::ok) return changed(only(outcome::error));
    write(c, poke_after_ok(std::move(changed), c.b.message_queued),
          [msisdn, biller, account, max, currency, text](store::db& d) {
            const auto now = clock::now_ms();
            if (!store::set_autopay(d, msisdn, biller, account, max, currency, now))
              return only(outcome::not_found);
            const auto ref = fmt::format("autopay-on-{}-{}-{}-{}", msisdn, biller, account, now);
            if (!text.empty() && store::enqueue_message(d, ref, "autopay_on", msisdn, text, now) ==
                                     store::enqueue_status::failed)
              return only(outcome::error);
            spdlog::info("schedule: auto-pay on for {} {} {}, up to {}", msisdn, biller, account,
                         max);
            return only(outcome::ok);
          });
  };
  c.b.wallet.async_authorize(msisdn, std::move(pin), std::move(authorized));
  adapters::wipe(pin);
}

}  // namespace ussdpay::actions
