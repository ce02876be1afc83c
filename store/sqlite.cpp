#include "store/db.hpp"
#include "store/postgres.hpp"

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <pthread.h>
#include <sqlite3.h>

namespace ussdpay::store {

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct db::statement_cache {
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>, string_hash, std::equal_to<>> idle;
  std::size_t count = 0;
  ~statement_cache() {
    for (auto& [sql, v] : idle)
      for (auto* s : v) sqlite3_finalize(s);
  }
};

db::db(sqlite3* h) : h_(h), cache_(std::make_unique<statement_cache>()) {}

db::db(std::unique_ptr<detail::pq_connection> pg) : pg_(std::move(pg)) {}

db::db(db&& o) noexcept : h_(o.h_), cache_(std::move(o.cache_)), pg_(std::move(o.pg_)) {
  o.h_ = nullptr;
}

std::string_view to_string(backend b) {
  return b == backend::postgresql ? "postgresql" : "sqlite";
}

std::string location::describe() const {
  return kind == backend::postgresql ? "postgresql " + redact_connection_string(target) : target;
}

bool is_unique_violation(const db_error& e) {
  return e.sqlstate == "23505" || e.code == SQLITE_CONSTRAINT_UNIQUE ||
         e.code == SQLITE_CONSTRAINT_PRIMARYKEY;
}

std::optional<db> db::open(const location& where, open_mode mode, db_error& err) {
  if (where.kind == backend::sqlite) return open(where.target, mode, err);
  auto c = detail::pg_open(where.target, mode, err);
  if (!c) return std::nullopt;
  return db(std::move(c));
}

bool db::transaction_failed() const {
  return pg_ && detail::pg_transaction_failed(*pg_);
}

sqlite3_stmt* db::take(std::string_view sql) {
  if (!cache_) return nullptr;
  auto it = cache_->idle.find(sql);
  if (it == cache_->idle.end() || it->second.empty()) return nullptr;
  auto* s = it->second.back();
  it->second.pop_back();
  --cache_->count;
  return s;
}

void db::give(sqlite3_stmt* s) {
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  if (!cache_ || cache_->count >= max_cached_statements) {
    sqlite3_finalize(s);
    return;
  }
  const char* sql = sqlite3_sql(s);
  auto it = cache_->idle.find(std::string_view(sql));
  if (it == cache_->idle.end())
    it = cache_->idle.emplace(std::string(sql), std::vector<sqlite3_stmt*>{}).first;
  it->second.push_back(s);
  ++cache_->count;
}

std::optional<db> db::open(const std::string& path, open_mode mode, db_error& err) {
  // Before SQLite's first use in this process: no memory statistics. With them on (the
  // default), every sqlite3_malloc and free takes one process-wide mutex, which the writer and
  // the readers then contend for. Refused (harmlessly) if SQLite was initialised already.
  static std::once_flag configured;
  std::call_once(configured, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  sqlite3* h = nullptr;
  const int access = mode == open_mode::writer       ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                     : mode == open_mode::checkpoint ? SQLITE_OPEN_READWRITE
                                                     : SQLITE_OPEN_READONLY;
  const int flags = access | SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread
  const int rc = sqlite3_open_v2(path.c_str(), &h, flags, nullptr);
  if (rc != SQLITE_OK) {
    err = {rc, h != nullptr ? sqlite3_errmsg(h) : sqlite3_errstr(rc)};
    sqlite3_close(h);
    return std::nullopt;
  }
  sqlite3_extended_result_codes(h, 1);
  db d(h);
  // The writer sets the journal mode (it is persistent in the file); everyone waits rather
  // than fails on a lock held briefly by a checkpoint.
  sqlite3_busy_timeout(h, 5000);
  // The writer: a page cache that holds a whole group commit's dirty pages (32 MiB, not 2), and
  // the statement journals of its per-job savepoints in memory rather than in temporary files
  // (those pwrites were a third of the writer thread's time under load). Neither is durable
  // state: the WAL and its fsync at commit are.
  const char* setup = mode == open_mode::writer
                          ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                            "PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768; "
                            "PRAGMA temp_store=MEMORY;"
                          : "PRAGMA foreign_keys=ON;";
  if (auto e = d.exec(setup)) {
    err = *e;
    return std::nullopt;
  }
  if (mode == open_mode::writer && d.pragma("journal_mode") != "wal") {
    err = {SQLITE_ERROR, "cannot switch " + path + " to WAL journal mode"};
    return std::nullopt;
  }
  return d;
}

db& db::operator=(db&& o) noexcept {
  if (this != &o) {
    cache_.reset();  // its statements first: a connection with statements does not close
    sqlite3_close(h_);
    h_ = o.h_;
    cache_ = std::move(o.cache_);
    pg_ = std::move(o.pg_);
    o.h_ = nullptr;
  }
  return *this;
}

db::~db() {
  cache_.reset();
  sqlite3_close(h_);
}

std::optional<db_error> db::exec(std::string_view sql) {
  if (pg_) return detail::pg_exec(*pg_, sql);
  char* msg = nullptr;
  const std::string s(sql);
  const int rc = sqlite3_exec(h_, s.c_str(), nullptr, nullptr, &msg);
  if (rc == SQLITE_OK) return std::nullopt;
  db_error e{rc, msg != nullptr ? msg : sqlite3_errstr(rc)};
  sqlite3_free(msg);
  return e;
}

std::optional<std::string> db::pragma(std::string_view name) {
  if (pg_) return std::nullopt;
  stmt s(*this, "PRAGMA " + std::string(name));
  if (!s.ok() || !s.step()) return std::nullopt;
  return s.text(0);
}

int db::changes() const {
  if (pg_) return detail::pg_changes(*pg_);
  return sqlite3_changes(h_);
}
db_error db::error() const {
  if (pg_) return detail::pg_error(*pg_);
  return {sqlite3_extended_errcode(h_), sqlite3_errmsg(h_)};
}

stmt::stmt(db& d, std::string_view sql) : d_(&d) {
  if (d.pg_) {
    p_ = detail::pg_take(*d.pg_, sql, err_);
    return;
  }
  if ((s_ = d.take(sql)) != nullptr) return;
  const int rc = sqlite3_prepare_v3(d.handle(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &s_, nullptr);
  if (rc != SQLITE_OK) {
    err_ = d.error();
    sqlite3_finalize(s_);
    s_ = nullptr;
  }
}

stmt::~stmt() {
  if (s_ != nullptr) d_->give(s_);
  if (p_ != nullptr) detail::pg_give(*d_->pg_, p_);
}

stmt& stmt::bind(int i, std::int64_t v) {
  if (s_ != nullptr) sqlite3_bind_int64(s_, i, v);
  if (p_ != nullptr) detail::pg_bind(*p_, i, v);
  return *this;
}

stmt& stmt::bind(int i, std::string_view v) {
  if (s_ != nullptr) sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (p_ != nullptr) detail::pg_bind(*p_, i, v, detail::pg_value::text);
  return *this;
}

stmt& stmt::bind_blob(int i, std::string_view v) {
  if (s_ != nullptr) sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT);
  if (p_ != nullptr) detail::pg_bind(*p_, i, v, detail::pg_value::octets);
  return *this;
}

std::string stmt::blob(int col) const {
  if (p_ != nullptr) return detail::pg_blob(*p_, col);
  const void* p = sqlite3_column_blob(s_, col);
  const int n = sqlite3_column_bytes(s_, col);
  return p == nullptr ? std::string()
                      : std::string(static_cast<const char*>(p), static_cast<std::size_t>(n));
}

stmt& stmt::bind_null(int i) {
  if (s_ != nullptr) sqlite3_bind_null(s_, i);
  if (p_ != nullptr) detail::pg_bind_null(*p_, i);
  return *this;
}

bool stmt::step() {
  if (p_ != nullptr) return detail::pg_step(*d_->pg_, *p_, err_);
  if (s_ == nullptr) return false;
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) err_ = d_->error();
  return false;
}

std::optional<db_error> stmt::run() {
  if (!ok()) return err_;
  err_.reset();
  while (step()) {
  }
  auto e = err_;
  reset();
  return e;
}

void stmt::reset() {
  if (p_ != nullptr) detail::pg_reset(*p_);
  if (s_ == nullptr) return;
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::int64_t stmt::int64(int col) const {
  if (p_ != nullptr) return detail::pg_int64(*p_, col);
  return sqlite3_column_int64(s_, col);
}

std::string stmt::text(int col) const {
  if (p_ != nullptr) return detail::pg_text(*p_, col);
  const auto* p = sqlite3_column_text(s_, col);
  const int n = sqlite3_column_bytes(s_, col);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

bool stmt::is_null(int col) const {
  if (p_ != nullptr) return detail::pg_is_null(*p_, col);
  return sqlite3_column_type(s_, col) == SQLITE_NULL;
}

void name_this_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

transaction::transaction(db& d, bool write) : d_(d) {
  begin_error_ =
      d_.exec(write                              ? d_.begin_write_sql()
              : d_.kind() == backend::postgresql ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
                                                 : "BEGIN");
  open_ = !begin_error_;
}

transaction::~transaction() {
  if (open_) d_.exec("ROLLBACK");
}

std::optional<db_error> transaction::commit() {
  if (!open_) return begin_error_ ? begin_error_ : db_error{0, "the transaction is not open"};
  open_ = false;
  auto e = d_.exec("COMMIT");
  if (e) d_.exec("ROLLBACK");
  return e;
}

}  // namespace ussdpay::store
