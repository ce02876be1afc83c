// The admin HTTP/1.1 server (Boost.Beast) on the network thread: one coroutine per connection,
// keep-alive, everything the peer controls bounded (header 8 KiB, body 64 KiB, one request
// within request_timeout, at most max_connections at once; past that a connection is closed at
// once). Only clients whose address is in [admin] allow are served (loopback by default); any
// other connection is closed at once, unanswered. Optionally HTTPS (TLS 1.2 or later, the handshake
// within request_timeout too): the same connection coroutine serves both, templated on the stream.
// What each request gets is the routes' business (gateway/admin/api.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "gateway/admin/config.hpp"

namespace boost::asio::ssl {
class context;
}

namespace ussdpay::admin {

/// The server's TLS context from tls_cert_file and tls_key_file (TLS 1.2 or later); nullptr
/// when TLS is off, or when the files do not load or do not match, with `why` set then.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const admin_config& cfg,
                                                                   std::string& why);

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
  /// Connections closed because their address is not in [admin] allow.
  std::uint64_t not_allowed = 0;
  /// Requests answered 401 (no bearer token, a wrong one, another scheme).
  std::uint64_t unauthorized = 0;
};

class http_server {
 public:
  /// `tls` (from make_server_tls_context) serves HTTPS; nullptr serves plain HTTP.
  http_server(boost::asio::any_io_executor ex, admin_config cfg, route_fn routes,
              std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
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

/// One [admin] allow entry: an address and how many leading bits of it must match.
struct address_prefix {
  boost::asio::ip::address address;
  unsigned bits = 0;
};
/// "127.0.0.0/8, ::1" (commas, spaces around them); nullopt when an entry is malformed (a bad
/// address, bits past 32 or 128, bits set past the prefix) or there is none.
std::optional<std::vector<address_prefix>> parse_allow(std::string_view text);
/// Whether `a` is within one of `allow` (an IPv4 address mapped into IPv6 is matched as IPv4).
bool allowed(const std::vector<address_prefix>& allow, const boost::asio::ip::address& a);

}  // namespace ussdpay::admin
