// The "Pay bill" branch from the amount: the quote (fee, limits, duplicate, balance: the saga's
// one pre-payment check) and the payment with the PIN, both through payments::service.
#include <algorithm>

#include "gateway/actions/handlers.hpp"

namespace ussdpay::actions {

namespace {

/// The saga's answer as the screen shows it. The summary's figures travel with every answer
/// (the duplicate screen leads back to it).
ussd::action_result pay_screen(const payments::pay_answer& a, std::int64_t amount, std::int64_t fee,
                               const lock_notice_fn& locked) {
  ussd::action_result out;
  out.vars = {var(var_id::quote_fee, std::to_string(fee)),
              var(var_id::quote_total, std::to_string(amount + fee))};
  using payments::answer_kind;
  switch (a.kind) {
    case answer_kind::ok:
      out.result = outcome::ok;
      if (!a.ref.empty()) {
        out.vars.push_back(var(var_id::payment_ref, a.ref));
        out.vars.push_back(var(var_id::balance, std::to_string(a.balance)));
      }
      break;
    case answer_kind::pending:
      out.result = outcome::pending;
      out.vars.push_back(var(var_id::payment_ref, a.ref));
      break;
    case answer_kind::rejected:
      out.result = outcome::rejected;
      out.vars.push_back(var(var_id::payment_ref, a.ref));
      break;
    case answer_kind::wrong_pin:
    case answer_kind::locked:
      show_pin_refusal(
          out, {a.kind == answer_kind::locked, a.tries_left, a.locked_minutes, a.just_locked},
          locked);
      break;
    case answer_kind::insufficient:
      out.result = outcome::insufficient;
      out.vars.push_back(var(var_id::balance, std::to_string(a.balance)));
      break;
    case answer_kind::limit:
      out.result = outcome::limit;
      out.vars.push_back(var(var_id::limit_amount, std::to_string(a.limit)));
      break;
    case answer_kind::duplicate:
      out.result = outcome::duplicate;
      out.vars.push_back(var(var_id::dup_ref, a.duplicate_ref));
      out.vars.push_back(var(var_id::dup_minutes,
                             std::to_string(std::min<std::int64_t>(a.duplicate_minutes, 9999))));
      break;
    case answer_kind::too_low:
      out.result = outcome::too_low;
      break;
    case answer_kind::skipped:  // scheduled payments only
    case answer_kind::error:
      out.result = outcome::error;
      break;
  }
  return out;
}

}  // namespace

void quote_or_pay(context& c, const ussd::action_call& call, done_fn done, bool pay) {
  const auto& s = *call.state;
  const auto* b = chosen_biller(c, s);
  const auto amount = number_of(s, var_id::amount);
  if (b == nullptr || !amount || *amount <= 0) return finish(c, done, only(outcome::error));
  const std::string msisdn(call.msisdn);
  payments::pay_request req;
  req.msisdn = msisdn;
  req.biller = b->cfg.info.id;
  req.account = text_of(s, var_id::account);
  req.currency = b->cfg.info.currency;
  req.language = c.subscribers.language(msisdn);
  req.amount = *amount;
  req.fee = billers::fee_for(b->cfg, *amount);
  req.duplicate_confirmed = text_of(s, var_id::confirm_duplicate) == "yes";
  auto answered = [done = std::move(done), fee = req.fee, amount = *amount,
                   locked = lock_notice(c, s, msisdn)](payments::pay_answer a) {
    done(pay_screen(a, amount, fee, locked));
  };
  if (!pay) return c.b.payments.quote(std::move(req), std::move(answered));
  req.pin = text_of(s, var_id::pin);
  c.b.payments.pay(std::move(req), std::move(answered));
}

}  // namespace ussdpay::actions
