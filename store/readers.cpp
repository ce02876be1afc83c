#include "store/readers.hpp"

namespace ussdpay::store {

reader_pool::reader_pool(const location& where, std::size_t threads, std::size_t max_queue,
                         std::optional<db_error>& error)
    : max_queue_(max_queue) {
  std::vector<db> conns;
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
    db_error err;
    auto d = db::open(where, open_mode::reader, err);
    if (!d) {
      error = err;
      stopping_ = true;
      return;
    }
    conns.push_back(std::move(*d));
  }
  for (auto& c : conns)
    threads_.emplace_back([this, c = std::move(c), n = threads_.size()]() mutable {
      name_this_thread("store-read-" + std::to_string(n));
      run(std::move(c));
    });
}

reader_pool::~reader_pool() {
  {
    std::lock_guard lock(m_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool reader_pool::submit(job work) {
  {
    std::lock_guard lock(m_);
    if (stopping_ || queue_.size() >= max_queue_) return false;
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
  return true;
}

std::size_t reader_pool::queued() const {
  std::lock_guard lock(m_);
  return queue_.size();
}

void reader_pool::run(db conn) {
  for (;;) {
    job work;
    {
      std::unique_lock lock(m_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work(conn);
  }
}

}  // namespace ussdpay::store
