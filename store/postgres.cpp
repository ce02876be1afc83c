#include "store/postgres.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include <libpq-fe.h>

#include "gateway/common/assert.hpp"

namespace ussdpay::store {

std::string redact_connection_string(std::string_view conninfo) {
  std::string s(conninfo);
  // URI: postgresql://user:secret@host/db?password=secret
  if (s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0) {
    const auto start = s.find("://") + 3;
    const auto at = s.find('@', start);
    const auto slash = s.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = s.find(':', start);
      if (colon != std::string::npos && colon < at) s.replace(colon + 1, at - colon - 1, "***");
    }
    for (std::size_t p = s.find("password="); p != std::string::npos;
         p = s.find("password=", p + 1)) {
      const auto end = s.find('&', p);
      s.replace(p + 9, (end == std::string::npos ? s.size() : end) - p - 9, "***");
    }
    return s;
  }
  // key=value pairs: password=secret or password='a secret'
  for (std::size_t p = s.find("password"); p != std::string::npos; p = s.find("password", p + 1)) {
    auto eq = p + 8;
    while (eq < s.size() && s[eq] == ' ') ++eq;
    if (eq >= s.size() || s[eq] != '=') continue;
    auto v = eq + 1;
    while (v < s.size() && s[v] == ' ') ++v;
    auto end = v;
    if (end < s.size() && s[end] == '\'') {
      ++end;
      while (end < s.size() && s[end] != '\'') end += s[end] == '\\' ? 2U : 1U;
      end = std::min(end + 1, s.size());
    } else {
      while (end < s.size() && s[end] != ' ') ++end;
    }
    s.replace(v, end - v, "***");
  }
  return s;
}

namespace detail {
namespace {

constexpr unsigned int int8_oid = 20;
constexpr unsigned int bytea_oid = 17;

std::string trimmed(const char* msg) {
  std::string s = msg != nullptr ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s.empty() ? "unknown PostgreSQL error" : s;
}

db_error connection_error(const pq_connection& c, std::string_view what) {
  return {0, std::string(what) + ": " + trimmed(PQerrorMessage(c.conn)), "08006"};
}

db_error result_error(const pq_connection& c, const PGresult* r) {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* msg = r != nullptr ? PQresultErrorMessage(r) : nullptr;
  db_error e{0, trimmed(msg != nullptr && *msg != '\0' ? msg : PQerrorMessage(c.conn)),
             state != nullptr ? state : ""};
  if (e.sqlstate.empty() && PQstatus(c.conn) == CONNECTION_BAD) e.sqlstate = "08006";
  return e;
}

// The first keyword of a statement, upper-cased: BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...
std::string first_word(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t')) ++i;
  std::string w;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])) != 0)
    w.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++]))));
  return w;
}

// The last statement of a (possibly multi-statement) query is a COMMIT.
bool ends_with_commit(std::string_view sql) {
  while (!sql.empty() && (sql.back() == ' ' || sql.back() == ';' || sql.back() == '\n'))
    sql.remove_suffix(1);
  const auto semi = sql.rfind(';');
  return first_word(semi == std::string_view::npos ? sql : sql.substr(semi + 1)) == "COMMIT";
}

bool ends_transaction(std::string_view sql) {
  const auto w = first_word(sql);
  if (w == "COMMIT" || w == "END") return true;
  // ROLLBACK, but not ROLLBACK TO a savepoint
  if (w != "ROLLBACK" && w != "ABORT") return false;
  std::string upper(sql);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  return upper.find(" TO ") == std::string::npos;
}

void after_command(pq_connection& c) {
  const auto t = PQtransactionStatus(c.conn);
  if (t != PQTRANS_UNKNOWN) c.in_transaction = t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

std::optional<db_error> session_setup(pq_connection& c) {
  // Readers never write, by the server's own check; the time zone is fixed so nothing the
  // server prints depends on its host (the store keeps times as Unix milliseconds anyway).
  const char* sql = c.mode == open_mode::reader
                        ? "SET default_transaction_read_only = on; SET TIME ZONE 'UTC'"
                        : "SET TIME ZONE 'UTC'";
  PGresult* r = PQexec(c.conn, sql);
  std::optional<db_error> e;
  if (PQresultStatus(r) != PGRES_COMMAND_OK) e = result_error(c, r);
  PQclear(r);
  return e;
}

// Before a statement: a connection lost outside a transaction is made again (PQreset follows a
// multi-host connection string to whichever host now accepts writes). Inside a transaction
// nothing may run until the owner ends it: the server already rolled it back, and a statement
// run now would run on its own, outside the transaction its caller believes it is in.
std::optional<db_error> usable(pq_connection& c, std::string_view sql) {
  if (PQstatus(c.conn) == CONNECTION_OK) return std::nullopt;
  if (c.in_transaction) {
    if (ends_transaction(sql)) {
      c.in_transaction = false;
      const bool commit = first_word(sql) == "COMMIT" || first_word(sql) == "END";
      return db_error{0,
                      commit ? "the connection to PostgreSQL was lost before COMMIT was "
                               "acknowledged: the transaction's outcome is unknown"
                             : "the connection to PostgreSQL was lost; the transaction was "
                               "rolled back",
                      "08006"};
    }
    return db_error{0, "the connection to PostgreSQL was lost inside a transaction", "08006"};
  }
  PQreset(c.conn);
  if (PQstatus(c.conn) != CONNECTION_OK) return connection_error(c, "cannot reconnect");
  ++c.generation;
  // Statements prepared on the old session are gone from the server.
  c.idle.clear();
  c.idle_count = 0;
  return session_setup(c);
}

}  // namespace

std::string translate_placeholders(std::string_view sql, int& params) {
  std::string out;
  out.reserve(sql.size() + 8);
  params = 0;
  std::size_t i = 0;
  while (i < sql.size()) {
    const char ch = sql[i];
    if (ch == '\'' || ch == '"') {  // a literal or a quoted identifier, '' / "" escapes included
      const auto end = sql.find(ch, i + 1);
      const auto stop = end == std::string_view::npos ? sql.size() : end + 1;
      out.append(sql.substr(i, stop - i));
      i = stop;
      continue;
    }
    if (ch == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {  // a comment to the line's end
      const auto end = sql.find('\n', i);
      const auto stop = end == std::string_view::npos ? sql.size() : end;
      out.append(sql.substr(i, stop - i));
      i = stop;
      continue;
    }
    // SQLite's planner hint `INDEXED BY name`: PostgreSQL has none (nor needs it).
    if (sql.substr(i).starts_with("INDEXED BY ") && (i == 0 || sql[i - 1] == ' ')) {
      i += 11;
      while (i < sql.size() && sql[i] == ' ') ++i;
      while (i < sql.size() &&
             (std::isalnum(static_cast<unsigned char>(sql[i])) != 0 || sql[i] == '_'))
        ++i;
      while (i < sql.size() && sql[i] == ' ') ++i;  // the space before it is written already
      continue;
    }
    if (ch != '?') {
      out.push_back(ch);
      ++i;
      continue;
    }
    ++i;
    int n = 0;
    const auto digits = i;
    while (i < sql.size() && sql[i] >= '0' && sql[i] <= '9') n = n * 10 + (sql[i++] - '0');
    if (i == digits) n = params + 1;  // a bare ?: the next number after the highest so far
    params = std::max(params, n);
    out += '$';
    out += std::to_string(n);
  }
  return out;
}

pq_statement::~pq_statement() {
  PQclear(result);
}

pq_connection::~pq_connection() {
  idle.clear();
  PQfinish(conn);
}

std::unique_ptr<pq_connection> pg_open(const std::string& conninfo, open_mode mode, db_error& err) {
  auto c = std::make_unique<pq_connection>();
  c->mode = mode;
  c->conn = PQconnectdb(conninfo.c_str());
  if (c->conn == nullptr) {
    err = {0, "out of memory opening a PostgreSQL connection", "08006"};
    return nullptr;
  }
  if (PQstatus(c->conn) != CONNECTION_OK) {
    err = connection_error(*c, "cannot connect to PostgreSQL");
    return nullptr;
  }
  // The server's notices (a DROP that cascades, say) are not errors and must not reach stderr
  // unasked: the daemon's log is the one place it writes.
  PQsetNoticeProcessor(
      c->conn, [](void*, const char*) {}, nullptr);
  if (auto e = session_setup(*c)) {
    err = *e;
    return nullptr;
  }
  return c;
}

namespace {

// A statement sent on a connection that turned out to be dead (the server restarted, a
// failover) runs once more on a new one when running it cannot have changed anything: a BEGIN,
// or anything on a read-only connection. Other statements outside a transaction fail: the
// server may have run them before the connection broke.
bool retry_after_loss(const pq_connection& c, bool was_in_transaction, std::string_view sql) {
  if (was_in_transaction || PQstatus(c.conn) != CONNECTION_BAD) return false;
  return first_word(sql) == "BEGIN" || c.mode == open_mode::reader;
}

std::optional<db_error> exec_once(pq_connection& c, std::string_view sql);
bool step_once(pq_connection& c, pq_statement& s, std::optional<db_error>& err);

}  // namespace

std::optional<db_error> pg_exec(pq_connection& c, std::string_view sql) {
  const bool was_in_transaction = c.in_transaction;
  auto e = exec_once(c, sql);
  if (e && retry_after_loss(c, was_in_transaction, sql)) e = exec_once(c, sql);
  return e;
}

bool pg_step(pq_connection& c, pq_statement& s, std::optional<db_error>& err) {
  if (s.executed) return ++s.row < s.rows;
  const bool was_in_transaction = c.in_transaction;
  const bool row = step_once(c, s, err);
  if (!err || !retry_after_loss(c, was_in_transaction, s.sql)) return row;
  err.reset();
  return step_once(c, s, err);
}

namespace {

std::optional<db_error> exec_once(pq_connection& c, std::string_view sql) {
  if (auto e = usable(c, sql)) return e;
  const std::string s(sql);
  PGresult* r = PQexec(c.conn, s.c_str());
  std::optional<db_error> e;
  const auto status = PQresultStatus(r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    e = result_error(c, r);
  } else if (ends_with_commit(sql) && std::strcmp(PQcmdStatus(r), "ROLLBACK") == 0) {
    // COMMIT of a transaction a failed statement had aborted: the server rolled it back.
    e = db_error{0, "the transaction had failed and was rolled back, not committed", "25P02"};
  }
  c.changes = e ? 0 : std::atoi(PQcmdTuples(r));
  PQclear(r);
  after_command(c);
  if (e) c.last_error = *e;
  return e;
}

}  // namespace

int pg_changes(const pq_connection& c) {
  return c.changes;
}

db_error pg_error(const pq_connection& c) {
  return c.last_error;
}

bool pg_transaction_failed(const pq_connection& c) {
  return PQtransactionStatus(c.conn) == PQTRANS_INERROR ||
         (c.in_transaction && PQstatus(c.conn) != CONNECTION_OK);
}

pq_statement* pg_take(pq_connection& c, std::string_view sql, std::optional<db_error>& err) {
  if (auto e = usable(c, sql)) {
    c.last_error = *e;
    err = std::move(e);
    return nullptr;
  }
  if (auto it = c.idle.find(std::string(sql)); it != c.idle.end() && !it->second.empty()) {
    auto* s = it->second.back().release();
    it->second.pop_back();
    --c.idle_count;
    return s;
  }
  auto s = std::make_unique<pq_statement>();
  s->sql = std::string(sql);
  s->translated = translate_placeholders(sql, s->params);
  s->name = std::to_string(++c.next_name);
  s->name.insert(s->name.begin(), 'u');
  const auto n = static_cast<std::size_t>(s->params);
  s->values.assign(n, {});
  s->is_null.assign(n, 1);
  s->formats.assign(n, 0);
  s->types.assign(n, 0);
  return s.release();
}

void pg_give(pq_connection& c, pq_statement* s) {
  std::unique_ptr<pq_statement> owned(s);
  pg_reset(*s);
  std::fill(s->is_null.begin(), s->is_null.end(), 1);
  // A statement prepared on a session that is gone, or beyond the cache's bound, is dropped
  // (its server-side copy, if the session still lives, goes with the connection).
  if (s->prepared_in != c.generation || c.idle_count >= db::max_cached_statements) return;
  c.idle[s->sql].push_back(std::move(owned));
  ++c.idle_count;
}

namespace {
bool valid_index(const pq_statement& s, int i) {
  return i >= 1 && i <= s.params;
}
}  // namespace

void pg_bind(pq_statement& s, int i, std::int64_t v) {
  if (!valid_index(s, i)) return;
  const auto k = static_cast<std::size_t>(i - 1);
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.values[k].assign(buf, r.ptr);
  s.is_null[k] = 0;
  s.formats[k] = 0;
  if (s.prepared_in == 0) s.types[k] = int8_oid;
}

void pg_bind(pq_statement& s, int i, std::string_view v, pg_value kind) {
  if (!valid_index(s, i)) return;
  const auto k = static_cast<std::size_t>(i - 1);
  s.values[k].assign(v);
  s.is_null[k] = 0;
  s.formats[k] = kind == pg_value::octets ? 1 : 0;
  if (s.prepared_in == 0 && kind == pg_value::octets) s.types[k] = bytea_oid;
}

void pg_bind_null(pq_statement& s, int i) {
  if (!valid_index(s, i)) return;
  s.is_null[static_cast<std::size_t>(i - 1)] = 1;
}

namespace {

bool step_once(pq_connection& c, pq_statement& s, std::optional<db_error>& err) {
  s.executed = true;
  s.rows = 0;
  s.row = 0;
  if (auto e = usable(c, s.sql)) {
    c.last_error = *e;
    err = std::move(e);
    return false;
  }
  if (s.prepared_in != c.generation) {
    PGresult* p = PQprepare(c.conn, s.name.c_str(), s.translated.c_str(), s.params,
                            s.types.empty() ? nullptr : s.types.data());
    const bool ok = PQresultStatus(p) == PGRES_COMMAND_OK;
    if (!ok) err = result_error(c, p);
    PQclear(p);
    after_command(c);
    if (!ok) {
      c.last_error = *err;
      return false;
    }
    s.prepared_in = c.generation;
  }
  const auto n = static_cast<std::size_t>(s.params);
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  for (std::size_t k = 0; k < n; ++k) {
    values[k] = s.is_null[k] != 0 ? nullptr : s.values[k].c_str();
    lengths[k] = static_cast<int>(s.values[k].size());
  }
  PQclear(s.result);
  s.result = PQexecPrepared(c.conn, s.name.c_str(), s.params, values.data(), lengths.data(),
                            s.formats.data(), 0);
  const auto status = PQresultStatus(s.result);
  after_command(c);
  if (status == PGRES_TUPLES_OK) {
    s.rows = PQntuples(s.result);
    c.changes = std::atoi(PQcmdTuples(s.result));
    return s.rows > 0;
  }
  if (status == PGRES_COMMAND_OK) {
    c.changes = std::atoi(PQcmdTuples(s.result));
    if (first_word(s.sql) == "COMMIT" && std::strcmp(PQcmdStatus(s.result), "ROLLBACK") == 0) {
      err = db_error{0, "the transaction had failed and was rolled back, not committed", "25P02"};
      c.last_error = *err;
    }
    return false;
  }
  err = result_error(c, s.result);
  c.last_error = *err;
  c.changes = 0;
  return false;
}

}  // namespace

void pg_reset(pq_statement& s) {
  PQclear(s.result);
  s.result = nullptr;
  s.executed = false;
  s.rows = 0;
  s.row = -1;
}

namespace {
const char* cell(const pq_statement& s, int col) {
  USSDPAY_ASSERT(s.result != nullptr && s.row >= 0 && s.row < s.rows,
                 "a column is read only while step() has a row");
  if (col < 0 || col >= PQnfields(s.result)) return nullptr;
  if (PQgetisnull(s.result, s.row, col) != 0) return nullptr;
  return PQgetvalue(s.result, s.row, col);
}
}  // namespace

std::int64_t pg_int64(const pq_statement& s, int col) {
  const char* v = cell(s, col);
  if (v == nullptr) return 0;
  if (v[0] == 't' && v[1] == '\0') return 1;  // a boolean expression: SQLite says 1 / 0
  if (v[0] == 'f' && v[1] == '\0') return 0;
  std::int64_t out = 0;
  std::from_chars(v, v + std::strlen(v), out);  // numeric (a sum) stops at any '.'
  return out;
}

std::string pg_text(const pq_statement& s, int col) {
  const char* v = cell(s, col);
  return v == nullptr ? std::string() : std::string(v);
}

std::string pg_blob(const pq_statement& s, int col) {
  const char* v = cell(s, col);
  if (v == nullptr) return {};
  const std::string_view hex(v);
  if (hex.size() < 2 || hex[0] != '\\' || hex[1] != 'x') return std::string(hex);
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return 0;
  };
  std::string out;
  out.reserve((hex.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  return out;
}

bool pg_is_null(const pq_statement& s, int col) {
  return cell(s, col) == nullptr;
}

}  // namespace detail
}  // namespace ussdpay::store
