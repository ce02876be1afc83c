#include "store/writer.hpp"

#include <vector>

namespace ussdpay::store {

group_writer::group_writer(db conn, std::size_t max_queue, std::size_t max_batch)
    : conn_(std::move(conn)),
      max_queue_(max_queue),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      thread_([this] { run(); }) {}

group_writer::~group_writer() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
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

void group_writer::run() {
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
    std::optional<db_error> batch_error = conn_.exec("BEGIN IMMEDIATE");
    std::uint64_t failed = 0;
    if (!batch_error) {
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (auto e = conn_.exec("SAVEPOINT job")) {
          results[i] = e;
          continue;
        }
        const bool ok = batch[i].work(conn_);
        if (!ok) {
          results[i] = db_error{0, "refused by the job"};
          conn_.exec("ROLLBACK TO job");
        }
        conn_.exec("RELEASE job");
      }
      batch_error = conn_.exec("COMMIT");
      if (batch_error) conn_.exec("ROLLBACK");
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& err = batch_error ? batch_error : results[i];
      if (err) ++failed;
      if (batch[i].done) batch[i].done(!err, err);
    }
    std::lock_guard lock(m_);
    stats_.jobs += batch.size();
    stats_.failed += failed;
    if (!batch_error) ++stats_.commits;
    if (batch.size() > stats_.max_batch) stats_.max_batch = batch.size();
  }
}

}  // namespace ussdpay::store
