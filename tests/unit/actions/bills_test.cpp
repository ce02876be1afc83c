// "Pay bill" up to the bill (gateway/actions/bills.cpp): the billers of a category and the bill
// inquiry through the demo biller, with bill.min and bill.max by the biller's amount rule.
#include <catch2/catch.hpp>

#include "tests/unit/actions/rig.hpp"

using namespace ussdpay;
using namespace ussdpay::test::actions_rig;

namespace {

/// The state after choosing biller `id` from the list and entering `account`.
menus::dialog_state chose(const rig& r, const std::string& id, const std::string& account) {
  auto s = r.state();
  s.set(var_id::biller_id, id);
  s.set(var_id::account, account);
  return s;
}

}  // namespace

TEST_CASE("actions: billers lists the billers of the chosen category in configured order",
          "[actions]") {
  rig r;
  // The subscriber chooses Pay bill > Electricity.
  auto s = r.state();
  s.set(var_id::category, "electricity");
  const auto out = r.run(action_id::billers, s);
  CHECK(out.result == outcome::ok);
  REQUIRE(out.items.size() == 3);
  CHECK(field_of(out.items[0], item_field::id) == "lesco");
  CHECK(field_of(out.items[0], item_field::name) == "LESCO");
  CHECK(field_of(out.items[0], item_field::account_min) == "14");
  CHECK(field_of(out.items[0], item_field::account_max) == "14");
  CHECK(field_of(out.items[0], item_field::account_check) == "none");
  CHECK(field_of(out.items[0], item_field::exactness) == "exact");
  CHECK(field_of(out.items[1], item_field::id) == "kelectric");
  CHECK(field_of(out.items[1], item_field::account_min) == "13");
  CHECK(field_of(out.items[1], item_field::exactness) == "at_least");
  CHECK(field_of(out.items[2], item_field::id) == "iesco");

  // Water has one biller: the filter, not the whole registry.
  s.set(var_id::category, "water");
  const auto water = r.run(action_id::billers, s);
  CHECK(water.result == outcome::ok);
  REQUIRE(water.items.size() == 1);
  CHECK(field_of(water.items[0], item_field::id) == "wasa-lhr");
  CHECK(field_of(water.items[0], item_field::exactness) == "any");
}

TEST_CASE("actions: billers of a category nobody serves, or of no category, is empty",
          "[actions]") {
  rig r;
  auto s = r.state();
  // No gas biller is configured here.
  s.set(var_id::category, "gas");
  const auto gas = r.run(action_id::billers, s);
  CHECK(gas.result == outcome::empty);
  CHECK(gas.items.empty());
  // No category chosen at all.
  const auto none = r.run(action_id::billers, r.state());
  CHECK(none.result == outcome::empty);
  CHECK(none.items.empty());
}

TEST_CASE("actions: inquire shows a found bill, bill.min and bill.max for an exact biller",
          "[actions]") {
  rig r;
  // LESCO takes exactly the amount due: the amount screen is fixed at it.
  const auto out = r.run(action_id::inquire, chose(r, "lesco", lesco_unpaid));
  CHECK(out.result == outcome::ok);
  CHECK(var_of(out, var_id::bill_name) == "M ASLAM");
  CHECK(var_of(out, var_id::bill_period) == "2026-12");
  CHECK(var_of(out, var_id::bill_due_date) == "2099-12-25");
  CHECK(var_of(out, var_id::bill_amount) == "452000");
  CHECK(var_of(out, var_id::bill_after_due) == "497200");
  CHECK(var_of(out, var_id::bill_min) == "452000");
  CHECK(var_of(out, var_id::bill_max) == "452000");
}

TEST_CASE("actions: inquire sets bill.min or bill.max by the biller's exactness", "[actions]") {
  rig r;
  // K-Electric takes at least the amount due: a minimum, no maximum.
  const auto at_least = r.run(action_id::inquire, chose(r, "kelectric", "0400000000011"));
  CHECK(at_least.result == outcome::ok);
  CHECK(var_of(at_least, var_id::bill_amount) == "300000");
  CHECK(var_of(at_least, var_id::bill_min) == "300000");
  CHECK_FALSE(var_of(at_least, var_id::bill_max));

  // IESCO takes at most the amount due: a maximum, no minimum.
  const auto at_most = r.run(action_id::inquire, chose(r, "iesco", lesco_unpaid));
  CHECK(at_most.result == outcome::ok);
  CHECK(var_of(at_most, var_id::bill_name) == "SOMEONE ELSE");
  CHECK(var_of(at_most, var_id::bill_max) == "624000");
  CHECK_FALSE(var_of(at_most, var_id::bill_min));

  // WASA takes any amount: neither.
  const auto any = r.run(action_id::inquire, chose(r, "wasa-lhr", "1234567890"));
  CHECK(any.result == outcome::ok);
  CHECK(var_of(any, var_id::bill_amount) == "250000");
  CHECK_FALSE(var_of(any, var_id::bill_min));
  CHECK_FALSE(var_of(any, var_id::bill_max));
}

TEST_CASE("actions: inquire of a paid bill says paid, with the date it was paid", "[actions]") {
  rig r;
  const auto out = r.run(action_id::inquire, chose(r, "lesco", lesco_paid));
  CHECK(out.result == outcome::paid);
  CHECK(var_of(out, var_id::bill_paid_on) == "2026-11-18");
  CHECK_FALSE(var_of(out, var_id::bill_amount));
}

TEST_CASE("actions: inquire of an unknown or malformed consumer number", "[actions]") {
  rig r;
  // Well formed, but the biller has no such consumer.
  const auto missing = r.run(action_id::inquire, chose(r, "lesco", "04999999999999"));
  CHECK(missing.result == outcome::not_found);
  CHECK(missing.vars.empty());
  // Too short for LESCO's 14 digits.
  const auto malformed = r.run(action_id::inquire, chose(r, "lesco", "0412"));
  CHECK(malformed.result == outcome::invalid);
}

TEST_CASE("actions: inquire without a chosen, configured biller or an account is an error",
          "[actions]") {
  rig r;
  // No biller chosen.
  auto no_biller = r.state();
  no_biller.set(var_id::account, lesco_unpaid);
  CHECK(r.run(action_id::inquire, no_biller).result == outcome::error);
  // A biller id the registry does not have (an old dialog after a configuration change).
  CHECK(r.run(action_id::inquire, chose(r, "gepco", lesco_unpaid)).result == outcome::error);
  // A biller but no account.
  auto no_account = r.state();
  no_account.set(var_id::biller_id, "lesco");
  CHECK(r.run(action_id::inquire, no_account).result == outcome::error);
}
