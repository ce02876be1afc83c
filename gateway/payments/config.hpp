// [payments]: the saga's waits, the limits, and how long the dialog waits for an outcome. Loaded
// by gateway/config/; no Asio here.
#pragma once

#include <chrono>

#include "gateway/payments/saga.hpp"

namespace ussdpay::payments {

struct payments_config {
  saga_config saga;
  limits_config limits;
  /// The dialog waits this long for a final outcome before it shows "processing, you will get
  /// an SMS" (keep it below [ussd] payment_timeout).
  std::chrono::milliseconds answer_within{3'000};
  /// A biller call with no answer after this long counts as unknown (adapters bound their own
  /// calls too; this is the saga's backstop).
  std::chrono::milliseconds biller_timeout{15'000};
  /// How often open payments are looked at for operator requests (reversals).
  std::chrono::milliseconds scan_interval{2'000};
  /// A payment whose outcome is still unknown this long after it was made gets one SMS saying
  /// it is processing (kind "pending"), at the saga's next look at it.
  std::chrono::milliseconds pending_sms_after{120'000};
};

}  // namespace ussdpay::payments
