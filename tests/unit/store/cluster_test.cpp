// Members and leases (store/cluster.hpp) on a real database, SQLite or PostgreSQL under its
// fixture: joining, a name taken twice, heartbeats; a lease taken, renewed, lost, taken over
// with a new epoch, and the fencing check; instances racing for one lease; and, on PostgreSQL,
// a takeover that waits for the old holder's transaction instead of overlapping it.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "store/cluster.hpp"
#include "store/schema.hpp"
#include "tests/unit/store/scratch_database.hpp"

using namespace ussdpay::store;
using ussdpay::test::scratch_database;

namespace {

struct cluster_fixture {
  cluster_fixture() : conn(database.open()) { REQUIRE_FALSE(migrate(conn)); }
  scratch_database database;
  db conn;
};

constexpr std::int64_t ttl = 10'000;

}  // namespace

TEST_CASE("members: join, a name taken twice, heartbeats, a dead instance's name taken over",
          "[store][cluster]") {
  cluster_fixture f;
  auto& d = f.conn;
  CHECK(join_cluster(d, "a", "127.0.0.1:7001", 100, 1'000, ttl) == join_status::joined);
  CHECK(join_cluster(d, "b", "127.0.0.1:7002", 200, 1'000, ttl) == join_status::joined);
  // A second process started as "a" while the first is alive is refused.
  CHECK(join_cluster(d, "a", "127.0.0.1:7003", 300, 2'000, ttl) == join_status::name_taken);
  // The first one rejoining (the same start) is fine.
  CHECK(join_cluster(d, "a", "127.0.0.1:7001", 100, 2'000, ttl) == join_status::joined);
  CHECK(heartbeat(d, "a", 100, 5'000));
  auto live = live_members(d, 11'500, ttl);
  REQUIRE(live.size() == 1);  // b's heartbeat (1,000) is older than 10 s at 11,500
  CHECK(live[0].node == "a");
  CHECK(live[0].listen == "127.0.0.1:7001");
  // "a" goes silent; after the ttl a new process may take the name, and the old one's
  // heartbeat then tells it it is no longer the member.
  CHECK(join_cluster(d, "a", "127.0.0.1:7003", 300, 15'001, ttl) == join_status::joined);
  CHECK_FALSE(heartbeat(d, "a", 100, 15'002));
  CHECK(heartbeat(d, "a", 300, 15'002));
  CHECK_FALSE(leave_cluster(d, "a", 100));
  CHECK(leave_cluster(d, "a", 300));
  CHECK(live_members(d, 15'003, ttl).empty());
}

TEST_CASE("leases: taken, renewed at the same epoch, taken over with the next, fenced",
          "[store][cluster]") {
  cluster_fixture f;
  auto& d = f.conn;
  CHECK_FALSE(find_lease(d, "scheduler"));
  CHECK(acquire_lease(d, "scheduler", "a", 1'000, ttl) == 1);
  // Held: another node cannot have it, the holder renews it at the same epoch.
  CHECK_FALSE(acquire_lease(d, "scheduler", "b", 2'000, ttl));
  CHECK(acquire_lease(d, "scheduler", "a", 5'000, ttl) == 1);
  CHECK(find_lease(d, "scheduler")->expires_at == 15'000);
  CHECK(holds_lease(d, "scheduler", "a", 1, 14'999));
  CHECK_FALSE(holds_lease(d, "scheduler", "a", 1, 15'000));  // expired
  // Expired: b takes it with the next epoch; a's writes at epoch 1 are fenced off.
  CHECK(acquire_lease(d, "scheduler", "b", 15'000, ttl) == 2);
  CHECK_FALSE(acquire_lease(d, "scheduler", "a", 15'001, ttl));
  CHECK_FALSE(holds_lease(d, "scheduler", "a", 1, 15'001));
  CHECK(holds_lease(d, "scheduler", "b", 2, 15'001));
  CHECK_FALSE(holds_lease(d, "scheduler", "b", 1, 15'001));
  // A holder that let its own lease expire gets a new epoch when it comes back: whatever it
  // started under the old one is fenced off too.
  CHECK(acquire_lease(d, "scheduler", "b", 40'000, ttl) == 3);
  // A clean stop gives it up at once, and only at the epoch held.
  CHECK_FALSE(release_lease(d, "scheduler", "b", 2));
  CHECK(release_lease(d, "scheduler", "b", 3));
  CHECK(acquire_lease(d, "scheduler", "a", 40'001, ttl) == 4);
  // Leases are independent by name.
  CHECK(acquire_lease(d, "bind/trx0", "b", 40'001, ttl) == 1);
  CHECK(find_lease(d, "scheduler")->holder == "a");
}

TEST_CASE("leases: of instances racing for one lease, exactly one wins each round",
          "[store][cluster]") {
  cluster_fixture f;
  constexpr int instances = 4, rounds = 20;
  const std::vector<std::string> names{"node0", "node1", "node2", "node3"};
  std::vector<db> conns;
  for (int i = 0; i < instances; ++i) conns.push_back(f.database.open());
  std::atomic<int> ready{0};
  std::vector<std::vector<std::int64_t>> won(instances);
  std::vector<std::thread> threads;
  for (int i = 0; i < instances; ++i)
    threads.emplace_back([&, i] {
      for (int r = 0; r < rounds; ++r) {
        // Round r: every lease of the round before has expired at now.
        const std::int64_t now = (r + 1) * 100'000;
        ++ready;
        while (ready.load() < instances * (r + 1)) std::this_thread::yield();
        const auto k = static_cast<std::size_t>(i);
        if (auto e = acquire_lease(conns[k], "race", names[k], now, ttl)) won[k].push_back(*e);
      }
    });
  for (auto& t : threads) t.join();
  std::vector<std::int64_t> epochs;
  for (const auto& w : won) epochs.insert(epochs.end(), w.begin(), w.end());
  std::sort(epochs.begin(), epochs.end());
  std::vector<std::int64_t> expected(rounds);
  for (int r = 0; r < rounds; ++r) expected[static_cast<std::size_t>(r)] = r + 1;
  CHECK(epochs == expected);  // one winner per round, and the epochs never repeat
}

TEST_CASE("on PostgreSQL a takeover waits for the holder's writing transaction",
          "[store][cluster]") {
  cluster_fixture f;
  if (!f.database.postgresql()) {
    SUCCEED("SQLite has one writer: nothing can overlap");
    return;
  }
  REQUIRE(acquire_lease(f.conn, "scheduler", "a", 1'000, ttl) == 1);
  // a writes under its lease (the check locks the lease row), slowly: it is paused past the end
  // of its lease, and b tries to take the lease over meanwhile.
  REQUIRE_FALSE(f.conn.exec("BEGIN"));
  REQUIRE(holds_lease(f.conn, "scheduler", "a", 1, 10'999));
  auto other = f.database.open();
  auto takeover = std::async(std::launch::async,
                             [&] { return acquire_lease(other, "scheduler", "b", 11'000, ttl); });
  CHECK(takeover.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  REQUIRE_FALSE(f.conn.exec("COMMIT"));
  // Once a's transaction is over, b has the lease, with the next epoch.
  CHECK(takeover.get() == 2);
  CHECK_FALSE(holds_lease(f.conn, "scheduler", "a", 1, 11'001));
}
