// The store's foundation: durability settings, migrations, group commit, readers beside the
// writer, and the ledger constraints the schema enforces; the ledger (store/ledger.hpp):
// transfers, the amount a transfer moved, and a payment's entries.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "store/schema.hpp"
#include "store/writer.hpp"
#include "tests/unit/store/scratch_database.hpp"

using namespace ussdpay::store;

namespace {

using temp_db = ussdpay::test::scratch_database;

/// A table of the tests' own, in each engine's words.
std::string_view probe_table(const temp_db& t, bool with_pad = false) {
  if (t.postgresql())
    return with_pad ? "CREATE TABLE probe (n BIGINT PRIMARY KEY, pad BYTEA)"
                    : "CREATE TABLE probe (n BIGINT PRIMARY KEY)";
  return with_pad ? "CREATE TABLE probe (n INTEGER PRIMARY KEY, pad BLOB) STRICT"
                  : "CREATE TABLE probe (n INTEGER PRIMARY KEY) STRICT";
}

std::int64_t count(db& d, std::string_view sql) {
  stmt s(d, sql);
  REQUIRE(s.ok());
  REQUIRE(s.step());
  return s.int64(0);
}

}  // namespace

TEST_CASE("the writer connection is durable: WAL and synchronous=FULL", "[store][sqlite]") {
  temp_db t;
  auto d = t.open();
  CHECK(d.pragma("journal_mode") == "wal");
  CHECK(d.pragma("synchronous") == "2");  // FULL
  CHECK(d.pragma("foreign_keys") == "1");
}

TEST_CASE("migrations run once, in order, and a newer database is refused", "[store]") {
  temp_db t;
  auto d = t.open();
  CHECK(schema_version(d) == 0);
  REQUIRE_FALSE(migrate(d));
  CHECK(schema_version(d) == migrations().back().version);
  // Running again changes nothing.
  REQUIRE_FALSE(migrate(d));
  CHECK(count(d, t.postgresql() ? "SELECT count(*) FROM pg_tables WHERE tablename = 'accounts' "
                                  "AND schemaname = current_schema()"
                                : "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                  "name = 'accounts'") == 1);
  // A database written by a newer build is left alone.
  REQUIRE_FALSE(d.exec(t.postgresql() ? "UPDATE ussdpay_schema SET version = 999"
                                      : "PRAGMA user_version = 999"));
  auto e = migrate(d);
  REQUIRE(e);
  CHECK(e->message.find("newer than this build") != std::string::npos);
}

TEST_CASE("the schema refuses negative wallets, bad MSISDNs and repeated transfers", "[store]") {
  temp_db t;
  auto d = t.open();
  REQUIRE_FALSE(migrate(d));
  REQUIRE_FALSE(
      d.exec("INSERT INTO accounts(kind, owner, currency, balance) VALUES "
             "('wallet', '923001234567', 'PKR', 100), ('funding', '', 'PKR', -100)"));
  CHECK(d.exec("UPDATE accounts SET balance = -1 WHERE kind = 'wallet'"));
  CHECK_FALSE(d.exec("UPDATE accounts SET balance = -200 WHERE kind = 'funding'"));
  CHECK(d.exec("INSERT INTO subscribers(msisdn, created_at) VALUES ('92300abc4567', 0)"));
  CHECK(d.exec("INSERT INTO subscribers(msisdn, created_at) VALUES ('+923001234567', 0)"));
  CHECK_FALSE(d.exec("INSERT INTO subscribers(msisdn, created_at) VALUES ('923001234567', 0)"));
  REQUIRE_FALSE(
      d.exec("INSERT INTO entries(transfer_id, debit, credit, amount, created_at) "
             "VALUES ('p1/hold', 1, 2, 10, 0)"));
  CHECK(
      d.exec("INSERT INTO entries(transfer_id, debit, credit, amount, created_at) "
             "VALUES ('p1/hold', 1, 2, 10, 0)"));
  // SQL metacharacters in bound values are data, never SQL.
  stmt s(d, "INSERT INTO subscribers(msisdn, language, created_at) VALUES (?, ?, 0)");
  CHECK_FALSE(s.bind(1, std::string_view("923009999999"))
                  .bind(2, std::string_view("'); DROP TABLE accounts; --"))
                  .run());
  CHECK(count(d, "SELECT count(*) FROM accounts") == 2);
}

TEST_CASE("group commit: many jobs from many threads, few commits, each job's own rollback",
          "[store]") {
  temp_db t;
  {
    auto d = t.open();
    REQUIRE_FALSE(migrate(d));
    REQUIRE_FALSE(d.exec(probe_table(t)));
  }
  constexpr int threads = 4, per_thread = 500;
  std::atomic<int> committed{0}, refused{0}, not_queued{0};
  {
    group_writer w(t.open(), 100'000, 1'000);
    std::vector<std::thread> ts;
    for (int k = 0; k < threads; ++k)
      ts.emplace_back([&, k] {
        for (int i = 0; i < per_thread; ++i) {
          const std::int64_t n = k * per_thread + i;
          // Every tenth job inserts its row and then refuses: only that row is rolled back.
          const bool refuse = n % 10 == 0;
          // (Catch2 assertions are not thread-safe: count here, check after the join.)
          if (!w.submit(
                  [n, refuse](db& c) {
                    stmt s(c, "INSERT INTO probe(n) VALUES (?)");
                    return !s.bind(1, n).run() && !refuse;
                  },
                  [&](bool ok, const std::optional<db_error>&) { (ok ? committed : refused)++; }))
            ++not_queued;
        }
      });
    for (auto& th : ts) th.join();
  }  // the destructor runs what is queued
  CHECK(not_queued == 0);
  CHECK(committed == threads * per_thread * 9 / 10);
  CHECK(refused == threads * per_thread / 10);
  auto r = t.open(open_mode::reader);
  CHECK(count(r, "SELECT count(*) FROM probe") == threads * per_thread * 9 / 10);
  CHECK(count(r, "SELECT count(*) FROM probe WHERE n % 10 = 0") == 0);
}

TEST_CASE("group commit batches: fewer commits than jobs when jobs arrive together", "[store]") {
  temp_db t;
  {
    auto d = t.open();
    REQUIRE_FALSE(migrate(d));
    REQUIRE_FALSE(d.exec(probe_table(t)));
  }
  group_writer w(t.open(), 10'000, 1'000);
  // Hold the writer on a first job so the next 999 queue up behind it.
  std::promise<void> release;
  auto gate = release.get_future().share();
  REQUIRE(w.submit(
      [gate](db&) {
        gate.wait();
        return true;
      },
      {}));
  std::promise<void> all_done;
  std::atomic<int> left{999};
  for (int i = 0; i < 999; ++i)
    REQUIRE(w.submit(
        [i](db& c) {
          stmt s(c, "INSERT INTO probe(n) VALUES (?)");
          return !s.bind(1, std::int64_t{i}).run();
        },
        [&](bool ok, const std::optional<db_error>&) {
          CHECK(ok);
          if (--left == 0) all_done.set_value();
        }));
  release.set_value();
  all_done.get_future().wait();
  const auto st = w.stats();
  CHECK(st.jobs == 1000);
  CHECK(st.commits <= 3);  // the gate's batch, then the 999 in one or two
  CHECK(st.max_batch >= 500);
}

TEST_CASE("a full queue refuses at once instead of growing", "[store]") {
  temp_db t;
  {
    auto d = t.open();
    REQUIRE_FALSE(migrate(d));
  }
  group_writer w(t.open(), 2, 1);
  std::promise<void> release;
  auto gate = release.get_future().share();
  REQUIRE(w.submit(
      [gate](db&) {
        gate.wait();
        return true;
      },
      {}));
  // Once the writer is busy with the first job, two more fit in the queue and a third does not.
  for (int i = 0; i < 1000 && w.queued() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(w.queued() == 0);
  CHECK(w.submit([](db&) { return true; }, {}));
  CHECK(w.submit([](db&) { return true; }, {}));
  CHECK_FALSE(w.submit([](db&) { return true; }, {}));
  release.set_value();
}

TEST_CASE("a reader sees committed data while the writer holds a transaction", "[store]") {
  temp_db t;
  auto d = t.open();
  REQUIRE_FALSE(migrate(d));
  REQUIRE_FALSE(d.exec("INSERT INTO accounts(kind, owner, currency) VALUES ('fees', '', 'PKR')"));
  REQUIRE_FALSE(d.exec(d.begin_write_sql()));
  REQUIRE_FALSE(d.exec("UPDATE accounts SET balance = 500"));
  // The writer has not committed: a reader is not blocked and sees the committed value.
  auto r = t.open(open_mode::reader);
  CHECK(count(r, "SELECT balance FROM accounts") == 0);
  REQUIRE_FALSE(d.exec("COMMIT"));
  CHECK(count(r, "SELECT balance FROM accounts") == 500);
}

#include "store/ledger.hpp"

TEST_CASE("ledger transfers: once per id, never below zero, always balanced", "[store]") {
  temp_db t;
  auto d = t.open();
  REQUIRE_FALSE(migrate(d));
  const auto funding = *account_id(d, account_kind::funding, "", "PKR", true);
  const auto wallet = *account_id(d, account_kind::wallet, "923001234567", "PKR", true);
  const auto hold = *account_id(d, account_kind::hold, "923001234567", "PKR", true);
  CHECK(account_id(d, account_kind::wallet, "923001234567", "PKR", false) == wallet);
  CHECK_FALSE(account_id(d, account_kind::wallet, "923009999999", "PKR", false));

  // A top-up of Rs5,000 from outside.
  CHECK(transfer(d, "topup/1", funding, wallet, 500000, 0) == transfer_status::done);
  // A hold of Rs4,520 for payment P1; retried with the same id, nothing moves again.
  CHECK(transfer(d, "P1/hold", wallet, hold, 452000, 0) == transfer_status::done);
  CHECK(transfer(d, "P1/hold", wallet, hold, 452000, 0) == transfer_status::already_done);
  // The same id for a different transfer is a conflict, not a second move.
  CHECK(transfer(d, "P1/hold", wallet, hold, 1000, 0) == transfer_status::conflict);
  // A second payment cannot spend what is held: Rs480 left.
  CHECK(transfer(d, "P2/hold", wallet, hold, 50000, 0) == transfer_status::insufficient);
  CHECK(balance(d, wallet) == 48000);
  CHECK(balance(d, hold) == 452000);
  CHECK(count(d, "SELECT sum(balance) FROM accounts") == 0);
  CHECK(count(d, "SELECT count(*) FROM entries") == 2);
  // Nothing is moved by a zero or negative amount.
  CHECK(transfer(d, "P3/hold", wallet, hold, 0, 0) == transfer_status::failed);
  CHECK(transfer(d, "P4/hold", wallet, hold, -5, 0) == transfer_status::failed);
}

TEST_CASE("moved_amount: what a transfer id moved, nothing for one that never happened",
          "[store]") {
  temp_db t;
  auto d = t.open();
  REQUIRE_FALSE(migrate(d));
  const auto funding = *account_id(d, account_kind::funding, "", "PKR", true);
  const auto wallet = *account_id(d, account_kind::wallet, "923001234567", "PKR", true);
  const auto hold = *account_id(d, account_kind::hold, "923001234567", "PKR", true);
  REQUIRE(transfer(d, "topup/1", funding, wallet, 500000, 0) == transfer_status::done);
  REQUIRE(transfer(d, "P1/hold", wallet, hold, 452000, 0) == transfer_status::done);
  CHECK(moved_amount(d, "P1/hold") == 452000);
  CHECK(moved_amount(d, "topup/1") == 500000);
  // A retry moves nothing again, and the amount stays the first one.
  REQUIRE(transfer(d, "P1/hold", wallet, hold, 452000, 1) == transfer_status::already_done);
  CHECK(moved_amount(d, "P1/hold") == 452000);
  // A step that never happened (a released payment's "/void"), or a mere prefix of an id.
  CHECK_FALSE(moved_amount(d, "P1/void"));
  CHECK_FALSE(moved_amount(d, "P1"));
}

TEST_CASE("entries_of_payment: that payment's entries in order, and no other payment's",
          "[store]") {
  temp_db t;
  auto d = t.open();
  REQUIRE_FALSE(migrate(d));
  const auto funding = *account_id(d, account_kind::funding, "", "PKR", true);
  const auto wallet = *account_id(d, account_kind::wallet, "923001234567", "PKR", true);
  const auto hold = *account_id(d, account_kind::hold, "923001234567", "PKR", true);
  const auto lesco = *account_id(d, account_kind::settlement, "lesco", "PKR", true);
  const auto fees = *account_id(d, account_kind::fees, "", "PKR", true);
  REQUIRE(transfer(d, "topup/1", funding, wallet, 2'000'000, 1) == transfer_status::done);
  // Payment K7Q2M9XPLA: held, then settled to LESCO with its fee.
  REQUIRE(transfer(d, "K7Q2M9XPLA/hold", wallet, hold, 453'000, 10) == transfer_status::done);
  // Another payment in between, whose id has K7Q2M9XPLA as a longer prefix, and one whose
  // ref is K7Q2M9XPLA shortened: neither belongs to K7Q2M9XPLA.
  REQUIRE(transfer(d, "K7Q2M9XPLAB/hold", wallet, hold, 1'000, 11) == transfer_status::done);
  REQUIRE(transfer(d, "K7Q2M9XPL/hold", wallet, hold, 2'000, 12) == transfer_status::done);
  REQUIRE(transfer(d, "K7Q2M9XPLA/settle", hold, lesco, 452'000, 20) == transfer_status::done);
  REQUIRE(transfer(d, "K7Q2M9XPLA/fee", hold, fees, 1'000, 21) == transfer_status::done);

  const auto e = entries_of_payment(d, "K7Q2M9XPLA");
  REQUIRE(e.size() == 3);
  CHECK(e[0].transfer_id == "K7Q2M9XPLA/hold");
  CHECK(e[0].amount == 453'000);
  CHECK(e[0].debit_kind == "wallet");
  CHECK(e[0].debit_owner == "923001234567");
  CHECK(e[0].credit_kind == "hold");
  CHECK(e[0].credit_owner == "923001234567");
  CHECK(e[0].created_at == 10);
  CHECK(e[1].transfer_id == "K7Q2M9XPLA/settle");
  CHECK(e[1].credit_kind == "settlement");
  CHECK(e[1].credit_owner == "lesco");
  CHECK(e[2].transfer_id == "K7Q2M9XPLA/fee");
  CHECK(e[2].debit_kind == "hold");
  CHECK(e[2].credit_kind == "fees");
  CHECK(e[2].created_at == 21);
  CHECK(entries_of_payment(d, "K7Q2M9XPLAB").size() == 1);
  CHECK(entries_of_payment(d, "NOSUCHREF0").empty());
  // LIKE's wildcards in a ref match only themselves.
  CHECK(entries_of_payment(d, "K7Q2M9XPL_").empty());
  CHECK(entries_of_payment(d, "K7Q2M9XPL%").empty());
  CHECK(entries_of_payment(d, "%").empty());
}

TEST_CASE("WAL checkpoints run beside the writer and keep the WAL from growing",
          "[store][sqlite]") {
  temp_db t;
  {
    auto d = t.open();
    REQUIRE_FALSE(migrate(d));
    REQUIRE_FALSE(d.exec(probe_table(t, true)));
  }
  group_writer w(t.open(), 10'000, 1'000, {std::chrono::milliseconds(20), 256});
  // 2,000 commits of 4 KiB rows: 8 MB through the WAL; SQLite's own checkpoints are off.
  std::uintmax_t largest_wal = 0;
  for (int i = 0; i < 2000; ++i) {
    std::promise<bool> done;
    REQUIRE(w.submit(
        [i](db& c) {
          stmt s(c, "INSERT INTO probe(n, pad) VALUES (?, zeroblob(4096))");
          return !s.bind(1, std::int64_t{i}).run();
        },
        [&](bool ok, const std::optional<db_error>&) { done.set_value(ok); }));
    REQUIRE(done.get_future().get());
    std::error_code ec;
    largest_wal = std::max(largest_wal, std::filesystem::file_size(t.where().target + "-wal", ec));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (w.stats().checkpoints == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(w.stats().checkpoints > 0);
  // The WAL started over instead of holding all 8 MB (at 256 frames of 4 KiB, 1 MiB, the
  // writer's own checkpoint lets the next transaction start the WAL from its beginning).
  CHECK(largest_wal < 4'000'000);
}
