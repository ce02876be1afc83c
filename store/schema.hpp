// The database schema as numbered migrations (PRAGMA user_version). A migration runs once, in
// one transaction, in order; a database newer than this build is refused rather than touched.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "store/sqlite.hpp"

namespace ussdpay::store {

struct migration {
  int version;
  std::string_view sql;
};

/// Every migration, oldest first.
std::span<const migration> migrations();

/// Brings `d` (the writer connection) to the newest version. The error leaves the database at
/// the last version that applied completely.
std::optional<db_error> migrate(db& d);

/// The writer connection to the database at `path` (its folder created if missing), migrated to
/// the newest version; nullopt with `why` when it cannot be had. What the daemon and the CLI
/// open at start.
std::optional<db> open_writer(const std::string& path, std::string& why);

/// PRAGMA user_version.
int schema_version(db& d);

}  // namespace ussdpay::store
