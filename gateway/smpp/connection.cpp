#include "gateway/smpp/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace ussdpay::smpp {
namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// asio::ssl::stream always needs a context; plain connections never use it.
asio::ssl::context& unused_context() {
  static asio::ssl::context ctx(asio::ssl::context::tls);
  return ctx;
}

}  // namespace

pdu_connection::pdu_connection(asio::any_io_executor ex, asio::ssl::context* tls_ctx,
                               const codec_limits& limits)
    : stream_(ex, tls_ctx ? *tls_ctx : unused_context()),
      wake_(ex),
      tls_(tls_ctx != nullptr),
      frames_(limits) {}

pdu_connection::pdu_connection(tcp::socket s, asio::ssl::context* tls_ctx,
                               const codec_limits& limits)
    : stream_(std::move(s), tls_ctx ? *tls_ctx : unused_context()),
      wake_(stream_.get_executor()),
      tls_(tls_ctx != nullptr),
      frames_(limits) {}

asio::awaitable<pdu_connection::error_code> pdu_connection::read_some() {
  auto space = frames_.prepare();
  auto buf = asio::buffer(space.data(), space.size());
  error_code ec;
  std::size_t n = 0;
  if (tls_)
    std::tie(ec, n) = co_await stream_.async_read_some(buf, nothrow);
  else
    std::tie(ec, n) = co_await socket().async_read_some(buf, nothrow);
  if (!ec) frames_.commit(n);
  co_return ec;
}

void pdu_connection::flush() {
  if (!out_.empty()) wake_.cancel();
}

asio::awaitable<pdu_connection::error_code> pdu_connection::write_loop() {
  std::string batch;
  error_code ec;
  while (!closed_) {
    if (out_.empty()) {
      if (closing_) break;
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(nothrow);
      continue;
    }
    batch.clear();
    batch.swap(out_);
    if (tls_)
      std::tie(ec, std::ignore) = co_await asio::async_write(stream_, asio::buffer(batch), nothrow);
    else
      std::tie(ec, std::ignore) =
          co_await asio::async_write(socket(), asio::buffer(batch), nothrow);
    if (ec) break;
  }
  if (closed_) ec = {};  // closed on purpose: not a write failure
  close();
  co_return ec;
}

void pdu_connection::close_after_flush() {
  closing_ = true;
  wake_.cancel();
}

void pdu_connection::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  wake_.cancel();
}

}  // namespace ussdpay::smpp
