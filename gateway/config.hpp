// The daemon's configuration: one aggregate, loaded once from TOML (etc/ussdpay.toml) plus
// USSDPAY_<SECTION>_<KEY> environment overrides, and passed around as const&.
//
// Every key lives in one table (config.cpp, `keys()`), which gives the loader, the environment
// overrides, --check-config's error messages and the unknown-key check from one source.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/smpp/client.hpp"

namespace ussdpay {

struct ussd_config {
  /// The service code subscribers dial.
  std::string service_code = "*123#";
  /// Until the menu engine exists, every dial is answered with this screen, which ends the
  /// dialog. Plain GSM characters; at most 182.
  std::string welcome = "Welcome to ussdpay. Bill payments are coming soon.";
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
  ussd_config ussd;
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

/// "file:line: key: message" for each error.
std::string format_errors(const std::vector<config_error>& errors);

}  // namespace ussdpay
