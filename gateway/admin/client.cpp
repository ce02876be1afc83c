#include "gateway/admin/client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace ussdpay::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

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

  asio::io_context io;
  std::optional<answer> out;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::ip::tcp::resolver resolver(io);
        beast::tcp_stream stream(io);
        stream.expires_after(timeout);
        const auto found = co_await resolver.async_resolve(host, port, asio::use_awaitable);
        co_await stream.async_connect(found, asio::use_awaitable);
        http::request<http::string_body> req{method == "POST" ? http::verb::post : http::verb::get,
                                             std::string(target), 11};
        req.set(http::field::host, host);
        req.set(http::field::authorization, "Bearer " + cfg.token);
        if (method == "POST") {
          req.set(http::field::content_type, "application/json");
          req.body() = std::string(body);
          req.prepare_payload();
        }
        co_await http::async_write(stream, req, asio::use_awaitable);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(1 << 20);
        co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
        out = answer{parser.get().result_int(), parser.get().body()};
        beast::error_code ignored;
        stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
      },
      [&](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          why = "cannot reach ussdpayd's admin API at " + host + ":" + port + ": " + x.what();
        }
      });
  io.run();
  return out;
}

}  // namespace ussdpay::admin
