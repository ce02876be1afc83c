// A connection, prepared statements and transactions over either backend: SQLite (the embedded
// default, sqlite.cpp) or PostgreSQL through libpq (postgres.cpp). The repositories are written
// once against this interface, in the SQL both engines share; when a statement is first
// prepared on PostgreSQL its `?` and `?N` parameters become `$N` and SQLite's planner hint
// `INDEXED BY name` is dropped (PostgreSQL's planner picks the partial index on its own). Errors
// are values
// (`db_error`), never exceptions: a full disk, a locked file or a lost server is something the
// caller decides about. No Asio here (store/ does no network I/O on an event loop: its libpq
// calls block the store's own threads).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace ussdpay::store {

struct db_error {
  int code = 0;  ///< SQLite result code (extended); 0 on PostgreSQL
  std::string message;
  std::string sqlstate = {};  ///< PostgreSQL's five-character SQLSTATE; empty on SQLite
};

/// A UNIQUE or PRIMARY KEY constraint refused the row (on either engine).
bool is_unique_violation(const db_error& e);

/// Which engine holds the durable state.
enum class backend : std::uint8_t { sqlite, postgresql };
std::string_view to_string(backend b);

/// Where the durable state lives: a SQLite file, or a PostgreSQL server named by a libpq
/// connection string or URI (several hosts with target_session_attrs=read-write follow a
/// failover).
struct location {
  location() = default;
  /// A SQLite file.
  location(std::string path) : target(std::move(path)) {}  // NOLINT(google-explicit-constructor)
  location(backend b, std::string where) : kind(b), target(std::move(where)) {}

  backend kind = backend::sqlite;
  std::string target;  ///< the file path, or the connection string (may hold a password)
  /// What may be logged: the path, or the connection string without its password.
  std::string describe() const;
};

/// A PostgreSQL connection string with any password blanked, for logs and errors.
std::string redact_connection_string(std::string_view conninfo);

namespace detail {
struct pq_connection;
struct pq_statement;
}  // namespace detail

/// What a connection is for: the one writer, or one of the readers.
/// checkpoint: read-write on an existing file, for the writer's background WAL checkpoints.
enum class open_mode : std::uint8_t { writer, reader, checkpoint };

class db {
 public:
  /// Opens (creating if `mode` is writer) with the durability settings money needs: WAL,
  /// synchronous=FULL (a committed payment survives power loss), foreign keys on, a busy
  /// timeout so a reader never fails on a checkpoint.
  static std::optional<db> open(const std::string& path, open_mode mode, db_error& err);
  /// Either backend. On PostgreSQL a reader connection is read-only
  /// (default_transaction_read_only) and `checkpoint` is the same as `writer`.
  static std::optional<db> open(const location& where, open_mode mode, db_error& err);

  db(db&& o) noexcept;
  db& operator=(db&& o) noexcept;
  db(const db&) = delete;
  db& operator=(const db&) = delete;
  ~db();

  /// Runs SQL without results (DDL, PRAGMA, BEGIN/COMMIT).
  std::optional<db_error> exec(std::string_view sql);
  /// The value of a PRAGMA that returns one row (SQLite only; nullopt on PostgreSQL).
  std::optional<std::string> pragma(std::string_view name);
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  int changes() const;
  db_error error() const;
  backend kind() const { return pg_ ? backend::postgresql : backend::sqlite; }
  /// The statement in this engine's words, where the two differ (SQLite's rowid).
  std::string_view dialect(std::string_view sqlite, std::string_view postgresql) const {
    return pg_ ? postgresql : sqlite;
  }
  /// The SQLite handle (nullptr on PostgreSQL).
  sqlite3* handle() const { return h_; }
  /// PostgreSQL: a statement failed inside the open transaction, which now refuses every
  /// statement until it is rolled back (to a savepoint). Always false on SQLite.
  bool transaction_failed() const;
  /// How this engine starts a write transaction: SQLite's BEGIN IMMEDIATE takes the write
  /// lock at once; PostgreSQL locks rows as it goes.
  std::string_view begin_write_sql() const {
    return pg_ ? std::string_view("BEGIN") : std::string_view("BEGIN IMMEDIATE");
  }

  /// Prepared statements are kept per connection and reused by SQL text: preparing costs more
  /// than running most of our statements. Bounded; the rest are finalized.
  static constexpr std::size_t max_cached_statements = 256;

 private:
  friend class stmt;
  struct statement_cache;
  explicit db(sqlite3* h);
  explicit db(std::unique_ptr<detail::pq_connection> pg);
  sqlite3_stmt* take(std::string_view sql);
  void give(sqlite3_stmt* s);
  sqlite3* h_ = nullptr;
  std::unique_ptr<statement_cache> cache_;
  std::unique_ptr<detail::pq_connection> pg_;
};

/// A prepared statement. Bind with 1-based indexes; step() until it returns false. On
/// PostgreSQL the first step() runs the statement and holds its whole result.
class stmt {
 public:
  stmt(db& d, std::string_view sql);
  stmt(stmt&& o) noexcept : s_(o.s_), p_(o.p_), d_(o.d_), err_(std::move(o.err_)) {
    o.s_ = nullptr;
    o.p_ = nullptr;
  }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;
  ~stmt();

  bool ok() const { return s_ != nullptr || p_ != nullptr; }
  const std::optional<db_error>& prepare_error() const { return err_; }

  stmt& bind(int i, std::int64_t v);
  stmt& bind(int i, std::string_view v);
  stmt& bind_null(int i);
  /// Binary octets (salts, hashes): a BLOB, never text.
  stmt& bind_blob(int i, std::string_view v);

  /// true: a row is available; false: done (check error() for a failure).
  bool step();
  /// Runs a statement that returns no rows; the error if it failed.
  std::optional<db_error> run();
  void reset();
  std::optional<db_error> error() const { return err_; }

  std::int64_t int64(int col) const;
  std::string text(int col) const;
  std::string blob(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3_stmt* s_ = nullptr;
  detail::pq_statement* p_ = nullptr;
  db* d_ = nullptr;
  std::optional<db_error> err_;
};

/// A transaction of its own on a connection the group writer does not own (the operator's CLI):
/// begun at construction (`begin_error()` when it could not be), committed by commit(), rolled
/// back at destruction otherwise. `write` on SQLite: BEGIN IMMEDIATE (takes the write lock now,
/// so a daemon writing at the same time makes it wait, not fail later); otherwise a read
/// snapshot (on PostgreSQL, REPEATABLE READ).
class transaction {
 public:
  transaction(db& d, bool write);
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  const std::optional<db_error>& begin_error() const { return begin_error_; }
  /// The error when it did not commit (then it was rolled back).
  std::optional<db_error> commit();

 private:
  db& d_;
  bool open_ = false;
  std::optional<db_error> begin_error_;
};

/// Names the calling thread (at most 15 characters shown) for `top -H`, `perf` and core dumps.
void name_this_thread(const std::string& name);

}  // namespace ussdpay::store
