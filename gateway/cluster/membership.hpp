// This instance as a member of a cluster: one coroutine on the network thread says every
// [cluster] heartbeat that it is alive and takes or renews the leases it wants (one writer job
// for all of them), then reads who else is alive. What it believes about each lease lives in a
// lease_keeper (no I/O); work done under a lease carries a store::lease_fence into the
// transaction that writes it, so an instance that lost a lease while paused writes nothing.
//
// Joining happens before the daemon serves (gateway/main.cpp: a second process with the same
// node name is refused); leaving at a clean stop releases the leases at once, so another
// instance takes them over without waiting for them to expire.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/cluster/config.hpp"
#include "gateway/cluster/lease_keeper.hpp"
#include "gateway/common/metrics.hpp"
#include "store/cluster.hpp"

namespace ussdpay::store {
class group_writer;
class reader_pool;
}  // namespace ussdpay::store

namespace ussdpay::cluster {

struct membership_stats {
  std::uint64_t heartbeats = 0, unanswered = 0, leases_gained = 0, leases_lost = 0;
};

class membership {
 public:
  /// `started_at`: this process's start (Unix ms), what tells it apart from another process
  /// with the same node name. `evicted` is called (on the network thread) if another process
  /// took the node name over: this one was silent for longer than member_ttl.
  membership(boost::asio::any_io_executor ex, cluster_config cfg, std::int64_t started_at,
             store::group_writer& writer, store::reader_pool& readers,
             std::function<void()> evicted);
  ~membership();
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  /// A lease this instance wants to hold whenever it can (before start()).
  void want_lease(std::string name);
  void start();
  /// Releases the leases held and leaves the cluster (writer jobs, run before the writer stops).
  void stop();

  /// The fence to carry into a write done under lease `name`, if it is held now.
  std::optional<store::lease_fence> fence(std::string_view name) const;
  /// The members alive at the last look, by node name (this one included).
  const std::vector<store::member>& members() const { return members_; }
  const membership_stats& stats() const { return stats_; }
  /// The cluster family of /metrics: live members, leases held, heartbeats.
  void write_metrics(metrics::prometheus_text& m) const;

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> beat();

  boost::asio::any_io_executor ex_;
  const cluster_config cfg_;
  const std::int64_t started_at_;
  store::group_writer& writer_;
  store::reader_pool& readers_;
  std::function<void()> evicted_;
  std::vector<lease_keeper> leases_;
  std::vector<store::member> members_;
  membership_stats stats_;
  boost::asio::steady_timer wake_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ussdpay::cluster
