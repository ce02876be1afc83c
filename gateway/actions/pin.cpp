// "My PIN": changing the PIN through the wallet (the old PIN checked, the new one hashed there).
#include "adapters/pin.hpp"
#include "gateway/actions/handlers.hpp"

namespace ussdpay::actions {

void change_pin(context& c, const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  std::string old_pin = text_of(s, var_id::pin), new_pin = text_of(s, var_id::pin_new),
              confirm = text_of(s, var_id::pin_confirm);
  outcome refuse = outcome::ok;
  if (new_pin != confirm)
    refuse = outcome::mismatch;
  else if (!adapters::pin_format_ok(new_pin) || adapters::weak_pin(new_pin))
    refuse = outcome::weak;
  adapters::wipe(confirm);
  if (refuse != outcome::ok) {
    adapters::wipe(old_pin);
    adapters::wipe(new_pin);
    return finish(c, done, only(refuse));
  }
  auto answered = [done = std::move(done),
                   locked = lock_notice(c, s, msisdn)](adapters::auth_result a) {
    ussd::action_result out;
    using adapters::auth_status;
    switch (a.status) {
      case auth_status::ok:
        out.result = outcome::ok;
        break;
      case auth_status::wrong_pin:
      case auth_status::locked:
        show_pin_refusal(
            out, {a.status == auth_status::locked, a.tries_left, a.locked_minutes, a.just_locked},
            locked);
        break;
      default:
        out.result = outcome::error;
    }
    done(std::move(out));
  };
  c.b.wallet.async_change_pin(msisdn, std::move(old_pin), std::move(new_pin), std::move(answered));
}

}  // namespace ussdpay::actions
