// What the menus' actions do in this daemon: biller lists and inquiries through the biller
// adapters (bills.cpp), quotes and payments through the payment saga (pay.cpp), PIN changes
// through the wallet (pin.cpp), saved accounts with reminders and auto-pay (accounts.cpp),
// payment history, receipts resent from the store and complaints (history.cpp), registration,
// PIN reset and the language (enrolment.cpp). run() dispatches by menus::action_id (table.cpp):
// a switch the compiler checks covers every action of the vocabulary.
//
// run() never completes inline: results are posted to the executor, as ussd::dialogs expects.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/wallet.hpp"
#include "gateway/actions/config.hpp"
#include "gateway/actions/subscribers.hpp"
#include "gateway/billers/registry.hpp"
#include "gateway/payments/service.hpp"
#include "gateway/sms/texts.hpp"
#include "gateway/ussd/dialogs.hpp"
#include "store/readers.hpp"
#include "store/writer.hpp"

namespace ussdpay::actions {

/// What the actions need besides the billers: the store, the wallet, the payment saga, and the
/// daemon's other parts as callbacks.
struct backends {
  store::group_writer& writer;
  store::reader_pool& readers;
  adapters::wallet& wallet;
  payments::service& payments;
  std::function<void()> message_queued;  ///< pokes the outbox sender
  /// Sends one SMS now, outside the outbox, and says whether the SMSC accepted it: one-time
  /// codes, which must never be stored and are not worth a retry (the subscriber asks again).
  std::function<void(std::string msisdn, std::string text, std::function<void(bool)> accepted)>
      send_now;
  /// Words the SMS about a saved account's bill (the auto-pay consent here).
  std::function<std::string(std::string_view kind, const sms::bill_notice& n)> render_notice;
  /// A reminder or auto-pay switch changed: the scheduler looks at the account now.
  std::function<void()> schedule_changed;
};

/// The settings the actions read (from [ussd], [registration], [schedule], [pin]).
struct settings {
  std::string currency = "PKR";  ///< [ussd] currency
  std::size_t max_saved = 10;    ///< saved accounts per subscriber
  registration_config registration;
  std::uint32_t autopay_days = 2;  ///< [schedule] autopay_days, for the consent SMS
  std::string shortcut;            ///< [schedule] shortcut, for the consent SMS
  std::string pepper;              ///< [pin] pepper: one-time codes are keyed with it
};

using done_fn = std::function<void(ussd::action_result)>;

/// Everything a handler works with; one per daemon, on the network thread.
struct context {
  boost::asio::any_io_executor ex;
  billers::registry& billers;
  settings cfg;
  backends b;
  subscriber_directory& subscribers;
};

class menu_actions {
 public:
  menu_actions(boost::asio::any_io_executor ex, billers::registry& billers, settings cfg,
               backends b, subscriber_directory& subscribers);

  void run(const ussd::action_call& call, done_fn done);

 private:
  context c_;
};

}  // namespace ussdpay::actions
