// What the menus' actions do in this daemon: biller lists from configuration, inquiries through
// the biller adapters, quotes (fee, limits, duplicate, balance) and payments through the payment
// saga, PIN changes through the wallet, saved accounts, payment history, receipts resent from
// the store and complaints.
//
// run() never completes inline: results are posted to the executor, as menus expect.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/biller.hpp"
#include "adapters/wallet.hpp"
#include "gateway/config.hpp"
#include "gateway/payments/service.hpp"
#include "gateway/sms/receipts.hpp"
#include "gateway/ussd/dialogs.hpp"
#include "store/payments.hpp"

namespace ussdpay {

struct biller_entry {
  biller_config cfg;
  std::unique_ptr<adapters::biller> adapter;
};

/// Our fee on `amount` for a biller: flat plus percent, capped.
adapters::minor_units fee_for(const biller_config& b, adapters::minor_units amount);

/// What the actions need besides the billers: the store, the wallet and the payment saga.
struct action_backends {
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

/// Small helpers the action implementations share (actions.cpp, enrolment.cpp).
namespace action_helpers {
std::uint16_t var(std::string_view name);  ///< a vocabulary variable's id (must exist)
std::string text_of(const menus::dialog_state& s, std::string_view name);  ///< "" when unset
ussd::action_result only(menus::outcome o);
std::int64_t now_ms();  ///< Unix milliseconds
}  // namespace action_helpers

class menu_actions {
 public:
  using done_fn = std::function<void(ussd::action_result)>;

  menu_actions(boost::asio::any_io_executor ex, std::vector<biller_entry>& billers,
               const config& cfg, action_backends backends);

  void run(const ussd::action_call& call, done_fn done);

  /// The subscriber's chosen language ("" = not chosen), from memory (the dialog needs it at
  /// once when a dial arrives); written through to the store.
  std::string language(std::string_view msisdn) const;
  /// Registered subscribers and their languages, kept in memory so the first screen of a dial
  /// needs no store read: loaded at start-up, added to on registration. A number not here is
  /// looked up in the store (the CLI may have added it) before it is called unregistered.
  void remember_subscriber(std::string_view msisdn, std::string_view language);
  /// The start-up load: MSISDN digits as a number (ussd::msisdn_key) and the language code,
  /// 16 bytes an entry, so that a million subscribers pass through main() without strings.
  using remembered = std::pair<std::uint64_t, std::array<char, 2>>;
  static std::optional<remembered> entry(std::string_view msisdn, std::string_view language);
  void remember_subscribers(const std::vector<remembered>& all);

  static constexpr std::size_t max_subscribers_remembered = 2'000'000;

 private:
  void finish(done_fn& done, ussd::action_result r);
  biller_entry* find(const menus::dialog_state& s);
  biller_entry* find(std::string_view id);
  void read(done_fn done, std::function<ussd::action_result(store::db&)> job);
  void write(done_fn done, std::function<ussd::action_result(store::db&)> job);
  void items_of_saved(ussd::action_result& r, const std::vector<store::saved_account>& saved);
  /// subscriber, send_code, verify_code, set_pin (gateway/enrolment.cpp); false: not one of them.
  bool run_enrolment(std::string_view name, const ussd::action_call& call, done_fn& done);
  bool known(std::string_view msisdn) const;
  /// set_reminders, autopay_on, autopay_off; false: not one of them.
  bool run_schedule(std::string_view name, const ussd::action_call& call, done_fn& done);
  /// What to do when a wrong PIN has just locked the PIN: queue the "locked" SMS in the
  /// dialog's language (captured now: the dialog may be gone when the answer comes).
  std::function<void(std::uint32_t minutes)> lock_notice(const menus::dialog_state& s,
                                                         const std::string& msisdn);

  boost::asio::any_io_executor ex_;
  std::vector<biller_entry>& billers_;
  const std::string currency_;
  const std::size_t max_saved_;
  action_backends b_;
  const registration_config registration_;
  const schedule::schedule_config schedule_;
  const std::string pepper_;
  // MSISDN digits -> language code ("\0\0" when none chosen): 16 bytes a subscriber plus the
  // table, where strings would cost about 100.
  std::unordered_map<std::uint64_t, std::array<char, 2>> subscribers_;
};

}  // namespace ussdpay
