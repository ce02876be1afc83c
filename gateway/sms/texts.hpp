// The SMS texts about a payment (billpay.md section 4): reference first, the status word, amount
// and currency, biller, consumer number, date and time, fee, new balance and the biller's own
// reference; and the one-time code. The words are the [sms] texts of the menus
// (etc/menus/text.<lang>.toml), in the language the subscriber paid in; `ussdpay check-menus`
// checks them like screens (every language, every variable, at most three segments).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "menus/catalog.hpp"
#include "store/payments.hpp"

namespace ussdpay::sms {

/// The menus the texts come from. SIGHUP swaps them on the network thread while the writer
/// thread renders receipts, hence atomic.
class sms_templates {
 public:
  explicit sms_templates(std::shared_ptr<const menus::catalog> cat) : cat_(std::move(cat)) {}
  std::shared_ptr<const menus::catalog> get() const { return cat_.load(); }
  void replace(std::shared_ptr<const menus::catalog> cat) { cat_.store(std::move(cat)); }

 private:
  std::atomic<std::shared_ptr<const menus::catalog>> cat_;
};

struct receipt_context {
  /// The biller's display name for an id ("lesco" -> "LESCO").
  std::function<std::string(std::string_view id)> biller_name;
  std::string support_phone = "111";
  std::shared_ptr<sms_templates> templates;
};

/// kind: "confirmed", "failed", "pending", "reversed", in the payment's language (the menus'
/// default language if it has none). Safe on any thread.
std::string render_receipt(const receipt_context& c, std::string_view kind,
                           const store::payment_record& p, std::int64_t balance);

/// What the SMS about a saved account's bill say (reminders and auto-pay, gateway/schedule/).
struct bill_notice {
  std::string language;  ///< the subscriber's ("" = the menus' default)
  std::string biller, account, label, due_date, currency;
  std::int64_t bill_amount = 0, autopay_max = 0;
  std::int64_t total = 0, balance = 0;  ///< amount + fee, and the wallet (autopay_funds)
  std::uint32_t autopay_days = 0;
  std::string shortcut;  ///< the dial string that opens Saved accounts
};

/// kind: "reminder", "autopay_on", "autopay_over", "autopay_funds", "autopay_limit". Safe on
/// any thread.
std::string render_notice(const receipt_context& c, std::string_view kind, const bill_notice& n);

/// The SMS carrying a one-time code (registration, forgotten PIN) in the dialog's menus and
/// language: the code, how long it is good, and the warning never to share it. The caller
/// wipes the result once sent.
std::string render_code(const std::shared_ptr<const menus::catalog>& cat, std::uint8_t language,
                        std::string_view code, std::string_view minutes);

/// The SMS telling a subscriber that wrong PINs locked their PIN, for how long, and how to
/// reset it (service_code) or report that it was not them (support_phone).
std::string render_locked(const std::shared_ptr<const menus::catalog>& cat, std::uint8_t language,
                          std::uint32_t minutes, std::string_view service_code,
                          std::string_view support_phone);

}  // namespace ussdpay::sms
