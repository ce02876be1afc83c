#include "gateway/admin/server.hpp"

#include "gateway/common/log_text.hpp"

#include <charconv>
#include <filesystem>
#include <type_traits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace ussdpay::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::optional<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535)
    return std::nullopt;
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code bad;
  (void)asio::ip::make_address(host, bad);
  if (bad) return std::nullopt;
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

namespace {
bool host_bits_set(const asio::ip::address& a, unsigned bits) {
  if (a.is_v4()) return bits < 32 && (a.to_v4().to_uint() & (0xFFFFFFFFu >> bits)) != 0;
  const auto bytes = a.to_v6().to_bytes();
  for (unsigned i = bits; i < 128; ++i)
    if (bytes[i / 8] & (0x80u >> (i % 8))) return true;
  return false;
}
}  // namespace

std::optional<std::vector<address_prefix>> parse_allow(std::string_view text) {
  std::vector<address_prefix> out;
  for (bool more = true; more;) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    more = comma != std::string_view::npos;  // "a," has an empty entry after the comma
    text = more ? text.substr(comma + 1) : std::string_view();
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) return std::nullopt;
    const auto slash = item.find('/');
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(std::string(item.substr(0, slash)), ec);
    if (ec) return std::nullopt;
    const unsigned max_bits = a.is_v4() ? 32 : 128;
    unsigned bits = max_bits;
    if (slash != std::string_view::npos) {
      const auto b = item.substr(slash + 1);
      auto [p, bec] = std::from_chars(b.data(), b.data() + b.size(), bits);
      if (bec != std::errc() || p != b.data() + b.size() || b.empty() || bits > max_bits)
        return std::nullopt;
    }
    // Bits set past the prefix ("10.1.2.0/16") are a typo for some other network: refused.
    if (host_bits_set(a, bits)) return std::nullopt;
    const address_prefix pre{a, bits};
    out.push_back(pre);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool allowed(const std::vector<address_prefix>& allow, const asio::ip::address& given) {
  asio::ip::address a = given;
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  for (const auto& p : allow) {
    if (p.address.is_v4() != a.is_v4()) continue;
    if (a.is_v4()) {
      const std::uint32_t mask = p.bits == 0 ? 0 : 0xFFFFFFFFu << (32 - p.bits);
      if ((a.to_v4().to_uint() & mask) == (p.address.to_v4().to_uint() & mask)) return true;
      continue;
    }
    const auto x = a.to_v6().to_bytes(), y = p.address.to_v6().to_bytes();
    bool same = true;
    for (unsigned i = 0; i < p.bits && same; ++i)
      same = ((x[i / 8] ^ y[i / 8]) & (0x80u >> (i % 8))) == 0;
    if (same) return true;
  }
  return false;
}

std::shared_ptr<ssl::context> make_server_tls_context(const admin_config& cfg, std::string& why) {
  if (!cfg.tls()) return nullptr;
  for (const auto& [key, file] : {std::pair{"admin.tls_cert_file", &cfg.tls_cert_file},
                                  std::pair{"admin.tls_key_file", &cfg.tls_key_file}}) {
    std::error_code fec;
    if (!std::filesystem::is_regular_file(*file, fec)) {
      why = std::string(key) + ": no such file: " + *file;
      return nullptr;
    }
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cfg.tls_cert_file, ec);
  if (ec) {
    why = "admin.tls_cert_file: cannot load " + cfg.tls_cert_file +
          " as a PEM certificate: " + ec.message();
    return nullptr;
  }
  // OpenSSL refuses a key that does not match the certificate loaded before it.
  ctx->use_private_key_file(cfg.tls_key_file, ssl::context::pem, ec);
  if (ec || ::SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    why = "admin.tls_key_file: " + cfg.tls_key_file + " is not the PEM private key of " +
          cfg.tls_cert_file + (ec ? ": " + ec.message() : std::string());
    return nullptr;
  }
  return ctx;
}

struct http_server::state {
  state(asio::any_io_executor e, admin_config c, route_fn r, std::shared_ptr<ssl::context> t)
      : ex(std::move(e)),
        cfg(std::move(c)),
        routes(std::move(r)),
        tls(std::move(t)),
        allow(parse_allow(cfg.allow).value_or(std::vector<address_prefix>{})),
        acceptor(ex) {}
  asio::any_io_executor ex;
  admin_config cfg;
  route_fn routes;
  std::shared_ptr<ssl::context> tls;  ///< nullptr: plain HTTP
  std::vector<address_prefix> allow;  ///< empty (a bad list --check-config refused): nobody
  tcp::acceptor acceptor;
  server_stats stats;
  /// Refusals are logged at most once a second per kind, with how many were not.
  struct paced {
    std::chrono::steady_clock::time_point last{};
    std::uint64_t held = 0;
    /// Whether to log now; `more` is how many went unlogged since the last line.
    bool due(std::uint64_t& more) {
      const auto now = std::chrono::steady_clock::now();
      if (last != std::chrono::steady_clock::time_point{} && now - last < std::chrono::seconds(1)) {
        ++held;
        return false;
      }
      last = now;
      more = held;
      held = 0;
      return true;
    }
  } log_address, log_auth, log_bad, log_full;
  std::uint32_t open = 0;
  bool alive = true;
};

namespace {

constexpr std::uint32_t header_limit = 8 * 1024;
constexpr std::uint64_t body_limit = 64 * 1024;

http::response<http::string_body> make_response(const reply& r, unsigned version, bool keep) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "ussdpayd");
  res.set(http::field::content_type, r.content_type);
  if (!r.www_authenticate.empty()) res.set(http::field::www_authenticate, r.www_authenticate);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

using tls_stream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

// One connection, plain (tcp_stream) or TLS (ssl_stream<tcp_stream>): the same limits, timeouts
// and keep-alive either way. Only the handshake before and the close_notify after differ.
std::string since(std::uint64_t more) {
  return more == 0 ? std::string() : fmt::format(" ({} more since the last such line)", more);
}

template <class Stream>
asio::awaitable<void> serve(std::shared_ptr<http_server::state> s, Stream stream,
                            std::string peer) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  boost::system::error_code ec;
  if constexpr (is_tls<Stream>) {
    tcp_layer.expires_after(s->cfg.request_timeout);
    co_await stream.async_handshake(ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // Plain HTTP on the TLS port, an untrusting client, a scanner: nothing to answer.
      spdlog::debug("admin: TLS handshake failed: {}", ec.message());
      co_return;
    }
  }
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    parser.body_limit(body_limit);
    tcp_layer.expires_after(s->cfg.request_timeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    // A TLS peer that closes without close_notify is gone as surely as one that sends it.
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == ssl::error::stream_truncated)
      break;
    if (ec) {
      // Malformed or too large: say so once and close.
      ++s->stats.bad_requests;
      const bool large = ec == http::error::header_limit || ec == http::error::body_limit;
      if (std::uint64_t more = 0; s->log_bad.due(more))
        spdlog::warn("admin: a request from {} refused with {}: {}{}", peer, large ? 413 : 400,
                     ec.message(), since(more));
      reply r{large ? 413u : 400u, "text/plain", large ? "request too large\n" : "bad request\n"};
      auto res = make_response(r, 11, false);
      tcp_layer.expires_after(s->cfg.request_timeout);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    ++s->stats.requests;
    auto req = parser.release();
    const reply r = co_await s->routes(req);
    if (r.status == 401) {
      ++s->stats.unauthorized;
      // The target as data, cut short; never the Authorization header.
      const std::string_view target(req.target().data(), req.target().size());
      if (std::uint64_t more = 0; s->log_auth.due(more))
        spdlog::warn("admin: 401 for {} {} from {}: no valid bearer token{}",
                     std::string_view(req.method_string().data(), req.method_string().size()),
                     loggable(target, 100), peer, since(more));
    }
    auto res = make_response(r, req.version(), req.keep_alive() && s->alive);
    tcp_layer.expires_after(s->cfg.request_timeout);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  if constexpr (is_tls<Stream>) {
    // close_notify, and the peer's if it answers in time; a timed-out stream is already closed,
    // so this returns at once then. Errors change nothing: the connection is over.
    tcp_layer.expires_after(s->cfg.request_timeout);
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
  boost::system::error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<http_server::state> s) {
  while (s->alive) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await s->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!s->alive || ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: try the next one
    }
    const auto peer = socket.remote_endpoint(ec);
    if (ec) {  // gone already
      socket.close(ec);
      continue;
    }
    if (!allowed(s->allow, peer.address())) {
      ++s->stats.not_allowed;
      if (std::uint64_t more = 0; s->log_address.due(more))
        spdlog::warn("admin: refused a connection from {} (not in [admin] allow){}",
                     peer.address().to_string(), since(more));
      socket.close(ec);
      continue;
    }
    if (s->open >= s->cfg.max_connections) {
      ++s->stats.refused;
      if (std::uint64_t more = 0; s->log_full.due(more))
        spdlog::warn("admin: {} connections open ([admin] max_connections): one from {} closed{}",
                     s->open, peer.address().to_string(), since(more));
      socket.close(ec);
      continue;
    }
    ++s->open;
    ++s->stats.connections;
    auto done = [s](std::exception_ptr e) {
      --s->open;
      if (e) spdlog::error("admin: a connection ended with an exception");
    };
    if (s->tls)
      asio::co_spawn(s->ex,
                     serve(s, tls_stream(beast::tcp_stream(std::move(socket)), *s->tls),
                           peer.address().to_string()),
                     std::move(done));
    else
      asio::co_spawn(s->ex,
                     serve(s, beast::tcp_stream(std::move(socket)), peer.address().to_string()),
                     std::move(done));
  }
}

}  // namespace

http_server::http_server(asio::any_io_executor ex, admin_config cfg, route_fn routes,
                         std::shared_ptr<ssl::context> tls)
    : s_(std::make_shared<state>(std::move(ex), std::move(cfg), std::move(routes), std::move(tls))),
      stats_(s_->stats) {}

http_server::~http_server() {
  stop();
}

std::optional<std::string> http_server::start() {
  const auto where = parse_listen(s_->cfg.listen);
  if (!where) return "admin.listen: want HOST:PORT, got '" + s_->cfg.listen + "'";
  boost::system::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address(where->first), where->second);
  s_->acceptor.open(ep.protocol(), ec);
  if (!ec) s_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s_->acceptor.bind(ep, ec);
  if (!ec) s_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "admin: cannot listen on " + s_->cfg.listen + ": " + ec.message();
  asio::co_spawn(s_->ex, accept_loop(s_), asio::detached);
  return std::nullopt;
}

void http_server::stop() {
  s_->alive = false;
  boost::system::error_code ec;
  s_->acceptor.close(ec);
}

std::uint16_t http_server::port() const {
  boost::system::error_code ec;
  const auto ep = s_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace ussdpay::admin
