// The daemon's configuration: one aggregate, loaded once from TOML (etc/ussdpay.toml) plus
// USSDPAY_<SECTION>_<KEY> environment overrides, and passed around as const&.
//
// Every key lives in one table (config.cpp, `keys()`), which gives the loader, the environment
// overrides, --check-config's error messages and the unknown-key check from one source.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/actions/config.hpp"
#include "gateway/admin/config.hpp"
#include "gateway/billers/config.hpp"
#include "gateway/cluster/config.hpp"
#include "gateway/payments/config.hpp"
#include "gateway/schedule/planner.hpp"
#include "gateway/smpp/config.hpp"
#include "gateway/sms/config.hpp"
#include "gateway/ussd/dialogs.hpp"
#include "gateway/ussd/profile.hpp"
#include "store/db.hpp"

namespace ussdpay {

using ussd_config = ussd::dialog_config;
using actions::registration_config;
using billers::biller_config;

/// [store]: where the durable state lives.
struct store_config {
  /// "sqlite" (the embedded default: one file, no server) or "postgresql" (several instances
  /// sharing one server with its standby).
  store::backend backend = store::backend::sqlite;
  /// SQLite: the database (created on first use), relative to the configuration file's directory.
  std::string path = "../var/ussdpay.db";
  /// PostgreSQL: a libpq connection string or URI; list the primary and its standby with
  /// target_session_attrs=read-write to follow a failover. It may hold a password, so it is
  /// better given by USSDPAY_STORE_URL or url_file (the first line) than written here.
  std::string url;
  std::string url_file;
  /// Reader threads (reads and PIN checks run there, off the network thread).
  std::size_t readers = 2;

  store::location where() const {
    return {backend, backend == store::backend::postgresql ? url : path};
  }
};

/// [pin]: how PINs are checked. The pepper is a server secret: from pepper_file or the
/// environment (USSDPAY_PIN_PEPPER), at least 16 characters; never from the menus or the store.
/// Whatever checks or sets a PIN refuses to run without one.
struct pin_config {
  std::string pepper_file;
  std::string pepper;  ///< loaded; USSDPAY_PIN_PEPPER wins over pepper_file
  /// PBKDF2-HMAC-SHA256 iterations per PIN check (the cost of each guess; see docs/payments.md).
  std::uint32_t iterations = 100;
  /// Wrong PINs in a row before the PIN locks, and for how long.
  std::uint32_t max_wrong = 3;
  std::chrono::milliseconds lockout{30 * 60'000};
};

struct log_config {
  /// trace, debug, info, warn, error, critical or off.
  std::string level = "info";
  /// One JSON object per line instead of plain text.
  bool json = false;
};

struct config {
  /// [smpp]: the operator's SMSC / USSD centre and how we bind to it.
  smpp::smsc_config smpp;
  /// [smpp] password_file: read the bind password from this file (first line) if set.
  std::string smpp_password_file;
  /// [smpp.ussd]: the operator's USSD dialect: a built-in `profile` plus overrides.
  ussd::profile ussd_profile;
  ussd_config ussd;
  /// [[billers]], in the order subscribers see them.
  std::vector<biller_config> billers;
  /// [demo] bills_file: the demo billers' bill book (CSV), relative to the configuration file's
  /// directory.
  std::string demo_bills_file = "demo/bills.csv";
  store_config store;
  cluster::cluster_config cluster;
  pin_config pin;
  registration_config registration;
  /// [wallet] kind: where subscribers' money lives; "embedded" (our ledger in the store).
  std::string wallet_kind = "embedded";
  /// [payments] and [limits]: the saga's timings and what one subscriber may pay.
  payments::payments_config payments;
  /// [payments] max_saved_accounts: saved consumer numbers per subscriber.
  std::size_t max_saved_accounts = 10;
  /// [sms]: how receipts leave through the SMPP link.
  sms::outbox_config sms;
  /// [schedule]: bill reminders and auto-pay for saved accounts.
  schedule::schedule_config schedule;
  /// [admin]: the HTTP admin API, metrics and status page.
  admin::admin_config admin;
  log_config log;
  /// Path the configuration was read from ("" when built from defaults only).
  std::string source;
};

/// One problem found while loading: where and what.
struct config_error {
  std::string file;
  std::uint32_t line = 0;  // 0 when not from the file (environment, defaults)
  std::string key;         // "section.key"
  std::string message;
};

struct load_result {
  config cfg;
  std::vector<config_error> errors;  // empty on success
};

/// Loads `path` (TOML) over the defaults, then applies environment overrides from `env`
/// (normally ::environ). Collects every error instead of stopping at the first.
load_result load_config(const std::string& path, char** env);

/// The first line of a secret file (smpp.password_file, admin.token_file, pin.pepper_file), or
/// nullopt when it cannot be read.
using secret_reader = std::function<std::optional<std::string>(const std::string& file)>;

/// load_config over TOML text already in memory (load_config reads the file and calls this):
/// `path` names it in errors and relative paths resolve against its directory; secret files are
/// read through `read_secret` (from disk when empty). No other file is read.
load_result load_config_text(std::string_view toml, const std::string& path, char** env,
                             const secret_reader& read_secret = {});

/// "file:line: key: message" for each error.
std::string format_errors(const std::vector<config_error>& errors);

}  // namespace ussdpay
