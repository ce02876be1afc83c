// The one writer, with group commit: jobs from any thread queue up; the writer thread runs as
// many as are waiting (up to max_batch) inside one transaction, each in its own SAVEPOINT so a
// job that fails rolls back alone, then commits once: one fsync for the whole batch. Each job's
// completion is called on the writer thread after the commit (or with the error); callers that
// live on an event loop post it back there themselves.
//
//   submit ─> queue (bounded) ─> [BEGIN IMMEDIATE; SAVEPOINT/job/RELEASE x N; COMMIT] ─> done x N
//
// WAL checkpoints (copying committed pages into the database file) run on a thread of their own
// with its own connection, PASSIVE (never blocking the writer or the readers), instead of inside
// the writer's commits (SQLite's automatic checkpoint every 1,000 pages cost about a tenth of the
// writer's time under load). Under continuous writes a passive checkpoint never reaches the last
// frame, and the WAL only starts over after a checkpoint on the writer's connection did; so the
// writer keeps an automatic checkpoint too, at wal_frames: by then the background one has copied
// nearly everything and it costs little.
//
// Readers use their own connections (open_mode::reader): with WAL they never block the writer
// and the writer never blocks them.
//
// On PostgreSQL the same writer runs over one libpq connection (BEGIN rather than BEGIN
// IMMEDIATE, no checkpointer): group commit still makes one COMMIT, and one WAL flush on the
// server, per batch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "store/db.hpp"

namespace ussdpay::store {

struct writer_stats {
  std::uint64_t jobs = 0;       ///< jobs run
  std::uint64_t failed = 0;     ///< jobs that returned false or whose commit failed
  std::uint64_t commits = 0;    ///< transactions committed (each one fsync of the WAL)
  std::uint64_t max_batch = 0;  ///< the largest batch committed at once
  /// Background checkpoints that copied pages (each syncs the WAL and the database file: two
  /// fsyncs); empty ones cost none.
  std::uint64_t checkpoints = 0;
};

struct checkpoint_policy {
  /// How often a passive checkpoint runs; 0 (or a database without a file) leaves
  /// checkpoints to SQLite's automatic ones inside commits.
  std::chrono::milliseconds every{100};
  /// The writer's own automatic checkpoint, in WAL frames (pages): 4,096 = 16 MiB of WAL.
  int wal_frames = 4096;
};

class group_writer {
 public:
  /// A job runs on the writer's connection inside the batch's transaction. Return false to roll
  /// back what it did (only its own SAVEPOINT).
  using job = std::function<bool(db&)>;
  /// committed: the job's work is durable. error: why not (job refused, or the commit failed).
  using done_fn = std::function<void(bool committed, std::optional<db_error> error)>;

  /// Takes the writer connection (already migrated).
  group_writer(db conn, std::size_t max_queue = 100'000, std::size_t max_batch = 1'000,
               checkpoint_policy policy = {});
  ~group_writer();  ///< finishes the queued jobs, then stops
  group_writer(const group_writer&) = delete;
  group_writer& operator=(const group_writer&) = delete;

  /// Queues a job. false when the queue is full (the caller answers "busy"); done is then not
  /// called.
  bool submit(job work, done_fn done);

  writer_stats stats() const;
  /// Jobs waiting for the writer (not counting the batch it is running).
  std::size_t queued() const;

 private:
  struct item {
    job work;
    done_fn done;
  };
  void run();
  void run_checkpoints();
  /// One batch on PostgreSQL (writer.cpp): the error that failed it whole, if any.
  std::optional<db_error> run_batch_postgresql(std::vector<item>& batch,
                                               std::vector<std::optional<db_error>>& results);

  db conn_;
  const std::size_t max_queue_, max_batch_;
  mutable std::mutex m_;
  std::condition_variable wake_;
  std::deque<item> queue_;
  bool stopping_ = false;
  writer_stats stats_;
  const checkpoint_policy checkpoint_;
  std::optional<db> checkpoint_conn_;
  std::condition_variable checkpoint_wake_;
  std::thread thread_;  // starts once everything it touches exists
  std::thread checkpointer_;
};

}  // namespace ussdpay::store
