// A thin RAII layer over the SQLite C API: a connection, prepared statements, transactions.
// Errors are values (`db_error`), never exceptions: a full disk or a locked file is something
// the caller decides about. No Asio here (store/ does no network I/O).
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
  int code = 0;  ///< SQLite result code (extended)
  std::string message;
};

/// What a connection is for: the one writer, or one of the readers.
/// checkpoint: read-write on an existing file, for the writer's background WAL checkpoints.
enum class open_mode : std::uint8_t { writer, reader, checkpoint };

class db {
 public:
  /// Opens (creating if `mode` is writer) with the durability settings money needs: WAL,
  /// synchronous=FULL (a committed payment survives power loss), foreign keys on, a busy
  /// timeout so a reader never fails on a checkpoint.
  static std::optional<db> open(const std::string& path, open_mode mode, db_error& err);

  db(db&& o) noexcept;
  db& operator=(db&& o) noexcept;
  db(const db&) = delete;
  db& operator=(const db&) = delete;
  ~db();

  /// Runs SQL without results (DDL, PRAGMA, BEGIN/COMMIT).
  std::optional<db_error> exec(std::string_view sql);
  /// The value of a PRAGMA that returns one row.
  std::optional<std::string> pragma(std::string_view name);
  std::int64_t last_insert_rowid() const;
  int changes() const;
  db_error error() const;
  sqlite3* handle() const { return h_; }

  /// Prepared statements are kept per connection and reused by SQL text: preparing costs more
  /// than running most of our statements. Bounded; the rest are finalized.
  static constexpr std::size_t max_cached_statements = 256;

 private:
  friend class stmt;
  struct statement_cache;
  explicit db(sqlite3* h);
  sqlite3_stmt* take(std::string_view sql);
  void give(sqlite3_stmt* s);
  sqlite3* h_ = nullptr;
  std::unique_ptr<statement_cache> cache_;
};

/// A prepared statement. Bind with 1-based indexes; step() until it returns false.
class stmt {
 public:
  stmt(db& d, std::string_view sql);
  stmt(stmt&& o) noexcept : s_(o.s_), d_(o.d_), err_(std::move(o.err_)) { o.s_ = nullptr; }
  stmt(const stmt&) = delete;
  stmt& operator=(const stmt&) = delete;
  ~stmt();

  bool ok() const { return s_ != nullptr; }
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
  db* d_ = nullptr;
  std::optional<db_error> err_;
};

/// A transaction of its own on a connection the group writer does not own (the operator's CLI):
/// begun at construction (`begin_error()` when it could not be), committed by commit(), rolled
/// back at destruction otherwise. `write`: BEGIN IMMEDIATE (takes the write lock now, so a
/// daemon writing at the same time makes it wait, not fail later); otherwise a read snapshot.
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
