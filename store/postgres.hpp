// Internal to store/: the PostgreSQL side of `db` and `stmt` (db.hpp), over libpq. Callers use
// db and stmt; only sqlite.cpp (the dispatch) and the tests include this header.
//
// Each statement is prepared once per connection (PQprepare under a generated name, cached by
// its SQL text like SQLite's) and run with PQexecPrepared: integers go as int8, text as a value
// of the type the server infers from where it stands, octets as bytea in binary; results come
// back as text and are parsed here. A lost connection is re-established (PQreset, which follows
// a multi-host connection string to the new primary) at the next statement outside a
// transaction; inside one, every statement fails until the owner ends it, so nothing runs
// half in a transaction and half outside.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/db.hpp"

struct pg_conn;    // libpq's PGconn
struct pg_result;  // libpq's PGresult

namespace ussdpay::store::detail {

/// A statement's SQL rewritten for PostgreSQL: `?N` -> `$N`, each bare `?` -> the next number
/// (SQLite's own numbering), and SQLite's `INDEXED BY name` dropped, all outside quotes and
/// comments. `params` is the highest number used.
std::string translate_placeholders(std::string_view sql, int& params);

struct pq_statement {
  std::string sql;         ///< as the repository wrote it (the cache key)
  std::string translated;  ///< with $N parameters
  std::string name;        ///< the prepared statement's name on the server
  int params = 0;
  std::uint64_t prepared_in = 0;  ///< the connection generation it was prepared in; 0: not yet
  std::vector<std::string> values;
  std::vector<char> is_null;
  std::vector<int> formats;         ///< 0 text, 1 binary
  std::vector<unsigned int> types;  ///< Oid; 0 lets the server infer
  ::pg_result* result = nullptr;
  int rows = 0;
  int row = -1;
  bool executed = false;
  ~pq_statement();
};

struct pq_connection {
  ::pg_conn* conn = nullptr;
  open_mode mode = open_mode::writer;
  /// Bumped on every reconnection: statements prepared before it are prepared again.
  std::uint64_t generation = 1;
  /// Inside a transaction (as of the last statement that reached the server).
  bool in_transaction = false;
  int changes = 0;
  db_error last_error;
  std::uint64_t next_name = 0;
  std::unordered_map<std::string, std::vector<std::unique_ptr<pq_statement>>> idle;
  std::size_t idle_count = 0;
  ~pq_connection();
};

enum class pg_value : std::uint8_t { text, octets };

std::unique_ptr<pq_connection> pg_open(const std::string& conninfo, open_mode mode, db_error& err);
std::optional<db_error> pg_exec(pq_connection& c, std::string_view sql);
int pg_changes(const pq_connection& c);
db_error pg_error(const pq_connection& c);
bool pg_transaction_failed(const pq_connection& c);

pq_statement* pg_take(pq_connection& c, std::string_view sql, std::optional<db_error>& err);
void pg_give(pq_connection& c, pq_statement* s);
void pg_bind(pq_statement& s, int i, std::int64_t v);
void pg_bind(pq_statement& s, int i, std::string_view v, pg_value kind);
void pg_bind_null(pq_statement& s, int i);
bool pg_step(pq_connection& c, pq_statement& s, std::optional<db_error>& err);
void pg_reset(pq_statement& s);
std::int64_t pg_int64(const pq_statement& s, int col);
std::string pg_text(const pq_statement& s, int col);
std::string pg_blob(const pq_statement& s, int col);
bool pg_is_null(const pq_statement& s, int col);

}  // namespace ussdpay::store::detail
