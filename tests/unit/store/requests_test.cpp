// Complaints and operator requests (store/requests.hpp) over a real SQLite file.
#include <catch2/catch.hpp>

#include "store/payments.hpp"
#include "store/requests.hpp"
#include "tests/unit/store/scratch_store.hpp"

using namespace ussdpay;
using namespace ussdpay::store;
using fixture = test::store_fixture;
using test::sample;

TEST_CASE("complaints: once per payment, and only about one's own", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(insert_payment(d, sample("HHHHHHHHHH")));
  CHECK(open_complaint(d, "HHHHHHHHHH", "923001234567", "T1", 1) == "T1");
  CHECK(open_complaint(d, "HHHHHHHHHH", "923001234567", "T2", 2) == "T1");
  CHECK_FALSE(open_complaint(d, "HHHHHHHHHH", "923009999999", "T3", 3));
  CHECK(open_complaints(d, 10).size() == 1);
}
