#include "store/cluster.hpp"

namespace ussdpay::store {

// ---- members ------------------------------------------------------------------------------------

join_status join_cluster(db& d, std::string_view node, std::string_view listen,
                         std::int64_t started_at, std::int64_t now, std::int64_t ttl_ms) {
  // Ours when new, when it is our own earlier row, or when its holder has gone silent.
  stmt s(d,
         "INSERT INTO cluster_members(node, listen, started_at, heartbeat_at) VALUES (?1, ?2, ?3, "
         "?4) ON CONFLICT (node) DO UPDATE SET listen = excluded.listen, started_at = "
         "excluded.started_at, heartbeat_at = excluded.heartbeat_at WHERE "
         "cluster_members.started_at = excluded.started_at OR cluster_members.heartbeat_at < ?5 "
         "RETURNING node");
  s.bind(1, node).bind(2, listen).bind(3, started_at).bind(4, now).bind(5, now - ttl_ms);
  if (s.step()) return join_status::joined;
  return s.error() ? join_status::failed : join_status::name_taken;
}

bool heartbeat(db& d, std::string_view node, std::int64_t started_at, std::int64_t now) {
  stmt s(d, "UPDATE cluster_members SET heartbeat_at = ? WHERE node = ? AND started_at = ?");
  return !s.bind(1, now).bind(2, node).bind(3, started_at).run() && d.changes() == 1;
}

bool leave_cluster(db& d, std::string_view node, std::int64_t started_at) {
  stmt s(d, "DELETE FROM cluster_members WHERE node = ? AND started_at = ?");
  return !s.bind(1, node).bind(2, started_at).run() && d.changes() == 1;
}

std::vector<member> live_members(db& d, std::int64_t now, std::int64_t ttl_ms) {
  stmt s(d,
         "SELECT node, listen, started_at, heartbeat_at FROM cluster_members WHERE heartbeat_at "
         ">= ? ORDER BY node");
  s.bind(1, now - ttl_ms);
  std::vector<member> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.int64(2), s.int64(3)});
  return out;
}

// ---- leases -------------------------------------------------------------------------------------

std::optional<std::int64_t> acquire_lease(db& d, std::string_view name, std::string_view node,
                                          std::int64_t now, std::int64_t ttl_ms) {
  // One statement: on PostgreSQL two instances racing for an expired lease serialize on its
  // row, and the second finds the WHERE false once the first has taken it.
  stmt s(d,
         "INSERT INTO leases(name, holder, epoch, expires_at) VALUES (?1, ?2, 1, ?3 + ?4) "
         "ON CONFLICT (name) DO UPDATE SET "
         "epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ?3 "
         "THEN leases.epoch ELSE leases.epoch + 1 END, "
         "holder = excluded.holder, expires_at = excluded.expires_at "
         "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3 "
         "RETURNING epoch");
  s.bind(1, name).bind(2, node).bind(3, now).bind(4, ttl_ms);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

bool release_lease(db& d, std::string_view name, std::string_view node, std::int64_t epoch) {
  stmt s(d, "UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND epoch = ?");
  return !s.bind(1, name).bind(2, node).bind(3, epoch).run() && d.changes() == 1;
}

bool holds_lease(db& d, std::string_view name, std::string_view node, std::int64_t epoch,
                 std::int64_t now) {
  stmt s(d, d.dialect("SELECT 1 FROM leases WHERE name = ? AND holder = ? AND epoch = ? AND "
                      "expires_at > ?",
                      "SELECT 1 FROM leases WHERE name = ? AND holder = ? AND epoch = ? AND "
                      "expires_at > ? FOR SHARE"));
  s.bind(1, name).bind(2, node).bind(3, epoch).bind(4, now);
  return s.step();
}

std::optional<lease> find_lease(db& d, std::string_view name) {
  stmt s(d, "SELECT name, holder, epoch, expires_at FROM leases WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return lease{s.text(0), s.text(1), s.int64(2), s.int64(3)};
}

}  // namespace ussdpay::store
