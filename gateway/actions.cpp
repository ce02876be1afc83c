#include "gateway/actions.hpp"

#include <charconv>
#include <ctime>

#include <boost/asio/post.hpp>

#include "menus/vocabulary.hpp"

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

namespace {

std::uint16_t var(std::string_view name) {
  return *menus::find_var(name);
}
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

std::string today_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[11];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::optional<std::int64_t> number(const std::string* v) {
  if (v == nullptr) return std::nullopt;
  std::int64_t n = 0;
  auto [e, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || e != v->data() + v->size()) return std::nullopt;
  return n;
}

}  // namespace

menu_actions::menu_actions(asio::any_io_executor ex, std::vector<biller_entry>& billers)
    : ex_(std::move(ex)), billers_(billers) {}

void menu_actions::finish(done_fn& done, ussd::action_result r) {
  asio::post(ex_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
}

biller_entry* menu_actions::find(const menus::dialog_state& s) {
  const std::string* id = s.get(var("biller.id"));
  if (id == nullptr) return nullptr;
  for (auto& b : billers_)
    if (b.cfg.info.id == *id) return &b;
  return nullptr;
}

std::string menu_actions::language(std::string_view msisdn) const {
  auto it = languages_.find(std::string(msisdn));
  return it == languages_.end() ? std::string() : it->second;
}

void menu_actions::run(const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string_view name = menus::actions()[call.action].name;
  ussd::action_result r;

  if (name == "billers") {
    const std::string* category = s.get(var("category"));
    for (const auto& b : billers_) {
      if (category == nullptr || b.cfg.info.category != *category) continue;
      menus::list_item item;
      const auto& i = b.cfg.info;
      item.set(field("item.id"), i.id);
      item.set(field("item.name"), i.name);
      item.set(field("item.account_min"), std::to_string(i.account.min_length));
      item.set(field("item.account_max"), std::to_string(i.account.max_length));
      item.set(field("item.account_check"), std::string(check_name(i.account.check)));
      item.set(field("item.exactness"), std::string(exactness_name(i.amount_rule)));
      r.items.push_back(std::move(item));
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
          // Past the due date the late amount is what is due.
          const bool late =
              !bill.due_date.empty() && today_utc() > bill.due_date && bill.amount_after_due > 0;
          const auto due = late ? bill.amount_after_due : bill.amount_due;
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

  if (name == "quote") {
    biller_entry* b = find(s);
    const auto amount = number(s.get(var("amount")));
    if (b == nullptr || !amount || *amount <= 0) return finish(done, std::move(r));
    const auto fee = fee_for(b->cfg, *amount);
    r.result = outcome::ok;
    r.vars = {{var("quote.fee"), std::to_string(fee)},
              {var("quote.total"), std::to_string(*amount + fee)}};
    return finish(done, std::move(r));
  }

  if (name == "set_language") {
    const std::string* code = s.get(var("language"));
    if (code != nullptr && (languages_.size() < max_languages_remembered ||
                            languages_.contains(std::string(call.msisdn))))
      languages_[std::string(call.msisdn)] = *code;
    r.result = outcome::ok;
    return finish(done, std::move(r));
  }

  // Lists kept in the payments store: nothing saved and nothing paid yet.
  if (name == "saved_accounts" || name == "saved_for_biller" || name == "last_payments" ||
      name == "month_totals") {
    r.result = outcome::empty;
    if (name == "month_totals") r.vars = {{var("month.total"), "0"}};
    return finish(done, std::move(r));
  }

  // pay, save_account, remove_account, resend_receipt, report_problem, change_pin: they need the
  // payments store and wallet, which are not part of this build yet.
  r.result = outcome::error;
  return finish(done, std::move(r));
}

}  // namespace ussdpay
