#include "gateway/admin/client.hpp"

#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace ussdpay::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

namespace {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

/// Connects (and, over TLS, verifies the daemon's certificate and host), sends one request,
/// reads the answer. Errors are exceptions, but a failed handshake is reported through `why`
/// in words an operator can act on.
template <class Stream>
asio::awaitable<void> exchange(Stream& stream, const std::string& host, const std::string& port,
                               http::request<http::string_body>& req, std::optional<answer>& out,
                               std::string& why) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  asio::ip::tcp::resolver resolver(tcp_layer.get_executor());
  const auto found = co_await resolver.async_resolve(host, port, asio::use_awaitable);
  co_await tcp_layer.async_connect(found, asio::use_awaitable);
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::client,
                                                asio::as_tuple(asio::use_awaitable));
    if (ec) {
      why = "TLS handshake with ussdpayd's admin API at " + host + ":" + port +
            " failed: " + ec.message() +
            " (is [admin] tls_ca_file the CA that signed the admin certificate, and does the "
            "certificate name " +
            host + "?)";
      co_return;
    }
  }
  co_await http::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
  out = answer{parser.get().result_int(), parser.get().body()};
  if constexpr (std::is_same_v<Stream, tls_stream>) {
    // close_notify; the answer is in, so whatever the daemon does next changes nothing.
    beast::error_code not_clean;
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, not_clean));
  }
  beast::error_code ignored;
  tcp_layer.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

}  // namespace

std::optional<answer> call(const admin_config& cfg, std::string_view method,
                           std::string_view target, std::string_view body, std::string& why,
                           std::chrono::milliseconds timeout) {
  const auto where = parse_listen(cfg.listen);
  if (cfg.listen.empty() || !where) {
    why = "the admin API is off ([admin] listen is empty or malformed)";
    return std::nullopt;
  }
  // A wildcard listener is reached over loopback.
  std::string host = where->first;
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "::") host = "::1";
  const auto port = std::to_string(where->second);

  http::request<http::string_body> req{method == "POST" ? http::verb::post : http::verb::get,
                                       std::string(target), 11};
  req.set(http::field::host, host);
  req.set(http::field::authorization, "Bearer " + cfg.token);
  if (method == "POST") {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
    req.prepare_payload();
  }

  // Over TLS the daemon's certificate must chain to tls_ca_file (or a system CA) and name the
  // host: an IP SAN for an address such as 127.0.0.1.
  std::optional<ssl::context> tls;
  if (cfg.tls()) {
    tls.emplace(ssl::context::tls_client);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (cfg.tls_ca_file.empty())
      tls->set_default_verify_paths(ec);
    else
      tls->load_verify_file(cfg.tls_ca_file, ec);
    if (ec) {
      why = "admin.tls_ca_file: cannot load " + cfg.tls_ca_file + ": " + ec.message();
      return std::nullopt;
    }
    tls->set_verify_mode(ssl::verify_peer);
    tls->set_verify_callback(ssl::host_name_verification(host));
  }

  asio::io_context io;
  std::optional<answer> out;
  std::optional<beast::tcp_stream> plain;
  std::optional<tls_stream> secure;
  auto on_done = [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      why = "cannot reach ussdpayd's admin API at " + host + ":" + port + ": " + x.what();
    }
  };
  if (tls) {
    secure.emplace(io, *tls);
    beast::get_lowest_layer(*secure).expires_after(timeout);
    asio::co_spawn(io, exchange(*secure, host, port, req, out, why), on_done);
  } else {
    plain.emplace(io);
    plain->expires_after(timeout);
    asio::co_spawn(io, exchange(*plain, host, port, req, out, why), on_done);
  }
  io.run();
  return out;
}

}  // namespace ussdpay::admin
