// The payments repository and the embedded wallet's ledger steps (adapters::ledger, what
// embedded_wallet runs inside the saga's transactions) over a real SQLite file: the
// money moves of a payment, their idempotency, the state guard, the outbox's uniqueness, limits'
// inputs, saved accounts and complaints.
#include <filesystem>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "adapters/embedded_wallet.hpp"
#include "store/ledger.hpp"
#include "store/payments.hpp"
#include "store/schema.hpp"

using namespace ussdpay;
using namespace ussdpay::store;
using adapters::wallet_status;
namespace ledger = adapters::ledger;

namespace {

struct fixture {
  fixture() {
    std::string name = (std::filesystem::temp_directory_path() / "ussdpay-payments-").string() +
                       std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::filesystem::create_directories(name);
    dir = name;
    db_error err;
    auto d = db::open(dir + "/p.db", open_mode::writer, err);
    REQUIRE(d);
    REQUIRE_FALSE(migrate(*d));
    conn.emplace(std::move(*d));
  }
  ~fixture() { std::filesystem::remove_all(dir); }

  /// A subscriber wallet with `balance`, funded from the funding account.
  void fund(const std::string& msisdn, std::int64_t balance) {
    auto w = account_id(*conn, account_kind::wallet, msisdn, "PKR", true);
    auto f = account_id(*conn, account_kind::funding, "", "PKR", true);
    REQUIRE(transfer(*conn, "fund/" + msisdn, *f, *w, balance, 1) == transfer_status::done);
  }
  std::int64_t balance_of(account_kind k, const std::string& owner) {
    auto id = account_id(*conn, k, owner, "PKR", false);
    return id ? balance(*conn, *id).value_or(-1) : 0;
  }

  static inline int counter = 0;
  std::string dir;
  std::optional<db> conn;
};

payment_record sample(const std::string& ref, std::int64_t created_at = 1'000) {
  payment_record p;
  p.ref = ref;
  p.msisdn = "923001234567";
  p.biller = "lesco";
  p.account = "0400012345678";
  p.amount = 452'000;
  p.fee = 1'000;
  p.created_at = p.updated_at = created_at;
  return p;
}

}  // namespace

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

TEST_CASE("one message per payment and kind, resends are copies, bounded", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(insert_payment(d, sample("GGGGGGGGGG")));
  CHECK(enqueue_message(d, "GGGGGGGGGG", "confirmed", "923001234567", "Ref GGGGGGGGGG PAID", 5) ==
        enqueue_status::queued);
  CHECK(enqueue_message(d, "GGGGGGGGGG", "confirmed", "923001234567", "other", 6) ==
        enqueue_status::already_queued);
  CHECK(due_messages(d, 4, 0, 10).empty());
  auto due = due_messages(d, 5, 0, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].body == "Ref GGGGGGGGGG PAID");
  REQUIRE_FALSE(update_message(d, due[0].id, "sent", "abc", "abc", 1, 0, 7));
  CHECK(due_messages(d, 100, 0, 10).empty());
  // A retry scheduled at 20 for 500 (the clock read 20, retry_max is 1,000)...
  REQUIRE_FALSE(update_message(d, due[0].id, "queued", "", "", 2, 500, 20));
  CHECK(due_messages(d, 100, 0, 10, 100 + 1'000).empty());
  CHECK(due_messages(d, 500, 0, 10, 500 + 1'000).size() == 1);
  // ...then the wall clock went back to -2,000 (an NTP step): no retry waits 2,500, so it is
  // due now rather than when the clock catches up.
  CHECK(due_messages(d, -2'000, 0, 10, -2'000 + 1'000).size() == 1);
  REQUIRE_FALSE(update_message(d, due[0].id, "sent", "abc", "abc", 2, 0, 21));
  CHECK(requeue_message(d, "GGGGGGGGGG", "923001234567", 8, 2));
  CHECK(requeue_message(d, "GGGGGGGGGG", "923001234567", 9, 2));
  CHECK_FALSE(requeue_message(d, "GGGGGGGGGG", "923001234567", 10, 2));
  CHECK_FALSE(requeue_message(d, "GGGGGGGGGG", "923000000000", 10, 2));  // not theirs
  CHECK(messages_for(d, "GGGGGGGGGG").size() == 3);
}

TEST_CASE("a delivery receipt sets the final state of the message with its key, once", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(insert_payment(d, sample("HHHHHHHHHH")));
  REQUIRE(enqueue_message(d, "HHHHHHHHHH", "confirmed", "923001234567", "PAID", 5) ==
          enqueue_status::queued);
  REQUIRE(enqueue_message(d, "HHHHHHHHHH", "pending", "923001234567", "PENDING", 5) ==
          enqueue_status::queued);
  auto due = due_messages(d, 5, 0, 10);
  REQUIRE(due.size() == 2);
  // The first is acknowledged as "0001A2B" (kept as given, keyed "1a2b"); the second not yet.
  REQUIRE_FALSE(update_message(d, due[0].id, "sent", "0001A2B", "1a2b", 1, 0, 7));
  // A key nobody has: nothing changes.
  CHECK_FALSE(record_delivery(d, {"ffff", "65535"}, "delivered", "DELIVRD", "000", 8));
  // The second key matches (the receipt wrote the id in decimal).
  auto m = record_delivery(d, {"6699", "1a2b"}, "delivered", "DELIVRD", "000", 9);
  REQUIRE(m);
  CHECK(m->ref == "HHHHHHHHHH");
  CHECK(m->kind == "confirmed");
  CHECK_FALSE(m->repeated);
  // Again: the message keeps its first final state.
  auto again = record_delivery(d, {"1a2b"}, "undeliverable", "UNDELIV", "001", 10);
  REQUIRE(again);
  CHECK(again->repeated);
  const auto all = messages_for(d, "HHHHHHHHHH");
  REQUIRE(all.size() == 2);
  CHECK(all[0].state == "delivered");
  CHECK(all[0].message_id == "0001A2B");
  CHECK(all[0].delivery_stat == "DELIVRD");
  CHECK(all[0].delivery_error == "000");
  CHECK(all[0].delivered_at == 9);
  CHECK(all[1].state == "queued");
  CHECK(all[1].delivered_at == 0);
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

TEST_CASE("saved accounts: bounded, no twins, removable, complaints once per payment", "[store]") {
  fixture t;
  auto& d = *t.conn;
  CHECK(save_account(d, "923001234567", {"lesco", "1", "Home"}, 2, 1) == save_status::saved);
  CHECK(save_account(d, "923001234567", {"lesco", "1", "Again"}, 2, 2) == save_status::exists);
  CHECK(save_account(d, "923001234567", {"sngpl", "2", "Shop"}, 2, 3) == save_status::saved);
  CHECK(save_account(d, "923001234567", {"kwsc", "3", "Farm"}, 2, 4) == save_status::full);
  CHECK(saved_accounts(d, "923001234567", "").size() == 2);
  CHECK(saved_accounts(d, "923001234567", "sngpl").front().label == "Shop");
  CHECK(remove_saved_account(d, "923001234567", "lesco", "1"));
  CHECK(saved_accounts(d, "923001234567", "").size() == 1);

  REQUIRE_FALSE(insert_payment(d, sample("HHHHHHHHHH")));
  CHECK(open_complaint(d, "HHHHHHHHHH", "923001234567", "T1", 1) == "T1");
  CHECK(open_complaint(d, "HHHHHHHHHH", "923001234567", "T2", 2) == "T1");
  CHECK_FALSE(open_complaint(d, "HHHHHHHHHH", "923009999999", "T3", 3));
  CHECK(open_complaints(d, 10).size() == 1);
}

TEST_CASE("wrong PINs lock after the limit and the count restarts", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(upsert_subscriber(d, {"923001234567", "en", "h", "s", "k", 0, 0, 1}));
  auto r = record_wrong_pin(d, "923001234567", 3, 60'000, 1'000);
  REQUIRE(r);
  CHECK(r->failed_pins == 1);
  CHECK(r->locked_until == 0);
  record_wrong_pin(d, "923001234567", 3, 60'000, 1'000);
  r = record_wrong_pin(d, "923001234567", 3, 60'000, 1'000);
  CHECK(r->locked_until == 61'000);
  CHECK(r->failed_pins == 0);
  CHECK_FALSE(record_wrong_pin(d, "923000000000", 3, 60'000, 1'000));
  REQUIRE_FALSE(reset_wrong_pins(d, "923001234567"));
  CHECK(set_pin(d, "923001234567", "h2", "s2", "k2"));
  CHECK_FALSE(set_pin(d, "923000000000", "h2", "s2", "k2"));
}
