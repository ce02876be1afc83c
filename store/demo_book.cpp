#include "store/demo_book.hpp"

namespace ussdpay::store {

std::optional<db_error> put_demo_book(db& d, const demo_book_row& r) {
  stmt s(d,
         "INSERT INTO demo_biller_book(biller, payment_id, account, amount, accepted, reversed, "
         "biller_reference, code, paid_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
         "ON CONFLICT(biller, payment_id) DO UPDATE SET reversed = excluded.reversed");
  if (!s.ok()) return s.prepare_error();
  return s.bind(1, r.biller)
      .bind(2, r.payment_id)
      .bind(3, r.account)
      .bind(4, r.amount)
      .bind(5, std::int64_t{r.accepted})
      .bind(6, std::int64_t{r.reversed})
      .bind(7, r.biller_reference)
      .bind(8, r.code)
      .bind(9, r.paid_on)
      .run();
}

std::vector<demo_book_row> demo_book(db& d, std::string_view biller) {
  // In the order the rows arrived: SQLite's rowid, PostgreSQL's identity column seq.
  stmt s(d, d.dialect("SELECT biller, payment_id, account, amount, accepted, reversed, "
                      "biller_reference, code, paid_on FROM demo_biller_book WHERE biller = ? "
                      "ORDER BY rowid",
                      "SELECT biller, payment_id, account, amount, accepted, reversed, "
                      "biller_reference, code, paid_on FROM demo_biller_book WHERE biller = ? "
                      "ORDER BY seq"));
  s.bind(1, biller);
  std::vector<demo_book_row> out;
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.int64(3), s.int64(4) != 0, s.int64(5) != 0,
                   s.text(6), s.text(7), s.text(8)});
  return out;
}

}  // namespace ussdpay::store
