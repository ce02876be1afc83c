// Awaitable wrappers around the store's threads: a group_writer job or a reader_pool job, resumed
// on the caller's executor. They are plain functions (not coroutines) on purpose: g++ 12
// destroys lambda temporaries inside a co_await expression twice (GCC bug 99576), so captures
// such as shared_ptrs must not be built inside the co_await.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/readers.hpp"
#include "store/writer.hpp"

namespace ussdpay {

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
              if (e) spdlog::error("store: write failed: {}", e->message);
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
