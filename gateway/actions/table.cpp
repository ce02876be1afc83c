// run(): the vocabulary's action -> its handler. The switch names every menus::action_id and has
// no default, so -Wswitch (in -Wall, an error under USSDPAY_WERROR) fails the build when the
// vocabulary gains an action without a handler here.
#include "gateway/actions/handlers.hpp"
#include "gateway/common/assert.hpp"

namespace ussdpay::actions {

menu_actions::menu_actions(boost::asio::any_io_executor ex, billers::registry& billers,
                           settings cfg, backends b, subscriber_directory& subscribers)
    : c_{std::move(ex), billers, std::move(cfg), std::move(b), subscribers} {}

void menu_actions::run(const ussd::action_call& call, done_fn done) {
  USSDPAY_ASSERT(call.state != nullptr, "an action runs on a live dialog's state");
  USSDPAY_ASSERT(call.action < menus::index(menus::action_id::count_),
                 "the menus only name actions of the vocabulary (checked when they load)");
  using enum menus::action_id;
  switch (static_cast<menus::action_id>(call.action)) {
    case billers:
      return list_billers(c_, call, std::move(done));
    case inquire:
      return actions::inquire(c_, call, std::move(done));
    case quote:
      return quote_or_pay(c_, call, std::move(done), false);
    case pay:
      return quote_or_pay(c_, call, std::move(done), true);
    case change_pin:
      return actions::change_pin(c_, call, std::move(done));
    case saved_accounts:
      return actions::saved_accounts(c_, call, std::move(done), false);
    case saved_for_biller:
      return actions::saved_accounts(c_, call, std::move(done), true);
    case save_account:
      return actions::save_account(c_, call, std::move(done));
    case remove_account:
      return actions::remove_account(c_, call, std::move(done));
    case set_reminders:
      return actions::set_reminders(c_, call, std::move(done));
    case autopay_on:
      return actions::autopay_on(c_, call, std::move(done));
    case autopay_off:
      return actions::autopay_off(c_, call, std::move(done));
    case last_payments:
      return actions::last_payments(c_, call, std::move(done));
    case month_totals:
      return actions::month_totals(c_, call, std::move(done));
    case resend_receipt:
      return actions::resend_receipt(c_, call, std::move(done));
    case report_problem:
      return actions::report_problem(c_, call, std::move(done));
    case subscriber:
      return actions::subscriber(c_, call, std::move(done));
    case send_code:
      return actions::send_code(c_, call, std::move(done));
    case verify_code:
      return actions::verify_code(c_, call, std::move(done));
    case set_pin:
      return actions::set_pin(c_, call, std::move(done));
    case set_language:
      return actions::set_language(c_, call, std::move(done));
    case count_:
      break;
  }
  USSDPAY_ASSERT(false, "every action of the vocabulary has a handler");
}

}  // namespace ussdpay::actions
