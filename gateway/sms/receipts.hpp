// The SMS texts about a payment (billpay.md section 4): reference first, the status word, amount
// and currency, biller, consumer number, date and time, fee, new balance and the biller's own
// reference. English receipts fit one 160-character GSM segment; the per-language templates in
// etc/ come with the receipts issue.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "store/payments.hpp"

namespace ussdpay::sms {

struct receipt_context {
  /// The biller's display name for an id ("lesco" -> "LESCO").
  std::function<std::string(std::string_view id)> biller_name;
  std::string support_phone = "111";
};

/// kind: "confirmed", "failed", "pending", "reversed". Pure: safe on any thread.
std::string render_receipt(const receipt_context& c, std::string_view kind,
                           const store::payment_record& p, std::int64_t balance);

/// The SMS carrying a one-time code (registration, forgotten PIN): the code, how long it is
/// good, and the warning never to share it. The caller wipes the result once sent.
std::string render_code(std::string_view code, std::string_view minutes);

}  // namespace ussdpay::sms
