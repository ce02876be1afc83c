// "My PIN" (gateway/actions/pin.cpp): changing the PIN through the embedded wallet. The new PIN
// is refused before the wallet is asked when it does not match its confirmation or is weak.
#include <catch2/catch.hpp>

#include "tests/unit/actions/rig.hpp"

using namespace ussdpay;
using namespace ussdpay::test::actions_rig;

namespace {

menus::dialog_state change(const rig& r, const std::string& old_pin, const std::string& new_pin,
                           const std::string& confirm) {
  auto s = r.state();
  s.set(var_id::pin, old_pin);
  s.set(var_id::pin_new, new_pin);
  s.set(var_id::pin_confirm, confirm);
  return s;
}

}  // namespace

TEST_CASE("actions: change_pin refuses a confirmation that differs, and keeps the old PIN",
          "[actions]") {
  rig r;
  const auto out = r.run(action_id::change_pin, change(r, right_pin, "5931", "5932"));
  CHECK(out.result == outcome::mismatch);
  CHECK(r.authorize(right_pin).status == adapters::auth_status::ok);
  CHECK(r.authorize("5931").status == adapters::auth_status::wrong_pin);
}

TEST_CASE("actions: change_pin refuses a weak or malformed new PIN", "[actions]") {
  rig r;
  CHECK(r.run(action_id::change_pin, change(r, right_pin, "1234", "1234")).result == outcome::weak);
  CHECK(r.run(action_id::change_pin, change(r, right_pin, "0000", "0000")).result == outcome::weak);
  CHECK(r.run(action_id::change_pin, change(r, right_pin, "59a1", "59a1")).result == outcome::weak);
  CHECK(r.authorize(right_pin).status == adapters::auth_status::ok);
}

TEST_CASE("actions: change_pin with the right old PIN sets the new one", "[actions]") {
  rig r;
  const auto out = r.run(action_id::change_pin, change(r, right_pin, "5931", "5931"));
  CHECK(out.result == outcome::ok);
  CHECK(out.vars.empty());
  // The new PIN now authorizes a payment; the old one is wrong.
  CHECK(r.authorize("5931").status == adapters::auth_status::ok);
  CHECK(r.authorize(right_pin).status == adapters::auth_status::wrong_pin);
}

TEST_CASE("actions: change_pin with a wrong old PIN is wrong_pin and changes nothing",
          "[actions]") {
  rig r;
  const auto out = r.run(action_id::change_pin, change(r, "7391", "5931", "5931"));
  CHECK(out.result == outcome::wrong_pin);
  CHECK(var_of(out, var_id::pin_tries_left) == "2");
  CHECK(r.authorize("5931").status == adapters::auth_status::wrong_pin);
  CHECK(r.authorize(right_pin).status == adapters::auth_status::ok);
}

TEST_CASE("actions: change_pin locks after the last wrong old PIN, with one locked SMS",
          "[actions]") {
  rig r;
  const auto wrong = change(r, "7391", "5931", "5931");
  CHECK(r.run(action_id::change_pin, wrong).result == outcome::wrong_pin);
  CHECK(r.run(action_id::change_pin, wrong).result == outcome::wrong_pin);
  const auto out = r.run(action_id::change_pin, wrong);
  CHECK(out.result == outcome::locked);
  CHECK(var_of(out, var_id::pin_locked_minutes) == "30");
  r.barrier();
  const auto sms = r.outbox("locked");
  REQUIRE(sms.size() == 1);
  CHECK(sms[0].msisdn == subscriber);
  CHECK(r.message_queued == 1);
  // Locked: even the right old PIN changes nothing now.
  CHECK(r.run(action_id::change_pin, change(r, right_pin, "5931", "5931")).result ==
        outcome::locked);
  r.barrier();
  CHECK(r.outbox("locked").size() == 1);
}
