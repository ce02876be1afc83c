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

#include "adapters/demo_biller.hpp"
#include "gateway/actions.hpp"
#include "gateway/config.hpp"
#include "gateway/smpp/client.hpp"
#include "gateway/ussd_service.hpp"
#include "menus/catalog.hpp"

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

ussdpay::menus::load_result load_menus(const ussdpay::config& cfg) {
  return ussdpay::menus::load_catalog(
      cfg.ussd.menus, {cfg.ussd_profile.max_gsm_chars, cfg.ussd_profile.max_ucs2_chars});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ussdpayd: USSD bill payments over SMPP 3.4"};
  std::string config_path = "etc/ussdpay.toml";
  bool check_only = false;
  app.add_option("--config", config_path, "configuration file (TOML)");
  app.add_flag("--check-config", check_only,
               "check the configuration and the menus, report every error, exit");
  CLI11_PARSE(app, argc, argv);

  auto loaded = ussdpay::load_config(config_path, environ);
  if (!loaded.errors.empty()) {
    std::cerr << "ussdpayd: configuration errors:\n" << ussdpay::format_errors(loaded.errors);
    return 2;
  }
  const ussdpay::config& cfg = loaded.cfg;
  auto menus = load_menus(cfg);
  if (!menus.errors.empty()) {
    std::cerr << "ussdpayd: menu errors:\n" << ussdpay::menus::format_errors(menus.errors);
    return 2;
  }
  std::shared_ptr<ussdpay::adapters::bill_book> book;
  if (!cfg.demo_bills_file.empty()) {
    auto bills = ussdpay::adapters::load_bill_book(cfg.demo_bills_file);
    if (!bills.errors.empty()) {
      std::cerr << "ussdpayd: bill book errors:\n";
      for (const auto& e : bills.errors) std::cerr << e << "\n";
      return 2;
    }
    book = bills.book;
  }
  if (check_only) {
    std::cout << config_path << ": configuration OK; menus in " << cfg.ussd.menus << " OK\n";
    return 0;
  }
  setup_logging(cfg.log);

  boost::asio::io_context io(1);
  std::vector<ussdpay::biller_entry> billers;
  for (const auto& b : cfg.billers)
    billers.push_back({b, std::make_unique<ussdpay::adapters::demo_biller>(io.get_executor(),
                                                                           b.info, b.demo, book)});
  ussdpay::menu_actions actions(io.get_executor(), billers);

  ussdpay::smpp::smsc_client* client_ptr = nullptr;
  auto submit = [&](ussdpay::smpp::pdu p) {
    client_ptr->submit(std::move(p), [](ussdpay::smpp::submit_result r) {
      if (r.result != ussdpay::smpp::outcome::accepted)
        spdlog::warn("ussd: screen not delivered: {} {}", ussdpay::smpp::to_string(r.result),
                     r.detail);
    });
  };
  ussdpay::ussd_service ussd(io.get_executor(), cfg, menus.cat, actions, submit);
  auto on_inbound = [&](const ussdpay::smpp::pdu& p) -> std::uint32_t {
    if (const auto* sm = std::get_if<ussdpay::smpp::sm_body>(&p.body)) return ussd.on_deliver(*sm);
    return ussdpay::smpp::status::ok;
  };
  ussdpay::smpp::smsc_client client(io.get_executor(), cfg.smpp, on_inbound);
  client_ptr = &client;

  spdlog::info(
      "ussdpayd starting: SMSC {}:{}{}, {} {} bind(s), window {}, service code {}, USSD profile "
      "{}, {} biller(s), menus from {}",
      cfg.smpp.endpoint.host, cfg.smpp.endpoint.port, cfg.smpp.endpoint.tls ? " (TLS)" : "",
      cfg.smpp.binds, cfg.smpp.pair ? "transmitter+receiver" : "transceiver", cfg.smpp.link.window,
      cfg.ussd.service_code, cfg.ussd_profile.name, billers.size(), cfg.ussd.menus);
  client.start();

  boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer stop_guard(io);
  stop_signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("ussdpayd: signal {}, unbinding ({} live dialog(s))", sig, ussd.dialogs().live());
    ussd.stop();
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

  // SIGHUP: new menus and [ussd] settings for new dialogs; live dialogs finish on the menus they
  // started with. A configuration or menu with errors is refused whole and the old one kept.
  boost::asio::signal_set hup(io, SIGHUP);
  std::function<void(boost::system::error_code, int)> on_hup = [&](boost::system::error_code ec,
                                                                   int) {
    if (ec) return;
    auto again = ussdpay::load_config(config_path, environ);
    if (!again.errors.empty()) {
      spdlog::error("ussdpayd: SIGHUP, configuration has errors, keeping the old one:\n{}",
                    ussdpay::format_errors(again.errors));
    } else if (auto m = load_menus(again.cfg); !m.errors.empty()) {
      spdlog::error("ussdpayd: SIGHUP, menus have errors, keeping the old ones:\n{}",
                    ussdpay::menus::format_errors(m.errors));
    } else {
      ussd.reload(again.cfg.ussd, m.cat);
      spdlog::info(
          "ussdpayd: SIGHUP, reloaded [ussd] and the menus from {} ({} live dialog(s) "
          "continue on the old menus)",
          again.cfg.ussd.menus, ussd.dialogs().live());
    }
    hup.async_wait(on_hup);
  };
  hup.async_wait(on_hup);

  io.run();
  return 0;
}
