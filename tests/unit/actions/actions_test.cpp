// menu_actions::run as the dialog table calls it (gateway/actions/table.cpp): every action of the
// vocabulary answers exactly once, never inside run() itself (ussd::dialogs expects the answer
// later), with an outcome the vocabulary allows it. The menu branches have their own files here.
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/unit/actions/rig.hpp"

using namespace ussdpay;
using namespace ussdpay::test::actions_rig;

namespace {

/// Blocks this thread (without running the io_context) until the writer has committed every
/// job submitted before.
void wait_for_writer(rig& r) {
  auto committed = std::make_shared<std::promise<void>>();
  auto done = committed->get_future();
  REQUIRE(r.writer->submit(
      [](store::db&) { return true; },
      [committed](bool, std::optional<store::db_error>) { committed->set_value(); }));
  REQUIRE(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
}

}  // namespace

TEST_CASE("actions: run never answers inline, even once the store has done its part", "[actions]") {
  rig r;
  struct step {
    action_id action;
    std::vector<std::pair<var_id, std::string>> vars;
    std::string msisdn;
    outcome expected;
  };
  // One action per way a handler answers: at once (finish), after a store read, after a store
  // write, after the wallet, after the biller, after the saga, after the SMSC.
  const std::vector<step> steps = {
      {action_id::billers, {{var_id::category, "electricity"}}, subscriber, outcome::ok},
      {action_id::inquire, {{var_id::account, lesco_unpaid}}, subscriber, outcome::error},
      {action_id::change_pin,
       {{var_id::pin, right_pin}, {var_id::pin_new, "5931"}, {var_id::pin_confirm, "5932"}},
       subscriber,
       outcome::mismatch},
      {action_id::subscriber, {}, subscriber, outcome::ok},
      {action_id::subscriber, {}, stranger, outcome::not_found},
      {action_id::saved_accounts, {}, subscriber, outcome::empty},
      {action_id::save_account,
       {{var_id::biller_id, "lesco"},
        {var_id::account, lesco_unpaid},
        {var_id::account_label, "Home"}},
       subscriber,
       outcome::ok},
      {action_id::set_language, {{var_id::language, "ur"}}, subscriber, outcome::ok},
      {action_id::inquire,
       {{var_id::biller_id, "lesco"}, {var_id::account, lesco_unpaid}},
       subscriber,
       outcome::ok},
      {action_id::quote,
       {{var_id::biller_id, "lesco"}, {var_id::account, lesco_unpaid}, {var_id::amount, "452000"}},
       subscriber,
       outcome::ok},
      {action_id::pay,
       {{var_id::biller_id, "lesco"},
        {var_id::account, lesco_unpaid},
        {var_id::amount, "452000"},
        {var_id::pin, "5931"}},
       subscriber,
       outcome::wrong_pin},
      {action_id::send_code, {{var_id::code_purpose, "register"}}, stranger, outcome::ok},
  };
  for (const auto& st : steps) {
    INFO("action " << menus::actions()[menus::index(st.action)].name << " for " << st.msisdn);
    auto s = r.state();
    for (const auto& [v, value] : st.vars) s.set(v, value);
    ussd::action_call call;
    call.action = menus::index(st.action);
    call.state = &s;
    call.msisdn = st.msisdn;
    auto calls = std::make_shared<int>(0);
    auto got = std::make_shared<ussd::action_result>();
    r.menu->run(call, [calls, got](ussd::action_result a) {
      ++*calls;
      *got = std::move(a);
    });
    CHECK(*calls == 0);
    // Whatever the handler gave the writer is committed: the answer still waits for the
    // network thread.
    wait_for_writer(r);
    CHECK(*calls == 0);
    REQUIRE(r.run_until([&] { return *calls > 0; }));
    r.io.poll();
    CHECK(*calls == 1);
    CHECK(got->result == st.expected);
  }
}

TEST_CASE("actions: every action answers once, as the vocabulary allows, on an empty dialog",
          "[actions]") {
  rig r;
  // A dialog with none of the variables an action reads (a menu edited wrongly, or a shortcut
  // that skipped a screen): every handler still answers exactly once, and with an outcome the
  // menus can route (the vocabulary's own, or error).
  for (std::uint8_t a = 0; a < menus::index(action_id::count_); ++a) {
    INFO("action " << menus::actions()[a].name);
    const auto out = r.run(static_cast<action_id>(a), r.state());
    CHECK((out.result == outcome::error || menus::action_may(a, out.result)));
  }
  // None of them moved money, saved an account or queued an SMS.
  r.barrier();
  CHECK(r.balance_of() == opening_balance);
  CHECK(r.outbox_size() == 0);
  CHECK(r.sent_now.empty());
  CHECK(r.schedule_changed == 0);
}
