// The database schema as numbered migrations, one list per backend at the same versions
// (SQLite: PRAGMA user_version; PostgreSQL: the row of ussdpay_schema). A migration runs once,
// in a transaction, in order; a database newer than this build is refused rather than touched.
// On PostgreSQL the instances of a cluster that start together take turns (an advisory lock
// held for the migration's transaction).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "store/db.hpp"

namespace ussdpay::store {

struct migration {
  int version;
  std::string_view sql;
};

/// Every SQLite migration, oldest first (the PostgreSQL list mirrors it).
std::span<const migration> migrations();

/// Brings `d` (the writer connection) to the newest version. The error leaves the database at
/// the last version that applied completely.
std::optional<db_error> migrate(db& d);

/// The writer connection to the database at `where` (a SQLite file's folder is created if
/// missing), migrated to the newest version; nullopt with `why` when it cannot be had. What the
/// daemon and the CLI open at start.
std::optional<db> open_writer(const location& where, std::string& why);

/// The schema version the database is at (0: empty).
int schema_version(db& d);

}  // namespace ussdpay::store
