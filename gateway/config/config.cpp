#include "gateway/config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <variant>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "gateway/admin/server.hpp"
#include "gateway/sms/segments.hpp"

namespace ussdpay {
namespace {

using std::chrono::milliseconds;

/// A string setting with its own parser (enumerations); returns an error message or nullopt.
struct custom_setting {
  std::function<std::optional<std::string>(const std::string&)> set;
};
using byte_list = std::vector<std::uint8_t>;
using target =
    std::variant<std::string*, bool*, std::uint8_t*, std::uint16_t*, std::uint32_t*, std::size_t*,
                 std::int64_t*, double*, milliseconds*, byte_list*, custom_setting>;

custom_setting one_of(std::function<bool(const std::string&)> apply, std::string choices) {
  return {[apply = std::move(apply),
           choices = std::move(choices)](const std::string& v) -> std::optional<std::string> {
    if (apply(v)) return std::nullopt;
    return "must be one of " + choices;
  }};
}

/// A setting that takes one of a few names, each meaning one value of *dst.
template <class E>
custom_setting enum_of(E* dst, std::vector<std::pair<std::string, E>> names) {
  std::string choices;
  for (const auto& [n, v] : names) choices += (choices.empty() ? "" : ", ") + n;
  return one_of(
      [dst, names = std::move(names)](const std::string& v) {
        for (const auto& [n, value] : names)
          if (n == v) {
            *dst = value;
            return true;
          }
        return false;
      },
      std::move(choices));
}

struct key_def {
  std::string section;  // "smpp", "ussd", "log"
  std::string key;
  target where;
};

std::vector<key_def> keys(config& c) {
  auto& s = c.smpp;
  auto& l = s.link;
  auto& e = s.endpoint;
  auto& p = c.ussd_profile;
  auto& u = c.ussd;
  return {
      {"smpp", "host", &e.host},
      {"smpp", "port", &e.port},
      {"smpp", "tls", &e.tls},
      {"smpp", "tls_ca_file", &e.tls_ca_file},
      {"smpp", "tls_verify", &e.tls_verify},
      {"smpp", "system_id", &l.system_id},
      {"smpp", "password", &l.password},
      {"smpp", "password_file", &c.smpp_password_file},
      {"smpp", "system_type", &l.system_type},
      {"smpp", "bind",
       one_of(
           [&s](const std::string& v) {
             if (v != "transceiver" && v != "transmitter_receiver") return false;
             s.pair = v == "transmitter_receiver";
             return true;
           },
           "\"transceiver\", \"transmitter_receiver\"")},
      {"smpp", "binds", &s.binds},
      {"smpp", "window", &l.window},
      {"smpp", "max_queue", &l.max_queue},
      {"smpp", "tps", &l.tps},
      {"smpp", "throttle_retries", &l.throttle_retries},
      {"smpp", "connect_timeout", &l.connect_timeout},
      {"smpp", "bind_timeout", &l.bind_timeout},
      {"smpp", "response_timeout", &l.response_timeout},
      {"smpp", "queue_timeout", &l.queue_timeout},
      {"smpp", "enquire_link_interval", &l.enquire_link_interval},
      {"smpp", "inactivity_timeout", &l.inactivity_timeout},
      {"smpp", "flow_interval", &l.flow.interval},
      {"smpp", "flow_min_rate", &l.flow.min_rate},
      {"smpp", "flow_tolerated_share", &l.flow.tolerated_share},
      {"smpp", "reconnect_initial", &l.reconnect_initial},
      {"smpp", "reconnect_max", &l.reconnect_max},
      {"smpp", "drain_timeout", &l.drain_timeout},
      {"smpp", "unbind_timeout", &l.unbind_timeout},
      {"smpp", "deferred_response_timeout", &l.deferred_response_timeout},
      {"smpp", "max_deferred", &l.max_deferred},
      {"smpp", "max_command_length", &l.limits.max_command_length},
      {"smpp", "max_tlvs", &l.limits.max_tlvs},
      {"smpp.ussd", "profile",
       one_of([](const std::string& v) { return ussd::builtin_profile(v).has_value(); },
              "default, sixdee, mica, huawei")},
      {"smpp.ussd", "begin_ops", &p.begin_ops},
      {"smpp.ussd", "continue_ops", &p.continue_ops},
      {"smpp.ussd", "end_ops", &p.end_ops},
      {"smpp.ussd", "abort_ops", &p.abort_ops},
      {"smpp.ussd", "end_bit_closes", &p.end_bit_closes},
      {"smpp.ussd", "continue_op", &p.continue_op},
      {"smpp.ussd", "end_op", &p.end_op},
      {"smpp.ussd", "echo_session_info", &p.echo_session_info},
      {"smpp.ussd", "session_id",
       enum_of(&p.session_id,
               {{"its_session_info", ussd::session_id_source::its_session_info},
                {"user_message_reference", ussd::session_id_source::user_message_reference},
                {"none", ussd::session_id_source::none}})},
      {"smpp.ussd", "service_type", &p.service_type},
      {"smpp.ussd", "data_coding_gsm", &p.data_coding_gsm},
      {"smpp.ussd", "data_coding_ucs2", &p.data_coding_ucs2},
      {"smpp.ussd", "default_alphabet",
       enum_of(&p.alphabet, {{"gsm0338", menus::default_alphabet::gsm0338},
                             {"latin1", menus::default_alphabet::latin1}})},
      {"smpp.ussd", "max_gsm_chars", &p.max_gsm_chars},
      {"smpp.ussd", "max_ucs2_chars", &p.max_ucs2_chars},
      {"ussd", "service_code", &u.service_code},
      {"ussd", "menus", &u.menus},
      {"ussd", "default_language", &u.default_language},
      {"ussd", "support_phone", &u.support_phone},
      {"ussd", "currency", &u.currency},
      {"ussd", "session_timeout", &u.session_timeout},
      {"ussd", "max_session_length", &u.max_session_length},
      {"ussd", "max_sessions", &u.max_sessions},
      {"ussd", "dials_per_msisdn", &u.dials_per_msisdn},
      {"ussd", "dial_window", &u.dial_window},
      {"ussd", "dial_numbers", &u.dial_numbers},
      {"ussd", "resume_window", &u.resume_window},
      {"ussd", "inquiry_timeout", &u.inquiry_timeout},
      {"ussd", "action_timeout", &u.action_timeout},
      {"ussd", "payment_timeout", &u.payment_timeout},
      {"ussd", "stop_timeout", &u.stop_timeout},
      {"demo", "bills_file", &c.demo_bills_file},
      {"store", "backend",
       enum_of(&c.store.backend,
               {{"sqlite", store::backend::sqlite}, {"postgresql", store::backend::postgresql}})},
      {"store", "path", &c.store.path},
      {"store", "url", &c.store.url},
      {"store", "url_file", &c.store.url_file},
      {"pin", "pepper_file", &c.pin.pepper_file},
      {"pin", "pepper", &c.pin.pepper},
      {"pin", "iterations", &c.pin.iterations},
      {"pin", "max_wrong", &c.pin.max_wrong},
      {"pin", "lockout", &c.pin.lockout},
      {"registration", "self_register", &c.registration.self_register},
      {"registration", "code_digits", &c.registration.code_digits},
      {"registration", "code_ttl", &c.registration.code_ttl},
      {"registration", "code_attempts", &c.registration.code_attempts},
      {"registration", "codes_per_window", &c.registration.codes_per_window},
      {"registration", "code_window", &c.registration.code_window},
      {"store", "readers", &c.store.readers},
      {"cluster", "node", &c.cluster.node},
      {"cluster", "listen", &c.cluster.listen},
      {"cluster", "heartbeat", &c.cluster.heartbeat},
      {"cluster", "member_ttl", &c.cluster.member_ttl},
      {"cluster", "lease_ttl", &c.cluster.lease_ttl},
      {"cluster", "claim_ttl", &c.cluster.claim_ttl},
      {"wallet", "kind",
       one_of([&c](const std::string& v) { return v == "embedded" && (c.wallet_kind = v, true); },
              "embedded")},
      {"payments", "answer_within", &c.payments.answer_within},
      {"payments", "biller_timeout", &c.payments.biller_timeout},
      {"payments", "pending_sms_after", &c.payments.pending_sms_after},
      {"payments", "query_initial", &c.payments.saga.query_initial},
      {"payments", "query_max", &c.payments.saga.query_max},
      {"payments", "manual_review_after", &c.payments.saga.manual_review_after},
      {"payments", "post_retry_within", &c.payments.saga.post_retry_within},
      {"payments", "max_saved_accounts", &c.max_saved_accounts},
      {"limits", "min_amount", &c.payments.limits.min_amount},
      {"limits", "max_amount", &c.payments.limits.max_amount},
      {"limits", "daily_amount", &c.payments.limits.daily_amount},
      {"limits", "daily_count", &c.payments.limits.daily_count},
      {"limits", "velocity_count", &c.payments.limits.velocity_count},
      {"limits", "velocity_window", &c.payments.limits.velocity_window},
      {"limits", "duplicate_window", &c.payments.limits.duplicate_window},
      {"sms", "source", &c.sms.source},
      {"sms", "poll_interval", &c.sms.poll_interval},
      {"sms", "max_in_flight", &c.sms.max_in_flight},
      {"sms", "max_per_second", &c.sms.max_per_second},
      {"sms", "long_messages", &c.sms.long_messages},
      {"sms", "max_attempts", &c.sms.max_attempts},
      {"sms", "retry_initial", &c.sms.retry_initial},
      {"sms", "retry_max", &c.sms.retry_max},
      {"schedule", "enabled", &c.schedule.enabled},
      {"schedule", "interval", &c.schedule.interval},
      {"schedule", "check_every", &c.schedule.check_every},
      {"schedule", "retry_after", &c.schedule.retry_after},
      {"schedule", "inquiry_timeout", &c.schedule.inquiry_timeout},
      {"schedule", "batch", &c.schedule.batch},
      {"schedule", "concurrency", &c.schedule.concurrency},
      {"schedule", "hours", &c.schedule.hours},
      {"schedule", "remind_days", &c.schedule.remind_days},
      {"schedule", "autopay_days", &c.schedule.autopay_days},
      {"schedule", "shortcut", &c.schedule.shortcut},
      {"admin", "listen", &c.admin.listen},
      {"admin", "allow", &c.admin.allow},
      {"admin", "token_file", &c.admin.token_file},
      {"admin", "token", &c.admin.token},
      {"admin", "request_timeout", &c.admin.request_timeout},
      {"admin", "max_connections", &c.admin.max_connections},
      {"admin", "tls_cert_file", &c.admin.tls_cert_file},
      {"admin", "tls_key_file", &c.admin.tls_key_file},
      {"admin", "tls_ca_file", &c.admin.tls_ca_file},
      {"log", "level", &c.log.level},
      {"log", "json", &c.log.json},
  };
}

const char* env_value(char** env, std::string_view name) {
  for (char** e = env; e != nullptr && *e != nullptr; ++e)
    if (std::string_view(*e).starts_with(name) && (*e)[name.size()] == '=')
      return *e + name.size() + 1;
  return nullptr;
}

/// Keys of one [[billers]] entry (no environment overrides: entries have no stable name).
std::vector<key_def> biller_keys(biller_config& b) {
  auto& i = b.info;
  auto& d = b.demo;
  using adapters::check_digit;
  using adapters::exactness;
  return {
      {"billers", "id", &i.id},
      {"billers", "name", &i.name},
      {"billers", "category", &i.category},
      {"billers", "currency", &i.currency},
      {"billers", "account_min", &i.account.min_length},
      {"billers", "account_max", &i.account.max_length},
      {"billers", "digits_only", &i.account.digits_only},
      {"billers", "check_digit",
       enum_of(&i.account.check, {{"none", check_digit::none},
                                  {"luhn", check_digit::luhn},
                                  {"mod11", check_digit::mod11}})},
      {"billers", "exactness",
       enum_of(&i.amount_rule, {{"exact", exactness::exact},
                                {"at_least", exactness::at_least},
                                {"at_most", exactness::at_most},
                                {"any", exactness::any}})},
      {"billers", "kind", &b.kind},
      {"billers", "fee_flat", &b.fee_flat},
      {"billers", "fee_percent", &b.fee_percent},
      {"billers", "fee_cap", &b.fee_cap},
      {"billers", "synthesize", &d.synthesize},
      {"billers", "latency", &d.latency},
      {"billers", "reject_rate", &d.reject_rate},
      {"billers", "timeout_rate", &d.timeout_rate},
      {"billers", "silent_payments", &d.silent_payments},
      {"billers", "base_url", &b.http.base_url},
      {"billers", "ca_file", &b.http.ca_file},
      {"billers", "verify_host", &b.http.verify_host},
      {"billers", "api_key", &b.http.api_key},
      {"billers", "connect_timeout", &b.http.connect_timeout},
      {"billers", "request_timeout", &b.http.request_timeout},
      {"billers", "pool_size", &b.http.pool_size},
      {"billers", "idle_timeout", &b.http.idle_timeout},
      {"billers", "max_body", &b.http.max_body},
      {"billers", "retries", &b.http.retries},
      {"billers", "retry_backoff", &b.http.retry_backoff},
      {"billers", "breaker_failures", &b.http.breaker_failures},
      {"billers", "breaker_cooldown", &b.http.breaker_cooldown},
      {"billers", "timeout", &d.timeout},
      {"billers", "seed", &d.seed},
  };
}

std::string env_name(const key_def& k) {
  std::string n = "USSDPAY_" + k.section + "_" + k.key;
  for (auto& ch : n)
    ch = ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return n;
}

/// "250ms", "30s", "2m", "1h"; at most 100 years, so that the value in milliseconds, and any
/// clock's now() plus it in nanoseconds, stays within 64 bits.
std::optional<milliseconds> parse_duration(std::string_view v) {
  constexpr std::int64_t max_ms = 100LL * 365 * 24 * 3'600'000;
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p == v.data() || n < 0) return std::nullopt;
  const std::string_view unit(p, static_cast<std::size_t>(v.data() + v.size() - p));
  std::int64_t per = 0;
  if (unit == "ms") per = 1;
  if (unit == "s") per = 1000;
  if (unit == "m") per = 60'000;
  if (unit == "h") per = 3'600'000;
  if (per == 0 || n > max_ms / per) return std::nullopt;
  return milliseconds(n * per);
}

template <class Int>
std::optional<std::string> set_int(Int* dst, std::int64_t v) {
  if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<Int>::max())
    return fmt::format("must be between 0 and {}", std::numeric_limits<Int>::max());
  *dst = static_cast<Int>(v);
  return std::nullopt;
}

// Applies a value given as text (environment) or as a TOML node.
struct setter {
  std::optional<std::string> from_text(const target& t, const std::string& v) const {
    return std::visit(
        [&](auto p) -> std::optional<std::string> {
          using P = decltype(p);
          if constexpr (std::is_same_v<P, std::string*>) {
            *p = v;
            return std::nullopt;
          } else if constexpr (std::is_same_v<P, bool*>) {
            if (v == "true" || v == "1" || v == "yes")
              *p = true;
            else if (v == "false" || v == "0" || v == "no")
              *p = false;
            else
              return std::string("must be true or false");
            return std::nullopt;
          } else if constexpr (std::is_same_v<P, double*>) {
            char* end = nullptr;
            const double d = std::strtod(v.c_str(), &end);
            if (end == v.c_str() || *end != '\0' || !std::isfinite(d) || d < 0)
              return std::string("must be a number >= 0");
            *p = d;
            return std::nullopt;
          } else if constexpr (std::is_same_v<P, milliseconds*>) {
            auto d = parse_duration(v);
            if (!d) return std::string("must be a duration such as \"500ms\", \"30s\" or \"2m\"");
            *p = *d;
            return std::nullopt;
          } else if constexpr (std::is_same_v<P, custom_setting>) {
            return p.set(v);
          } else if constexpr (std::is_same_v<P, byte_list*>) {
            // "1,18,0x81"
            byte_list out;
            std::size_t pos = 0;
            while (pos <= v.size() && !v.empty()) {
              const auto comma = v.find(',', pos);
              const std::string item =
                  v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
              char* end = nullptr;
              const long n = std::strtol(item.c_str(), &end, 0);
              if (item.empty() || *end != '\0' || n < 0 || n > 255)
                return std::string("must be a list of values 0..255, such as \"1,18,0x81\"");
              out.push_back(static_cast<std::uint8_t>(n));
              if (comma == std::string::npos) break;
              pos = comma + 1;
            }
            *p = std::move(out);
            return std::nullopt;
          } else {
            // Decimal, or hexadecimal with 0x (ussd_service_op values are often written so).
            const bool hex = v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
            const char* first = v.data() + (hex ? 2 : 0);
            std::int64_t n = 0;
            auto [end, ec] = std::from_chars(first, v.data() + v.size(), n, hex ? 16 : 10);
            if (ec != std::errc() || end != v.data() + v.size() || end == first)
              return std::string("must be an integer");
            return set_int(p, n);
          }
        },
        t);
  }

  std::optional<std::string> from_node(const target& t, const toml::node& n) const {
    return std::visit(
        [&](auto p) -> std::optional<std::string> {
          using P = decltype(p);
          if constexpr (std::is_same_v<P, bool*>) {
            if (!n.is_boolean()) return std::string("must be true or false");
            *p = n.as_boolean()->get();
            return std::nullopt;
          } else if constexpr (std::is_same_v<P, double*>) {
            if (auto f = n.value<double>(); f && std::isfinite(*f) && *f >= 0) {
              *p = *f;
              return std::nullopt;
            }
            return std::string("must be a number >= 0");
          } else if constexpr (std::is_same_v<P, byte_list*>) {
            const auto* arr = n.as_array();
            if (arr == nullptr) return std::string("must be an array of integers 0..255");
            byte_list out;
            for (auto&& x : *arr) {
              auto i = x.value<std::int64_t>();
              if (!i || *i < 0 || *i > 255)
                return std::string("must be an array of integers 0..255");
              out.push_back(static_cast<std::uint8_t>(*i));
            }
            *p = std::move(out);
            return std::nullopt;
          } else if constexpr (std::is_same_v<P, std::string*> ||
                               std::is_same_v<P, milliseconds*> ||
                               std::is_same_v<P, custom_setting>) {
            if (!n.is_string()) return std::string("must be a string");
            return from_text(t, n.as_string()->get());
          } else {
            if (!n.is_integer()) return std::string("must be an integer");
            return set_int(p, n.as_integer()->get());
          }
        },
        t);
  }
};

void validate(config& c, const std::string& file, std::vector<config_error>& errors) {
  auto err = [&](std::string key, std::string msg) {
    errors.push_back({file, 0, std::move(key), std::move(msg)});
  };
  const auto& l = c.smpp.link;
  if (c.smpp.endpoint.host.empty()) err("smpp.host", "must not be empty");
  if (l.system_id.empty() || l.system_id.size() > 15)
    err("smpp.system_id", "must be 1..15 characters");
  if (l.password.size() > 8) err("smpp.password", "must be at most 8 characters (SMPP 3.4)");
  if (l.system_type.size() > 12) err("smpp.system_type", "must be at most 12 characters");
  if (l.window == 0 || l.window > 10000) err("smpp.window", "must be 1..10000");
  if (c.smpp.binds == 0 || c.smpp.binds > 64) err("smpp.binds", "must be 1..64");
  if (l.flow.interval < std::chrono::milliseconds(10) || l.flow.interval > std::chrono::seconds(10))
    err("smpp.flow_interval", "must be 10ms..10s");
  if (!(l.flow.min_rate >= 0.1) || l.flow.min_rate > 1e6)
    err("smpp.flow_min_rate", "must be 0.1..1000000 messages per second");
  if (!(l.flow.tolerated_share >= 0) || l.flow.tolerated_share > 0.9)
    err("smpp.flow_tolerated_share", "must be 0..0.9");
  if (l.deferred_response_timeout < std::chrono::milliseconds(100) ||
      l.deferred_response_timeout > std::chrono::minutes(1))
    err("smpp.deferred_response_timeout", "must be 100ms..1m (below the SMSC's own timeout)");
  if (l.max_deferred == 0 || l.max_deferred > 100'000)
    err("smpp.max_deferred", "must be 1..100000");
  if (l.limits.max_command_length < 64 || l.limits.max_command_length > 65535)
    err("smpp.max_command_length", "must be 64..65535");
  if (l.limits.max_tlvs == 0 || l.limits.max_tlvs > 64) err("smpp.max_tlvs", "must be 1..64");
  if (l.reconnect_initial.count() == 0 || l.reconnect_max < l.reconnect_initial)
    err("smpp.reconnect_max", "must be >= reconnect_initial > 0");
  if (l.enquire_link_interval.count() == 0) err("smpp.enquire_link_interval", "must be > 0");
  if (l.inactivity_timeout <= l.enquire_link_interval)
    err("smpp.inactivity_timeout", "must be longer than enquire_link_interval");
  const auto& u = c.ussd;
  if (u.service_code.size() < 3 || u.service_code.front() != '*' || u.service_code.back() != '#' ||
      u.service_code.find_first_not_of("0123456789*#") != std::string::npos)
    err("ussd.service_code", "must look like *123# (digits between * and #)");
  if (u.menus.empty()) err("ussd.menus", "must name the menus directory");
  if (u.currency.size() != 3) err("ussd.currency", "must be an ISO 4217 code such as PKR");
  if (u.max_sessions == 0 || u.max_sessions > 10'000'000)
    err("ussd.max_sessions", "must be 1..10000000");
  if (u.dials_per_msisdn > 1000) err("ussd.dials_per_msisdn", "must be 0..1000 (0: no limit)");
  if (u.dials_per_msisdn > 0 &&
      (u.dial_window < std::chrono::seconds(1) || u.dial_window > std::chrono::hours(24)))
    err("ussd.dial_window", "must be between 1s and 24h");
  if (u.dials_per_msisdn > 0 && (u.dial_numbers == 0 || u.dial_numbers > 10'000'000))
    err("ussd.dial_numbers", "must be 1..10000000");
  if (u.session_timeout.count() == 0) err("ussd.session_timeout", "must be > 0");
  if (u.max_session_length < u.session_timeout)
    err("ussd.max_session_length", "must be at least session_timeout");
  if (u.inquiry_timeout.count() == 0 || u.inquiry_timeout > std::chrono::seconds(20))
    err("ussd.inquiry_timeout", "must be between 1ms and 20s (the operator drops a silent screen)");
  if (u.action_timeout.count() == 0 || u.action_timeout > std::chrono::seconds(20))
    err("ussd.action_timeout", "must be between 1ms and 20s");
  if (u.payment_timeout.count() == 0 || u.payment_timeout > std::chrono::seconds(20))
    err("ussd.payment_timeout", "must be between 1ms and 20s");
  if (u.stop_timeout > std::chrono::seconds(60)) err("ussd.stop_timeout", "must be at most 60s");
  if (!c.pin.pepper.empty() && c.pin.pepper.size() < 16)
    err("pin.pepper",
        "must be at least 16 characters (from pin.pepper_file or USSDPAY_PIN_PEPPER)");
  if (c.pin.iterations == 0 || c.pin.iterations > 10'000'000)
    err("pin.iterations", "must be 1..10000000");
  if (c.pin.max_wrong == 0 || c.pin.max_wrong > 10) err("pin.max_wrong", "must be 1..10");
  const auto& reg = c.registration;
  if (reg.code_digits < 4 || reg.code_digits > 9) err("registration.code_digits", "must be 4..9");
  if (reg.code_ttl < std::chrono::seconds(30) || reg.code_ttl > std::chrono::hours(1))
    err("registration.code_ttl", "must be between 30s and 1h");
  if (reg.code_attempts == 0 || reg.code_attempts > 10)
    err("registration.code_attempts", "must be 1..10");
  if (reg.codes_per_window == 0 || reg.codes_per_window > 20)
    err("registration.codes_per_window", "must be 1..20");
  if (reg.code_window < std::chrono::minutes(1)) err("registration.code_window", "must be >= 1m");
  if (c.store.backend == store::backend::sqlite && c.store.path.empty())
    err("store.path", "must name the database file");
  if (c.store.backend == store::backend::postgresql && c.store.url.empty())
    err("store.url",
        "must name the PostgreSQL server (a libpq connection string or URI, from store.url, "
        "store.url_file or USSDPAY_STORE_URL)");
  if (c.store.readers == 0 || c.store.readers > 64) err("store.readers", "must be 1..64");
  if (const auto& cl = c.cluster; cl.enabled()) {
    const bool name_ok =
        cl.node.size() <= 64 && std::all_of(cl.node.begin(), cl.node.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' ||
                 ch == '.';
        });
    if (!name_ok) err("cluster.node", "must be 1..64 of A-Z a-z 0-9 - _ .");
    if (c.store.backend != store::backend::postgresql)
      err("cluster.node", "instances share a store only on PostgreSQL (store.backend)");
    if (cl.heartbeat.count() == 0) err("cluster.heartbeat", "must be > 0");
    if (cl.member_ttl < 3 * cl.heartbeat)
      err("cluster.member_ttl", "must be at least three heartbeats");
    if (cl.lease_ttl < 3 * cl.heartbeat)
      err("cluster.lease_ttl", "must be at least three heartbeats");
    if (cl.claim_ttl < c.sms.poll_interval * 10)
      err("cluster.claim_ttl", "must be at least ten [sms] poll intervals");
  }
  const auto& pay = c.payments;
  if (pay.answer_within.count() == 0 || pay.answer_within >= u.payment_timeout)
    err("payments.answer_within", "must be > 0 and shorter than ussd.payment_timeout");
  if (pay.biller_timeout.count() == 0) err("payments.biller_timeout", "must be > 0");
  if (pay.saga.query_initial.count() == 0 || pay.saga.query_max < pay.saga.query_initial)
    err("payments.query_max", "must be >= query_initial > 0");
  if (pay.saga.manual_review_after.count() == 0) err("payments.manual_review_after", "must be > 0");
  if (c.max_saved_accounts == 0 || c.max_saved_accounts > 50)
    err("payments.max_saved_accounts", "must be 1..50");
  const auto& lim = pay.limits;
  if (lim.min_amount <= 0) err("limits.min_amount", "must be > 0 (minor units)");
  if (lim.max_amount != 0 && lim.max_amount < lim.min_amount)
    err("limits.max_amount", "must be >= min_amount (or 0: no limit)");
  if (lim.daily_amount < 0 || lim.daily_count < 0 || lim.velocity_count < 0)
    err("limits.daily_amount", "daily_amount, daily_count and velocity_count must be >= 0");
  if (lim.velocity_count > 0 && lim.velocity_window.count() == 0)
    err("limits.velocity_window", "must be > 0 when velocity_count is set");
  const auto& sm = c.sms;
  if (sm.source.empty() || sm.source.size() > 20) err("sms.source", "must be 1..20 characters");
  if (sm.max_in_flight == 0 || sm.max_in_flight > 10'000)
    err("sms.max_in_flight", "must be 1..10000");
  if (sm.max_per_second > 1'000'000) err("sms.max_per_second", "must be 0..1000000");
  if (!sms::parse_long_messages(sm.long_messages))
    err("sms.long_messages", "must be \"payload\", \"udh\" or \"sar\"");
  if (sm.max_attempts == 0) err("sms.max_attempts", "must be > 0");
  if (sm.poll_interval.count() == 0) err("sms.poll_interval", "must be > 0");
  if (sm.retry_initial.count() == 0 || sm.retry_max < sm.retry_initial)
    err("sms.retry_max", "must be >= retry_initial > 0");
  const auto& ad = c.admin;
  if (!ad.listen.empty() && !admin::parse_listen(ad.listen))
    err("admin.listen",
        "must be HOST:PORT with a numeric address, e.g. \"127.0.0.1:8780\" (or \"\": off)");
  if (!admin::parse_allow(ad.allow))
    err("admin.allow",
        "must list client addresses or CIDR prefixes, e.g. \"127.0.0.0/8, ::1/128\" "
        "(\"0.0.0.0/0, ::/0\": anyone)");
  if (!ad.token.empty() && ad.token.size() < 16)
    err("admin.token",
        "must be at least 16 characters (from admin.token_file or USSDPAY_ADMIN_TOKEN)");
  if (ad.request_timeout < std::chrono::milliseconds(100) ||
      ad.request_timeout > std::chrono::minutes(5))
    err("admin.request_timeout", "must be between 100ms and 5m");
  if (ad.max_connections == 0 || ad.max_connections > 10'000)
    err("admin.max_connections", "must be 1..10000");
  if (ad.tls_cert_file.empty() != ad.tls_key_file.empty())
    err(ad.tls_key_file.empty() ? "admin.tls_key_file" : "admin.tls_cert_file",
        "tls_cert_file and tls_key_file go together (both empty: plain HTTP)");
  const auto& sc = c.schedule;
  if (sc.interval < std::chrono::seconds(1)) err("schedule.interval", "must be >= 1s");
  if (sc.check_every < std::chrono::minutes(1)) err("schedule.check_every", "must be >= 1m");
  if (sc.retry_after < std::chrono::seconds(1)) err("schedule.retry_after", "must be >= 1s");
  if (sc.inquiry_timeout.count() == 0 || sc.inquiry_timeout > std::chrono::minutes(5))
    err("schedule.inquiry_timeout", "must be between 1ms and 5m");
  if (sc.batch == 0 || sc.batch > 10'000) err("schedule.batch", "must be 1..10000");
  if (sc.concurrency == 0 || sc.concurrency > 256) err("schedule.concurrency", "must be 1..256");
  if (!schedule::parse_hours(sc.hours))
    err("schedule.hours", "must be \"HH:MM-HH:MM\" (local time) with the start before the end");
  if (sc.remind_days > 60) err("schedule.remind_days", "must be 0..60");
  if (sc.autopay_days > 60) err("schedule.autopay_days", "must be 0..60");
  if (sc.shortcut.empty() || sc.shortcut.size() > 16)
    err("schedule.shortcut", "must be 1..16 characters (the dial string of Saved accounts)");
  const auto& p = c.ussd_profile;
  if (p.begin_ops.empty()) err("smpp.ussd.begin_ops", "must list at least one op");
  if (p.continue_ops.empty()) err("smpp.ussd.continue_ops", "must list at least one op");
  if (p.service_type.size() > 5) err("smpp.ussd.service_type", "must be at most 5 characters");
  if (p.max_gsm_chars < 40 || p.max_gsm_chars > 182)
    err("smpp.ussd.max_gsm_chars", "must be 40..182");
  if (p.max_ucs2_chars < 20 || p.max_ucs2_chars > 91)
    err("smpp.ussd.max_ucs2_chars", "must be 20..91");
  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::none_of(std::begin(levels), std::end(levels),
                   [&](const char* x) { return c.log.level == x; }))
    err("log.level", "must be one of trace, debug, info, warn, error, critical, off");
}

void load_billers(const toml::node& node, const std::string& path, load_result& r) {
  const auto* arr = node.as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    r.errors.push_back({path, static_cast<std::uint32_t>(node.source().begin.line), "billers",
                        "write each biller as a [[billers]] table"});
    return;
  }
  const setter set;
  for (std::size_t n = 0; n < arr->size(); ++n) {
    const auto& entry = *(*arr)[n].as_table();
    biller_config b;
    auto defs = biller_keys(b);
    const std::string where = fmt::format("billers[{}]", n + 1);
    for (auto&& [k, v] : entry) {
      const auto line = static_cast<std::uint32_t>(v.source().begin.line);
      const std::string key(k.str());  // clang 14 cannot capture a structured binding
      auto it =
          std::find_if(defs.begin(), defs.end(), [&](const key_def& d) { return d.key == key; });
      if (it == defs.end()) {
        r.errors.push_back({path, line, where + "." + std::string(k.str()), "unknown key"});
        continue;
      }
      if (auto e = set.from_node(it->where, v))
        r.errors.push_back({path, line, where + "." + std::string(k.str()), *e});
    }
    auto err = [&](const char* key, std::string msg) {
      r.errors.push_back({path, static_cast<std::uint32_t>(entry.source().begin.line),
                          where + "." + key, std::move(msg)});
    };
    const auto& i = b.info;
    if (i.id.empty() || i.id.size() > 16 ||
        i.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
      err("id", "must be 1..16 characters of a-z, 0-9, - and _");
    for (const auto& other : r.cfg.billers)
      if (other.info.id == i.id) err("id", "'" + i.id + "' is used twice");
    if (i.name.empty() || i.name.size() > 16)
      err("name", "must be 1..16 characters (it is shown on screens)");
    if (i.category != "electricity" && i.category != "water" && i.category != "gas" &&
        i.category != "fuel")
      err("category", "must be electricity, water, gas or fuel");
    if (i.currency.size() != 3) err("currency", "must be an ISO 4217 code such as PKR");
    if (i.account.min_length == 0 || i.account.min_length > i.account.max_length ||
        i.account.max_length > 20)
      err("account_max", "need 1 <= account_min <= account_max <= 20");
    if (b.kind != "demo" && b.kind != "http") err("kind", "must be \"demo\" or \"http\"");
    if (b.kind == "http" && !b.http.base_url.starts_with("https://"))
      err("base_url", "an http biller needs base_url = \"https://host[:port][/prefix]\"");
    if (b.fee_percent > 100) err("fee_percent", "must be 0..100");
    if (b.demo.reject_rate > 1) err("reject_rate", "must be 0..1");
    if (b.demo.timeout_rate > 1) err("timeout_rate", "must be 0..1");
    if (r.cfg.billers.size() >= 64) {
      err("id", "at most 64 billers");
      return;
    }
    r.cfg.billers.push_back(std::move(b));
  }
}

}  // namespace

load_result load_config(const std::string& path, char** env) {
  std::string text;
  if (!path.empty()) {
    std::error_code ec;
    std::ifstream f(path, std::ios::binary);
    if (!f || std::filesystem::is_directory(path, ec)) {
      load_result r;
      r.cfg.source = path;
      r.errors.push_back({path, 0, "", "cannot read the file"});
      return r;
    }
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  return load_config_text(text, path, env);
}

load_result load_config_text(std::string_view toml_text, const std::string& path, char** env,
                             const secret_reader& read_secret) {
  load_result r;
  r.cfg.source = path;
  auto defs = keys(r.cfg);
  const setter set;

  if (!path.empty() || !toml_text.empty()) {
    toml::table root;
    try {
      root = toml::parse(toml_text, path);
    } catch (const toml::parse_error& e) {
      r.errors.push_back({path, static_cast<std::uint32_t>(e.source().begin.line), "",
                          std::string(e.description())});
      return r;
    }
    // Sections may nest one level ([smpp.ussd]); collect every (section, key, node) first.
    struct entry {
      std::string section, key;
      const toml::node* node;
    };
    std::vector<entry> entries;
    for (auto&& [sec_name, sec_node] : root) {
      const std::string section(sec_name.str());
      if (section == "billers") {
        load_billers(sec_node, path, r);
        continue;
      }
      const auto* sec = sec_node.as_table();
      if (sec == nullptr) {
        r.errors.push_back({path, static_cast<std::uint32_t>(sec_node.source().begin.line), section,
                            "expected a [section]"});
        continue;
      }
      for (auto&& [key_name, node] : *sec) {
        const std::string key(key_name.str());
        if (const auto* sub = node.as_table()) {
          for (auto&& [k2, n2] : *sub)
            entries.push_back({section + "." + key, std::string(k2.str()), &n2});
          continue;
        }
        entries.push_back({section, key, &node});
      }
    }
    // The named USSD profile is the base the other [smpp.ussd] keys override.
    for (const auto& e : entries)
      if (e.section == "smpp.ussd" && e.key == "profile")
        if (auto name = e.node->value<std::string>())
          if (auto base = ussd::builtin_profile(*name)) r.cfg.ussd_profile = *base;
    if (const char* name = env_value(env, "USSDPAY_SMPP_USSD_PROFILE"))
      if (auto base = ussd::builtin_profile(name)) r.cfg.ussd_profile = *base;
    for (const auto& e : entries) {
      const auto line = static_cast<std::uint32_t>(e.node->source().begin.line);
      auto it = std::find_if(defs.begin(), defs.end(), [&](const key_def& d) {
        return d.section == e.section && d.key == e.key;
      });
      if (it == defs.end()) {
        r.errors.push_back({path, line, e.section + "." + e.key, "unknown key"});
        continue;
      }
      if (auto err = set.from_node(it->where, *e.node))
        r.errors.push_back({path, line, e.section + "." + e.key, *err});
    }
  } else if (const char* name = env_value(env, "USSDPAY_SMPP_USSD_PROFILE")) {
    if (auto base = ussd::builtin_profile(name)) r.cfg.ussd_profile = *base;
  }

  std::map<std::string, std::string> environment;
  for (char** e = env; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq != nullptr && std::strncmp(*e, "USSDPAY_", 8) == 0)
      environment.emplace(std::string(static_cast<const char*>(*e), eq), std::string(eq + 1));
  }
  for (const auto& d : defs) {
    const std::string name = env_name(d);
    auto it = environment.find(name);
    if (it == environment.end()) continue;
    if (auto e = set.from_text(d.where, it->second))
      r.errors.push_back({"environment", 0, name, *e});
  }

  // Relative paths are relative to the configuration file's directory, so the daemon finds its
  // menus wherever it is started from.
  if (!path.empty()) {
    const auto base = std::filesystem::path(path).parent_path();
    for (std::string* p :
         {&r.cfg.ussd.menus, &r.cfg.demo_bills_file, &r.cfg.smpp_password_file,
          &r.cfg.smpp.endpoint.tls_ca_file, &r.cfg.store.path, &r.cfg.pin.pepper_file,
          &r.cfg.admin.token_file, &r.cfg.admin.tls_cert_file, &r.cfg.admin.tls_key_file,
          &r.cfg.admin.tls_ca_file, &r.cfg.store.url_file})
      if (!p->empty() && std::filesystem::path(*p).is_relative()) *p = (base / *p).string();
    for (auto& b : r.cfg.billers)
      if (!b.http.ca_file.empty() && std::filesystem::path(b.http.ca_file).is_relative())
        b.http.ca_file = (base / b.http.ca_file).string();
  }
  // Secrets from files: the first line. The password file always wins; the token and the
  // pepper only when the environment did not give them.
  const secret_reader from_disk = [](const std::string& file) -> std::optional<std::string> {
    std::ifstream f(file);
    std::string line;
    if (!f || !std::getline(f, line)) return std::nullopt;
    return line;
  };
  const secret_reader& read = read_secret ? read_secret : from_disk;
  const auto secret = [&](const std::string& file, std::string_view key, std::string& into) {
    if (file.empty()) return;
    if (auto line = read(file))
      into = std::move(*line);
    else
      r.errors.push_back({path, 0, std::string(key), "cannot read " + file});
  };
  secret(r.cfg.smpp_password_file, "smpp.password_file", r.cfg.smpp.link.password);
  if (r.cfg.admin.token.empty())
    secret(r.cfg.admin.token_file, "admin.token_file", r.cfg.admin.token);
  if (r.cfg.pin.pepper.empty()) secret(r.cfg.pin.pepper_file, "pin.pepper_file", r.cfg.pin.pepper);
  if (r.cfg.store.url.empty()) secret(r.cfg.store.url_file, "store.url_file", r.cfg.store.url);
  validate(r.cfg, path, r.errors);
  return r;
}

std::string format_errors(const std::vector<config_error>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (e.line > 0)
      out += fmt::format("{}:{}: ", e.file, e.line);
    else if (!e.file.empty())
      out += fmt::format("{}: ", e.file);
    if (!e.key.empty()) out += e.key + ": ";
    out += e.message + "\n";
  }
  return out;
}

}  // namespace ussdpay
