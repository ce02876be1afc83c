// The "Pay bill" branch up to the bill: the billers of a category, and the bill inquiry.
#include "gateway/actions/handlers.hpp"
#include "gateway/common/clock.hpp"

namespace ussdpay::actions {

void list_billers(context& c, const ussd::action_call& call, done_fn done) {
  const std::string* category = call.state->get(var_id::category);
  ussd::action_result r;
  for (const auto& b : c.billers.all()) {
    if (category == nullptr || b.cfg.info.category != *category) continue;
    r.items.push_back(biller_item(b.cfg.info));
  }
  r.result = r.items.empty() ? outcome::empty : outcome::ok;
  finish(c, done, std::move(r));
}

namespace {

ussd::action_result bill_screen(const adapters::inquiry_result& a, adapters::exactness rule) {
  ussd::action_result out;
  using adapters::inquiry_status;
  switch (a.status) {
    case inquiry_status::found: {
      const auto& bill = a.found;
      // Past the due date (in the local calendar) the late amount is what is due.
      const auto due = adapters::amount_due_on(bill, clock::local_today());
      out.result = outcome::ok;
      out.vars = {var(var_id::bill_name, bill.customer_name), var(var_id::bill_period, bill.period),
                  var(var_id::bill_due_date, bill.due_date),
                  var(var_id::bill_amount, std::to_string(due)),
                  var(var_id::bill_after_due, std::to_string(bill.amount_after_due))};
      using adapters::exactness;
      if (rule == exactness::exact || rule == exactness::at_least)
        out.vars.push_back(var(var_id::bill_min, std::to_string(due)));
      if (rule == exactness::exact || rule == exactness::at_most)
        out.vars.push_back(var(var_id::bill_max, std::to_string(due)));
      break;
    }
    case inquiry_status::already_paid:
      out.result = outcome::paid;
      out.vars = {var(var_id::bill_paid_on, a.found.paid_on)};
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
  return out;
}

}  // namespace

void inquire(context& c, const ussd::action_call& call, done_fn done) {
  const auto* b = chosen_biller(c, *call.state);
  const std::string* account = call.state->get(var_id::account);
  if (b == nullptr || account == nullptr) return finish(c, done, only(outcome::error));
  b->adapter->async_inquire(
      *account, [done = std::move(done), rule = b->cfg.info.amount_rule](
                    adapters::inquiry_result a) mutable { done(bill_screen(a, rule)); });
}

}  // namespace ussdpay::actions
