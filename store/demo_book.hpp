// The demo biller's own book of the payments it received (accepted or not, reversed), so that
// it answers status queries with the truth after a restart, as a real biller's database would.
// Real billers keep their own; this serves only adapters/demo_biller (loaded in gateway/main.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.hpp"

namespace ussdpay::store {

struct demo_book_row {
  std::string biller, payment_id, account;
  std::int64_t amount = 0;
  bool accepted = false, reversed = false;
  std::string biller_reference, code, paid_on;
};
std::optional<db_error> put_demo_book(db& d, const demo_book_row& r);
std::vector<demo_book_row> demo_book(db& d, std::string_view biller);

}  // namespace ussdpay::store
