// Reads for reconciliation with a biller's statement (gateway/reconcile/): the payments of one
// biller made within a time window, through the payments_by_biller index. Read-only; errors are
// values, because an empty answer from a failed read would look like "we made no payments".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "store/payments.hpp"
#include "store/db.hpp"

namespace ussdpay::store {

struct biller_payments {
  std::vector<payment_record> payments;  ///< oldest first (created_at, then ref)
  std::optional<db_error> error;         ///< set: the read failed and `payments` is incomplete
};

/// Every payment of `biller`, in any state, created in [start_ms, end_ms).
biller_payments payments_of_biller(db& d, std::string_view biller, std::int64_t start_ms,
                                   std::int64_t end_ms);

}  // namespace ussdpay::store
