// Saved accounts and their bills (store/accounts.hpp) over a real database (SQLite, or
// PostgreSQL under its fixture) at schema version 5: saving is bounded and refuses twins; which
// saved accounts come due for a check and in what order, that an account nobody watches (reminders
// off, no auto-pay) stays at store::never whatever a check records, the auto-pay consent's life
// (set, replaced, cleared, removed with its account), one claim per bill and action, the
// open-payment guard, and the v4 -> v5 migration of a store that has saved accounts.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "store/accounts.hpp"
#include "store/payments.hpp"
#include "store/schema.hpp"
#include "tests/unit/store/scratch_database.hpp"

using namespace ussdpay;
using namespace ussdpay::store;

namespace {

constexpr const char* alice = "923001234567";
constexpr const char* bob = "923009876543";

/// A fresh directory with one writer connection, migrated to `to_v4_only` ? 4 : the newest.
struct bills_fixture {
  explicit bills_fixture(bool to_v4_only = false) {
    conn.emplace(database.open());
    if (to_v4_only)
      migrate_to_v4();
    else
      REQUIRE_FALSE(migrate(*conn));
  }
  bills_fixture(const bills_fixture&) = delete;
  bills_fixture& operator=(const bills_fixture&) = delete;

  /// What migrate() does, stopping after version 4.
  void migrate_to_v4() {
    for (const auto& m : migrations()) {
      if (m.version > 4) break;
      REQUIRE_FALSE(conn->exec("BEGIN IMMEDIATE"));
      REQUIRE_FALSE(conn->exec(m.sql));
      REQUIRE_FALSE(conn->exec("PRAGMA user_version = " + std::to_string(m.version)));
      REQUIRE_FALSE(conn->exec("COMMIT"));
    }
    REQUIRE(schema_version(*conn) == 4);
  }

  /// A subscribers row with a language and no PIN.
  void subscriber(const std::string& msisdn, const std::string& language) {
    stmt s(*conn,
           "INSERT INTO subscribers(msisdn, language, pin_hash, created_at) VALUES "
           "(?, ?, NULL, 1)");
    REQUIRE_FALSE(s.bind(1, msisdn).bind(2, language).run());
  }
  void save(const std::string& msisdn, const std::string& biller, const std::string& account,
            const std::string& label, std::int64_t now = 1) {
    saved_account a;
    a.biller = biller;
    a.account = account;
    a.label = label;
    REQUIRE(save_account(*conn, msisdn, a, 10, now) == save_status::saved);
  }

  struct row {
    std::int64_t next_check_at = -1;
    bool reminders = false;
    std::string due_date;
    std::int64_t bill_amount = -1;
  };
  /// The saved_accounts columns of one account, read straight from the table.
  std::optional<row> read(const std::string& msisdn, const std::string& biller,
                          const std::string& account) {
    stmt s(*conn,
           "SELECT next_check_at, reminders, due_date, bill_amount FROM saved_accounts WHERE "
           "msisdn = ? AND biller = ? AND account = ?");
    s.bind(1, msisdn).bind(2, biller).bind(3, account);
    if (!s.step()) return std::nullopt;
    return row{s.int64(0), s.int64(1) != 0, s.text(2), s.int64(3)};
  }
  std::int64_t count(const std::string& sql) {
    stmt s(*conn, sql);
    REQUIRE(s.ok());
    REQUIRE(s.step());
    return s.int64(0);
  }

  ussdpay::test::scratch_database database;
  std::optional<db> conn;
};

std::vector<std::string> accounts_of(const std::vector<watched_account>& v) {
  std::vector<std::string> out;
  for (const auto& w : v) out.push_back(w.biller + "/" + w.account);
  return out;
}

payment_record payment(const std::string& ref, const std::string& msisdn, const std::string& biller,
                       const std::string& account, payment_state s) {
  payment_record p;
  p.ref = ref;
  p.msisdn = msisdn;
  p.biller = biller;
  p.account = account;
  p.amount = 452'000;
  p.fee = 1'000;
  p.state = s;
  p.created_at = p.updated_at = 1'000;
  return p;
}

}  // namespace

TEST_CASE("saved accounts: bounded, no twins, removable", "[store]") {
  bills_fixture t;
  auto& d = *t.conn;
  CHECK(save_account(d, "923001234567", {"lesco", "1", "Home"}, 2, 1) == save_status::saved);
  CHECK(save_account(d, "923001234567", {"lesco", "1", "Again"}, 2, 2) == save_status::exists);
  CHECK(save_account(d, "923001234567", {"sngpl", "2", "Shop"}, 2, 3) == save_status::saved);
  CHECK(save_account(d, "923001234567", {"kwsc", "3", "Farm"}, 2, 4) == save_status::full);
  CHECK(saved_accounts(d, "923001234567", "").size() == 2);
  CHECK(saved_accounts(d, "923001234567", "sngpl").front().label == "Shop");
  CHECK(remove_saved_account(d, "923001234567", "lesco", "1"));
  CHECK(saved_accounts(d, "923001234567", "").size() == 1);
}

TEST_CASE("due_accounts: saved accounts are due at once, with their subscriber's language",
          "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  t.subscriber(alice, "ur");
  t.save(alice, "lesco", "0400012345678", "Home");
  t.save(bob, "kelectric", "0100098765432", "Shop");  // bob has no subscribers row

  const auto due = due_accounts(d, 0, 10);
  REQUIRE(due.size() == 2);
  for (const auto& w : due) {
    INFO(w.msisdn);
    CHECK(w.next_check_at == 0);
    CHECK(w.reminders);
    CHECK(w.autopay_max == 0);
    CHECK(w.due_date.empty());
    CHECK(w.bill_amount == 0);
    if (w.msisdn == alice) {
      CHECK(w.biller == "lesco");
      CHECK(w.account == "0400012345678");
      CHECK(w.label == "Home");
      CHECK(w.language == "ur");
    } else {
      CHECK(w.msisdn == bob);
      CHECK(w.biller == "kelectric");
      CHECK(w.label == "Shop");
      CHECK(w.language.empty());
    }
  }
}

TEST_CASE("due_accounts: the longest waiting first, bounded by limit, none not yet due",
          "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  t.subscriber(alice, "en");
  t.save(alice, "lesco", "1", "One");
  t.save(alice, "lesco", "2", "Two");
  t.save(alice, "kelectric", "3", "Three");
  t.save(bob, "sngpl", "4", "Four");  // stays at 0
  REQUIRE_FALSE(record_check(d, alice, "lesco", "1", 5'000, "", 0));
  REQUIRE_FALSE(record_check(d, alice, "lesco", "2", 3'000, "2026-12-25", 452'000));
  REQUIRE_FALSE(record_check(d, alice, "kelectric", "3", 1'000, "", 0));

  CHECK(accounts_of(due_accounts(d, 4'000, 10)) ==
        std::vector<std::string>{"sngpl/4", "kelectric/3", "lesco/2"});
  CHECK(accounts_of(due_accounts(d, 4'000, 2)) ==
        std::vector<std::string>{"sngpl/4", "kelectric/3"});
  CHECK(accounts_of(due_accounts(d, 999, 10)) == std::vector<std::string>{"sngpl/4"});
  // next_check_at <= now: an account is due at its very moment.
  CHECK(accounts_of(due_accounts(d, 5'000, 10)) ==
        std::vector<std::string>{"sngpl/4", "kelectric/3", "lesco/2", "lesco/1"});
  CHECK(due_accounts(d, 5'000, 0).empty());

  // record_check stored the bill; due_accounts reads it back.
  const auto all = due_accounts(d, 5'000, 10);
  REQUIRE(all.size() == 4);
  CHECK(all[2].next_check_at == 3'000);
  CHECK(all[2].due_date == "2026-12-25");
  CHECK(all[2].bill_amount == 452'000);
  CHECK(all[2].language == "en");
  CHECK(all[3].next_check_at == 5'000);
  CHECK(all[3].due_date.empty());
  CHECK(all[3].bill_amount == 0);
}

TEST_CASE("record_check sets the next check and the bill, and clears a paid one",
          "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  t.save(alice, "lesco", "0400012345678", "Home");

  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 7'000, "2026-12-25", 452'000));
  auto r = t.read(alice, "lesco", "0400012345678");
  REQUIRE(r);
  CHECK(r->next_check_at == 7'000);
  CHECK(r->due_date == "2026-12-25");
  CHECK(r->bill_amount == 452'000);

  // The bill was paid: the next check finds none.
  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 9'000, "", 0));
  r = t.read(alice, "lesco", "0400012345678");
  REQUIRE(r);
  CHECK(r->next_check_at == 9'000);
  CHECK(r->due_date.empty());
  CHECK(r->bill_amount == 0);

  // Another subscriber's account of the same number is untouched.
  t.save(bob, "lesco", "0400012345678", "Office");
  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 11'000, "2027-01-25", 1));
  const auto other = t.read(bob, "lesco", "0400012345678");
  REQUIRE(other);
  CHECK(other->next_check_at == 0);
  CHECK(other->due_date.empty());
}

TEST_CASE("an account nobody watches stays at never, whatever a check records", "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  t.save(alice, "lesco", "0400012345678", "Home");

  // A check was in flight when the subscriber turned reminders off; it finishes afterwards.
  REQUIRE(set_reminders(d, alice, "lesco", "0400012345678", false));
  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 7'000, "2026-12-25", 452'000));
  const auto r = t.read(alice, "lesco", "0400012345678");
  REQUIRE(r);
  CHECK(r->next_check_at == never);
  CHECK_FALSE(r->reminders);
  CHECK(r->due_date == "2026-12-25");  // the bill is still recorded
  CHECK(r->bill_amount == 452'000);
  CHECK(due_accounts(d, never - 1, 10).empty());

  // With an auto-pay consent the account is watched even with reminders off.
  REQUIRE(set_autopay(d, alice, "lesco", "0400012345678", 500'000, "PKR", 10));
  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 7'000, "2026-12-25", 452'000));
  CHECK(t.read(alice, "lesco", "0400012345678")->next_check_at == 7'000);
}

TEST_CASE("set_reminders: off parks an unwatched account at never, on makes it due at once",
          "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  t.save(alice, "lesco", "0400012345678", "Home");
  t.save(alice, "kelectric", "0100098765432", "Shop");
  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 7'000, "", 0));

  // The first switch-off already parks it: nobody watches it any more, so no biller inquiry
  // is due for it (its old next check, 7'000, must not survive).
  REQUIRE(set_reminders(d, alice, "lesco", "0400012345678", false));
  CHECK(t.read(alice, "lesco", "0400012345678")->next_check_at == never);
  CHECK(accounts_of(due_accounts(d, never - 1, 10)) ==
        std::vector<std::string>{"kelectric/0100098765432"});
  auto saved = saved_accounts(d, alice, "lesco");
  REQUIRE(saved.size() == 1);
  CHECK_FALSE(saved[0].reminders);
  // Off again still names the account, and leaves it parked.
  CHECK(set_reminders(d, alice, "lesco", "0400012345678", false));
  CHECK(t.read(alice, "lesco", "0400012345678")->next_check_at == never);

  REQUIRE(set_reminders(d, alice, "lesco", "0400012345678", true));
  const auto r = t.read(alice, "lesco", "0400012345678");
  CHECK(r->next_check_at == 0);
  CHECK(r->reminders);
  CHECK(due_accounts(d, 0, 10).size() == 2);
  saved = saved_accounts(d, alice, "lesco");
  REQUIRE(saved.size() == 1);
  CHECK(saved[0].reminders);

  // No such saved account: not another subscriber's, not another biller's.
  CHECK_FALSE(set_reminders(d, alice, "lesco", "9999", false));
  CHECK_FALSE(set_reminders(d, bob, "lesco", "0400012345678", false));
  CHECK_FALSE(set_reminders(d, alice, "iesco", "0400012345678", true));
  CHECK(t.read(alice, "lesco", "0400012345678")->reminders);
}

TEST_CASE("set_reminders off keeps an auto-pay account's next check", "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  t.save(alice, "lesco", "0400012345678", "Home");
  REQUIRE(set_autopay(d, alice, "lesco", "0400012345678", 500'000, "PKR", 10));
  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 7'000, "", 0));
  REQUIRE(set_reminders(d, alice, "lesco", "0400012345678", false));
  const auto r = t.read(alice, "lesco", "0400012345678");
  CHECK(r->next_check_at == 7'000);
  CHECK_FALSE(r->reminders);
  const auto due = due_accounts(d, 7'000, 10);
  REQUIRE(due.size() == 1);
  CHECK_FALSE(due[0].reminders);
  CHECK(due[0].autopay_max == 500'000);
}

TEST_CASE("set_autopay needs a saved account, checks it at once and replaces the maximum",
          "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;

  // Not saved: no consent is written.
  CHECK_FALSE(set_autopay(d, alice, "lesco", "0400012345678", 500'000, "PKR", 10));
  CHECK_FALSE(autopay_max(d, alice, "lesco", "0400012345678"));
  CHECK(t.count("SELECT count(*) FROM autopay") == 0);

  t.save(alice, "lesco", "0400012345678", "Home");
  t.save(bob, "lesco", "0400012345678", "Office");
  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 9'000, "", 0));
  REQUIRE(set_autopay(d, alice, "lesco", "0400012345678", 500'000, "PKR", 10));
  CHECK(t.read(alice, "lesco", "0400012345678")->next_check_at == 0);
  CHECK(autopay_max(d, alice, "lesco", "0400012345678") == 500'000);
  CHECK_FALSE(autopay_max(d, bob, "lesco", "0400012345678"));  // per subscriber

  REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 9'000, "", 0));
  REQUIRE(set_autopay(d, alice, "lesco", "0400012345678", 700'000, "PKR", 20));
  CHECK(autopay_max(d, alice, "lesco", "0400012345678") == 700'000);
  CHECK(t.read(alice, "lesco", "0400012345678")->next_check_at == 0);
  CHECK(t.count("SELECT count(*) FROM autopay") == 1);
  CHECK(t.count("SELECT created_at FROM autopay") == 20);

  const auto saved = saved_accounts(d, alice, "");
  REQUIRE(saved.size() == 1);
  CHECK(saved[0].autopay_max == 700'000);
  CHECK(saved[0].reminders);
  const auto bobs = saved_accounts(d, bob, "");
  REQUIRE(bobs.size() == 1);
  CHECK(bobs[0].autopay_max == 0);

  // A maximum of 0 is not a consent (the CHECK refuses it).
  CHECK_FALSE(set_autopay(d, bob, "lesco", "0400012345678", 0, "PKR", 30));
  CHECK_FALSE(autopay_max(d, bob, "lesco", "0400012345678"));
}

TEST_CASE("clear_autopay withdraws the consent, parking an account without reminders",
          "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  t.save(alice, "lesco", "0400012345678", "Home");
  t.save(alice, "kelectric", "0100098765432", "Shop");

  CHECK_FALSE(clear_autopay(d, alice, "lesco", "0400012345678"));  // none to clear

  SECTION("reminders on: the account stays watched where it was") {
    REQUIRE(set_autopay(d, alice, "lesco", "0400012345678", 500'000, "PKR", 10));
    REQUIRE_FALSE(record_check(d, alice, "lesco", "0400012345678", 7'000, "", 0));
    CHECK(clear_autopay(d, alice, "lesco", "0400012345678"));
    CHECK_FALSE(autopay_max(d, alice, "lesco", "0400012345678"));
    CHECK(t.read(alice, "lesco", "0400012345678")->next_check_at == 7'000);
    CHECK_FALSE(clear_autopay(d, alice, "lesco", "0400012345678"));  // already gone
  }
  SECTION("reminders off: the account is no longer watched") {
    REQUIRE(set_autopay(d, alice, "lesco", "0400012345678", 500'000, "PKR", 10));
    REQUIRE(set_reminders(d, alice, "lesco", "0400012345678", false));
    REQUIRE(set_reminders(d, alice, "kelectric", "0100098765432", false));
    REQUIRE(set_autopay(d, alice, "kelectric", "0100098765432", 300'000, "PKR", 10));
    CHECK(t.read(alice, "lesco", "0400012345678")->next_check_at == 0);
    CHECK(clear_autopay(d, alice, "lesco", "0400012345678"));
    CHECK(t.read(alice, "lesco", "0400012345678")->next_check_at == never);
    // The other account keeps its consent and its place.
    CHECK(autopay_max(d, alice, "kelectric", "0100098765432") == 300'000);
    CHECK(accounts_of(due_accounts(d, never - 1, 10)) ==
          std::vector<std::string>{"kelectric/0100098765432"});
  }
}

TEST_CASE("remove_saved_account removes the auto-pay consent with the account", "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  t.save(alice, "lesco", "0400012345678", "Home");
  t.save(alice, "kelectric", "0100098765432", "Shop");
  REQUIRE(set_autopay(d, alice, "lesco", "0400012345678", 500'000, "PKR", 10));
  REQUIRE(set_autopay(d, alice, "kelectric", "0100098765432", 300'000, "PKR", 10));

  REQUIRE(remove_saved_account(d, alice, "lesco", "0400012345678"));
  CHECK_FALSE(autopay_max(d, alice, "lesco", "0400012345678"));
  CHECK(t.count("SELECT count(*) FROM autopay WHERE biller = 'lesco'") == 0);
  CHECK(autopay_max(d, alice, "kelectric", "0100098765432") == 300'000);
  CHECK(accounts_of(due_accounts(d, 0, 10)) == std::vector<std::string>{"kelectric/0100098765432"});

  // Saved again, it starts without the old consent.
  t.save(alice, "lesco", "0400012345678", "Home", 2);
  const auto saved = saved_accounts(d, alice, "lesco");
  REQUIRE(saved.size() == 1);
  CHECK(saved[0].autopay_max == 0);
  CHECK(saved[0].reminders);
}

TEST_CASE("claim_bill_action: one claim per bill and action, then its outcome", "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  const bill_key december{alice, "lesco", "0400012345678", "2026-12-25"};
  const bill_key january{alice, "lesco", "0400012345678", "2027-01-25"};

  CHECK(claim_bill_action(d, december, "reminder", "sent", 452'000, 100));
  // Again (a restart, a second scheduler pass): refused, and the first claim is kept.
  CHECK_FALSE(claim_bill_action(d, december, "reminder", "other", 1, 200));
  // Another action about the same bill, and the same action about the next bill.
  CHECK(claim_bill_action(d, december, "autopay", "paying", 452'000, 300));
  CHECK(claim_bill_action(d, january, "reminder", "sent", 460'000, 400));
  CHECK_FALSE(claim_bill_action(d, january, "reminder", "sent", 460'000, 500));
  // Another subscriber's bill of the same account and date is theirs to claim.
  CHECK(claim_bill_action(d, {bob, "lesco", "0400012345678", "2026-12-25"}, "reminder", "sent",
                          452'000, 600));
  // Only the two known actions.
  CHECK_FALSE(
      claim_bill_action(d, {alice, "lesco", "0400012345678", "2027-02-25"}, "sms", "", 1, 700));

  CHECK(set_bill_action(d, december, "autopay", "paid", "ABCDEFGHJK"));
  CHECK_FALSE(set_bill_action(d, {alice, "lesco", "0400012345678", "2027-02-25"}, "autopay", "paid",
                              "ABCDEFGHJK"));  // never claimed
  CHECK_FALSE(set_bill_action(d, january, "autopay", "paid", "ABCDEFGHJK"));

  const auto actions = bill_actions(d, alice, "lesco", "0400012345678", 10);
  REQUIRE(actions.size() == 3);
  // Newest bill first, then by action.
  CHECK(actions[0].due_date == "2027-01-25");
  CHECK(actions[0].action == "reminder");
  CHECK(actions[0].outcome == "sent");
  CHECK(actions[0].amount == 460'000);
  CHECK(actions[0].created_at == 400);
  CHECK(actions[1].due_date == "2026-12-25");
  CHECK(actions[1].action == "autopay");
  CHECK(actions[1].outcome == "paid");
  CHECK(actions[1].payment_ref == "ABCDEFGHJK");
  CHECK(actions[1].amount == 452'000);
  CHECK(actions[2].due_date == "2026-12-25");
  CHECK(actions[2].action == "reminder");
  CHECK(actions[2].outcome == "sent");  // not "other": the refused claim wrote nothing
  CHECK(actions[2].amount == 452'000);
  CHECK(actions[2].created_at == 100);
  CHECK(actions[2].payment_ref.empty());

  CHECK(bill_actions(d, alice, "lesco", "0400012345678", 1).size() == 1);
  CHECK(bill_actions(d, bob, "lesco", "0400012345678", 10).size() == 1);
  CHECK(bill_actions(d, alice, "kelectric", "0400012345678", 10).empty());
}

TEST_CASE("open_payment_to: only a created, unknown or in-review payment to that account",
          "[store][bills]") {
  bills_fixture t;
  auto& d = *t.conn;
  const std::string acct = "0400012345678";

  CHECK_FALSE(open_payment_to(d, alice, "lesco", acct));  // no payments at all

  // Finished payments to the account do not count.
  REQUIRE_FALSE(
      insert_payment(d, payment("AAAAAAAAAA", alice, "lesco", acct, payment_state::committed)));
  REQUIRE_FALSE(
      insert_payment(d, payment("BBBBBBBBBB", alice, "lesco", acct, payment_state::failed)));
  REQUIRE_FALSE(
      insert_payment(d, payment("CCCCCCCCCC", alice, "lesco", acct, payment_state::reversed)));
  REQUIRE_FALSE(
      insert_payment(d, payment("DDDDDDDDDD", alice, "lesco", acct, payment_state::completed)));
  CHECK_FALSE(open_payment_to(d, alice, "lesco", acct));

  // Open ones elsewhere do not either: another account, another biller, another subscriber.
  REQUIRE_FALSE(insert_payment(
      d, payment("EEEEEEEEEE", alice, "lesco", "0400099999999", payment_state::created)));
  REQUIRE_FALSE(
      insert_payment(d, payment("FFFFFFFFFF", alice, "iesco", acct, payment_state::unknown)));
  REQUIRE_FALSE(
      insert_payment(d, payment("GGGGGGGGGG", bob, "lesco", acct, payment_state::manual_review)));
  CHECK_FALSE(open_payment_to(d, alice, "lesco", acct));
  CHECK(open_payment_to(d, alice, "lesco", "0400099999999"));
  CHECK(open_payment_to(d, alice, "iesco", acct));
  CHECK(open_payment_to(d, bob, "lesco", acct));

  SECTION("created") {
    REQUIRE_FALSE(
        insert_payment(d, payment("HHHHHHHHHH", alice, "lesco", acct, payment_state::created)));
    CHECK(open_payment_to(d, alice, "lesco", acct));
  }
  SECTION("unknown") {
    REQUIRE_FALSE(
        insert_payment(d, payment("HHHHHHHHHH", alice, "lesco", acct, payment_state::unknown)));
    CHECK(open_payment_to(d, alice, "lesco", acct));
  }
  SECTION("manual review") {
    REQUIRE_FALSE(insert_payment(
        d, payment("HHHHHHHHHH", alice, "lesco", acct, payment_state::manual_review)));
    CHECK(open_payment_to(d, alice, "lesco", acct));
  }
  SECTION("an open payment that then commits no longer counts") {
    auto p = payment("HHHHHHHHHH", alice, "lesco", acct, payment_state::unknown);
    REQUIRE_FALSE(insert_payment(d, p));
    CHECK(open_payment_to(d, alice, "lesco", acct));
    p.state = payment_state::committed;
    REQUIRE(update_payment(d, p, payment_state::unknown));
    CHECK_FALSE(open_payment_to(d, alice, "lesco", acct));
  }
}

TEST_CASE("migration 5 on a v4 store with saved accounts: each is watched and due at once",
          "[store][bills][sqlite]") {
  bills_fixture t(/*to_v4_only=*/true);
  auto& d = *t.conn;
  t.subscriber(alice, "ur");
  {
    // The v4 columns only: v4 has no reminders column yet.
    stmt old(d, "SELECT reminders FROM saved_accounts");
    CHECK_FALSE(old.ok());
  }
  {
    stmt s(d,
           "INSERT INTO saved_accounts(msisdn, biller, account, label, created_at) VALUES "
           "(?, ?, ?, ?, ?)");
    REQUIRE_FALSE(s.bind(1, alice)
                      .bind(2, "lesco")
                      .bind(3, "0400012345678")
                      .bind(4, "Home")
                      .bind(5, 1'000)
                      .run());
  }

  REQUIRE_FALSE(migrate(d));
  CHECK(schema_version(d) == migrations().back().version);

  const auto r = t.read(alice, "lesco", "0400012345678");
  REQUIRE(r);
  CHECK(r->reminders);
  CHECK(r->next_check_at == 0);
  CHECK(r->due_date.empty());
  CHECK(r->bill_amount == 0);

  const auto due = due_accounts(d, 0, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].msisdn == alice);
  CHECK(due[0].label == "Home");
  CHECK(due[0].language == "ur");
  CHECK(due[0].reminders);
  CHECK(due[0].autopay_max == 0);

  const auto saved = saved_accounts(d, alice, "");
  REQUIRE(saved.size() == 1);
  CHECK(saved[0].reminders);
  CHECK(saved[0].autopay_max == 0);

  // The new tables work on the migrated store, and migrating again changes nothing.
  CHECK(set_autopay(d, alice, "lesco", "0400012345678", 500'000, "PKR", 2'000));
  CHECK(claim_bill_action(d, {alice, "lesco", "0400012345678", "2026-12-25"}, "reminder", "sent",
                          452'000, 2'000));
  REQUIRE_FALSE(migrate(d));
  CHECK(schema_version(d) == migrations().back().version);
  CHECK(autopay_max(d, alice, "lesco", "0400012345678") == 500'000);
}
