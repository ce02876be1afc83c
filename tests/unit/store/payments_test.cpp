// The payments repository (store/payments.hpp) and the embedded wallet's ledger steps
// (adapters::ledger, what embedded_wallet runs inside the saga's transactions) over a real
// SQLite file: the money moves of a payment, their idempotency, the state guard, limits'
// inputs, and completion once the receipt is delivered.
#include <catch2/catch.hpp>

#include "adapters/embedded_wallet.hpp"
#include "store/ledger.hpp"
#include "store/payments.hpp"
#include "tests/unit/store/scratch_store.hpp"

using namespace ussdpay;
using namespace ussdpay::store;
using adapters::wallet_status;
namespace ledger = adapters::ledger;
using fixture = test::store_fixture;
using test::sample;

TEST_CASE("a payment's money: hold, then commit to the biller and fees, the sum never moves",
          "[store][wallet]") {
  fixture t;
  t.fund("923001234567", 1'000'000);
  auto& d = *t.conn;

  const adapters::hold_request hold{"AAAAAAAAAA", "923001234567", "PKR", 453'000};
  CHECK(ledger::hold(d, hold, 2) == wallet_status::ok);
  CHECK(ledger::hold(d, hold, 3) == wallet_status::ok);  // again: nothing moves twice
  CHECK(t.balance_of(account_kind::wallet, "923001234567") == 547'000);
  CHECK(t.balance_of(account_kind::hold, "923001234567") == 453'000);

  const adapters::settle_request settle{"AAAAAAAAAA", "923001234567", "PKR",
                                        "lesco",      452'000,        1'000};
  CHECK(ledger::commit(d, settle, 4) == wallet_status::ok);
  CHECK(ledger::commit(d, settle, 5) == wallet_status::ok);
  CHECK(t.balance_of(account_kind::hold, "923001234567") == 0);
  CHECK(t.balance_of(account_kind::settlement, "lesco") == 452'000);
  CHECK(t.balance_of(account_kind::fees, "") == 1'000);
  CHECK(ledger_sum(d) == 0);
  // A committed payment cannot be released afterwards.
  CHECK(ledger::release(d, hold, 6) == wallet_status::conflict);

  SECTION("an approved reversal gives back amount and fee") {
    CHECK(ledger::refund(d, settle, 7) == wallet_status::ok);
    CHECK(ledger::refund(d, settle, 8) == wallet_status::ok);
    CHECK(t.balance_of(account_kind::wallet, "923001234567") == 1'000'000);
    CHECK(ledger_sum(d) == 0);
  }
}

TEST_CASE("a rejected payment's hold goes back, and the id can never hold again",
          "[store][wallet]") {
  fixture t;
  t.fund("923001234567", 5'000);
  auto& d = *t.conn;
  const adapters::hold_request big{"BBBBBBBBBB", "923001234567", "PKR", 5'001};
  CHECK(ledger::hold(d, big, 1) == wallet_status::insufficient);
  CHECK(t.balance_of(account_kind::wallet, "923001234567") == 5'000);
  CHECK(ledger::release(d, big, 2) == wallet_status::ok);  // nothing held: nothing to give back
  const adapters::hold_request ok{"CCCCCCCCCC", "923001234567", "PKR", 5'000};
  CHECK(ledger::hold(d, ok, 3) == wallet_status::ok);
  CHECK(ledger::balance(d, "923001234567", "PKR").balance == 0);
  CHECK(ledger::release(d, ok, 4) == wallet_status::ok);
  CHECK(ledger::release(d, ok, 5) == wallet_status::ok);
  CHECK(ledger::balance(d, "923001234567", "PKR").balance == 5'000);
  CHECK(ledger::hold(d, ok, 6) == wallet_status::conflict);
  CHECK(ledger::hold(d, {"DDDDDDDDDD", "923009999999", "PKR", 1}, 7) == wallet_status::no_wallet);
  CHECK(ledger_sum(d) == 0);
}

TEST_CASE("payment states move only from the state the caller saw", "[store]") {
  fixture t;
  auto& d = *t.conn;
  auto p = sample("EEEEEEEEEE");
  REQUIRE_FALSE(insert_payment(d, p));
  CHECK(insert_payment(d, p));  // the reference is unique
  auto next = p;
  next.state = payment_state::committed;
  next.biller_reference = "DB1";
  CHECK(update_payment(d, next, payment_state::created));
  // A second writer that still believes it is CREATED loses.
  next.state = payment_state::failed;
  CHECK_FALSE(update_payment(d, next, payment_state::created));
  const auto back = find_payment(d, "EEEEEEEEEE");
  REQUIRE(back);
  CHECK(back->state == payment_state::committed);
  CHECK(back->biller_reference == "DB1");
  CHECK(back->amount == 452'000);
  CHECK(payments_in_state(d, payment_state::committed, 10).size() == 1);
  CHECK(payments_in_state(d, payment_state::created, 10).empty());
  for (auto s : {payment_state::created, payment_state::unknown, payment_state::manual_review,
                 payment_state::committed, payment_state::failed, payment_state::reversed,
                 payment_state::completed})
    CHECK(parse_payment_state(to_string(s)) == s);
  CHECK_FALSE(parse_payment_state("PAID"));
}

TEST_CASE("usage, duplicates and totals count what was not failed", "[store]") {
  fixture t;
  auto& d = *t.conn;
  auto a = sample("FFFFFFFFF1", 10'000);
  auto b = sample("FFFFFFFFF2", 20'000);
  b.state = payment_state::failed;
  auto c = sample("FFFFFFFFF3", 30'000);
  c.amount = 1'000;
  c.state = payment_state::committed;
  for (auto* p : {&a, &b, &c}) REQUIRE_FALSE(insert_payment(d, *p));
  const auto u = subscriber_usage(d, "923001234567", 0, 25'000);
  CHECK(u.amount_since_day == 453'000);
  CHECK(u.count_since_day == 2);
  CHECK(u.count_since_recent == 1);
  const auto later_day = subscriber_usage(d, "923001234567", 25'000, 0);
  CHECK(later_day.count_since_day == 1);
  CHECK(later_day.count_since_recent == 2);
  auto dup = find_duplicate(d, "923001234567", "lesco", "0400012345678", 452'000, 0);
  REQUIRE(dup);
  CHECK(dup->ref == "FFFFFFFFF1");
  CHECK_FALSE(find_duplicate(d, "923001234567", "lesco", "0400012345678", 452'000, 15'000));
  CHECK_FALSE(find_duplicate(d, "923001234567", "kelectric", "0400012345678", 452'000, 0));
  const auto totals = totals_by_biller(d, "923001234567", 0);
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].second == 1'000);
  CHECK(recent_payments(d, "923001234567", 2).front().ref == "FFFFFFFFF3");
}

TEST_CASE("a delivered receipt completes a committed payment, and only that", "[store]") {
  fixture t;
  auto& d = *t.conn;
  auto paid = sample("JJJJJJJJJJ");
  auto failed = sample("KKKKKKKKKK");
  paid.state = payment_state::committed;
  failed.state = payment_state::failed;
  REQUIRE_FALSE(insert_payment(d, paid));
  REQUIRE_FALSE(insert_payment(d, failed));
  CHECK(complete_payment(d, "JJJJJJJJJJ", 20));
  const auto done = find_payment(d, "JJJJJJJJJJ");
  REQUIRE(done);
  CHECK(done->state == payment_state::completed);
  CHECK(done->updated_at == 20);
  CHECK(is_final(done->state));
  CHECK_FALSE(complete_payment(d, "JJJJJJJJJJ", 21));  // already complete
  CHECK_FALSE(complete_payment(d, "KKKKKKKKKK", 21));  // a failed payment stays failed
  CHECK(find_payment(d, "KKKKKKKKKK")->state == payment_state::failed);
  CHECK_FALSE(complete_payment(d, "NOSUCHREF0", 21));
}
