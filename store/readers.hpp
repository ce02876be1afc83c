// A small pool of reader threads, each with its own read-only connection (WAL: readers never
// block the writer nor each other). Blocking reads and other blocking work (PIN hashing) run
// here, off the network thread; each job's caller posts its result back to its own executor.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/db.hpp"

namespace ussdpay::store {

class reader_pool {
 public:
  using job = std::function<void(db&)>;

  /// Opens `threads` reader connections to `where` (the database must exist, migrated). On
  /// failure `error` is set and the pool runs no jobs (submit returns false).
  reader_pool(const location& where, std::size_t threads, std::size_t max_queue,
              std::optional<db_error>& error);
  ~reader_pool();  ///< runs what is queued, then stops
  reader_pool(const reader_pool&) = delete;
  reader_pool& operator=(const reader_pool&) = delete;

  /// Queues a job; false when the queue is full or the pool failed to open (the caller answers
  /// "busy" / "unavailable").
  bool submit(job work);
  std::size_t queued() const;

 private:
  void run(db conn);

  const std::size_t max_queue_;
  mutable std::mutex m_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ussdpay::store
