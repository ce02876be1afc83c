// "My payments" (gateway/actions/history.cpp): the last payments and this month's totals with
// the billers' names from the registry, receipts sent again from the outbox (at most three
// copies), and complaints about a payment.
#include <catch2/catch.hpp>

#include "gateway/common/clock.hpp"
#include "store/outbox.hpp"
#include "store/payments.hpp"
#include "store/requests.hpp"
#include "tests/unit/actions/rig.hpp"

using namespace ussdpay;
using namespace ussdpay::test::actions_rig;

namespace {

/// Pays M ASLAM's Rs4,520 to LESCO through the menus' pay action; the payment's reference.
std::string pay_lesco(rig& r) {
  auto s = r.state();
  s.set(var_id::biller_id, "lesco");
  s.set(var_id::account, lesco_unpaid);
  s.set(var_id::amount, "452000");
  s.set(var_id::pin, right_pin);
  const auto out = r.run(action_id::pay, s);
  REQUIRE(out.result == outcome::ok);
  const auto ref = var_of(out, var_id::payment_ref);
  REQUIRE(ref);
  return *ref;
}

menus::dialog_state about(const rig& r, const std::string& ref) {
  auto s = r.state();
  s.set(var_id::payment_ref, ref);
  return s;
}

}  // namespace

TEST_CASE("actions: last_payments lists a payment with the biller's name, not its id",
          "[actions]") {
  rig r;
  CHECK(r.run(action_id::last_payments, r.state()).result == outcome::empty);
  const auto ref = pay_lesco(r);

  const auto out = r.run(action_id::last_payments, r.state());
  CHECK(out.result == outcome::ok);
  REQUIRE(out.items.size() == 1);
  const auto& item = out.items[0];
  CHECK(field_of(item, item_field::ref) == ref);
  CHECK(field_of(item, item_field::name) == "LESCO");
  CHECK(field_of(item, item_field::account) == lesco_unpaid);
  CHECK(field_of(item, item_field::amount) == "452000");
  CHECK(field_of(item, item_field::status) == "completed");
  const auto p = store::find_payment(*r.look, ref);
  REQUIRE(p);
  CHECK(field_of(item, item_field::date) == clock::local_date(p->created_at));

  // Nobody else sees it.
  CHECK(r.run(action_id::last_payments, r.state(), stranger).result == outcome::empty);
}

TEST_CASE("actions: month_totals sums this month's payments per biller, by name", "[actions]") {
  rig r;
  const auto before = r.run(action_id::month_totals, r.state());
  CHECK(before.result == outcome::empty);
  CHECK(var_of(before, var_id::month_total) == "0");
  pay_lesco(r);

  const auto out = r.run(action_id::month_totals, r.state());
  CHECK(out.result == outcome::ok);
  REQUIRE(out.items.size() == 1);
  CHECK(field_of(out.items[0], item_field::name) == "LESCO");
  CHECK(field_of(out.items[0], item_field::amount) == "452000");
  CHECK(var_of(out, var_id::month_total) == "452000");
}

TEST_CASE("actions: resend_receipt queues a copy of the receipt, at most three", "[actions]") {
  rig r;
  const auto ref = pay_lesco(r);
  r.barrier();
  REQUIRE(store::messages_for(*r.look, ref).size() == 1);
  const int pokes_before = r.message_queued;

  for (int copy = 1; copy <= 3; ++copy) {
    INFO("copy " << copy);
    CHECK(r.run(action_id::resend_receipt, about(r, ref)).result == outcome::ok);
    CHECK(r.message_queued == pokes_before + copy);
  }
  const auto queued = r.outbox("confirmed-resend-1");
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].ref == ref);
  CHECK(queued[0].msisdn == subscriber);
  CHECK(queued[0].body == store::messages_for(*r.look, ref).at(0).body);
  CHECK(store::messages_for(*r.look, ref).size() == 4);

  // A fourth copy is refused; the outbox is not touched, the sender not poked.
  CHECK(r.run(action_id::resend_receipt, about(r, ref)).result == outcome::not_found);
  CHECK(store::messages_for(*r.look, ref).size() == 4);
  CHECK(r.message_queued == pokes_before + 3);
}

TEST_CASE("actions: resend_receipt of an unknown or someone else's payment is not_found",
          "[actions]") {
  rig r;
  const auto ref = pay_lesco(r);
  CHECK(r.run(action_id::resend_receipt, about(r, "ZZZZZZZZZZ")).result == outcome::not_found);
  CHECK(r.run(action_id::resend_receipt, about(r, ref), stranger).result == outcome::not_found);
  r.barrier();
  CHECK(store::messages_for(*r.look, ref).size() == 1);
  CHECK(r.message_queued == 0);
}

TEST_CASE("actions: report_problem opens one ticket per payment", "[actions]") {
  rig r;
  const auto ref = pay_lesco(r);
  const auto out = r.run(action_id::report_problem, about(r, ref));
  CHECK(out.result == outcome::ok);
  const auto ticket = var_of(out, var_id::ticket_ref);
  REQUIRE(ticket);
  CHECK(ticket->size() == 10);
  CHECK(*ticket != ref);
  const auto open = store::open_complaints(*r.look, 10);
  REQUIRE(open.size() == 1);
  CHECK(open[0].ticket == *ticket);
  CHECK(open[0].ref == ref);
  CHECK(open[0].msisdn == subscriber);

  // Reporting the same payment again gives the same ticket, not a second one.
  const auto again = r.run(action_id::report_problem, about(r, ref));
  CHECK(again.result == outcome::ok);
  CHECK(var_of(again, var_id::ticket_ref) == *ticket);
  CHECK(store::open_complaints(*r.look, 10).size() == 1);
}

TEST_CASE("actions: report_problem about an unknown or someone else's payment is not_found",
          "[actions]") {
  rig r;
  const auto ref = pay_lesco(r);
  const auto unknown = r.run(action_id::report_problem, about(r, "ZZZZZZZZZZ"));
  CHECK(unknown.result == outcome::not_found);
  CHECK_FALSE(var_of(unknown, var_id::ticket_ref));
  CHECK(r.run(action_id::report_problem, about(r, ref), stranger).result == outcome::not_found);
  CHECK(store::open_complaints(*r.look, 10).empty());
}
