#include "gateway/daemon.hpp"

#include <csignal>

#include <spdlog/spdlog.h>

#include "adapters/pin.hpp"
#include "gateway/admin/api.hpp"
#include "gateway/common/assert.hpp"
#include "gateway/smpp/delivery_receipt.hpp"
#include "gateway/sms/segments.hpp"
#include "store/subscribers.hpp"

extern char** environ;

namespace ussdpay {

namespace asio = boost::asio;

namespace {

/// At SIGTERM, how long the outbox may take to write what the SMSC acknowledged.
constexpr std::chrono::seconds outbox_drain_bound{2};

/// The lease whose holder runs reminders and auto-pay in a cluster.
constexpr std::string_view scheduler_lease = "scheduler";

/// Joins the cluster (when [cluster] node is set) on the writer connection, before the daemon
/// serves anything: a live process of the same name means a misconfigured second instance.
bool join_cluster(store::db& conn, const cluster::cluster_config& c, std::int64_t started_at) {
  if (!c.enabled()) return false;
  switch (store::join_cluster(conn, c.node, c.listen, started_at, clock::now_ms(),
                              c.member_ttl.count())) {
    case store::join_status::joined:
      return true;
    case store::join_status::name_taken:
      throw startup_error(1, "cluster: another instance is running as node " + c.node +
                                 " (its heartbeat is fresh); give each instance its own name");
    case store::join_status::failed:
      break;
  }
  throw startup_error(1, "cluster: cannot join as node " + c.node + ": " + conn.error().message);
}

menus::load_result load_menus(const config& cfg) {
  return menus::load_catalog(cfg.ussd.menus,
                             {cfg.ussd_profile.max_gsm_chars, cfg.ussd_profile.max_ucs2_chars});
}

/// Registered subscribers and their languages, read once at start.
actions::subscriber_directory read_subscribers(store::db& conn) {
  actions::subscriber_directory dir;
  store::for_each_registered(conn, actions::subscriber_directory::max_remembered,
                             [&dir](std::string_view msisdn, std::string_view language) {
                               dir.remember(msisdn, language);
                             });
  return dir;
}

}  // namespace

std::optional<checked_config> check_config(const std::string& path, std::string& errors) {
  auto loaded = load_config(path, environ);
  if (!loaded.errors.empty()) {
    errors = "configuration errors:\n" + format_errors(loaded.errors);
    return std::nullopt;
  }
  checked_config out{path, std::move(loaded.cfg), nullptr, nullptr, nullptr};
  auto m = load_menus(out.cfg);
  if (!m.errors.empty()) {
    errors = "menu errors:\n" + menus::format_errors(m.errors);
    return std::nullopt;
  }
  out.menus = std::move(m.cat);
  if (!out.cfg.demo_bills_file.empty()) {
    auto bills = adapters::load_bill_book(out.cfg.demo_bills_file);
    if (!bills.errors.empty()) {
      errors = "bill book errors:\n";
      for (const auto& e : bills.errors) errors += e + "\n";
      return std::nullopt;
    }
    out.bill_book = bills.book;
  }
  // The admin API's certificate and key are loaded now, so that --check-config proves them.
  std::string tls_error;
  out.admin_tls = admin::make_server_tls_context(out.cfg.admin, tls_error);
  if (!tls_error.empty()) {
    errors = "configuration errors:\n" + tls_error + "\n";
    return std::nullopt;
  }
  return out;
}

daemon::daemon(checked_config in, store::db conn)
    : config_path_(std::move(in.path)),
      cfg_(std::move(in.cfg)),
      subscribers_(read_subscribers(conn)),
      books_at_start_(billers::read_demo_books(conn, cfg_.billers)),
      started_at_(clock::now_ms()),
      joined_(join_cluster(conn, cfg_.cluster, started_at_)),
      writer_(std::move(conn)),
      readers_(cfg_.store.where(), cfg_.store.readers, 100'000, readers_error_),
      billers_(io_.get_executor(), cfg_.billers, std::move(in.bill_book),
               std::move(books_at_start_), writer_),
      wallet_(io_.get_executor(), writer_, readers_,
              {cfg_.pin.pepper, cfg_.pin.iterations, cfg_.pin.max_wrong, cfg_.pin.lockout,
               cfg_.ussd.currency}),
      // Receipts are worded by the [sms] texts of the menus, swapped with them by SIGHUP.
      sms_texts_(std::make_shared<sms::sms_templates>(in.menus)),
      receipt_ctx_{[this](std::string_view id) { return billers_.name(id); },
                   cfg_.ussd.support_phone, sms_texts_},
      payments_(
          io_.get_executor(), cfg_.payments, writer_, readers_, wallet_,
          [this](std::string_view id) { return billers_.adapter(id); },
          [this](std::string_view kind, const store::payment_record& p, std::int64_t balance) {
            return sms::render_receipt(receipt_ctx_, kind, p, balance);
          }),
      outbox_(io_.get_executor(), cfg_.sms, cfg_.ussd_profile.alphabet, writer_, readers_,
              [this](smpp::pdu p, std::function<void(smpp::submit_result)> done) {
                client_.submit(std::move(p), std::move(done), smpp::lane::bulk);
              }),
      // Reminders and auto-pay for saved accounts.
      schedule_(io_.get_executor(), cfg_.schedule,
                {writer_, readers_, payments_,
                 [this](std::string_view id) { return billers_.adapter(id); },
                 [this](std::string_view id) { return billers_.currency(id, cfg_.ussd.currency); },
                 [this](std::string_view id, adapters::minor_units amount) {
                   return billers_.fee(id, amount);
                 },
                 [this](std::string_view kind, const sms::bill_notice& n) {
                   return sms::render_notice(receipt_ctx_, kind, n);
                 },
                 [this] { outbox_.poke(); },
                 cfg_.cluster.enabled() ? std::function<std::optional<store::lease_fence>()>(
                                              [this] { return cluster_->fence(scheduler_lease); })
                                        : nullptr}),
      actions_(io_.get_executor(), billers_,
               {cfg_.ussd.currency, cfg_.max_saved_accounts, cfg_.registration,
                cfg_.schedule.autopay_days, cfg_.schedule.shortcut, cfg_.pin.pepper},
               {writer_, readers_, wallet_, payments_, [this] { outbox_.poke(); },
                [this](std::string msisdn, std::string text, std::function<void(bool)> ok) {
                  send_now(std::move(msisdn), std::move(text), std::move(ok));
                },
                [this](std::string_view kind, const sms::bill_notice& n) {
                  return sms::render_notice(receipt_ctx_, kind, n);
                },
                [this] { schedule_.poke(); }},
               subscribers_),
      ussd_(io_.get_executor(), cfg_.ussd, cfg_.ussd_profile, in.menus,
            {[this](smpp::pdu p) {
               client_.submit(std::move(p), [](smpp::submit_result r) {
                 if (r.result != smpp::outcome::accepted)
                   spdlog::warn("ussd: screen not delivered: {} {}", smpp::to_string(r.result),
                                r.detail);
               });
             },
             [this](const ussd::action_call& call, ussd::dialog_session::done_fn done) {
               actions_.run(call, std::move(done));
             },
             [this](std::string_view msisdn) { return subscribers_.language(msisdn); }}),
      client_(io_.get_executor(), cfg_.smpp,
              [this](const smpp::pdu& p, smpp::link_session& link) { return on_inbound(p, link); }),
      admin_tls_(std::move(in.admin_tls)),
      stop_signals_(io_, SIGINT, SIGTERM),
      stop_guard_(io_),
      hup_(io_, SIGHUP) {
  if (readers_error_)
    throw startup_error(1, "cannot open readers on " + cfg_.store.where().describe() + ": " +
                               readers_error_->message);
  payments_.on_message_queued([this] { outbox_.poke(); });
  if (joined_) {
    cluster_.emplace(io_.get_executor(), cfg_.cluster, started_at_, writer_, readers_, [this] {
      exit_code_ = 1;
      on_stop(SIGTERM);
    });
    cluster_->want_lease(std::string(scheduler_lease));
    outbox_.claim_as(cfg_.cluster.node, cfg_.cluster.claim_ttl);
  }
  register_metrics();
  spdlog::info(
      "ussdpayd starting: SMSC {}:{}{}, {} {} bind(s), window {}, service code {}, USSD profile "
      "{}, {} biller(s), menus from {}",
      cfg_.smpp.endpoint.host, cfg_.smpp.endpoint.port, cfg_.smpp.endpoint.tls ? " (TLS)" : "",
      cfg_.smpp.binds, cfg_.smpp.pair ? "transmitter+receiver" : "transceiver",
      cfg_.smpp.link.window, cfg_.ussd.service_code, cfg_.ussd_profile.name, billers_.all().size(),
      cfg_.ussd.menus);
  // The admin API: probes, metrics, lookups (gateway/admin/api.hpp).
  if (cfg_.admin.listen.empty()) return;
  admin::probes probe{[this] {
                        std::vector<admin::link_view> out;
                        for (const auto& l : client_.links())
                          out.push_back({l->name(), std::string(smpp::to_string(l->state())),
                                         l->state() == smpp::link_state::bound});
                        return out;
                      },
                      [this] { return ussd_.dialogs().live(); },
                      [this] { return ussd_.dialogs().refusing_new(); }};
  admin_ = std::make_unique<admin::http_server>(
      io_.get_executor(), cfg_.admin,
      admin::make_routes(io_.get_executor(), cfg_.admin,
                         {payments_, writer_, readers_, metrics_, std::move(probe)}),
      admin_tls_);
  if (auto e = admin_->start()) throw startup_error(1, *e);
  const auto where = admin::parse_listen(cfg_.admin.listen);
  spdlog::info("admin: listening on {}:{} ({}{})", where->first, admin_->port(),
               cfg_.admin.token.empty() ? "no token: only /health and /ready answer"
                                        : "bearer token required",
               admin_tls_ ? ", TLS" : "");
}

daemon::~daemon() = default;

void daemon::register_metrics() {
  // Each component writes its own families (Envoy's stats by component); /metrics renders
  // them in this order, then the store's.
  metrics_.add("smpp", [this](metrics::prometheus_text& m) { client_.write_metrics(m); });
  metrics_.add("ussd", [this](metrics::prometheus_text& m) { ussd_.write_metrics(m); });
  metrics_.add("payments", [this](metrics::prometheus_text& m) { payments_.write_metrics(m); });
  metrics_.add("billers", [this](metrics::prometheus_text& m) { billers_.write_metrics(m); });
  metrics_.add("sms", [this](metrics::prometheus_text& m) { outbox_.write_metrics(m); });
  metrics_.add("schedule", [this](metrics::prometheus_text& m) { schedule_.write_metrics(m); });
  if (cluster_)
    metrics_.add("cluster", [this](metrics::prometheus_text& m) { cluster_->write_metrics(m); });
}

std::uint32_t daemon::on_inbound(const smpp::pdu& p, smpp::link_session& link) {
  const auto* sm = std::get_if<smpp::sm_body>(&p.body);
  if (sm == nullptr) return smpp::status::ok;
  if (smpp::is_receipt(*sm)) {
    // Answered once its state is durable: a crash before that, and the SMSC sends it again.
    auto answer = link.defer(p);
    if (!answer) return smpp::status::temp_app_error;  // too many wait: later
    outbox_.on_receipt(*sm, std::move(answer));
    return smpp::answer_later;
  }
  return ussd_.on_deliver(*sm);
}

void daemon::send_now(std::string msisdn, std::string text, std::function<void(bool)> accepted) {
  auto parts = sms::sms_segments(
      {cfg_.sms.source, std::move(msisdn), text, cfg_.ussd_profile.alphabet,
       sms::parse_long_messages(cfg_.sms.long_messages).value_or(sms::long_messages::payload), 0,
       false});
  adapters::wipe(text);
  if (parts.empty()) return accepted(false);
  sms::submit_segments(
      std::move(parts),
      [this](smpp::pdu p, std::function<void(smpp::submit_result)> d) {
        client_.submit(std::move(p), std::move(d), smpp::lane::bulk);
      },
      [accepted](const smpp::submit_result& r) { accepted(r.result == smpp::outcome::accepted); });
}

int daemon::run() {
  start();
  io_.run();
  log_summary();
  return exit_code_;
}

void daemon::start() {
  if (cluster_) cluster_->start();
  client_.start();
  payments_.recover();
  outbox_.start();
  schedule_.start();
  stop_signals_.async_wait([this](boost::system::error_code ec, int sig) {
    if (!ec) on_stop(sig);
  });
  wait_for_reload();
}

void daemon::on_stop(int sig) {
  spdlog::info("ussdpayd: signal {}, stopping ({} live dialog(s))", sig, ussd_.dialogs().live());
  schedule_.stop();                // no new auto-payments
  if (cluster_) cluster_->stop();  // the leases go to another instance at once
  // Screens waiting for a payment or an inquiry are answered first (bounded by [ussd]
  // stop_timeout); the payments in flight and their receipts go on meanwhile.
  ussd_.drain([this] {
    ussd_.stop();
    payments_.stop();
    outbox_.pause();  // no new SMS; the answers to those in flight are still recorded
    if (admin_) admin_->stop();
    client_.stop([this] {
      // Every submit is answered or given up: write what the SMSC acknowledged, then exit.
      outbox_.drain(
          [this] {
            spdlog::info("ussdpayd: stopped");
            io_.stop();
          },
          outbox_drain_bound);
    });
  });
  // Never hang on a peer that does not answer the unbind.
  stop_guard_.expires_after(cfg_.ussd.stop_timeout + cfg_.smpp.link.drain_timeout +
                            cfg_.smpp.link.unbind_timeout + outbox_drain_bound +
                            std::chrono::seconds(1));
  stop_guard_.async_wait([this](boost::system::error_code e) {
    if (!e) io_.stop();
  });
}

void daemon::wait_for_reload() {
  hup_.async_wait([this](boost::system::error_code ec, int) {
    if (ec) return;
    on_reload();
    wait_for_reload();
  });
}

// SIGHUP: new menus and [ussd] settings for new dialogs (live dialogs finish on the menus they
// started with); the billers' names, fees, rules and HTTP settings for calls from now on
// (billers/registry.hpp). A configuration, menu or biller with errors is refused whole and the
// old one kept.
void daemon::on_reload() {
  auto again = load_config(config_path_, environ);
  if (!again.errors.empty()) {
    spdlog::error("ussdpayd: SIGHUP, configuration has errors, keeping the old one:\n{}",
                  format_errors(again.errors));
    return;
  }
  auto m = load_menus(again.cfg);
  if (!m.errors.empty()) {
    spdlog::error("ussdpayd: SIGHUP, menus have errors, keeping the old ones:\n{}",
                  menus::format_errors(m.errors));
    return;
  }
  billers::registry::staged next;
  if (auto why = billers_.prepare(again.cfg.billers, next); !why.empty()) {
    spdlog::error("ussdpayd: SIGHUP, {}; keeping the old configuration", why);
    return;
  }
  ussd_.reload(again.cfg.ussd, m.cat);
  sms_texts_->replace(m.cat);
  billers_.apply(std::move(next));
  spdlog::info(
      "ussdpayd: SIGHUP, reloaded [ussd] and the menus from {}, and the settings of {} "
      "biller(s) ({} live dialog(s) continue on the old menus)",
      again.cfg.ussd.menus, billers_.all().size(), ussd_.dialogs().live());
}

void daemon::log_summary() const {
  const auto ws = writer_.stats();
  const auto& ps = payments_.stats();
  const auto& os = outbox_.stats();
  const auto& ss = schedule_.stats();
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
}

}  // namespace ussdpay
