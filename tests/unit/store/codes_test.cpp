// One-time codes (store/codes.hpp) over a real database (SQLite, or PostgreSQL under its fixture):
// issue, check, use up; the bounds on sends, wrong tries and time; and that the store holds only
// the digest it was given.
#include <catch2/catch.hpp>

#include "store/codes.hpp"
#include "store/schema.hpp"
#include "tests/unit/store/scratch_database.hpp"

using namespace ussdpay::store;
using status = code_check::status_t;

namespace {

struct fixture {
  fixture() {
    conn.emplace(database.open());
    REQUIRE_FALSE(migrate(*conn));
  }
  db& d() { return *conn; }

  ussdpay::test::scratch_database database;
  std::optional<db> conn;
};

const std::string m = "923001234567";
const std::string right(32, 'R'), wrong(32, 'W');
constexpr std::int64_t t0 = 1'000'000'000;

}  // namespace

TEST_CASE("a code is checked once right, then used up once", "[store][codes]") {
  fixture f;
  code_policy p;
  REQUIRE(issue_code(f.d(), m, "register", right, p, t0) == issue_status::issued);
  // Not verified yet: nothing to use up.
  CHECK_FALSE(consume_code(f.d(), m, "register", p, t0 + 1));
  CHECK(check_code(f.d(), m, "register", right, p, t0 + 2).status == status::right);
  // Verified codes are not checked again (a replay of the same code).
  CHECK(check_code(f.d(), m, "register", right, p, t0 + 3).status == status::expired);
  CHECK(consume_code(f.d(), m, "register", p, t0 + 4));
  CHECK_FALSE(consume_code(f.d(), m, "register", p, t0 + 5));
  // The purpose is part of the key: a registration code is no reset code.
  CHECK(check_code(f.d(), m, "reset", right, p, t0 + 6).status == status::expired);
}

TEST_CASE("wrong codes count down and void the code", "[store][codes]") {
  fixture f;
  code_policy p;
  p.max_attempts = 3;
  REQUIRE(issue_code(f.d(), m, "reset", right, p, t0) == issue_status::issued);
  auto c = check_code(f.d(), m, "reset", wrong, p, t0 + 1);
  CHECK(c.status == status::wrong);
  CHECK(c.tries_left == 2);
  CHECK(check_code(f.d(), m, "reset", wrong, p, t0 + 2).tries_left == 1);
  c = check_code(f.d(), m, "reset", wrong, p, t0 + 3);
  CHECK(c.status == status::wrong);
  CHECK(c.tries_left == 0);
  // Void: even the right code no longer works.
  CHECK(check_code(f.d(), m, "reset", right, p, t0 + 4).status == status::expired);
  CHECK_FALSE(consume_code(f.d(), m, "reset", p, t0 + 5));
}

TEST_CASE("codes expire, and a verification must be used in time", "[store][codes]") {
  fixture f;
  code_policy p;
  p.ttl_ms = 1000;
  p.verified_ttl_ms = 500;
  REQUIRE(issue_code(f.d(), m, "register", right, p, t0) == issue_status::issued);
  CHECK(check_code(f.d(), m, "register", right, p, t0 + 1000).status == status::expired);
  REQUIRE(issue_code(f.d(), m, "register", right, p, t0 + 2000) == issue_status::issued);
  CHECK(check_code(f.d(), m, "register", right, p, t0 + 2100).status == status::right);
  CHECK_FALSE(consume_code(f.d(), m, "register", p, t0 + 2700));
}

TEST_CASE("codes sent are bounded per window, a new code replaces the old", "[store][codes]") {
  fixture f;
  code_policy p;
  p.max_sends = 2;
  p.window_ms = 60'000;
  REQUIRE(issue_code(f.d(), m, "register", wrong, p, t0) == issue_status::issued);
  REQUIRE(issue_code(f.d(), m, "register", right, p, t0 + 10) == issue_status::issued);
  CHECK(issue_code(f.d(), m, "register", right, p, t0 + 20) == issue_status::too_many);
  // The second code is the one waiting, with fresh tries.
  CHECK(check_code(f.d(), m, "register", wrong, p, t0 + 30).status == status::wrong);
  CHECK(check_code(f.d(), m, "register", right, p, t0 + 40).status == status::right);
  // Another number, or the next window, starts again.
  CHECK(issue_code(f.d(), "923009999999", "register", right, p, t0 + 50) == issue_status::issued);
  CHECK(issue_code(f.d(), m, "register", right, p, t0 + 60'000) == issue_status::issued);
}

TEST_CASE("the store holds only the digest, never a code", "[store][codes]") {
  fixture f;
  code_policy p;
  REQUIRE(issue_code(f.d(), m, "register", right, p, t0) == issue_status::issued);
  stmt q(f.d(), "SELECT digest FROM one_time_codes");
  REQUIRE(q.step());
  CHECK(q.blob(0) == right);
  // SQL metacharacters in a number are data.
  CHECK(issue_code(f.d(), "'; DROP TABLE one_time_codes; --", "register", right, p, t0) ==
        issue_status::issued);
  stmt n(f.d(), "SELECT count(*) FROM one_time_codes");
  REQUIRE(n.step());
  CHECK(n.int64(0) == 2);
}
