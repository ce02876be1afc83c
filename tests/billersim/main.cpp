// ussdpay-billersim: a biller speaking the JSON contract of docs/biller-api.md over HTTPS, for
// the HTTP biller adapter's integration tests and demos. The biller logic is sim_biller.hpp;
// this file is the server: TLS from a certificate and key file, HTTP/1.1 keep-alive, one
// coroutine per connection on one thread, everything bounded.
//
//   ussdpay-billersim --tls-cert server.pem --tls-key server.key --bills etc/demo/bills.csv
//                     [--port 0] [--synthesize] [--journal FILE] [fault knobs]
//
// Prints "listening <port>" on stdout once the socket is bound (flushed; --port 0 picks a free
// port), and a "billersim-stats {...}" line when SIGINT or SIGTERM stops it.
//
// Per connection:
//   accept --> [connections < max] --> TLS handshake (10 s) --> read request (idle timeout,
//   8 KiB headers, 64 KiB body) --> sim_biller::handle --> [latency] --> write (10 s) --> loop
//   The timeout fault answers nothing: the connection is held until the client closes it or
//   --hold-ms passes.
#include <csignal>
#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "tests/billersim/sim_biller.hpp"

namespace {

using namespace ussdpay;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct server_limits {
  std::size_t max_connections = 256;
  std::size_t header_limit = 8 * 1024;
  std::size_t body_limit = 64 * 1024;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};  ///< between requests on one connection
  std::chrono::milliseconds write_timeout{10'000};
  std::chrono::milliseconds hold{60'000};  ///< how long an unanswered request holds its connection
};

struct server {
  billersim::sim_biller& biller;
  ssl::context& tls;
  server_limits limits;
  std::size_t live = 0;
};

awaitable<void> session(server& srv, tcp::socket socket) {
  auto& stats = srv.biller.stats();
  ++stats.connections;
  if (srv.live >= srv.limits.max_connections) co_return;  // the socket closes as it goes out
  ++srv.live;
  struct live_guard {
    std::size_t& n;
    ~live_guard() { --n; }
  } guard{srv.live};

  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), srv.tls);
  auto& layer = beast::get_lowest_layer(stream);
  layer.expires_after(srv.limits.handshake_timeout);
  if (auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, nothrow); ec) co_return;

  beast::flat_buffer buffer;
  bool counted_api = false;
  for (;;) {
    layer.expires_after(srv.limits.idle_timeout);
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(srv.limits.header_limit));
    parser.body_limit(srv.limits.body_limit);
    auto [rec, n] = co_await bhttp::async_read(stream, buffer, parser, nothrow);
    if (rec) break;  // closed, timed out, or over a limit: drop the connection
    const auto& req = parser.get();
    billersim::sim_request in{std::string(req.method_string()),
                              std::string(req.target()),
                              std::string(req[bhttp::field::authorization]),
                              std::string(req["Idempotency-Key"]),
                              std::string(req[bhttp::field::content_type]),
                              req.body()};
    auto out = srv.biller.handle(in);
    if (out.api && !counted_api) {
      counted_api = true;
      ++stats.api_connections;
    }
    if (out.drop) {
      // The timeout fault: say nothing; wait for the client to give up (or --hold-ms).
      layer.expires_after(srv.limits.hold);
      char byte;
      co_await stream.async_read_some(asio::buffer(&byte, 1), nothrow);
      break;
    }
    if (out.api && srv.biller.faults().latency.count() > 0) {
      asio::steady_timer delay(co_await asio::this_coro::executor, srv.biller.faults().latency);
      co_await delay.async_wait(nothrow);
    }
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), 11};
    res.set(bhttp::field::server, "ussdpay-billersim");
    res.set(bhttp::field::content_type, out.content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(out.body);
    res.prepare_payload();
    layer.expires_after(srv.limits.write_timeout);
    if (auto [wec, w] = co_await bhttp::async_write(stream, res, nothrow); wec) break;
    if (!res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

awaitable<void> accept_loop(server& srv, tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. EMFILE: try the next one
    asio::co_spawn(acceptor.get_executor(), session(srv, std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"ussdpay-billersim: an HTTPS biller for the HTTP biller adapter"};
  std::string host = "127.0.0.1", cert, key, bills;
  std::uint16_t port = 0;
  billersim::sim_config cfg;
  server_limits limits;
  double latency_ms = 0;
  std::int64_t idle_ms = limits.idle_timeout.count(), hold_ms = limits.hold.count();
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--port", port, "port to listen on (0 = any free port)")->capture_default_str();
  app.add_option("--tls-cert", cert, "PEM certificate chain")->required();
  app.add_option("--tls-key", key, "PEM private key for --tls-cert")->required();
  app.add_option("--bills", bills, "bill book CSV (etc/demo/bills.csv format)");
  app.add_flag("--synthesize", cfg.synthesize,
               "invent an unpaid bill for an unknown consumer number of 6-24 digits");
  app.add_option("--journal", cfg.journal,
                 "append-only file of postings, fsync'd before answering, replayed at start");
  app.add_option("--api-key", cfg.api_key, "require Authorization: Bearer <key>");
  app.add_option("--latency-ms", latency_ms, "delay before every answer")
      ->check(CLI::Range(0.0, 600000.0));
  app.add_option("--fail-5xx-rate", cfg.faults.fail_5xx_rate, "fraction answered 503")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--garbage-rate", cfg.faults.garbage_rate,
                 "fraction answered 200 with a garbled body")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--timeout-rate", cfg.faults.timeout_rate, "fraction never answered")
      ->check(CLI::Range(0.0, 1.0));
  app.add_flag("--accept-after-timeout", cfg.faults.accept_after_timeout,
               "faulted requests (timeout, 5xx, garbage) are always processed (default: half)");
  app.add_option("--seed", cfg.seed, "seed of the fault draws and references")
      ->capture_default_str();
  app.add_option("--max-connections", limits.max_connections, "connections at once")
      ->capture_default_str();
  app.add_option("--idle-timeout-ms", idle_ms, "close a connection idle this long")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}))
      ->capture_default_str();
  app.add_option("--hold-ms", hold_ms, "how long an unanswered request holds its connection")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  cfg.faults.latency = std::chrono::milliseconds(static_cast<std::int64_t>(latency_ms));
  limits.idle_timeout = std::chrono::milliseconds(idle_ms);
  limits.hold = std::chrono::milliseconds(hold_ms);

  std::shared_ptr<const adapters::bill_book> book;
  if (!bills.empty()) {
    auto loaded = adapters::load_bill_book(bills);
    for (const auto& e : loaded.errors) fmt::print(stderr, "{}\n", e);
    if (!loaded.errors.empty()) return 2;
    book = std::move(loaded.book);
  }
  billersim::sim_biller biller(cfg, book);
  std::vector<std::string> warnings;
  const auto errors = biller.open_journal(warnings);
  for (const auto& w : warnings) fmt::print(stderr, "warning: {}\n", w);
  for (const auto& e : errors) fmt::print(stderr, "{}\n", e);
  if (!errors.empty()) return 2;

  try {
    asio::io_context io;
    ssl::context tls(ssl::context::tls_server);
    tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    tls.use_certificate_chain_file(cert);
    tls.use_private_key_file(key, ssl::context::pem);

    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(host), port));
    server srv{biller, tls, limits};
    asio::co_spawn(io, accept_loop(srv, acceptor), asio::detached);
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });

    fmt::print("listening {}\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    io.run();
    const auto& s = biller.stats();
    fmt::print("billersim-stats postings={} duplicates={} reversals={} amount_total={}\n",
               s.postings, s.duplicates, s.reversals, s.amount_total);
    std::fflush(stdout);
  } catch (const std::exception& e) {
    fmt::print(stderr, "ussdpay-billersim: {}\n", e.what());
    return 1;
  }
  return 0;
}
