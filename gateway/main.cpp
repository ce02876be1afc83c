// ussdpayd: the ussdpay daemon. Composition root: the only place concrete types meet.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <filesystem>
#include <map>

#include "adapters/demo_biller.hpp"
#include "adapters/embedded_wallet.hpp"
#include "adapters/http_biller.hpp"
#include "adapters/pin.hpp"
#include "gateway/actions.hpp"
#include "gateway/admin/api.hpp"
#include "gateway/config.hpp"
#include "gateway/metered_biller.hpp"
#include "gateway/payments/service.hpp"
#include "gateway/schedule/scheduler.hpp"
#include "gateway/smpp/client.hpp"
#include "gateway/smpp/receipt.hpp"
#include "gateway/sms/outbox.hpp"
#include "gateway/sms/receipts.hpp"
#include "gateway/ussd_service.hpp"
#include "menus/catalog.hpp"
#include "store/payments.hpp"
#include "store/readers.hpp"
#include "store/schema.hpp"
#include "store/writer.hpp"

extern char** environ;

namespace {

/// At SIGTERM, how long the outbox may take to write what the SMSC acknowledged.
constexpr std::chrono::seconds outbox_drain_bound{2};

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

/// The writer connection, migrated, or the reason it cannot be had.
std::optional<ussdpay::store::db> open_store(const std::string& path, std::string& why) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  ussdpay::store::db_error err;
  auto d = ussdpay::store::db::open(path, ussdpay::store::open_mode::writer, err);
  if (!d) {
    why = "cannot open " + path + ": " + err.message;
    return std::nullopt;
  }
  if (auto e = ussdpay::store::migrate(*d)) {
    why = path + ": " + e->message;
    return std::nullopt;
  }
  return d;
}

/// The demo biller's book as written through its journal (read at start-up).
std::vector<ussdpay::adapters::demo_posting> load_book(ussdpay::store::db& conn,
                                                       const std::string& id) {
  std::vector<ussdpay::adapters::demo_posting> book;
  for (const auto& r : ussdpay::store::demo_book(conn, id)) {
    ussdpay::adapters::pay_result res{r.accepted ? ussdpay::adapters::pay_status::accepted
                                                 : ussdpay::adapters::pay_status::rejected,
                                      r.biller_reference,
                                      r.code,
                                      {}};
    book.push_back({r.payment_id, r.account, r.amount, res, r.reversed, r.paid_on});
  }
  return book;
}

/// The demo biller's decisions go to the store through the writer before it answers.
ussdpay::adapters::demo_journal journal_to(ussdpay::store::group_writer& writer, std::string id) {
  return [id = std::move(id), &writer](ussdpay::adapters::demo_posting p,
                                       std::function<void(bool)> durable) {
    ussdpay::store::demo_book_row row{id,
                                      p.payment_id,
                                      p.account,
                                      p.amount,
                                      p.result.status == ussdpay::adapters::pay_status::accepted,
                                      p.reversed,
                                      p.result.biller_reference,
                                      p.result.code,
                                      p.paid_on};
    if (!writer.submit(
            [row](ussdpay::store::db& d) { return !ussdpay::store::put_demo_book(d, row); },
            [durable](bool ok, std::optional<ussdpay::store::db_error>) { durable(ok); }))
      durable(false);
  };
}

}  // namespace

int main(int argc, char** argv) {
  // SQLite allocates and frees its statement and page caches around every transaction. With
  // glibc's defaults the freed memory went back to the kernel each time (madvise) and was
  // faulted in again on the next: a third of the writer thread's time under load (perf,
  // docs/benchmarks.md). Keep up to 64 MiB of freed heap for reuse instead.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
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
  // The admin API's certificate and key are loaded now, so that --check-config proves them.
  std::string admin_tls_error;
  auto admin_tls = ussdpay::admin::make_server_tls_context(cfg.admin, admin_tls_error);
  if (!admin_tls_error.empty()) {
    std::cerr << "ussdpayd: configuration errors:\n" << admin_tls_error << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << config_path << ": configuration OK; menus in " << cfg.ussd.menus << " OK\n";
    return 0;
  }
  setup_logging(cfg.log);

  if (cfg.pin.pepper.empty()) {
    std::cerr << "ussdpayd: no PIN pepper: set [pin] pepper_file or USSDPAY_PIN_PEPPER\n";
    return 2;
  }

  // The store: one writer (group commit), readers beside it.
  std::string why;
  auto conn = open_store(cfg.store.path, why);
  if (!conn) {
    std::cerr << "ussdpayd: " << why << "\n";
    return 1;
  }
  // Read at start-up, on the writer connection, before the writer thread owns it.
  std::vector<ussdpay::menu_actions::remembered> subscribers;
  {
    ussdpay::store::stmt q(*conn,
                           "SELECT msisdn, language FROM subscribers WHERE pin_hash IS NOT NULL "
                           "LIMIT ?");
    q.bind(1, static_cast<std::int64_t>(ussdpay::menu_actions::max_subscribers_remembered));
    while (q.step())
      if (auto e = ussdpay::menu_actions::entry(q.text(0), q.text(1))) subscribers.push_back(*e);
  }

  std::vector<std::vector<ussdpay::adapters::demo_posting>> books;
  for (const auto& b : cfg.billers) books.push_back(load_book(*conn, b.info.id));

  boost::asio::io_context io(1);
  ussdpay::store::group_writer writer(std::move(*conn));
  std::vector<ussdpay::biller_entry> billers;
  std::vector<std::unique_ptr<boost::asio::ssl::context>> tls_contexts;
  // Every adapter is metered: its answers and latency, per call, on /metrics.
  std::map<std::string, std::shared_ptr<ussdpay::biller_metrics>, std::less<>> biller_stats;
  auto metered = [&biller_stats](const ussdpay::biller_config& b,
                                 std::unique_ptr<ussdpay::adapters::biller> a) {
    auto& m = biller_stats[b.info.id];
    if (!m) m = std::make_shared<ussdpay::biller_metrics>();
    return ussdpay::biller_entry{b, std::make_unique<ussdpay::metered_biller>(std::move(a), m)};
  };
  for (std::size_t i = 0; i < cfg.billers.size(); ++i) {
    const auto& b = cfg.billers[i];
    if (b.kind == "http") {
      try {
        tls_contexts.push_back(ussdpay::adapters::http_biller_tls_context(b.http));
        billers.push_back(metered(b, std::make_unique<ussdpay::adapters::http_biller>(
                                         io.get_executor(), *tls_contexts.back(), b.info, b.http)));
      } catch (const std::exception& e) {
        std::cerr << "ussdpayd: biller " << b.info.id << ": " << e.what() << "\n";
        return 2;
      }
      continue;
    }
    auto demo =
        std::make_unique<ussdpay::adapters::demo_biller>(io.get_executor(), b.info, b.demo, book);
    demo->restore(books[i]);
    demo->set_journal(journal_to(writer, b.info.id));
    billers.push_back(metered(b, std::move(demo)));
  }
  std::optional<ussdpay::store::db_error> readers_error;
  ussdpay::store::reader_pool readers(cfg.store.path, cfg.store.readers, 100'000, readers_error);
  if (readers_error) {
    std::cerr << "ussdpayd: cannot open readers on " << cfg.store.path << ": "
              << readers_error->message << "\n";
    return 1;
  }
  ussdpay::smpp::smsc_client* client_ptr = nullptr;

  // Money: the embedded wallet, the payment saga, and the outbox that carries its receipts.
  ussdpay::adapters::embedded_wallet wallet(
      io.get_executor(), writer, readers,
      {cfg.pin.pepper, cfg.pin.iterations, cfg.pin.max_wrong, cfg.pin.lockout, cfg.ussd.currency});
  auto biller_of = [&billers](std::string_view id) -> ussdpay::adapters::biller* {
    for (auto& b : billers)
      if (b.cfg.info.id == id) return b.adapter.get();
    return nullptr;
  };
  // Biller names for receipts; a SIGHUP may rename them.
  auto biller_names = std::make_shared<std::map<std::string, std::string, std::less<>>>();
  for (const auto& b : cfg.billers) (*biller_names)[b.info.id] = b.info.name;
  // Receipts are worded by the [sms] texts of the menus, swapped with them by SIGHUP.
  auto sms_texts = std::make_shared<ussdpay::sms::sms_templates>(menus.cat);
  ussdpay::sms::receipt_context receipt_ctx{[biller_names](std::string_view id) {
                                              auto it = biller_names->find(id);
                                              return it == biller_names->end() ? std::string(id)
                                                                               : it->second;
                                            },
                                            cfg.ussd.support_phone, sms_texts};
  ussdpay::payments::service payments(
      io.get_executor(), cfg.payments, writer, readers, wallet, biller_of,
      [receipt_ctx](std::string_view kind, const ussdpay::store::payment_record& p,
                    std::int64_t balance) {
        return ussdpay::sms::render_receipt(receipt_ctx, kind, p, balance);
      });
  ussdpay::sms::outbox_sender outbox(
      io.get_executor(), cfg.sms, cfg.ussd_profile.alphabet, writer, readers,
      [&client_ptr](ussdpay::smpp::pdu p, std::function<void(ussdpay::smpp::submit_result)> done) {
        client_ptr->submit(
            std::move(p), [done](ussdpay::smpp::submit_result r) { done(r); },
            ussdpay::smpp::lane::bulk);
      });
  payments.on_message_queued([&outbox] { outbox.poke(); });
  // One-time codes go straight to the link: never stored, so never in the outbox.
  auto send_now = [&client_ptr, &cfg](std::string msisdn, std::string text,
                                      std::function<void(bool)> accepted) {
    auto parts =
        ussdpay::sms::sms_segments({cfg.sms.source, msisdn, text, cfg.ussd_profile.alphabet,
                                    ussdpay::sms::parse_long_messages(cfg.sms.long_messages)
                                        .value_or(ussdpay::sms::long_messages::payload),
                                    0, false});
    ussdpay::adapters::wipe(text);
    if (parts.empty()) return accepted(false);
    ussdpay::sms::submit_segments(
        std::move(parts),
        [&client_ptr](ussdpay::smpp::pdu p, std::function<void(ussdpay::smpp::submit_result)> d) {
          client_ptr->submit(std::move(p), std::move(d), ussdpay::smpp::lane::bulk);
        },
        [accepted](const ussdpay::smpp::submit_result& r) {
          accepted(r.result == ussdpay::smpp::outcome::accepted);
        });
  };
  auto render_notice = [receipt_ctx](std::string_view kind, const ussdpay::sms::bill_notice& n) {
    return ussdpay::sms::render_notice(receipt_ctx, kind, n);
  };
  // Reminders and auto-pay for saved accounts.
  ussdpay::schedule::scheduler schedule(
      io.get_executor(), cfg.schedule,
      {writer, readers, payments, biller_of,
       [&cfg](std::string_view id) {
         for (const auto& b : cfg.billers)
           if (b.info.id == id) return b.info.currency;
         return cfg.ussd.currency;
       },
       [&cfg](std::string_view id, ussdpay::adapters::minor_units amount) {
         for (const auto& b : cfg.billers)
           if (b.info.id == id) return ussdpay::fee_for(b, amount);
         return ussdpay::adapters::minor_units{0};
       },
       render_notice, [&outbox] { outbox.poke(); }});
  ussdpay::menu_actions actions(io.get_executor(), billers, cfg,
                                {writer, readers, wallet, payments, [&outbox] { outbox.poke(); },
                                 send_now, render_notice, [&schedule] { schedule.poke(); }});
  actions.remember_subscribers(subscribers);
  subscribers = {};

  auto submit = [&](ussdpay::smpp::pdu p) {
    client_ptr->submit(std::move(p), [](ussdpay::smpp::submit_result r) {
      if (r.result != ussdpay::smpp::outcome::accepted)
        spdlog::warn("ussd: screen not delivered: {} {}", ussdpay::smpp::to_string(r.result),
                     r.detail);
    });
  };
  ussdpay::ussd_service ussd(io.get_executor(), cfg, menus.cat, actions, submit);
  auto on_inbound = [&](const ussdpay::smpp::pdu& p,
                        ussdpay::smpp::link_session& link) -> std::uint32_t {
    const auto* sm = std::get_if<ussdpay::smpp::sm_body>(&p.body);
    if (sm == nullptr) return ussdpay::smpp::status::ok;
    if (ussdpay::smpp::is_receipt(*sm)) {
      // Answered once its state is durable: a crash before that, and the SMSC sends it again.
      auto answer = link.defer(p);
      if (!answer) return ussdpay::smpp::status::temp_app_error;  // too many wait: later
      outbox.on_receipt(*sm, std::move(answer));
      return ussdpay::smpp::answer_later;
    }
    return ussd.on_deliver(*sm);
  };
  ussdpay::smpp::smsc_client client(io.get_executor(), cfg.smpp, on_inbound);
  client_ptr = &client;

  spdlog::info(
      "ussdpayd starting: SMSC {}:{}{}, {} {} bind(s), window {}, service code {}, USSD profile "
      "{}, {} biller(s), menus from {}",
      cfg.smpp.endpoint.host, cfg.smpp.endpoint.port, cfg.smpp.endpoint.tls ? " (TLS)" : "",
      cfg.smpp.binds, cfg.smpp.pair ? "transmitter+receiver" : "transceiver", cfg.smpp.link.window,
      cfg.ussd.service_code, cfg.ussd_profile.name, billers.size(), cfg.ussd.menus);
  // The admin API: probes, metrics, lookups (gateway/admin/api.hpp).
  std::unique_ptr<ussdpay::admin::http_server> admin;
  if (!cfg.admin.listen.empty()) {
    admin = std::make_unique<ussdpay::admin::http_server>(
        io.get_executor(), cfg.admin,
        ussdpay::admin::make_routes(
            io.get_executor(), cfg.admin,
            {client, ussd, payments, outbox, schedule, writer, readers, biller_stats}),
        admin_tls);
    if (auto e = admin->start()) {
      std::cerr << "ussdpayd: " << *e << "\n";
      return 1;
    }
    const auto where = ussdpay::admin::parse_listen(cfg.admin.listen);
    spdlog::info("admin: listening on {}:{} ({}{})", where->first, admin->port(),
                 cfg.admin.token.empty() ? "no token: only /health and /ready answer"
                                         : "bearer token required",
                 admin_tls ? ", TLS" : "");
  }

  client.start();
  payments.recover();
  outbox.start();
  schedule.start();

  boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer stop_guard(io);
  stop_signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("ussdpayd: signal {}, stopping ({} live dialog(s))", sig, ussd.dialogs().live());
    schedule.stop();  // no new auto-payments
    // Screens waiting for a payment or an inquiry are answered first (bounded by [ussd]
    // stop_timeout); the payments in flight and their receipts go on meanwhile.
    ussd.drain([&] {
      ussd.stop();
      payments.stop();
      outbox.pause();  // no new SMS; the answers to those in flight are still recorded
      if (admin) admin->stop();
      client.stop([&] {
        // Every submit is answered or given up: write what the SMSC acknowledged, then exit.
        outbox.drain(
            [&] {
              spdlog::info("ussdpayd: stopped");
              io.stop();
            },
            outbox_drain_bound);
      });
    });
    // Never hang on a peer that does not answer the unbind.
    stop_guard.expires_after(cfg.ussd.stop_timeout + cfg.smpp.link.drain_timeout +
                             cfg.smpp.link.unbind_timeout + outbox_drain_bound +
                             std::chrono::seconds(1));
    stop_guard.async_wait([&](boost::system::error_code e) {
      if (!e) io.stop();
    });
  });

  // SIGHUP and the billers: names, fees, amount and account rules, and the HTTP adapter's
  // settings (URL, key, TLS, timeouts, pool, retries, breaker) apply to calls from now on. A call
  // in flight finishes on the adapter it started on: replaced adapters are kept until exit. The
  // set of billers (ids, order, kinds) and the demo adapter's knobs change only at a restart.
  std::vector<std::unique_ptr<ussdpay::adapters::biller>> retired_billers;
  auto prepare_billers = [&](const ussdpay::config& next, std::string& error) {
    std::vector<std::unique_ptr<ussdpay::adapters::biller>> fresh(next.billers.size());
    if (next.billers.size() != billers.size()) {
      error = "billers were added or removed: restart ussdpayd for that";
      return fresh;
    }
    for (std::size_t i = 0; i < billers.size(); ++i) {
      const auto& b = next.billers[i];
      if (b.info.id != billers[i].cfg.info.id || b.kind != billers[i].cfg.kind) {
        error = "biller " + b.info.id + ": ids, their order and kinds change only at a restart";
        return fresh;
      }
      if (b.kind != "http") continue;
      try {
        tls_contexts.push_back(ussdpay::adapters::http_biller_tls_context(b.http));
        fresh[i] = std::make_unique<ussdpay::adapters::http_biller>(
            io.get_executor(), *tls_contexts.back(), b.info, b.http);
      } catch (const std::exception& e) {
        error = "biller " + b.info.id + ": " + e.what();
        return fresh;
      }
    }
    return fresh;
  };
  auto apply_billers = [&](const ussdpay::config& next,
                           std::vector<std::unique_ptr<ussdpay::adapters::biller>> fresh) {
    for (std::size_t i = 0; i < billers.size(); ++i) {
      if (fresh[i]) {
        retired_billers.push_back(std::move(billers[i].adapter));
        billers[i] = metered(next.billers[i], std::move(fresh[i]));
      } else {
        billers[i].cfg = next.billers[i];  // the demo adapter keeps its book and knobs
      }
      (*biller_names)[next.billers[i].info.id] = next.billers[i].info.name;
    }
    loaded.cfg.billers = next.billers;  // fees and currencies for the scheduler
  };

  // SIGHUP: new menus and [ussd] settings for new dialogs; live dialogs finish on the menus they
  // started with; biller settings as above. A configuration, menu or biller with errors is
  // refused whole and the old one kept.
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
      std::string biller_error;
      auto fresh = prepare_billers(again.cfg, biller_error);
      if (!biller_error.empty()) {
        spdlog::error("ussdpayd: SIGHUP, {}; keeping the old configuration", biller_error);
      } else {
        ussd.reload(again.cfg.ussd, m.cat);
        sms_texts->replace(m.cat);
        apply_billers(again.cfg, std::move(fresh));
        spdlog::info(
            "ussdpayd: SIGHUP, reloaded [ussd] and the menus from {}, and the settings of {} "
            "biller(s) ({} live dialog(s) continue on the old menus)",
            again.cfg.ussd.menus, billers.size(), ussd.dialogs().live());
      }
    }
    hup.async_wait(on_hup);
  };
  hup.async_wait(on_hup);

  io.run();
  const auto ws = writer.stats();
  const auto& ps = payments.stats();
  const auto& os = outbox.stats();
  const auto& ss = schedule.stats();
  spdlog::info(
      "ussdpayd: store {} jobs in {} commits (largest batch {}, {} failed), {} checkpoints; "
      "payments {} created, {} committed, {} failed, {} unknown, {} to review, {} still open; "
      "sms {} sent, {} failed in {} writes; "
      "receipts {} matched, {} for unknown ids, {} repeated, {} not final, {} unreadable; "
      "schedule {} checks ({} unanswered), {} reminders, {} auto-payments, {} refused, {} "
      "already done",
      ws.jobs, ws.commits, ws.max_batch, ws.failed, ws.checkpoints, ps.created, ps.committed,
      ps.failed, ps.unknown, ps.review, ps.in_flight, os.sent, os.failed, os.writes,
      os.receipts_matched, os.receipts_unknown, os.receipts_repeated, os.receipts_pending,
      os.receipts_unreadable, ss.checks, ss.unanswered, ss.reminders, ss.autopay_started,
      ss.autopay_refused, ss.already_done);
  return 0;
}
