#include "gateway/actions.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "adapters/pin.hpp"
#include "gateway/sms/receipts.hpp"
#include "menus/vocabulary.hpp"
#include "store/bills.hpp"
#include "store/readers.hpp"
#include "store/writer.hpp"

namespace ussdpay {

namespace asio = boost::asio;
using menus::outcome;

adapters::minor_units fee_for(const biller_config& b, adapters::minor_units amount) {
  // Percent in integer arithmetic: basis points, rounded half up.
  const auto bp = static_cast<std::int64_t>(b.fee_percent * 100 + 0.5);
  adapters::minor_units fee = b.fee_flat + (amount * bp + 5000) / 10000;
  if (b.fee_cap > 0 && fee > b.fee_cap) fee = b.fee_cap;
  return fee;
}

namespace action_helpers {

std::uint16_t var(std::string_view name) {
  return *menus::find_var(name);
}

std::string text_of(const menus::dialog_state& s, std::string_view name) {
  const std::string* v = s.get(var(name));
  return v == nullptr ? std::string() : *v;
}

ussd::action_result only(menus::outcome o) {
  ussd::action_result r;
  r.result = o;
  return r;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace action_helpers

using namespace action_helpers;

namespace {

std::uint16_t field(std::string_view name) {
  return *menus::find_item_field(name);
}

std::string_view exactness_name(adapters::exactness e) {
  switch (e) {
    case adapters::exactness::exact:
      return "exact";
    case adapters::exactness::at_least:
      return "at_least";
    case adapters::exactness::at_most:
      return "at_most";
    case adapters::exactness::any:
      return "any";
  }
  return "exact";
}

std::string_view check_name(adapters::check_digit c) {
  switch (c) {
    case adapters::check_digit::none:
      return "none";
    case adapters::check_digit::luhn:
      return "luhn";
    case adapters::check_digit::mod11:
      return "mod11";
  }
  return "none";
}

std::optional<std::int64_t> number(const std::string* v) {
  if (v == nullptr) return std::nullopt;
  std::int64_t n = 0;
  auto [e, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || e != v->data() + v->size()) return std::nullopt;
  return n;
}

}  // namespace

menu_actions::menu_actions(asio::any_io_executor ex, std::vector<biller_entry>& billers,
                           const config& cfg, action_backends backends)
    : ex_(std::move(ex)),
      billers_(billers),
      currency_(cfg.ussd.currency),
      max_saved_(cfg.max_saved_accounts),
      b_(std::move(backends)),
      registration_(cfg.registration),
      schedule_(cfg.schedule),
      pepper_(cfg.pin.pepper) {}

void menu_actions::finish(done_fn& done, ussd::action_result r) {
  asio::post(ex_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
}

biller_entry* menu_actions::find(std::string_view id) {
  for (auto& b : billers_)
    if (b.cfg.info.id == id) return &b;
  return nullptr;
}

biller_entry* menu_actions::find(const menus::dialog_state& s) {
  const std::string* id = s.get(var("biller.id"));
  return id == nullptr ? nullptr : find(*id);
}

// The dialogs' own key for a number (digits and length): one map entry per subscriber.
using ussd::msisdn_key;

std::string menu_actions::language(std::string_view msisdn) const {
  const auto k = msisdn_key(msisdn);
  if (!k) return {};
  auto it = subscribers_.find(*k);
  if (it == subscribers_.end() || it->second[0] == 0) return {};
  return std::string(it->second.data(), 2);
}

bool menu_actions::known(std::string_view msisdn) const {
  const auto k = msisdn_key(msisdn);
  return k && subscribers_.contains(*k);
}

std::optional<menu_actions::remembered> menu_actions::entry(std::string_view msisdn,
                                                            std::string_view language) {
  const auto k = msisdn_key(msisdn);
  if (!k) return std::nullopt;
  std::array<char, 2> code{};
  if (language.size() == 2) code = {language[0], language[1]};
  return remembered{*k, code};
}

void menu_actions::remember_subscriber(std::string_view msisdn, std::string_view language) {
  const auto e = entry(msisdn, language);
  if (e && (subscribers_.size() < max_subscribers_remembered || subscribers_.contains(e->first)))
    subscribers_[e->first] = e->second;
}

void menu_actions::remember_subscribers(const std::vector<remembered>& all) {
  subscribers_.reserve(std::min(all.size(), max_subscribers_remembered));
  for (const auto& [key, language] : all)
    if (subscribers_.size() < max_subscribers_remembered || subscribers_.contains(key))
      subscribers_[key] = language;
}

// A store read on the reader pool; the result goes back to the network thread.
void menu_actions::read(done_fn done, std::function<ussd::action_result(store::db&)> job) {
  auto h = std::make_shared<done_fn>(std::move(done));
  const auto ex = ex_;
  if (!b_.readers.submit([h, ex, job](store::db& d) {
        asio::post(ex, [h, r = job(d)]() mutable { (*h)(std::move(r)); });
      }))
    finish(*h, {});
}

// A store write on the group writer (durable before the answer).
void menu_actions::write(done_fn done, std::function<ussd::action_result(store::db&)> job) {
  auto h = std::make_shared<done_fn>(std::move(done));
  auto out = std::make_shared<ussd::action_result>();
  const auto ex = ex_;
  if (!b_.writer.submit(
          [job, out](store::db& d) {
            *out = job(d);
            return out->result != outcome::error;
          },
          [h, out, ex](bool committed, std::optional<store::db_error>) {
            if (!committed) *out = {};
            asio::post(ex, [h, out] { (*h)(std::move(*out)); });
          }))
    finish(*h, {});
}

namespace {

std::string_view status_name(store::payment_state s) {
  using enum store::payment_state;
  switch (s) {
    case committed:
    case completed:
      return "completed";
    case failed:
      return "failed";
    case reversed:
      return "refunded";
    case manual_review:
      return "review";
    case created:
    case unknown:
      return "pending";
  }
  return "pending";
}

// A biller as a list item: what the menus copy into biller.* when it is chosen.
menus::list_item biller_item(const adapters::biller_info& i) {
  menus::list_item item;
  item.set(field("item.id"), i.id);
  item.set(field("item.name"), i.name);
  item.set(field("item.account_min"), std::to_string(i.account.min_length));
  item.set(field("item.account_max"), std::to_string(i.account.max_length));
  item.set(field("item.account_check"), std::string(check_name(i.account.check)));
  item.set(field("item.exactness"), std::string(exactness_name(i.amount_rule)));
  return item;
}

// Midnight on the first of this month (the daemon's time zone), Unix ms.
std::int64_t month_start_ms() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  tm.tm_mday = 1;
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
}

}  // namespace

void menu_actions::items_of_saved(ussd::action_result& r,
                                  const std::vector<store::saved_account>& saved) {
  for (const auto& a : saved) {
    const biller_entry* b = find(a.biller);
    if (b == nullptr) continue;  // a biller no longer configured
    menus::list_item item = biller_item(b->cfg.info);
    item.set(field("item.label"), a.label);
    item.set(field("item.account"), a.account);
    item.set(field("item.remind"), a.reminders ? "on" : "off");
    item.set(field("item.autopay"), a.autopay_max > 0 ? "on" : "off");
    if (a.autopay_max > 0) item.set(field("item.autopay_max"), std::to_string(a.autopay_max));
    r.items.push_back(std::move(item));
  }
  r.result = r.items.empty() ? outcome::empty : outcome::ok;
}

std::function<void(std::uint32_t)> menu_actions::lock_notice(const menus::dialog_state& s,
                                                             const std::string& msisdn) {
  return [this, cat = s.cat, lang = s.lang, msisdn, code = text_of(s, "service.code"),
          phone = text_of(s, "support.phone")](std::uint32_t minutes) {
    const auto now = now_ms();
    auto text = sms::render_locked(cat, lang, minutes, code, phone);
    // One message per lock: the moment it locked names it.
    const auto ref = fmt::format("pin-lock-{}-{}", msisdn, now / 1000);
    const bool queued = b_.writer.submit(
        [ref, msisdn, text, now](store::db& d) {
          return store::enqueue_message(d, ref, "locked", msisdn, text, now) !=
                 store::enqueue_status::failed;
        },
        [this, msisdn](bool committed, std::optional<store::db_error> e) {
          if (!committed) {
            spdlog::error("pin: could not queue the locked SMS to {}: {}", msisdn,
                          e ? e->message : "refused");
            return;
          }
          asio::post(ex_, [this] {
            if (b_.message_queued) b_.message_queued();
          });
        });
    if (!queued) spdlog::error("pin: could not queue the locked SMS to {}: writer busy", msisdn);
  };
}

void menu_actions::run(const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string_view name = menus::actions()[call.action].name;
  const std::string msisdn(call.msisdn);
  ussd::action_result r;
  if (run_enrolment(name, call, done)) return;
  if (run_schedule(name, call, done)) return;

  if (name == "billers") {
    const std::string* category = s.get(var("category"));
    for (const auto& b : billers_) {
      if (category == nullptr || b.cfg.info.category != *category) continue;
      r.items.push_back(biller_item(b.cfg.info));
    }
    r.result = r.items.empty() ? outcome::empty : outcome::ok;
    return finish(done, std::move(r));
  }

  if (name == "inquire") {
    biller_entry* b = find(s);
    const std::string* account = s.get(var("account"));
    if (b == nullptr || account == nullptr) return finish(done, std::move(r));  // error
    const auto rule = b->cfg.info.amount_rule;
    auto on_answer = [done = std::move(done), rule](adapters::inquiry_result a) mutable {
      ussd::action_result out;
      using adapters::inquiry_status;
      switch (a.status) {
        case inquiry_status::found: {
          const auto& bill = a.found;
          // Past the due date (in the local calendar) the late amount is what is due.
          const auto due = adapters::amount_due_on(bill, adapters::local_today());
          out.result = outcome::ok;
          out.vars = {{var("bill.name"), bill.customer_name},
                      {var("bill.period"), bill.period},
                      {var("bill.due_date"), bill.due_date},
                      {var("bill.amount"), std::to_string(due)},
                      {var("bill.after_due"), std::to_string(bill.amount_after_due)}};
          using adapters::exactness;
          if (rule == exactness::exact || rule == exactness::at_least)
            out.vars.emplace_back(var("bill.min"), std::to_string(due));
          if (rule == exactness::exact || rule == exactness::at_most)
            out.vars.emplace_back(var("bill.max"), std::to_string(due));
          break;
        }
        case inquiry_status::already_paid:
          out.result = outcome::paid;
          out.vars = {{var("bill.paid_on"), a.found.paid_on}};
          break;
        case inquiry_status::not_found:
          out.result = outcome::not_found;
          break;
        case inquiry_status::invalid:
          out.result = outcome::invalid;
          break;
        case inquiry_status::unavailable:
          out.result = outcome::error;
          break;
      }
      done(std::move(out));
    };
    b->adapter->async_inquire(*account, std::move(on_answer));
    return;
  }

  if (name == "quote" || name == "pay") {
    biller_entry* b = find(s);
    const auto amount = number(s.get(var("amount")));
    if (b == nullptr || !amount || *amount <= 0) return finish(done, std::move(r));
    payments::pay_request req;
    req.msisdn = msisdn;
    req.biller = b->cfg.info.id;
    req.account = text_of(s, "account");
    req.currency = b->cfg.info.currency;
    req.language = language(msisdn);
    req.amount = *amount;
    req.fee = fee_for(b->cfg, *amount);
    req.duplicate_confirmed = text_of(s, "confirm.duplicate") == "yes";
    const auto fee = req.fee;
    auto answered = [done = std::move(done), fee, amount = *amount,
                     locked = lock_notice(s, msisdn)](payments::pay_answer a) {
      ussd::action_result out;
      using payments::answer_kind;
      // The summary's figures travel with every answer (the duplicate screen leads to it).
      out.vars = {{var("quote.fee"), std::to_string(fee)},
                  {var("quote.total"), std::to_string(amount + fee)}};
      switch (a.kind) {
        case answer_kind::ok:
          out.result = outcome::ok;
          if (!a.ref.empty()) {
            out.vars.emplace_back(var("payment.ref"), a.ref);
            out.vars.emplace_back(var("balance"), std::to_string(a.balance));
          }
          break;
        case answer_kind::pending:
          out.result = outcome::pending;
          out.vars.emplace_back(var("payment.ref"), a.ref);
          break;
        case answer_kind::rejected:
          out.result = outcome::rejected;
          out.vars.emplace_back(var("payment.ref"), a.ref);
          break;
        case answer_kind::wrong_pin:
          out.result = outcome::wrong_pin;
          out.vars.emplace_back(var("pin.tries_left"), std::to_string(a.tries_left));
          break;
        case answer_kind::locked:
          out.result = outcome::locked;
          out.vars.emplace_back(var("pin.locked_minutes"), std::to_string(a.locked_minutes));
          if (a.just_locked) locked(a.locked_minutes);
          break;
        case answer_kind::insufficient:
          out.result = outcome::insufficient;
          out.vars.emplace_back(var("balance"), std::to_string(a.balance));
          break;
        case answer_kind::limit:
          out.result = outcome::limit;
          out.vars.emplace_back(var("limit.amount"), std::to_string(a.limit));
          break;
        case answer_kind::duplicate:
          out.result = outcome::duplicate;
          out.vars.emplace_back(var("dup.ref"), a.duplicate_ref);
          out.vars.emplace_back(var("dup.minutes"),
                                std::to_string(std::min<std::int64_t>(a.duplicate_minutes, 9999)));
          break;
        case answer_kind::too_low:
          out.result = outcome::too_low;
          break;
        case answer_kind::skipped:  // scheduled payments only
        case answer_kind::error:
          out.result = outcome::error;
          break;
      }
      done(std::move(out));
    };
    if (name == "quote") return b_.payments.quote(std::move(req), std::move(answered));
    req.pin = text_of(s, "pin");
    return b_.payments.pay(std::move(req), std::move(answered));
  }

  if (name == "set_language") {
    const std::string code = text_of(s, "language");
    if (code.empty()) return finish(done, std::move(r));
    remember_subscriber(msisdn, code);
    return write(std::move(done), [msisdn, code](store::db& d) {
      store::stmt u(d, "UPDATE subscribers SET language = ? WHERE msisdn = ?");
      return only(u.bind(1, code).bind(2, msisdn).run() ? outcome::error : outcome::ok);
    });
  }

  if (name == "change_pin") {
    std::string old_pin = text_of(s, "pin"), new_pin = text_of(s, "pin.new"),
                confirm = text_of(s, "pin.confirm");
    if (new_pin != confirm)
      r.result = outcome::mismatch;
    else if (!adapters::pin_format_ok(new_pin) || adapters::weak_pin(new_pin))
      r.result = outcome::weak;
    if (r.result == outcome::mismatch || r.result == outcome::weak) {
      adapters::wipe(old_pin);
      adapters::wipe(new_pin);
      adapters::wipe(confirm);
      return finish(done, std::move(r));
    }
    adapters::wipe(confirm);
    auto answered = [done = std::move(done),
                     locked = lock_notice(s, msisdn)](adapters::auth_result a) {
      ussd::action_result out;
      using adapters::auth_status;
      switch (a.status) {
        case auth_status::ok:
          out.result = outcome::ok;
          break;
        case auth_status::wrong_pin:
          out.result = outcome::wrong_pin;
          out.vars = {{var("pin.tries_left"), std::to_string(a.tries_left)}};
          break;
        case auth_status::locked:
          out.result = outcome::locked;
          out.vars = {{var("pin.locked_minutes"), std::to_string(a.locked_minutes)}};
          if (a.just_locked) locked(a.locked_minutes);
          break;
        default:
          out.result = outcome::error;
      }
      done(std::move(out));
    };
    b_.wallet.async_change_pin(msisdn, std::move(old_pin), std::move(new_pin), std::move(answered));
    return;
  }

  if (name == "saved_accounts" || name == "saved_for_biller") {
    const std::string biller = name == "saved_for_biller" ? text_of(s, "biller.id") : "";
    return read(std::move(done), [this, msisdn, biller](store::db& d) {
      // The billers table is immutable while the daemon runs: safe to read here.
      ussd::action_result out;
      items_of_saved(out, store::saved_accounts(d, msisdn, biller));
      return out;
    });
  }

  if (name == "save_account") {
    store::saved_account a{text_of(s, "biller.id"), text_of(s, "account"),
                           text_of(s, "account.label")};
    if (a.biller.empty() || a.account.empty() || a.label.empty()) return finish(done, std::move(r));
    const auto max = max_saved_;
    return write(std::move(done), [msisdn, a, max](store::db& d) {
      switch (store::save_account(d, msisdn, a, max, now_ms())) {
        case store::save_status::saved:
          return ussd::action_result{outcome::ok, {{var("account.saved"), "yes"}}, {}};
        case store::save_status::exists:
          return only(outcome::exists);
        case store::save_status::full:
          return only(outcome::full);
        case store::save_status::failed:
          break;
      }
      return ussd::action_result{};
    });
  }

  if (name == "remove_account") {
    const std::string biller = text_of(s, "biller.id"), account = text_of(s, "account");
    return write(std::move(done), [msisdn, biller, account](store::db& d) {
      return only(store::remove_saved_account(d, msisdn, biller, account) ? outcome::ok
                                                                          : outcome::error);
    });
  }

  if (name == "last_payments") {
    return read(std::move(done), [this, msisdn](store::db& d) {
      ussd::action_result out;
      for (const auto& p : store::recent_payments(d, msisdn, 5)) {
        const biller_entry* b = find(p.biller);
        menus::list_item item;
        item.set(field("item.ref"), p.ref);
        item.set(field("item.name"), b ? b->cfg.info.name : p.biller);
        item.set(field("item.account"), p.account);
        item.set(field("item.amount"), std::to_string(p.amount));
        item.set(field("item.date"), adapters::local_date(p.created_at));
        item.set(field("item.status"), std::string(status_name(p.state)));
        out.items.push_back(std::move(item));
      }
      out.result = out.items.empty() ? outcome::empty : outcome::ok;
      return out;
    });
  }

  if (name == "month_totals") {
    return read(std::move(done), [this, msisdn](store::db& d) {
      ussd::action_result out;
      std::int64_t total = 0;
      for (const auto& [biller, amount] : store::totals_by_biller(d, msisdn, month_start_ms())) {
        const biller_entry* b = find(biller);
        menus::list_item item;
        item.set(field("item.name"), b ? b->cfg.info.name : biller);
        item.set(field("item.amount"), std::to_string(amount));
        out.items.push_back(std::move(item));
        total += amount;
      }
      out.vars = {{var("month.total"), std::to_string(total)}};
      out.result = out.items.empty() ? outcome::empty : outcome::ok;
      return out;
    });
  }

  if (name == "resend_receipt") {
    const std::string ref = text_of(s, "payment.ref");
    auto poke = b_.message_queued;
    return write(
        [done = std::move(done), poke](ussd::action_result out) {
          if (out.result == outcome::ok && poke) poke();
          done(std::move(out));
        },
        [msisdn, ref](store::db& d) {
          // Rebuilt from the store (never by asking the biller again), at most 3 copies.
          return only(store::requeue_message(d, ref, msisdn, now_ms(), 3) ? outcome::ok
                                                                          : outcome::not_found);
        });
  }

  if (name == "report_problem") {
    const std::string ref = text_of(s, "payment.ref");
    const std::string ticket = payments::new_reference();
    return write(std::move(done), [msisdn, ref, ticket](store::db& d) {
      auto t = store::open_complaint(d, ref, msisdn, ticket, now_ms());
      if (!t) return only(outcome::not_found);
      return ussd::action_result{outcome::ok, {{var("ticket.ref"), *t}}, {}};
    });
  }

  return finish(done, std::move(r));  // an action this build does not know: error
}

bool menu_actions::run_schedule(std::string_view name, const ussd::action_call& call,
                                done_fn& done) {
  if (name != "set_reminders" && name != "autopay_on" && name != "autopay_off") return false;
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  const std::string biller = text_of(s, "biller.id"), account = text_of(s, "account");
  // After a committed switch: the scheduler looks at the account now.
  done_fn changed = [done = std::move(done), poke = b_.schedule_changed](ussd::action_result out) {
    if (out.result == outcome::ok && poke) poke();
    done(std::move(out));
  };

  if (name == "set_reminders") {
    const bool on = text_of(s, "account.remind") == "on";
    write(std::move(changed), [msisdn, biller, account, on](store::db& d) {
      return only(store::set_reminders(d, msisdn, biller, account, on) ? outcome::ok
                                                                       : outcome::not_found);
    });
    return true;
  }

  if (name == "autopay_off") {
    write(std::move(changed), [msisdn, biller, account](store::db& d) {
      return only(store::clear_autopay(d, msisdn, biller, account) ? outcome::ok
                                                                   : outcome::not_found);
    });
    return true;
  }

  // autopay_on. The consent: the PIN once (counted toward the lockout like any PIN), then the
  // maximum is kept and the subscriber told by SMS, in one transaction. The PIN itself is never
  // kept.
  const auto max = number(s.get(var("autopay.max")));
  const biller_entry* b = find(biller);
  std::string pin = text_of(s, "pin");
  if (b == nullptr || !max || *max <= 0 || account.empty()) {
    adapters::wipe(pin);
    finish(changed, only(outcome::error));
    return true;
  }
  sms::bill_notice n;
  n.language = language(msisdn);
  n.biller = biller;
  n.account = account;
  n.label = text_of(s, "account.label");
  n.currency = b->cfg.info.currency;
  n.autopay_max = *max;
  n.autopay_days = schedule_.autopay_days;
  n.shortcut = schedule_.shortcut;
  const std::string text = b_.render_notice ? b_.render_notice("autopay_on", n) : std::string();
  auto authorized = [this, msisdn, biller, account, max = *max, currency = n.currency, text,
                     changed = std::move(changed),
                     locked = lock_notice(s, msisdn)](adapters::auth_result a) mutable {
    using adapters::auth_status;
    if (a.status == auth_status::wrong_pin)
      return changed(ussd::action_result{
          outcome::wrong_pin, {{var("pin.tries_left"), std::to_string(a.tries_left)}}, {}});
    if (a.status == auth_status::locked) {
      if (a.just_locked) locked(a.locked_minutes);
      return changed(ussd::action_result{
          outcome::locked, {{var("pin.locked_minutes"), std::to_string(a.locked_minutes)}}, {}});
    }
    if (a.status != auth_status::ok) return changed(only(outcome::error));
    auto poke = b_.message_queued;
    write(
        [changed = std::move(changed), poke](ussd::action_result out) mutable {
          if (out.result == outcome::ok && poke) poke();
          changed(std::move(out));
        },
        [msisdn, biller, account, max, currency, text](store::db& d) {
          const auto now = now_ms();
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
  b_.wallet.async_authorize(msisdn, std::move(pin), std::move(authorized));
  adapters::wipe(pin);
  return true;
}

}  // namespace ussdpay
