// The admin HTTP/1.1 server (Boost.Beast) on the network thread: one coroutine per connection,
// keep-alive, everything the peer controls bounded (header 8 KiB, body 64 KiB, one request
// within request_timeout, at most max_connections at once; past that a connection is closed at
// once). What each request gets is the routes' business (gateway/admin/api.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ussdpay::admin {

/// [admin]: the HTTP admin API and metrics.
struct admin_config {
  /// "HOST:PORT" to listen on; "" turns the API off. Loopback by default: put a TLS proxy in
  /// front (or keep it on the host) rather than exposing it.
  std::string listen = "127.0.0.1:8780";
  /// The bearer token every request but /health and /ready must carry
  /// ("Authorization: Bearer <token>"), from token_file's first line or USSDPAY_ADMIN_TOKEN. At
  /// least 16 characters. Without one, only /health and /ready answer.
  std::string token_file;
  std::string token;
  /// One request (headers and body) must arrive within this; an idle keep-alive connection is
  /// closed after it too.
  std::chrono::milliseconds request_timeout{10'000};
  std::uint32_t max_connections = 64;
};

using request = boost::beast::http::request<boost::beast::http::string_body>;

struct reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string www_authenticate = {};  ///< sent with 401 (RFC 6750)
};

using route_fn = std::function<boost::asio::awaitable<reply>(const request&)>;

struct server_stats {
  std::uint64_t connections = 0, refused = 0, requests = 0, bad_requests = 0;
};

class http_server {
 public:
  http_server(boost::asio::any_io_executor ex, admin_config cfg, route_fn routes);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts accepting; the error text when it cannot (bad address, port taken).
  std::optional<std::string> start();
  void stop();
  /// The port listened on (useful with port 0).
  std::uint16_t port() const;
  const server_stats& stats() const { return stats_; }

  struct state;  ///< shared with the connection coroutines (server.cpp)

 private:
  std::shared_ptr<state> s_;
  server_stats& stats_;
};

/// "HOST:PORT" split, the port checked; nullopt when malformed.
std::optional<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text);

}  // namespace ussdpay::admin
