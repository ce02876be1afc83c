// The PostgreSQL side of the store (store/postgres.*): the SQL rewriting and the password
// redaction run everywhere; the rest runs in the "store on postgresql" pass against a real
// server (and is skipped, saying so, on SQLite): a failed statement inside a batch, a COMMIT the
// server turned into a ROLLBACK, and a connection lost inside and outside a transaction.
#include <future>
#include <string>

#include <catch2/catch.hpp>

#include "store/postgres.hpp"
#include "store/schema.hpp"
#include "store/writer.hpp"
#include "tests/unit/store/scratch_database.hpp"

using namespace ussdpay::store;
using ussdpay::test::scratch_database;

namespace {

std::string translated(std::string_view sql, int expect_params) {
  int n = -1;
  auto out = detail::translate_placeholders(sql, n);
  CHECK(n == expect_params);
  return out;
}

std::int64_t count(db& d, std::string_view sql) {
  stmt s(d, sql);
  REQUIRE(s.step());
  return s.int64(0);
}

}  // namespace

TEST_CASE("SQLite's parameters become PostgreSQL's, outside quotes and comments", "[pq]") {
  CHECK(translated("SELECT 1", 0) == "SELECT 1");
  CHECK(translated("UPDATE t SET a = ? WHERE b = ?", 2) == "UPDATE t SET a = $1 WHERE b = $2");
  CHECK(translated("SELECT ?2, ?1, ?2", 2) == "SELECT $2, $1, $2");
  // A bare ? after numbered ones takes the next number after the highest (SQLite's rule).
  CHECK(translated("SELECT ?3, ?", 4) == "SELECT $3, $4");
  CHECK(translated("SELECT '?' || ?, \"col?\" FROM t -- what?\nWHERE x = ?", 2) ==
        "SELECT '?' || $1, \"col?\" FROM t -- what?\nWHERE x = $2");
  CHECK(translated("SELECT 'it''s ?' , ?", 1) == "SELECT 'it''s ?' , $1");
  CHECK(translated("SELECT ?10", 10) == "SELECT $10");
  // SQLite's planner hint goes; the rest stays as written.
  CHECK(translated("SELECT n FROM outbox INDEXED BY outbox_queued_by_id WHERE id > ?", 1) ==
        "SELECT n FROM outbox WHERE id > $1");
  CHECK(translated("SELECT 'INDEXED BY x' FROM t", 0) == "SELECT 'INDEXED BY x' FROM t");
}

TEST_CASE("a connection string's password never reaches a log", "[pq]") {
  CHECK(redact_connection_string("host=db1,db2 user=ussdpay password=s3cret dbname=pay") ==
        "host=db1,db2 user=ussdpay password=*** dbname=pay");
  CHECK(redact_connection_string("password = 'a s3cret' host=db") == "password = *** host=db");
  CHECK(redact_connection_string("postgresql://ussdpay:s3cret@db1:5432,db2/pay") ==
        "postgresql://ussdpay:***@db1:5432,db2/pay");
  CHECK(redact_connection_string("postgres://db1/pay?user=u&password=s3cret&sslmode=verify-full") ==
        "postgres://db1/pay?user=u&password=***&sslmode=verify-full");
  CHECK(redact_connection_string("host=db user=u") == "host=db user=u");
  location where(backend::postgresql, "host=db password=s3cret");
  CHECK(where.describe().find("s3cret") == std::string::npos);
  CHECK(location("var/ussdpay.db").describe() == "var/ussdpay.db");
}

TEST_CASE("on PostgreSQL a job whose statement failed fails alone, and its batch commits",
          "[store]") {
  scratch_database t;
  if (!t.postgresql()) {
    SUCCEED("SQLite: a failed statement does not abort the transaction");
    return;
  }
  {
    auto d = t.open();
    REQUIRE_FALSE(migrate(d));
    REQUIRE_FALSE(d.exec("CREATE TABLE probe (n BIGINT PRIMARY KEY)"));
  }
  group_writer w(t.open(), 100, 100);
  std::promise<void> release;
  auto gate = release.get_future().share();
  REQUIRE(w.submit(
      [gate](db&) {
        gate.wait();
        return true;
      },
      {}));
  // Queued together, so they share one transaction: the second repeats the first's key, ignores
  // the error and says it succeeded. The server has aborted the transaction at that point;
  // unless the writer rolls that job back to its savepoint, the third job and the COMMIT fail.
  std::promise<bool> first, second, third;
  auto insert = [](std::int64_t n) {
    return [n](db& c) {
      stmt s(c, "INSERT INTO probe(n) VALUES (?)");
      (void)s.bind(1, n).run();
      return true;
    };
  };
  auto into = [](std::promise<bool>& p) {
    return [&p](bool ok, const std::optional<db_error>&) { p.set_value(ok); };
  };
  REQUIRE(w.submit(insert(1), into(first)));
  REQUIRE(w.submit(insert(1), into(second)));
  REQUIRE(w.submit(insert(3), into(third)));
  release.set_value();
  CHECK(first.get_future().get());
  CHECK_FALSE(second.get_future().get());
  CHECK(third.get_future().get());
  auto r = t.open(open_mode::reader);
  CHECK(count(r, "SELECT count(*) FROM probe") == 2);
}

TEST_CASE("on PostgreSQL a COMMIT the server rolled back is an error, not a commit", "[store]") {
  scratch_database t;
  if (!t.postgresql()) {
    SUCCEED("SQLite has no aborted transactions");
    return;
  }
  auto d = t.open();
  REQUIRE_FALSE(migrate(d));
  REQUIRE_FALSE(d.exec("CREATE TABLE probe (n BIGINT PRIMARY KEY)"));
  transaction tx(d, true);
  REQUIRE_FALSE(tx.begin_error());
  REQUIRE_FALSE(d.exec("INSERT INTO probe(n) VALUES (1)"));
  CHECK(d.exec("INSERT INTO probe(n) VALUES (1)"));  // aborts the transaction
  CHECK(d.transaction_failed());
  auto e = tx.commit();
  REQUIRE(e);
  CHECK(e->sqlstate == "25P02");
  CHECK(count(d, "SELECT count(*) FROM probe") == 0);
}

TEST_CASE("on PostgreSQL a lost connection fails its transaction, then comes back", "[store]") {
  scratch_database t;
  if (!t.postgresql()) {
    SUCCEED("SQLite has no connection to lose");
    return;
  }
  auto d = t.open();
  REQUIRE_FALSE(migrate(d));
  REQUIRE_FALSE(d.exec("CREATE TABLE probe (n BIGINT PRIMARY KEY)"));
  auto admin = t.open();
  auto kill_backend_of = [&](db& victim) {
    stmt pid(victim, "SELECT pg_backend_pid()");
    REQUIRE(pid.step());
    // Waits (up to 5 s) until the backend has gone.
    stmt kill(admin, "SELECT pg_terminate_backend(CAST(? AS INTEGER), 5000)");
    REQUIRE(kill.bind(1, pid.int64(0)).step());
    CHECK(kill.int64(0) == 1);
  };

  // Outside a transaction: a BEGIN finds the connection gone, makes a new one and runs there,
  // so the writer's next batch goes through.
  kill_backend_of(d);
  {
    transaction tx(d, true);
    REQUIRE_FALSE(tx.begin_error());
    REQUIRE_FALSE(d.exec("INSERT INTO probe(n) VALUES (1)"));
    REQUIRE_FALSE(tx.commit());
  }
  CHECK(count(d, "SELECT count(*) FROM probe") == 1);
  // A write on its own is not run again: it may have run before the connection broke.
  kill_backend_of(d);
  auto unsure = d.exec("INSERT INTO probe(n) VALUES (9)");
  REQUIRE(unsure);
  CHECK(unsure->sqlstate == "08006");
  // A reader's statement is run again: reading twice changes nothing.
  auto r = t.open(open_mode::reader);
  kill_backend_of(r);
  CHECK(count(r, "SELECT count(*) FROM probe") == 1);

  // Inside one: every statement fails until the transaction is ended, none runs on its own,
  // and a COMMIT says the outcome is unknown (it may or may not have reached the server).
  REQUIRE_FALSE(d.exec("BEGIN"));
  REQUIRE_FALSE(d.exec("INSERT INTO probe(n) VALUES (2)"));
  kill_backend_of(d);
  auto lost = d.exec("INSERT INTO probe(n) VALUES (3)");
  REQUIRE(lost);
  CHECK(lost->sqlstate == "08006");
  stmt prepared(d, "INSERT INTO probe(n) VALUES (?)");
  CHECK_FALSE(prepared.ok());
  auto commit = d.exec("COMMIT");
  REQUIRE(commit);
  CHECK(commit->message.find("unknown") != std::string::npos);
  // The transaction is over; the connection comes back for the next one.
  CHECK(count(d, "SELECT count(*) FROM probe") == 1);
  CHECK_FALSE(d.transaction_failed());
}
