// ussdpayd: the ussdpay daemon. Composition root: the only place concrete types meet.
#include <csignal>
#include <cstdio>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/config.hpp"
#include "gateway/fixed_screen.hpp"
#include "gateway/smpp/client.hpp"

extern char** environ;

namespace {

void setup_logging(const ussdpay::log_config& c) {
  auto logger = spdlog::stderr_color_mt("ussdpayd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(c.level));
  if (c.json)
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","pid":%P,"msg":"%v"})");
  else
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ussdpayd: USSD bill payments over SMPP 3.4"};
  std::string config_path = "etc/ussdpay.toml";
  bool check_only = false;
  app.add_option("--config", config_path, "configuration file (TOML)");
  app.add_flag("--check-config", check_only, "check the configuration, report every error, exit");
  CLI11_PARSE(app, argc, argv);

  auto loaded = ussdpay::load_config(config_path, environ);
  if (!loaded.errors.empty()) {
    std::cerr << "ussdpayd: configuration errors:\n" << ussdpay::format_errors(loaded.errors);
    return 2;
  }
  if (check_only) {
    std::cout << config_path << ": configuration OK\n";
    return 0;
  }
  const ussdpay::config& cfg = loaded.cfg;
  setup_logging(cfg.log);

  boost::asio::io_context io(1);
  ussdpay::fixed_screen_responder responder(cfg.ussd);
  ussdpay::smpp::smsc_client* client_ptr = nullptr;

  auto on_inbound = [&](const ussdpay::smpp::pdu& p) -> std::uint32_t {
    if (auto answer = responder.answer(p)) {
      const auto& sm = std::get<ussdpay::smpp::sm_body>(answer->body);
      spdlog::info("ussd {}: '{}' answered: '{}'", sm.destination.addr,
                   std::get<ussdpay::smpp::sm_body>(p.body).short_message, sm.short_message);
      client_ptr->submit(std::move(*answer),
                         [to = sm.destination.addr](ussdpay::smpp::submit_result r) {
                           if (r.result != ussdpay::smpp::outcome::accepted)
                             spdlog::warn("ussd {}: screen not delivered: {} {}", to,
                                          ussdpay::smpp::to_string(r.result), r.detail);
                         });
    }
    return ussdpay::smpp::status::ok;
  };
  ussdpay::smpp::smsc_client client(io.get_executor(), cfg.smpp, on_inbound);
  client_ptr = &client;

  spdlog::info("ussdpayd starting: SMSC {}:{}{}, {} {} bind(s), window {}, service code {}",
               cfg.smpp.endpoint.host, cfg.smpp.endpoint.port,
               cfg.smpp.endpoint.tls ? " (TLS)" : "", cfg.smpp.binds,
               cfg.smpp.pair ? "transmitter+receiver" : "transceiver", cfg.smpp.link.window,
               cfg.ussd.service_code);
  client.start();

  boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer stop_guard(io);
  stop_signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("ussdpayd: signal {}, unbinding", sig);
    client.stop([&] {
      spdlog::info("ussdpayd: stopped");
      io.stop();
    });
    // Never hang on a peer that does not answer the unbind.
    stop_guard.expires_after(cfg.smpp.link.drain_timeout + cfg.smpp.link.unbind_timeout +
                             std::chrono::seconds(1));
    stop_guard.async_wait([&](boost::system::error_code e) {
      if (!e) io.stop();
    });
  });

  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void(boost::system::error_code, int)> on_hup = [&](boost::system::error_code ec,
                                                                   int) {
    if (ec) return;
    auto again = ussdpay::load_config(config_path, environ);
    if (again.errors.empty()) {
      responder.reconfigure(again.cfg.ussd);
      spdlog::info("ussdpayd: SIGHUP, reloaded [ussd] from {}", config_path);
    } else {
      spdlog::error("ussdpayd: SIGHUP, configuration has errors, keeping the old one:\n{}",
                    ussdpay::format_errors(again.errors));
    }
    hup.async_wait(on_hup);
  };
  hup.async_wait(on_hup);

  io.run();
  return 0;
}
