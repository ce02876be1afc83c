// Several instances on one database: who is alive (members, by heartbeat) and who does what only
// one instance may do at a time (leases with a fencing epoch). Functions over a connection, like
// every repository: writes run as group_writer jobs. Times are the callers' Unix milliseconds:
// instances keep their clocks in step (NTP) to well within a lease's length, and safety never
// rests on the clocks: a lease that changes hands gets a new epoch, and work done under a lease
// checks the epoch in the transaction that writes it (holds_lease), so an instance that lost its
// lease while paused writes nothing as if it still held it.
//
// Not advisory locks: those vanish on a failover of the primary and break behind a pooler; a
// lease row is replicated with everything else and survives both.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.hpp"

namespace ussdpay::store {

// ---- members ------------------------------------------------------------------------------------

struct member {
  std::string node;    ///< the instance's unique name ([cluster] node)
  std::string listen;  ///< its peer link, host:port
  std::int64_t started_at = 0;
  std::int64_t heartbeat_at = 0;
};

enum class join_status : std::uint8_t {
  joined,
  /// Another process runs as this node (its heartbeat is fresh and it started at another
  /// time): two instances with one name would each take the other's work.
  name_taken,
  failed,
};
/// Joins (or rejoins after a restart) as `node`, started at `started_at`. A row of the same
/// name whose heartbeat is older than `ttl_ms` is a dead instance's and is taken over.
join_status join_cluster(db& d, std::string_view node, std::string_view listen,
                         std::int64_t started_at, std::int64_t now, std::int64_t ttl_ms);
/// The heartbeat: false when this process is no longer the member of that name (another one
/// took the name over after this one was silent for longer than the ttl) or the write failed.
bool heartbeat(db& d, std::string_view node, std::int64_t started_at, std::int64_t now);
/// Leaves at a clean stop, so others need not wait for the heartbeat to go stale.
bool leave_cluster(db& d, std::string_view node, std::int64_t started_at);
/// Members whose heartbeat is at most `ttl_ms` old, by node name.
std::vector<member> live_members(db& d, std::int64_t now, std::int64_t ttl_ms);

// ---- leases -------------------------------------------------------------------------------------

struct lease {
  std::string name, holder;
  std::int64_t epoch = 0;
  std::int64_t expires_at = 0;
};
/// Takes or renews lease `name` for `node` until now + ttl_ms. A free or expired lease is taken
/// with the next epoch; one `node` holds and that has not expired is renewed at the same epoch.
/// The epoch held, or nullopt when another node holds it (or the write failed).
std::optional<std::int64_t> acquire_lease(db& d, std::string_view name, std::string_view node,
                                          std::int64_t now, std::int64_t ttl_ms);
/// Gives the lease up at once (a clean stop), if `node` still holds it at `epoch`.
bool release_lease(db& d, std::string_view name, std::string_view node, std::int64_t epoch);
/// The fencing check, inside the transaction that writes under the lease: whether `node` holds
/// `name` at `epoch` and it has not expired. On PostgreSQL the lease's row stays locked (FOR
/// SHARE) until that transaction ends, so a takeover waits for it instead of overlapping it.
bool holds_lease(db& d, std::string_view name, std::string_view node, std::int64_t epoch,
                 std::int64_t now);
std::optional<lease> find_lease(db& d, std::string_view name);

/// What a job done under a lease carries into its transaction: checked there with holds_lease.
struct lease_fence {
  std::string name, node;
  std::int64_t epoch = 0;
  bool holds(db& d, std::int64_t now) const { return holds_lease(d, name, node, epoch, now); }
};

}  // namespace ussdpay::store
