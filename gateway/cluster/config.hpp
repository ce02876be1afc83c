// [cluster]: several instances sharing one PostgreSQL store. Empty `node`: one instance alone.
#pragma once

#include <chrono>
#include <string>

namespace ussdpay::cluster {

struct cluster_config {
  /// This instance's unique name among the instances sharing the store (1..64 characters).
  /// Empty: not clustered.
  std::string node;
  /// The address of this instance's peer link (host:port), published with its membership.
  std::string listen;
  /// How often the instance says it is alive and renews its leases.
  std::chrono::milliseconds heartbeat{1'000};
  /// A member whose heartbeat is older than this is dead: its node name may be taken over.
  std::chrono::milliseconds member_ttl{5'000};
  /// How long a lease lasts without renewal (the scheduler's, reconciliation's): the longest an
  /// instance that died holding one delays that work.
  std::chrono::milliseconds lease_ttl{10'000};
  /// How long a queued SMS this instance claimed stays its own to send: longer than any
  /// message waits in its window and for its answer. Then another instance may send it.
  std::chrono::milliseconds claim_ttl{60'000};

  bool enabled() const { return !node.empty(); }
};

}  // namespace ussdpay::cluster
