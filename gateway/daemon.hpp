// The daemon: owns every part, declared (so built) in start order and destroyed in reverse.
// Reading this file top to bottom shows the whole daemon:
//
//   store (writer, readers) -> subscribers -> billers -> wallet -> SMS texts -> payments (saga)
//   -> outbox -> schedule -> actions -> USSD dialogs -> SMPP client -> metrics -> admin API
//
// run() starts the link, recovers open payments, starts the outbox and the schedule, and serves
// until SIGTERM/SIGINT (drain: schedule, dialogs, payments, outbox, link, in that order; bounded).
// SIGHUP reloads the menus, [ussd] and the billers' settings (a configuration with errors is
// refused whole and the old one kept).
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/embedded_wallet.hpp"
#include "gateway/actions/actions.hpp"
#include "gateway/actions/subscribers.hpp"
#include "gateway/admin/server.hpp"
#include "gateway/billers/registry.hpp"
#include "gateway/cluster/membership.hpp"
#include "gateway/common/metrics.hpp"
#include "gateway/config/config.hpp"
#include "gateway/payments/service.hpp"
#include "gateway/schedule/scheduler.hpp"
#include "gateway/smpp/client.hpp"
#include "gateway/sms/outbox.hpp"
#include "gateway/sms/texts.hpp"
#include "gateway/ussd/dialog_session.hpp"
#include "menus/catalog.hpp"
#include "store/readers.hpp"
#include "store/writer.hpp"

namespace ussdpay {

/// A part that cannot start: the message for stderr and the exit code (1: the environment,
/// 2: the configuration).
struct startup_error : std::runtime_error {
  startup_error(int code, const std::string& what) : std::runtime_error(what), exit_code(code) {}
  int exit_code;
};

/// What main() checked before the daemon is built (--check-config checks the same).
struct checked_config {
  std::string path;  ///< for SIGHUP
  config cfg;
  std::shared_ptr<const menus::catalog> menus;
  std::shared_ptr<adapters::bill_book> bill_book;        ///< [demo] bills_file, or null
  std::shared_ptr<boost::asio::ssl::context> admin_tls;  ///< null without [admin] TLS
};

/// The configuration file and what it names, checked; the errors (for stderr) when not.
std::optional<checked_config> check_config(const std::string& path, std::string& errors);

class daemon {
 public:
  /// Builds every part over `conn`, the writer connection (opened and migrated). Throws
  /// startup_error.
  daemon(checked_config in, store::db conn);
  ~daemon();
  daemon(const daemon&) = delete;
  daemon& operator=(const daemon&) = delete;

  /// Serves until a stop signal; the exit code.
  int run();

 private:
  void start();
  void on_stop(int sig);
  void on_reload();
  void wait_for_reload();
  void register_metrics();
  void log_summary() const;
  /// One SMS straight to the link, never stored (one-time codes).
  void send_now(std::string msisdn, std::string text, std::function<void(bool)> accepted);
  std::uint32_t on_inbound(const smpp::pdu& p, smpp::link_session& link);

  std::string config_path_;
  config cfg_;
  boost::asio::io_context io_{1};
  // The store: subscribers and the demo billers' books are read on the writer connection before
  // the writer thread owns it.
  actions::subscriber_directory subscribers_;
  billers::demo_books books_at_start_;
  // In a cluster, this process joins as [cluster] node on the writer connection too (refused
  // while another live process runs under that name).
  const std::int64_t started_at_;
  const bool joined_;
  store::group_writer writer_;
  std::optional<store::db_error> readers_error_;
  store::reader_pool readers_;
  // Membership and leases (a cluster only): the heartbeat, and the scheduler's lease.
  std::optional<cluster::membership> cluster_;
  int exit_code_ = 0;
  // Money: the billers, the embedded wallet, the payment saga and the outbox that carries its
  // receipts.
  billers::registry billers_;
  adapters::embedded_wallet wallet_;
  std::shared_ptr<sms::sms_templates> sms_texts_;
  sms::receipt_context receipt_ctx_;
  payments::service payments_;
  sms::outbox_sender outbox_;
  schedule::scheduler schedule_;
  // The dialogs: what actions do, the USSD sessions, and the link they arrive on.
  actions::menu_actions actions_;
  ussd::dialog_session ussd_;
  smpp::smsc_client client_;
  // Operations: metrics by component and the admin API.
  metrics::registry metrics_;
  std::shared_ptr<boost::asio::ssl::context> admin_tls_;
  std::unique_ptr<admin::http_server> admin_;
  boost::asio::signal_set stop_signals_;
  boost::asio::steady_timer stop_guard_;
  boost::asio::signal_set hup_;
};

}  // namespace ussdpay
