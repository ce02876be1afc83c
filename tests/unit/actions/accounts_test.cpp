// "Saved accounts" (gateway/actions/accounts.cpp): saving, listing and removing consumer
// numbers; bill reminders; the auto-pay consent with the PIN and its SMS. The scheduler hears
// of a switch only once it is committed.
#include <stdexcept>

#include <catch2/catch.hpp>

#include "store/accounts.hpp"
#include "tests/unit/actions/rig.hpp"

using namespace ussdpay;
using namespace ussdpay::test::actions_rig;

namespace {

/// The state after a payment (or on a saved account's screen): biller, account and label.
menus::dialog_state account_state(const rig& r, const std::string& biller,
                                  const std::string& account, const std::string& label = "") {
  auto s = r.state();
  s.set(var_id::biller_id, biller);
  s.set(var_id::account, account);
  if (!label.empty()) s.set(var_id::account_label, label);
  return s;
}

/// The listed item labelled `label` (the list is newest first: saves within one millisecond
/// tie, so the tests do not rely on the order).
const menus::list_item& labelled(const ussd::action_result& out, const std::string& label) {
  for (const auto& item : out.items)
    if (field_of(item, item_field::label) == label) return item;
  FAIL("no item labelled " << label);
  throw std::logic_error("unreachable");
}

void save(rig& r, const std::string& biller, const std::string& account, const std::string& label) {
  const auto out = r.run(action_id::save_account, account_state(r, biller, account, label));
  REQUIRE(out.result == outcome::ok);
}

/// The auto-pay consent: the maximum (minor units) and the PIN.
menus::dialog_state consent(const rig& r, const std::string& biller, const std::string& account,
                            std::int64_t max, const std::string& pin) {
  auto s = account_state(r, biller, account, "Home");
  s.set(var_id::autopay_max, std::to_string(max));
  s.set(var_id::pin, pin);
  return s;
}

}  // namespace

TEST_CASE("actions: save_account saves once, then says exists", "[actions]") {
  rig r;
  // After paying LESCO, the subscriber saves the account as "Home".
  const auto out = r.run(action_id::save_account, account_state(r, "lesco", lesco_unpaid, "Home"));
  CHECK(out.result == outcome::ok);
  CHECK(var_of(out, var_id::account_saved) == "yes");
  const auto saved = store::saved_accounts(*r.look, subscriber, "");
  REQUIRE(saved.size() == 1);
  CHECK(saved[0].biller == "lesco");
  CHECK(saved[0].account == lesco_unpaid);
  CHECK(saved[0].label == "Home");
  CHECK(saved[0].reminders);
  CHECK(saved[0].autopay_max == 0);

  // Saving it again, even under another label, is refused.
  const auto twice =
      r.run(action_id::save_account, account_state(r, "lesco", lesco_unpaid, "Shop"));
  CHECK(twice.result == outcome::exists);
  CHECK_FALSE(var_of(twice, var_id::account_saved));
  REQUIRE(store::saved_accounts(*r.look, subscriber, "").size() == 1);
  CHECK(store::saved_accounts(*r.look, subscriber, "")[0].label == "Home");
}

TEST_CASE("actions: save_account beyond max_saved is full", "[actions]") {
  options o;
  o.max_saved = 2;
  rig r(o);
  save(r, "lesco", lesco_unpaid, "Home");
  save(r, "pso", pso_unpaid, "Truck");
  const auto out =
      r.run(action_id::save_account, account_state(r, "wasa-lhr", "1234567890", "Tap"));
  CHECK(out.result == outcome::full);
  CHECK(store::saved_accounts(*r.look, subscriber, "").size() == 2);
  // Someone else's accounts do not count toward this subscriber's.
  CHECK(r.run(action_id::save_account, account_state(r, "wasa-lhr", "1234567890", "Tap"), stranger)
            .result == outcome::ok);
}

TEST_CASE("actions: save_account without a biller, account or label is an error", "[actions]") {
  rig r;
  CHECK(r.run(action_id::save_account, account_state(r, "lesco", lesco_unpaid)).result ==
        outcome::error);
  CHECK(r.run(action_id::save_account, account_state(r, "", lesco_unpaid, "Home")).result ==
        outcome::error);
  CHECK(store::saved_accounts(*r.look, subscriber, "").empty());
}

TEST_CASE("actions: saved_accounts lists label, account, reminders and auto-pay", "[actions]") {
  rig r;
  CHECK(r.run(action_id::saved_accounts, r.state()).result == outcome::empty);
  save(r, "lesco", lesco_unpaid, "Home");
  save(r, "pso", pso_unpaid, "Truck");

  const auto out = r.run(action_id::saved_accounts, r.state());
  CHECK(out.result == outcome::ok);
  REQUIRE(out.items.size() == 2);
  // Each item carries the biller's fields too, for the screens that pay it.
  const auto& truck = labelled(out, "Truck");
  CHECK(field_of(truck, item_field::id) == "pso");
  CHECK(field_of(truck, item_field::name) == "PSO");
  CHECK(field_of(truck, item_field::label) == "Truck");
  CHECK(field_of(truck, item_field::account) == pso_unpaid);
  CHECK(field_of(truck, item_field::remind) == "on");
  CHECK(field_of(truck, item_field::autopay) == "off");
  CHECK_FALSE(field_of(truck, item_field::autopay_max));
  const auto& home = labelled(out, "Home");
  CHECK(field_of(home, item_field::id) == "lesco");
  CHECK(field_of(home, item_field::label) == "Home");
  CHECK(field_of(home, item_field::exactness) == "exact");

  // Another subscriber has none.
  CHECK(r.run(action_id::saved_accounts, r.state(), stranger).result == outcome::empty);
}

TEST_CASE("actions: saved_for_biller lists only the chosen biller's saved accounts", "[actions]") {
  rig r;
  save(r, "lesco", lesco_unpaid, "Home");
  save(r, "pso", pso_unpaid, "Truck");
  save(r, "lesco", "04100000000001", "Shop");
  auto s = r.state();
  s.set(var_id::biller_id, "lesco");
  const auto out = r.run(action_id::saved_for_biller, s);
  CHECK(out.result == outcome::ok);
  REQUIRE(out.items.size() == 2);
  for (const auto& item : out.items) CHECK(field_of(item, item_field::id) == "lesco");
  CHECK(field_of(labelled(out, "Shop"), item_field::account) == "04100000000001");
  CHECK(field_of(labelled(out, "Home"), item_field::account) == lesco_unpaid);

  s.set(var_id::biller_id, "kelectric");
  CHECK(r.run(action_id::saved_for_biller, s).result == outcome::empty);
}

TEST_CASE("actions: remove_account removes the saved account and its auto-pay", "[actions]") {
  rig r;
  save(r, "lesco", lesco_unpaid, "Home");
  save(r, "pso", pso_unpaid, "Truck");
  REQUIRE(
      r.run(action_id::autopay_on, consent(r, "lesco", lesco_unpaid, 500'000, right_pin)).result ==
      outcome::ok);

  const auto out = r.run(action_id::remove_account, account_state(r, "lesco", lesco_unpaid));
  CHECK(out.result == outcome::ok);
  const auto left = store::saved_accounts(*r.look, subscriber, "");
  REQUIRE(left.size() == 1);
  CHECK(left[0].biller == "pso");
  CHECK_FALSE(store::autopay_max(*r.look, subscriber, "lesco", lesco_unpaid));
  const auto listed = r.run(action_id::saved_accounts, r.state());
  REQUIRE(listed.items.size() == 1);
  CHECK(field_of(listed.items[0], item_field::label) == "Truck");
}

TEST_CASE("actions: set_reminders switches reminders and pokes the scheduler after the commit",
          "[actions]") {
  rig r;
  save(r, "lesco", lesco_unpaid, "Home");
  // Reminders off for Home.
  auto s = account_state(r, "lesco", lesco_unpaid);
  s.set(var_id::account_remind, "off");
  CHECK(r.run(action_id::set_reminders, s).result == outcome::ok);
  CHECK(r.schedule_changed == 1);
  CHECK_FALSE(store::saved_accounts(*r.look, subscriber, "")[0].reminders);
  CHECK(field_of(r.run(action_id::saved_accounts, r.state()).items.at(0), item_field::remind) ==
        "off");
  // And on again.
  s.set(var_id::account_remind, "on");
  CHECK(r.run(action_id::set_reminders, s).result == outcome::ok);
  CHECK(r.schedule_changed == 2);
  CHECK(store::saved_accounts(*r.look, subscriber, "")[0].reminders);

  // An account that is not saved: not_found, and the scheduler is not bothered.
  auto other = account_state(r, "pso", pso_unpaid);
  other.set(var_id::account_remind, "off");
  CHECK(r.run(action_id::set_reminders, other).result == outcome::not_found);
  CHECK(r.schedule_changed == 2);
}

TEST_CASE("actions: autopay_on with a wrong PIN stores no consent and sends nothing", "[actions]") {
  rig r;
  save(r, "lesco", lesco_unpaid, "Home");
  const auto out = r.run(action_id::autopay_on, consent(r, "lesco", lesco_unpaid, 500'000, "5931"));
  CHECK(out.result == outcome::wrong_pin);
  CHECK(var_of(out, var_id::pin_tries_left) == "2");
  r.barrier();
  CHECK_FALSE(store::autopay_max(*r.look, subscriber, "lesco", lesco_unpaid));
  CHECK(r.outbox("autopay_on").empty());
  CHECK(r.message_queued == 0);
  CHECK(r.schedule_changed == 0);
}

TEST_CASE("actions: autopay_on with the PIN keeps the maximum and queues the consent SMS",
          "[actions]") {
  rig r;
  save(r, "lesco", lesco_unpaid, "Home");
  // Auto-pay Home's bills up to Rs5,000, PIN 4826.
  const auto out =
      r.run(action_id::autopay_on, consent(r, "lesco", lesco_unpaid, 500'000, right_pin));
  CHECK(out.result == outcome::ok);
  CHECK(store::autopay_max(*r.look, subscriber, "lesco", lesco_unpaid) == 500'000);
  // The SMS was worded by render_notice with what the consent says...
  REQUIRE(r.notices.size() == 1);
  CHECK(r.notices[0].first == "autopay_on");
  const auto& n = r.notices[0].second;
  CHECK(n.biller == "lesco");
  CHECK(n.account == lesco_unpaid);
  CHECK(n.label == "Home");
  CHECK(n.currency == "PKR");
  CHECK(n.autopay_max == 500'000);
  CHECK(n.autopay_days == 2);
  CHECK(n.shortcut == "*123*2#");
  CHECK(n.language == "en");
  // ...queued in the outbox with the consent, the sender poked, the scheduler told.
  const auto sms = r.outbox("autopay_on");
  REQUIRE(sms.size() == 1);
  CHECK(sms[0].msisdn == subscriber);
  CHECK(sms[0].body == "notice autopay_on lesco 04123456789012 up to 500000");
  CHECK(r.message_queued == 1);
  CHECK(r.schedule_changed == 1);

  const auto listed = r.run(action_id::saved_accounts, r.state());
  REQUIRE(listed.items.size() == 1);
  CHECK(field_of(listed.items[0], item_field::autopay) == "on");
  CHECK(field_of(listed.items[0], item_field::autopay_max) == "500000");
}

TEST_CASE("actions: autopay_on for an account not saved is not_found, nothing queued",
          "[actions]") {
  rig r;
  const auto out =
      r.run(action_id::autopay_on, consent(r, "lesco", lesco_unpaid, 500'000, right_pin));
  CHECK(out.result == outcome::not_found);
  r.barrier();
  CHECK(r.outbox("autopay_on").empty());
  CHECK(r.message_queued == 0);
  CHECK(r.schedule_changed == 0);
  // Without a maximum, or for a biller not configured: an error before the PIN is checked.
  save(r, "lesco", lesco_unpaid, "Home");
  CHECK(r.run(action_id::autopay_on, consent(r, "lesco", lesco_unpaid, 0, right_pin)).result ==
        outcome::error);
  CHECK(
      r.run(action_id::autopay_on, consent(r, "gepco", lesco_unpaid, 500'000, right_pin)).result ==
      outcome::error);
  CHECK(r.schedule_changed == 0);
}

TEST_CASE("actions: autopay_off withdraws a consent, and without one is not_found", "[actions]") {
  rig r;
  save(r, "lesco", lesco_unpaid, "Home");
  // No consent yet: nothing to withdraw, the scheduler is not poked.
  CHECK(r.run(action_id::autopay_off, account_state(r, "lesco", lesco_unpaid)).result ==
        outcome::not_found);
  CHECK(r.schedule_changed == 0);

  REQUIRE(
      r.run(action_id::autopay_on, consent(r, "lesco", lesco_unpaid, 500'000, right_pin)).result ==
      outcome::ok);
  REQUIRE(r.schedule_changed == 1);
  CHECK(r.run(action_id::autopay_off, account_state(r, "lesco", lesco_unpaid)).result ==
        outcome::ok);
  CHECK(r.schedule_changed == 2);
  CHECK_FALSE(store::autopay_max(*r.look, subscriber, "lesco", lesco_unpaid));
  // The saved account itself stays.
  CHECK(store::saved_accounts(*r.look, subscriber, "").size() == 1);
}
