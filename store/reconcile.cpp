#include "store/reconcile.hpp"

#include <string>

namespace ussdpay::store {

biller_payments payments_of_biller(db& d, std::string_view biller, std::int64_t start_ms,
                                   std::int64_t end_ms) {
  biller_payments out;
  stmt s(d, "SELECT " + std::string(payment_columns) +
                " FROM payments INDEXED BY payments_by_biller "
                "WHERE biller = ? AND created_at >= ? AND created_at < ? ORDER BY created_at, ref");
  if (!s.ok()) {
    out.error = s.prepare_error();
    return out;
  }
  s.bind(1, biller).bind(2, start_ms).bind(3, end_ms);
  while (s.step()) out.payments.push_back(read_payment(s));
  if (s.error()) out.error = s.error();
  return out;
}

}  // namespace ussdpay::store
