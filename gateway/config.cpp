#include "gateway/config.hpp"

#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <variant>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace ussdpay {
namespace {

using std::chrono::milliseconds;

struct bind_setting {
  smpp::smsc_config* smsc;
};
using target = std::variant<std::string*, bool*, std::uint16_t*, std::uint32_t*, std::size_t*,
                            double*, milliseconds*, bind_setting>;

struct key_def {
  std::string section;  // "smpp", "ussd", "log"
  std::string key;
  target where;
};

std::vector<key_def> keys(config& c) {
  auto& s = c.smpp;
  auto& l = s.link;
  auto& e = s.endpoint;
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
      {"smpp", "bind", bind_setting{&s}},
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
      {"smpp", "throttle_backoff", &l.throttle_backoff},
      {"smpp", "throttle_backoff_max", &l.throttle_backoff_max},
      {"smpp", "reconnect_initial", &l.reconnect_initial},
      {"smpp", "reconnect_max", &l.reconnect_max},
      {"smpp", "drain_timeout", &l.drain_timeout},
      {"smpp", "unbind_timeout", &l.unbind_timeout},
      {"smpp", "max_command_length", &l.limits.max_command_length},
      {"smpp", "max_tlvs", &l.limits.max_tlvs},
      {"ussd", "service_code", &c.ussd.service_code},
      {"ussd", "welcome", &c.ussd.welcome},
      {"log", "level", &c.log.level},
      {"log", "json", &c.log.json},
  };
}

std::string env_name(const key_def& k) {
  std::string n = "USSDPAY_" + k.section + "_" + k.key;
  for (auto& ch : n)
    ch = ch == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return n;
}

/// "250ms", "30s", "2m", "1h".
std::optional<milliseconds> parse_duration(std::string_view v) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p == v.data() || n < 0) return std::nullopt;
  const std::string_view unit(p, static_cast<std::size_t>(v.data() + v.size() - p));
  if (unit == "ms") return milliseconds(n);
  if (unit == "s") return milliseconds(n * 1000);
  if (unit == "m") return milliseconds(n * 60'000);
  if (unit == "h") return milliseconds(n * 3'600'000);
  return std::nullopt;
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
            if (end == v.c_str() || *end != '\0' || d < 0)
              return std::string("must be a number >= 0");
            *p = d;
            return std::nullopt;
          } else if constexpr (std::is_same_v<P, milliseconds*>) {
            auto d = parse_duration(v);
            if (!d) return std::string("must be a duration such as \"500ms\", \"30s\" or \"2m\"");
            *p = *d;
            return std::nullopt;
          } else if constexpr (std::is_same_v<P, bind_setting>) {
            if (v == "transceiver")
              p.smsc->pair = false;
            else if (v == "transmitter_receiver")
              p.smsc->pair = true;
            else
              return std::string("must be \"transceiver\" or \"transmitter_receiver\"");
            return std::nullopt;
          } else {
            std::int64_t n = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || end != v.data() + v.size())
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
            if (auto f = n.value<double>(); f && *f >= 0) {
              *p = *f;
              return std::nullopt;
            }
            return std::string("must be a number >= 0");
          } else if constexpr (std::is_same_v<P, std::string*> ||
                               std::is_same_v<P, milliseconds*> ||
                               std::is_same_v<P, bind_setting>) {
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
  if (l.limits.max_command_length < 64 || l.limits.max_command_length > 65535)
    err("smpp.max_command_length", "must be 64..65535");
  if (l.limits.max_tlvs == 0 || l.limits.max_tlvs > 64) err("smpp.max_tlvs", "must be 1..64");
  if (l.reconnect_initial.count() == 0 || l.reconnect_max < l.reconnect_initial)
    err("smpp.reconnect_max", "must be >= reconnect_initial > 0");
  if (l.enquire_link_interval.count() == 0) err("smpp.enquire_link_interval", "must be > 0");
  if (l.inactivity_timeout <= l.enquire_link_interval)
    err("smpp.inactivity_timeout", "must be longer than enquire_link_interval");
  if (c.ussd.service_code.empty()) err("ussd.service_code", "must not be empty");
  if (c.ussd.welcome.empty() || c.ussd.welcome.size() > 182)
    err("ussd.welcome", "must be 1..182 characters");
  static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  if (std::none_of(std::begin(levels), std::end(levels),
                   [&](const char* x) { return c.log.level == x; }))
    err("log.level", "must be one of trace, debug, info, warn, error, critical, off");
}

}  // namespace

load_result load_config(const std::string& path, char** env) {
  load_result r;
  r.cfg.source = path;
  auto defs = keys(r.cfg);
  const setter set;

  if (!path.empty()) {
    toml::table root;
    try {
      root = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      r.errors.push_back({path, static_cast<std::uint32_t>(e.source().begin.line), "",
                          std::string(e.description())});
      return r;
    }
    for (auto&& [sec_name, sec_node] : root) {
      const std::string section(sec_name.str());
      const auto* sec = sec_node.as_table();
      if (sec == nullptr) {
        r.errors.push_back({path, static_cast<std::uint32_t>(sec_node.source().begin.line), section,
                            "expected a [section]"});
        continue;
      }
      for (auto&& [key_name, node] : *sec) {
        const std::string key(key_name.str());
        const auto line = static_cast<std::uint32_t>(node.source().begin.line);
        auto it = std::find_if(defs.begin(), defs.end(), [&](const key_def& d) {
          return d.section == section && d.key == key;
        });
        if (it == defs.end()) {
          r.errors.push_back({path, line, section + "." + key, "unknown key"});
          continue;
        }
        if (auto e = set.from_node(it->where, node))
          r.errors.push_back({path, line, section + "." + key, *e});
      }
    }
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

  if (!r.cfg.smpp_password_file.empty()) {
    std::ifstream f(r.cfg.smpp_password_file);
    std::string line;
    if (!f || !std::getline(f, line))
      r.errors.push_back(
          {path, 0, "smpp.password_file", "cannot read " + r.cfg.smpp_password_file});
    else
      r.cfg.smpp.link.password = line;
  }
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
