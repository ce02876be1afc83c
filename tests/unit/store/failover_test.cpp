// The store across a failover of PostgreSQL, on a real primary and its synchronous standby (the
// "store on postgresql: failover" fixture, tests/pg/pg_ha.sh; skipped, saying so, without it):
// every commit the writer acknowledged before the primary died is on the promoted standby, and
// the writer, given both hosts with target_session_attrs=read-write, finds the new primary by
// itself at its next batch.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "store/schema.hpp"
#include "store/writer.hpp"

using namespace ussdpay::store;

namespace {

std::string first_line(const std::string& file) {
  std::ifstream f(file);
  std::string line;
  std::getline(f, line);
  return line;
}

int run(const std::string& command) {
  return std::system(command.c_str());  // NOLINT(cert-env33-c): the test's own script
}

}  // namespace

TEST_CASE(
    "failover: every acknowledged commit survives the primary's death, and the writer "
    "follows the promotion",
    "[failover]") {
  const char* ha = std::getenv("USSDPAY_TEST_POSTGRESQL_HA");
  if (ha == nullptr || *ha == '\0') {
    SUCCEED("no primary and standby to fail over (run under the failover fixture)");
    return;
  }
  const std::string dir = ha;
  const std::string script = std::string(USSDPAY_SOURCE_DIR) + "/tests/pg/pg_server.sh";
  const location both(backend::postgresql, first_line(dir + "/urls"));
  db_error err;
  auto d = db::open(both, open_mode::writer, err);
  INFO(err.message);
  REQUIRE(d);
  REQUIRE_FALSE(migrate(*d));
  REQUIRE_FALSE(d->exec("CREATE TABLE probe (n BIGINT PRIMARY KEY)"));

  group_writer w(std::move(*d), 10'000, 100);
  auto insert = [&w](std::int64_t n) {
    std::promise<bool> done;
    auto f = done.get_future();
    const bool queued = w.submit(
        [n](db& c) {
          stmt s(c, "INSERT INTO probe(n) VALUES (?)");
          return !s.bind(1, n).run();
        },
        [&done](bool ok, const std::optional<db_error>&) { done.set_value(ok); });
    return queued && f.get();
  };
  // 200 acknowledged commits on the primary (each waited for by the synchronous standby).
  for (std::int64_t n = 1; n <= 200; ++n) REQUIRE(insert(n));

  // The primary's machine dies; the operator's HA manager (here, the test) promotes the standby.
  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(run(script + " kill " + dir + "/primary") == 0);
  REQUIRE(run(script + " promote " + dir + "/standby") == 0);
  // The writer's next batches find the new primary: the first fails with the dead connection,
  // a later one connects to the host that now takes writes (bounded: 30 s).
  std::int64_t n = 201;
  bool through = false;
  while (!through && std::chrono::steady_clock::now() - killed < std::chrono::seconds(30)) {
    through = insert(n);
    if (!through) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed);
  WARN("from the primary's death to the first commit on the promoted standby: " << took.count()
                                                                                << " ms");
  REQUIRE(through);
  // Nothing acknowledged was lost: all 200 are on the new primary, with the one after.
  auto fresh = db::open(both, open_mode::reader, err);
  REQUIRE(fresh);
  stmt count(*fresh, "SELECT count(*), min(n), max(n) FROM probe");
  REQUIRE(count.step());
  CHECK(count.int64(0) == 201);
  CHECK(count.int64(1) == 1);
  CHECK(count.int64(2) == 201);
}
