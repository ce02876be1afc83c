// Settling a payment by hand: an operator learned from the biller whether an UNKNOWN,
// MANUAL_REVIEW (or stranded CREATED) payment was paid. One store transaction moves it to
// COMMITTED (the hold is taken) or FAILED (the hold is returned) and queues the receipt; the
// state check is a compare-and-set, so a saga that settles it at the same moment wins or loses
// whole. Used by the daemon's admin API (POST /api/payments/REF/resolve) and by
// `ussdpay payments resolve --offline` when the daemon is down. No I/O besides the store.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/payments/service.hpp"
#include "store/payments.hpp"
#include "store/db.hpp"

namespace ussdpay::payments {

struct resolution {
  std::string ref;
  bool paid = false;             ///< true: the biller took it; false: it did not
  std::string biller_reference;  ///< the biller's reference, when paid (at most 64 octets)
  std::string note;              ///< who decided and why (kept with the payment, 200 octets)
};

struct resolve_result {
  enum class kind : std::uint8_t { resolved, not_found, wrong_state, bad_request, failed };
  kind result = kind::failed;
  std::string why;                ///< for everything but resolved
  store::payment_record payment;  ///< as it is now (resolved), or as found (wrong_state)
  std::string sms;                ///< the receipt queued
};

/// Whether the request is complete before touching the store ("" when it is).
std::string check_resolution(const resolution& r);

/// Runs inside a transaction (or a writer job's savepoint) on `d`, moving the money through
/// `ledger`: roll it back unless the result is resolved.
resolve_result resolve_by_hand(store::db& d, adapters::ledger_steps& ledger, const resolution& r,
                               const receipt_fn& render, std::int64_t now_ms);

}  // namespace ussdpay::payments
