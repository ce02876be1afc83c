#include "store/writer.hpp"

#include <string>
#include <vector>

#include <sqlite3.h>

namespace ussdpay::store {

group_writer::group_writer(db conn, std::size_t max_queue, std::size_t max_batch,
                           checkpoint_policy policy)
    : conn_(std::move(conn)),
      max_queue_(max_queue),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      checkpoint_(policy) {
  // PostgreSQL keeps its own write-ahead log: no checkpointer of ours.
  const char* file =
      conn_.kind() == backend::sqlite ? sqlite3_db_filename(conn_.handle(), "main") : nullptr;
  if (checkpoint_.every.count() > 0 && file != nullptr && *file != '\0') {
    db_error ignored;  // no second connection: SQLite's automatic checkpoints stay on
    // A connection learns that the file is in WAL mode on its first read; until then its
    // checkpoints do nothing (pnLog = -1).
    if (auto c = db::open(file, open_mode::checkpoint, ignored);
        c && c->pragma("journal_mode") == "wal" &&
        !conn_.exec("PRAGMA wal_autocheckpoint = " + std::to_string(checkpoint_.wal_frames)))
      checkpoint_conn_.emplace(std::move(*c));
  }
  thread_ = std::thread([this] { run(); });
  if (checkpoint_conn_) checkpointer_ = std::thread([this] { run_checkpoints(); });
}

group_writer::~group_writer() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  wake_.notify_one();
  checkpoint_wake_.notify_one();
  thread_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
  // What the last commits left in the WAL goes into the database file now.
  if (checkpoint_conn_)
    sqlite3_wal_checkpoint_v2(checkpoint_conn_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                              nullptr, nullptr);
}

void group_writer::run_checkpoints() {
  name_this_thread("store-ckpt");
  std::unique_lock lock(m_);
  while (!stopping_) {
    checkpoint_wake_.wait_for(lock, checkpoint_.every, [&] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    int wal_frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(checkpoint_conn_->handle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    lock.lock();
    if (rc == SQLITE_OK && copied > 0) ++stats_.checkpoints;
  }
}

bool group_writer::submit(job work, done_fn done) {
  {
    std::lock_guard lock(m_);
    if (queue_.size() >= max_queue_ || stopping_) return false;
    queue_.push_back({std::move(work), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

writer_stats group_writer::stats() const {
  std::lock_guard lock(m_);
  return stats_;
}

std::size_t group_writer::queued() const {
  std::lock_guard lock(m_);
  return queue_.size();
}

// On PostgreSQL every statement is a round trip to the server, so the savepoint steps between
// two jobs travel together, as one multi-statement query: BEGIN with the first SAVEPOINT, each
// RELEASE (or ROLLBACK TO, for a job that failed) with the next SAVEPOINT, the last with the
// COMMIT. One round trip per job and none extra per batch, instead of two per job and two per
// batch. A step that fails leaves the transaction unusable: the batch fails whole (nothing of
// it is committed), and its callers hear the error.
std::optional<db_error> group_writer::run_batch_postgresql(
    std::vector<item>& batch, std::vector<std::optional<db_error>>& results) {
  if (auto e = conn_.exec("BEGIN; SAVEPOINT job")) return e;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    bool ok = batch[i].work(conn_);
    // A statement that failed aborts the transaction until it is rolled back to the savepoint,
    // even if the job went on as if nothing happened: the job failed, and the batch's other jobs
    // must not fail with it.
    if (ok && conn_.transaction_failed()) {
      ok = false;
      results[i] = conn_.error();
    }
    if (!ok && !results[i]) results[i] = db_error{0, "refused by the job"};
    const bool last = i + 1 == batch.size();
    const std::string_view step = ok ? (last ? "RELEASE job; COMMIT" : "RELEASE job; SAVEPOINT job")
                                     : (last ? "ROLLBACK TO job; RELEASE job; COMMIT"
                                             : "ROLLBACK TO job; RELEASE job; SAVEPOINT job");
    if (auto e = conn_.exec(step)) {
      conn_.exec("ROLLBACK");
      return e;
    }
  }
  return std::nullopt;
}

void group_writer::run() {
  name_this_thread("store-writer");
  std::vector<item> batch;
  std::vector<std::optional<db_error>> results;
  for (;;) {
    batch.clear();
    {
      std::unique_lock lock(m_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    results.assign(batch.size(), std::nullopt);
    // Prepared once and reused (the connection's statement cache): parsing these for every
    // job cost more than running them.
    auto run_sql = [this](std::string_view sql) { return stmt(conn_, sql).run(); };
    std::optional<db_error> batch_error;
    std::uint64_t failed = 0;
    if (conn_.kind() == backend::postgresql) {
      batch_error = run_batch_postgresql(batch, results);
    } else if (!(batch_error = run_sql(conn_.begin_write_sql()))) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (auto e = run_sql("SAVEPOINT job")) {
          results[i] = e;
          continue;
        }
        bool ok = batch[i].work(conn_);
        // On PostgreSQL a statement that failed aborts the transaction until it is rolled back
        // to the savepoint, even if the job went on as if nothing happened: the job failed,
        // and the batch's other jobs must not fail with it.
        if (ok && conn_.transaction_failed()) {
          ok = false;
          results[i] = conn_.error();
        }
        if (!ok) {
          if (!results[i]) results[i] = db_error{0, "refused by the job"};
          run_sql("ROLLBACK TO job");
        }
        run_sql("RELEASE job");
      }
      batch_error = run_sql("COMMIT");
      if (batch_error) run_sql("ROLLBACK");
    }
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (batch_error || results[i]) ++failed;
    {
      // Counted before anyone hears of the batch: a caller woken by its completion sees it.
      std::lock_guard lock(m_);
      stats_.jobs += batch.size();
      stats_.failed += failed;
      if (!batch_error) ++stats_.commits;
      if (batch.size() > stats_.max_batch) stats_.max_batch = batch.size();
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& err = batch_error ? batch_error : results[i];
      if (batch[i].done) batch[i].done(!err, err);
    }
  }
}

}  // namespace ussdpay::store
