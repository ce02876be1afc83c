#include "store/reconcile.hpp"

#include <string>

namespace ussdpay::store {

biller_payments payments_of_biller(db& d, std::string_view biller, std::int64_t start_ms,
                                   std::int64_t end_ms) {
  biller_payments out;
  // The columns of store/payments.cpp's payment_columns, read the same way.
  stmt s(d,
         "SELECT ref, msisdn, biller, account, amount, fee, currency, bill_reference, language, "
         "state, reason, biller_reference, biller_code, queries, next_at, created_at, updated_at "
         "FROM payments INDEXED BY payments_by_biller "
         "WHERE biller = ? AND created_at >= ? AND created_at < ? ORDER BY created_at, ref");
  if (!s.ok()) {
    out.error = s.prepare_error();
    return out;
  }
  s.bind(1, biller).bind(2, start_ms).bind(3, end_ms);
  while (s.step()) {
    payment_record p;
    p.ref = s.text(0);
    p.msisdn = s.text(1);
    p.biller = s.text(2);
    p.account = s.text(3);
    p.amount = s.int64(4);
    p.fee = s.int64(5);
    p.currency = s.text(6);
    p.bill_reference = s.text(7);
    p.language = s.text(8);
    const auto state = parse_payment_state(s.text(9));
    if (!state) {
      out.error = db_error{0, "payment " + p.ref + " has an unknown state " + s.text(9)};
      return out;
    }
    p.state = *state;
    p.reason = s.text(10);
    p.biller_reference = s.text(11);
    p.biller_code = s.text(12);
    p.queries = s.int64(13);
    p.next_at = s.int64(14);
    p.created_at = s.int64(15);
    p.updated_at = s.int64(16);
    out.payments.push_back(std::move(p));
  }
  if (s.error()) out.error = s.error();
  return out;
}

}  // namespace ussdpay::store
