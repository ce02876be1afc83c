// libFuzzer target for the daemon's configuration (gateway/config/config.hpp): etc/ussdpay.toml and
// the USSDPAY_* environment, as an operator (or a deploy script) could write them.
//
// Input layout: the TOML text, then optionally a NUL byte and environment lines
// (NAME=VALUE, one per line; only USSDPAY_* names mean anything). The text is loaded as if read
// from /fuzz/etc/ussdpay.toml; secret files (password_file, token_file, pepper_file) are "read"
// by a fake that gives the file's (resolved) path as its first line, or nothing for a path
// ending in "missing", so nothing touches the disk. Invariants checked (abort on violation):
//   * load_config_text never crashes and every error says what and where (a file line only for
//     the file, "environment" for an override);
//   * a configuration without errors keeps the rules --check-config promises: numbers finite
//     and >= 0, durations >= 0, payment timings in order, bounded lists, billers with unique
//     ids, and every path absolute (relative ones resolved against the file's directory).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/config/config.hpp"

namespace {

constexpr const char* config_path = "/fuzz/etc/ussdpay.toml";

[[noreturn]] void fail(const char* what, std::string_view in) {
  std::fprintf(stderr, "config_fuzz: %s\ninput (%zu bytes):\n%.*s\n", what, in.size(),
               static_cast<int>(in.size()), in.data());
  std::abort();
}

std::optional<std::string> fake_secret(const std::string& file) {
  if (std::string_view(file).ends_with("missing")) return std::nullopt;
  return file;
}

bool finite_non_negative(double d) {
  return std::isfinite(d) && d >= 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto nul = in.find('\0');
  const std::string_view toml = in.substr(0, nul);

  std::vector<std::string> vars;
  if (nul != std::string_view::npos) {
    std::string_view rest = in.substr(nul + 1);
    while (!rest.empty() && vars.size() < 32) {
      const auto nl = rest.find('\n');
      vars.emplace_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }
  std::vector<char*> env;
  for (auto& v : vars) env.push_back(v.data());  // a NUL inside a value ends it, as in environ
  env.push_back(nullptr);

  const auto r = ussdpay::load_config_text(toml, config_path, env.data(), fake_secret);
  const std::string report = ussdpay::format_errors(r.errors);
  for (const auto& e : r.errors) {
    if (e.message.empty()) fail("an error without a message", in);
    if (e.file != config_path && e.file != "environment") fail("an error from nowhere", in);
    if (e.line > 0 && e.file != config_path) fail("an environment error with a line", in);
    if (report.find(e.message) == std::string::npos) fail("format_errors lost an error", in);
  }
  if (!r.errors.empty()) return 0;

  const auto& c = r.cfg;
  const auto& l = c.smpp.link;
  if (!finite_non_negative(l.tps)) fail("smpp.tps not a finite number >= 0", in);
  if (l.window == 0 || l.window > 10000 || c.smpp.binds == 0 || c.smpp.binds > 64)
    fail("smpp window or binds out of bounds", in);
  if (l.limits.max_command_length < 64 || l.limits.max_command_length > 65535)
    fail("smpp.max_command_length out of bounds", in);
  if (l.system_id.empty() || l.system_id.size() > 15 || l.password.size() > 8)
    fail("bind credentials out of bounds", in);
  for (const auto d :
       {l.connect_timeout, l.bind_timeout, l.response_timeout, l.queue_timeout,
        l.enquire_link_interval, l.inactivity_timeout, l.flow.interval, l.reconnect_initial,
        l.reconnect_max, l.drain_timeout, l.unbind_timeout, c.ussd.session_timeout,
        c.ussd.resume_window, c.pin.lockout, c.payments.biller_timeout,
        c.payments.limits.velocity_window, c.payments.limits.duplicate_window})
    if (d.count() < 0) fail("a negative duration", in);
  const auto& u = c.ussd;
  if (u.service_code.size() < 3 || u.service_code.front() != '*' || u.service_code.back() != '#')
    fail("ussd.service_code not like *123#", in);
  if (u.currency.size() != 3) fail("ussd.currency not 3 letters", in);
  if (c.payments.answer_within.count() <= 0 || c.payments.answer_within >= u.payment_timeout)
    fail("payments.answer_within not within ussd.payment_timeout", in);
  if (!c.pin.pepper.empty() && c.pin.pepper.size() < 16) fail("a short pepper", in);
  if (!c.admin.token.empty() && c.admin.token.size() < 16) fail("a short admin token", in);
  if (c.ussd_profile.begin_ops.empty() || c.ussd_profile.continue_ops.empty())
    fail("a USSD profile without begin or continue ops", in);
  if (c.billers.size() > 64) fail("more than 64 billers", in);
  for (std::size_t i = 0; i < c.billers.size(); ++i) {
    const auto& b = c.billers[i];
    if (!finite_non_negative(b.fee_percent) || b.fee_percent > 100)
      fail("billers.fee_percent out of bounds", in);
    if (!finite_non_negative(b.demo.reject_rate) || b.demo.reject_rate > 1 ||
        !finite_non_negative(b.demo.timeout_rate) || b.demo.timeout_rate > 1)
      fail("a demo biller's rate out of bounds", in);
    if (b.info.id.empty() || b.info.id.size() > 16) fail("a biller id out of bounds", in);
    for (std::size_t j = 0; j < i; ++j)
      if (c.billers[j].info.id == b.info.id) fail("two billers with one id", in);
    if (!b.http.ca_file.empty() && b.http.ca_file.front() != '/')
      fail("a relative biller ca_file", in);
  }
  for (const std::string* p :
       {&c.ussd.menus, &c.demo_bills_file, &c.smpp_password_file, &c.smpp.endpoint.tls_ca_file,
        &c.store.path, &c.pin.pepper_file, &c.admin.token_file, &c.admin.tls_cert_file,
        &c.admin.tls_key_file, &c.admin.tls_ca_file})
    if (!p->empty() && p->front() != '/') fail("a relative path left unresolved", in);
  return 0;
}
