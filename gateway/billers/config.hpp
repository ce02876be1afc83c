// [[billers]]: who each biller is, the rule its consumer numbers follow, our fee, and the adapter
// that talks to it. Loaded by gateway/config/ with the rest of the configuration.
#pragma once

#include <string>

#include "adapters/biller.hpp"
#include "adapters/demo_biller.hpp"
#include "adapters/http_biller.hpp"

namespace ussdpay::billers {

/// One [[billers]] entry: who the biller is, the rule its consumer numbers follow, our fee, and
/// the adapter that talks to it.
struct biller_config {
  /// id, name, category (electricity, water, gas, fuel), currency, consumer-number rule
  /// (account_min, account_max, digits_only, check_digit), amount rule (exactness).
  adapters::biller_info info;
  /// Adapter: "demo" (adapters/demo_biller.hpp) or "http" (adapters/http_biller.hpp, the JSON
  /// contract in docs/biller-api.md).
  std::string kind = "demo";
  /// Our fee per payment: fee_flat plus fee_percent of the amount, at most fee_cap (0 = no cap).
  adapters::minor_units fee_flat = 0;
  double fee_percent = 0;
  adapters::minor_units fee_cap = 0;
  /// Knobs of the demo adapter (synthesize, latency, reject_rate, timeout_rate, timeout, seed).
  adapters::demo_biller_config demo;
  /// Settings of the HTTP/JSON adapter (base_url, ca_file, verify_host, api_key, timeouts, pool,
  /// retries, circuit breaker).
  adapters::http_biller_config http;
};

/// Our fee on `amount` for a biller: fee_flat plus fee_percent, capped at fee_cap.
adapters::minor_units fee_for(const biller_config& b, adapters::minor_units amount);

}  // namespace ussdpay::billers
