// "Pay bill" from the amount (gateway/actions/pay.cpp): the quote and the payment with the PIN,
// through the payment saga, the embedded wallet and the demo biller; the PIN lockout and its
// one "locked" SMS.
#include <catch2/catch.hpp>

#include "store/outbox.hpp"
#include "store/payments.hpp"
#include "tests/unit/actions/rig.hpp"

using namespace ussdpay;
using namespace ussdpay::test::actions_rig;
using Catch::Matchers::Contains;

namespace {

/// The state on the PIN screen: biller, account, amount (minor units) and the PIN entered.
menus::dialog_state at_pin(const rig& r, const std::string& biller, const std::string& account,
                           std::int64_t amount, const std::string& pin = "") {
  auto s = r.state();
  s.set(var_id::biller_id, biller);
  s.set(var_id::account, account);
  s.set(var_id::amount, std::to_string(amount));
  if (!pin.empty()) s.set(var_id::pin, pin);
  return s;
}

}  // namespace

TEST_CASE("actions: quote shows the fee and the total within the balance", "[actions]") {
  rig r;
  // WASA charges a flat Rs10 on top of Rs2,500.
  const auto wasa = r.run(action_id::quote, at_pin(r, "wasa-lhr", "1234567890", 250'000));
  CHECK(wasa.result == outcome::ok);
  CHECK(var_of(wasa, var_id::quote_fee) == "1000");
  CHECK(var_of(wasa, var_id::quote_total) == "251000");
  // PSO charges 0.5%: Rs2,000 costs Rs10 more.
  const auto pso = r.run(action_id::quote, at_pin(r, "pso", pso_unpaid, 200'000));
  CHECK(pso.result == outcome::ok);
  CHECK(var_of(pso, var_id::quote_fee) == "1000");
  CHECK(var_of(pso, var_id::quote_total) == "201000");
  // A quote moves no money and writes no payment.
  CHECK(r.balance_of() == opening_balance);
  CHECK(store::recent_payments(*r.look, subscriber, 10).empty());
}

TEST_CASE("actions: quote under the minimum is too_low, over the balance insufficient",
          "[actions]") {
  rig r;
  // Rs0.50: under the Rs1 minimum.
  const auto low = r.run(action_id::quote, at_pin(r, "lesco", lesco_unpaid, 50));
  CHECK(low.result == outcome::too_low);
  // PSO's Rs14,250 plus Rs71.25 fee is more than the Rs10,000 in the wallet.
  const auto over = r.run(action_id::quote, at_pin(r, "pso", pso_unpaid, 1'425'000));
  CHECK(over.result == outcome::insufficient);
  CHECK(var_of(over, var_id::quote_fee) == "7125");
  CHECK(var_of(over, var_id::quote_total) == "1432125");
  CHECK(var_of(over, var_id::balance) == std::to_string(opening_balance));
}

TEST_CASE("actions: quote or pay without a biller or a positive amount is an error", "[actions]") {
  rig r;
  auto no_biller = r.state();
  no_biller.set(var_id::amount, "452000");
  CHECK(r.run(action_id::quote, no_biller).result == outcome::error);
  CHECK(r.run(action_id::quote, at_pin(r, "lesco", lesco_unpaid, 0)).result == outcome::error);
  auto not_a_number = at_pin(r, "lesco", lesco_unpaid, 1);
  not_a_number.set(var_id::amount, "45x");
  CHECK(r.run(action_id::pay, not_a_number).result == outcome::error);
  CHECK(store::recent_payments(*r.look, subscriber, 10).empty());
}

TEST_CASE("actions: pay with the right PIN pays, with the reference and the new balance",
          "[actions]") {
  rig r;
  // M ASLAM's Rs4,520 to LESCO, PIN 4826.
  const auto out = r.run(action_id::pay, at_pin(r, "lesco", lesco_unpaid, 452'000, right_pin));
  REQUIRE(out.result == outcome::ok);
  const auto ref = var_of(out, var_id::payment_ref);
  REQUIRE(ref);
  CHECK(ref->size() == 10);
  CHECK(var_of(out, var_id::balance) == "548000");
  CHECK(var_of(out, var_id::quote_fee) == "0");
  CHECK(var_of(out, var_id::quote_total) == "452000");

  // The payment is in the store, committed, and the money left the wallet.
  const auto p = store::find_payment(*r.look, *ref);
  REQUIRE(p);
  CHECK(p->msisdn == subscriber);
  CHECK(p->biller == "lesco");
  CHECK(p->account == lesco_unpaid);
  CHECK(p->amount == 452'000);
  CHECK(p->fee == 0);
  CHECK(
      (p->state == store::payment_state::committed || p->state == store::payment_state::completed));
  CHECK(r.balance_of() == 548'000);
  // Its receipt was queued with it, and the saga poked the sender.
  r.barrier();
  const auto receipts = store::messages_for(*r.look, *ref);
  REQUIRE(receipts.size() == 1);
  CHECK(receipts[0].kind == "confirmed");
  CHECK(receipts[0].msisdn == subscriber);
  CHECK(r.receipts_queued >= 1);

  // The biller now has the bill as paid.
  auto again = r.state();
  again.set(var_id::biller_id, "lesco");
  again.set(var_id::account, lesco_unpaid);
  CHECK(r.run(action_id::inquire, again).result == outcome::paid);
}

TEST_CASE("actions: pay with a wrong PIN is wrong_pin with the tries left, and pays nothing",
          "[actions]") {
  rig r;
  const auto out = r.run(action_id::pay, at_pin(r, "lesco", lesco_unpaid, 452'000, "5931"));
  CHECK(out.result == outcome::wrong_pin);
  CHECK(var_of(out, var_id::pin_tries_left) == "2");
  CHECK_FALSE(var_of(out, var_id::payment_ref));
  CHECK(store::recent_payments(*r.look, subscriber, 10).empty());
  CHECK(r.balance_of() == opening_balance);
  // A wrong PIN that did not lock sends no SMS.
  r.barrier();
  CHECK(r.outbox("locked").empty());
  CHECK(r.message_queued == 0);
}

TEST_CASE("actions: the third wrong PIN locks, with one locked SMS however often it is tried",
          "[actions]") {
  rig r;
  // The subscriber enters a wrong PIN twice...
  auto wrong = at_pin(r, "lesco", lesco_unpaid, 452'000, "5931");
  CHECK(var_of(r.run(action_id::pay, wrong), var_id::pin_tries_left) == "2");
  CHECK(var_of(r.run(action_id::pay, wrong), var_id::pin_tries_left) == "1");
  // ...and a third time: the PIN locks for the configured 30 minutes.
  const auto locked = r.run(action_id::pay, wrong);
  CHECK(locked.result == outcome::locked);
  CHECK(var_of(locked, var_id::pin_locked_minutes) == "30");
  CHECK_FALSE(var_of(locked, var_id::pin_tries_left));

  // Exactly one "locked" SMS, to the subscriber, in the dialog's language, and the outbox
  // sender was told.
  r.barrier();
  auto sms = r.outbox("locked");
  REQUIRE(sms.size() == 1);
  CHECK(sms[0].msisdn == subscriber);
  CHECK_THAT(sms[0].body, Contains("30 min"));
  CHECK_THAT(sms[0].body, Contains("0800-12345"));
  CHECK_THAT(sms[0].body, Contains("*123#"));
  CHECK(r.message_queued == 1);

  // Now even the right PIN is refused as locked, and no second SMS goes.
  const auto still = r.run(action_id::pay, at_pin(r, "lesco", lesco_unpaid, 452'000, right_pin));
  CHECK(still.result == outcome::locked);
  CHECK(var_of(still, var_id::pin_locked_minutes) == "30");
  r.barrier();
  CHECK(r.outbox("locked").size() == 1);
  CHECK(r.message_queued == 1);
  CHECK(store::recent_payments(*r.look, subscriber, 10).empty());
  CHECK(r.balance_of() == opening_balance);
}

TEST_CASE("actions: pay over the balance is insufficient and holds nothing", "[actions]") {
  rig r;
  const auto out = r.run(action_id::pay, at_pin(r, "pso", pso_unpaid, 1'425'000, right_pin));
  CHECK(out.result == outcome::insufficient);
  CHECK(var_of(out, var_id::balance) == std::to_string(opening_balance));
  CHECK(r.balance_of() == opening_balance);
}

TEST_CASE("actions: quote of a payment just made asks about a duplicate, unless confirmed",
          "[actions]") {
  rig r;
  const auto paid = r.run(action_id::pay, at_pin(r, "lesco", lesco_unpaid, 452'000, right_pin));
  REQUIRE(paid.result == outcome::ok);
  const auto ref = var_of(paid, var_id::payment_ref);
  REQUIRE(ref);

  // The same amount to the same account again, minutes later: "paid already, pay again?".
  const auto dup = r.run(action_id::quote, at_pin(r, "lesco", lesco_unpaid, 452'000));
  CHECK(dup.result == outcome::duplicate);
  CHECK(var_of(dup, var_id::dup_ref) == *ref);
  CHECK(var_of(dup, var_id::dup_minutes) == "1");
  // The summary's figures travel with it (the duplicate screen leads back to the summary).
  CHECK(var_of(dup, var_id::quote_total) == "452000");

  // The subscriber chooses "pay again": the quote goes on to the balance.
  auto again = at_pin(r, "lesco", lesco_unpaid, 452'000);
  again.set(var_id::confirm_duplicate, "yes");
  CHECK(r.run(action_id::quote, again).result == outcome::ok);
}
