// pdu_connection: one SMPP byte stream over TCP, optionally TLS, shared by the ESME link
// (link_session) and the SMSC simulator. Reads go into a framer; writes are batched: whatever was
// queued while the previous write was in flight goes out in the next single write, so many PDUs
// cost one syscall. Closing is idempotent; close_after_flush() lets the last PDUs (an unbind_resp,
// a generic_nack) leave first.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/smpp/codec.hpp"

namespace ussdpay::smpp {

namespace asio = boost::asio;

class pdu_connection {
 public:
  using tcp = asio::ip::tcp;
  using error_code = boost::system::error_code;

  /// Not connected yet: connect socket(), then handshake tls_stream() if tls().
  /// `tls_ctx` null means plain TCP.
  pdu_connection(asio::any_io_executor ex, asio::ssl::context* tls_ctx, const codec_limits& limits);
  /// An accepted socket.
  pdu_connection(tcp::socket s, asio::ssl::context* tls_ctx, const codec_limits& limits);

  tcp::socket& socket() { return stream_.next_layer(); }
  asio::ssl::stream<tcp::socket>& tls_stream() { return stream_; }
  bool tls() const { return tls_; }
  framer& frames() { return frames_; }

  /// One read into the framer; take whole PDUs with frames().next().
  asio::awaitable<error_code> read_some();

  /// Bytes queued for the writer; append (e.g. encode(p, outbox())) then call flush().
  std::string& outbox() { return out_; }
  void flush();

  /// Sends everything queued, batch after batch, until the connection is closed. Returns the
  /// write error that ended it, or no error after close() / close_after_flush().
  asio::awaitable<error_code> write_loop();

  /// The writer sends what is queued, then closes.
  void close_after_flush();
  void close();
  bool closed() const { return closed_; }
  bool closing() const { return closing_; }

 private:
  asio::ssl::stream<tcp::socket> stream_;
  asio::steady_timer wake_;  // the writer sleeps on it; cancel() wakes it
  bool tls_;
  framer frames_;
  std::string out_;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace ussdpay::smpp
