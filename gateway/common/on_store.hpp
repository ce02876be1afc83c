// The store's Asio bridge: awaitable wrappers around the store's threads (a group_writer job or
// a reader_pool job, resumed on the caller's executor). They are plain functions (not coroutines)
// on purpose: g++ 12 destroys lambda temporaries inside a co_await expression twice (GCC bug
// 99576), so captures such as shared_ptrs must not be built inside the co_await.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/readers.hpp"
#include "store/writer.hpp"

namespace ussdpay {

/// Logs failed writes without flooding: when the disk is full every job fails, thousands a
/// second. The first failure is logged at once; later ones at most once per `every`, with how
/// many were left out since. Called on the writer's thread.
inline void log_write_failure(const std::string& why,
                              std::chrono::steady_clock::duration every = std::chrono::seconds(5)) {
  static std::mutex m;
  static std::chrono::steady_clock::time_point last{};
  static std::uint64_t left_out = 0;
  const auto now = std::chrono::steady_clock::now();
  std::uint64_t also = 0;
  {
    std::lock_guard lock(m);
    if (last != std::chrono::steady_clock::time_point{} && now - last < every) {
      ++left_out;
      return;
    }
    last = now;
    also = left_out;
    left_out = 0;
  }
  if (also > 0)
    spdlog::error("store: write failed: {} (and {} more failed writes since the last report)", why,
                  also);
  else
    spdlog::error("store: write failed: {}", why);
}

/// Runs `job` on the group writer; resumes on `ex` with whether it committed.
inline boost::asio::awaitable<bool> on_writer(store::group_writer& w,
                                              boost::asio::any_io_executor ex,
                                              store::group_writer::job job) {
  namespace asio = boost::asio;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(
      [&w, ex, job = std::move(job)](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto resume = [h, ex](bool ok) { asio::post(ex, [h, ok] { std::move (*h)(ok); }); };
        if (!w.submit(std::move(job), [resume](bool committed, std::optional<store::db_error> e) {
              if (e) log_write_failure(e->message);
              resume(committed);
            }))
          resume(false);
      },
      asio::use_awaitable);
}

/// Runs `job` on a reader; resumes on `ex` with whether it ran (false: the pool is full).
inline boost::asio::awaitable<bool> on_reader(store::reader_pool& r,
                                              boost::asio::any_io_executor ex,
                                              std::function<void(store::db&)> job) {
  namespace asio = boost::asio;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(
      [&r, ex, job = std::move(job)](auto handler) mutable {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        const bool queued = r.submit([h, ex, job](store::db& d) {
          job(d);
          asio::post(ex, [h] { std::move (*h)(true); });
        });
        if (!queued) asio::post(ex, [h] { std::move (*h)(false); });
      },
      asio::use_awaitable);
}

}  // namespace ussdpay
