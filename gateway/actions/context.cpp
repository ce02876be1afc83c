// The helpers every handler shares (handlers.hpp).
#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "adapters/biller.hpp"
#include "gateway/actions/handlers.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/sms/texts.hpp"
#include "store/outbox.hpp"

namespace ussdpay::actions {

namespace asio = boost::asio;

namespace {

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

}  // namespace

std::string text_of(const menus::dialog_state& s, var_id v) {
  const std::string* value = s.get(v);
  return value == nullptr ? std::string() : *value;
}

std::optional<std::int64_t> number_of(const menus::dialog_state& s, var_id v) {
  const std::string* value = s.get(v);
  if (value == nullptr) return std::nullopt;
  std::int64_t n = 0;
  auto [e, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || e != value->data() + value->size()) return std::nullopt;
  return n;
}

ussd::action_result only(outcome o) {
  ussd::action_result r;
  r.result = o;
  return r;
}

void finish(context& c, done_fn& done, ussd::action_result r) {
  asio::post(c.ex, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
}

void read(context& c, done_fn done, std::function<ussd::action_result(store::db&)> job) {
  auto h = std::make_shared<done_fn>(std::move(done));
  const auto ex = c.ex;
  if (!c.b.readers.submit([h, ex, job](store::db& d) {
        asio::post(ex, [h, r = job(d)]() mutable { (*h)(std::move(r)); });
      }))
    finish(c, *h, {});
}

void write(context& c, done_fn done, std::function<ussd::action_result(store::db&)> job) {
  auto h = std::make_shared<done_fn>(std::move(done));
  auto out = std::make_shared<ussd::action_result>();
  const auto ex = c.ex;
  if (!c.b.writer.submit(
          [job, out](store::db& d) {
            *out = job(d);
            return out->result != outcome::error;
          },
          [h, out, ex](bool committed, std::optional<store::db_error>) {
            if (!committed) *out = {};
            asio::post(ex, [h, out] { (*h)(std::move(*out)); });
          }))
    finish(c, *h, {});
}

done_fn poke_after_ok(done_fn done, std::function<void()> poke) {
  return [done = std::move(done), poke = std::move(poke)](ussd::action_result out) {
    if (out.result == outcome::ok && poke) poke();
    done(std::move(out));
  };
}

const billers::registry::slot* chosen_biller(const context& c, const menus::dialog_state& s) {
  const std::string* id = s.get(var_id::biller_id);
  return id == nullptr ? nullptr : c.billers.find(*id);
}

menus::list_item biller_item(const adapters::biller_info& i) {
  menus::list_item item;
  item.set(item_field::id, i.id);
  item.set(item_field::name, i.name);
  item.set(item_field::account_min, std::to_string(i.account.min_length));
  item.set(item_field::account_max, std::to_string(i.account.max_length));
  item.set(item_field::account_check, std::string(check_name(i.account.check)));
  item.set(item_field::exactness, std::string(exactness_name(i.amount_rule)));
  return item;
}

lock_notice_fn lock_notice(context& c, const menus::dialog_state& s, const std::string& msisdn) {
  return [&c, cat = s.cat, lang = s.lang, msisdn, code = text_of(s, var_id::service_code),
          phone = text_of(s, var_id::support_phone)](std::uint32_t minutes) {
    const auto now = clock::now_ms();
    auto text = sms::render_locked(cat, lang, minutes, code, phone);
    // One message per lock: the moment it locked names it.
    const auto ref = fmt::format("pin-lock-{}-{}", msisdn, now / 1000);
    const bool queued = c.b.writer.submit(
        [ref, msisdn, text, now](store::db& d) {
          return store::enqueue_message(d, ref, "locked", msisdn, text, now) !=
                 store::enqueue_status::failed;
        },
        [&c, msisdn](bool committed, std::optional<store::db_error> e) {
          if (!committed) {
            spdlog::error("pin: could not queue the locked SMS to {}: {}", msisdn,
                          e ? e->message : "refused");
            return;
          }
          asio::post(c.ex, [&c] {
            if (c.b.message_queued) c.b.message_queued();
          });
        });
    if (!queued) spdlog::error("pin: could not queue the locked SMS to {}: writer busy", msisdn);
  };
}

void show_pin_refusal(ussd::action_result& out, const pin_refusal& p,
                      const lock_notice_fn& notice) {
  if (!p.locked) {
    out.result = outcome::wrong_pin;
    out.vars.push_back(var(var_id::pin_tries_left, std::to_string(p.tries_left)));
    return;
  }
  out.result = outcome::locked;
  out.vars.push_back(var(var_id::pin_locked_minutes, std::to_string(p.locked_minutes)));
  if (p.just_locked && notice) notice(p.locked_minutes);
}

}  // namespace ussdpay::actions
