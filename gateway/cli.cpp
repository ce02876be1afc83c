// ussdpay: the operator's command line. It reads the same configuration (and environment
// overrides) as the daemon, so both agree.
//
//   ussdpay check-menus [--config PATH] [--menus DIR]
//       loads and checks every screen in every language (lengths per encoding, targets,
//       variables, unreachable screens); prints each error with file, screen and language and
//       exits 1 when there is any.
//   ussdpay subscriber add --msisdn N --pin P --balance AMOUNT [--language L]
//   ussdpay subscriber import FILE.csv      (columns msisdn,pin,balance,language; a header row)
//       registers subscribers (or updates their PIN, language and balance) in [store] path:
//       the PIN is stored only as a peppered PBKDF2 hash; the balance is set with ledger
//       transfers from the funding account, so the ledger stays balanced.
//   ussdpay subscriber show --msisdn N
//       language, wallet balance and PIN state (never the PIN or its hash).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "adapters/pin.hpp"
#include "gateway/config.hpp"
#include "menus/catalog.hpp"
#include "menus/format.hpp"
#include "store/ledger.hpp"
#include "store/schema.hpp"

extern char** environ;

namespace {

using namespace ussdpay;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The writer connection, migrated; exits with a message when it cannot be had.
store::db open_store(const config& cfg) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cfg.store.path).parent_path(), ec);
  store::db_error err;
  auto d = store::db::open(cfg.store.path, store::open_mode::writer, err);
  if (!d) {
    std::cerr << "ussdpay: cannot open " << cfg.store.path << ": " << err.message << "\n";
    std::exit(1);
  }
  if (auto e = store::migrate(*d)) {
    std::cerr << "ussdpay: " << cfg.store.path << ": " << e->message << "\n";
    std::exit(1);
  }
  return std::move(*d);
}

struct new_subscriber {
  std::string msisdn, pin, balance, language;
};

/// Registers or updates one subscriber inside the caller's transaction; "" or the reason.
std::string apply(store::db& d, const config& cfg, new_subscriber n, std::int64_t seq) {
  const auto msisdn = store::normalise_msisdn(n.msisdn);
  std::string why;
  if (!msisdn)
    why = "msisdn must be 8..15 digits with the country code, e.g. +923001234567";
  else if (!adapters::pin_format_ok(n.pin))
    why = "pin must be 4 digits";
  else if (adapters::weak_pin(n.pin))
    why = "pin is too easy to guess (like 1234 or 0000)";
  const auto amount = menus::parse_money(n.balance, cfg.ussd.currency);
  if (why.empty() && !amount) why = "balance must be an amount such as 2500 or 2,500.50";
  if (why.empty() && !n.language.empty() && n.language != "en" && n.language != "ur" &&
      n.language != "hi" && n.language != "sw")
    why = "language must be en, ur, hi or sw";
  if (!why.empty()) {
    adapters::wipe(n.pin);
    return why;
  }
  auto h = adapters::hash_pin(n.pin, cfg.pin.pepper, cfg.pin.iterations);
  adapters::wipe(n.pin);
  store::subscriber_record r{*msisdn, n.language, h.hash, h.salt, h.kdf, 0, 0, now_ms()};
  if (auto e = store::upsert_subscriber(d, r)) return e->message;
  const auto& cur = cfg.ussd.currency;
  const auto wallet = store::account_id(d, store::account_kind::wallet, *msisdn, cur, true);
  const auto funding = store::account_id(d, store::account_kind::funding, "", cur, true);
  store::account_id(d, store::account_kind::hold, *msisdn, cur, true);
  if (!wallet || !funding) return "cannot create the wallet account";
  const auto have = store::balance(d, *wallet).value_or(0);
  if (*amount == have) return {};
  // The wallet is set to the amount by a transfer from (or back to) the funding account.
  const std::string id = fmt::format("admin-balance/{}/{}/{}", *msisdn, r.created_at, seq);
  const auto st = *amount > have
                      ? store::transfer(d, id, *funding, *wallet, *amount - have, r.created_at)
                      : store::transfer(d, id, *wallet, *funding, have - *amount, r.created_at);
  return st == store::transfer_status::done ? std::string() : "the balance transfer failed";
}

int subscriber_add(const config& cfg, new_subscriber n) {
  auto d = open_store(cfg);
  d.exec("BEGIN IMMEDIATE");
  const std::string shown = n.msisdn;
  if (auto why = apply(d, cfg, std::move(n), 0); !why.empty()) {
    d.exec("ROLLBACK");
    std::cerr << "ussdpay subscriber add: " << shown << ": " << why << "\n";
    return 1;
  }
  if (auto e = d.exec("COMMIT")) {
    std::cerr << "ussdpay subscriber add: " << e->message << "\n";
    return 1;
  }
  std::cout << "subscriber " << *store::normalise_msisdn(shown) << " saved\n";
  return 0;
}

int subscriber_import(const config& cfg, const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "ussdpay subscriber import: cannot read " << file << "\n";
    return 1;
  }
  auto d = open_store(cfg);
  d.exec("BEGIN IMMEDIATE");
  std::string line;
  std::size_t lineno = 0, saved = 0, bad = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1) {
      if (line != "msisdn,pin,balance,language") {
        std::cerr << file << ":1: the header must be msisdn,pin,balance,language\n";
        d.exec("ROLLBACK");
        return 1;
      }
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::size_t pos = 0;
    while (f.size() < 5) {
      const auto comma = line.find(',', pos);
      f.push_back(line.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    std::string why;
    if (line.size() > 200 || f.size() != 4)
      why = "expected 4 fields: msisdn,pin,balance,language";
    else
      why = apply(d, cfg, {f[0], f[1], f[2], f[3]}, static_cast<std::int64_t>(lineno));
    for (auto& x : f) adapters::wipe(x);
    adapters::wipe(line);
    if (!why.empty()) {
      std::cerr << file << ":" << lineno << ": " << why << "\n";
      ++bad;
    } else {
      ++saved;
    }
  }
  // All or nothing: a file with any bad row changes nothing, so it can be fixed and re-run.
  if (bad > 0) {
    d.exec("ROLLBACK");
    std::cerr << "ussdpay subscriber import: " << bad << " bad row(s); nothing imported\n";
    return 1;
  }
  if (auto e = d.exec("COMMIT")) {
    std::cerr << "ussdpay subscriber import: " << e->message << "\n";
    return 1;
  }
  std::cout << "imported " << saved << " subscriber(s) from " << file << "\n";
  return 0;
}

int subscriber_show(const config& cfg, const std::string& number) {
  const auto msisdn = store::normalise_msisdn(number);
  if (!msisdn) {
    std::cerr << "ussdpay subscriber show: " << number << " is not an MSISDN\n";
    return 1;
  }
  auto d = open_store(cfg);
  auto r = store::find_subscriber(d, *msisdn);
  if (!r) {
    std::cerr << "ussdpay subscriber show: " << *msisdn << " is not registered\n";
    return 1;
  }
  const auto wallet =
      store::account_id(d, store::account_kind::wallet, *msisdn, cfg.ussd.currency, false);
  const auto bal = wallet ? store::balance(d, *wallet).value_or(0) : 0;
  std::cout << fmt::format("msisdn={} language={} balance={} pin={} failed_pins={}\n", r->msisdn,
                           r->language.empty() ? "-" : r->language,
                           menus::format_money(bal, cfg.ussd.currency),
                           r->pin_hash.empty() ? "unset" : "set", r->failed_pins);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ussdpay: operate a ussdpay gateway"};
  app.require_subcommand(1);
  app.fallthrough();  // --config may come after the subcommand too
  std::string config_path = "etc/ussdpay.toml";
  app.add_option("--config", config_path, "configuration file (TOML)");

  auto* check = app.add_subcommand("check-menus", "check the menus and their texts");
  std::string dir;
  check->add_option("--menus", dir, "menus directory (default: [ussd] menus)");

  auto* sub = app.add_subcommand("subscriber", "register and look up subscribers");
  sub->require_subcommand(1);
  new_subscriber n;
  auto* add = sub->add_subcommand("add", "register a subscriber, or set PIN, language, balance");
  add->add_option("--msisdn", n.msisdn, "E.164, with or without +")->required();
  add->add_option("--pin", n.pin, "4 digits")->required();
  add->add_option("--balance", n.balance, "wallet balance, e.g. 2500 or 2,500.50")->required();
  add->add_option("--language", n.language, "en, ur, hi or sw");
  std::string file;
  auto* import = sub->add_subcommand("import", "register subscribers from a CSV file");
  import->add_option("file", file, "CSV: msisdn,pin,balance,language")->required();
  std::string show_msisdn;
  auto* show = sub->add_subcommand("show", "a subscriber's language, balance and PIN state");
  show->add_option("--msisdn", show_msisdn, "E.164")->required();
  CLI11_PARSE(app, argc, argv);

  auto loaded = ussdpay::load_config(config_path, environ);
  if (!loaded.errors.empty()) {
    std::cerr << "ussdpay: configuration errors:\n" << ussdpay::format_errors(loaded.errors);
    return 2;
  }
  const auto& cfg = loaded.cfg;
  if ((*add || *import) && cfg.pin.pepper.empty()) {
    std::cerr << "ussdpay: no PIN pepper: set [pin] pepper_file or USSDPAY_PIN_PEPPER\n";
    return 2;
  }
  if (*add) return subscriber_add(cfg, std::move(n));
  if (*import) return subscriber_import(cfg, file);
  if (*show) return subscriber_show(cfg, show_msisdn);
  if (*check) {
    if (dir.empty()) dir = cfg.ussd.menus;
    const ussdpay::menus::length_limits limits{cfg.ussd_profile.max_gsm_chars,
                                               cfg.ussd_profile.max_ucs2_chars};
    auto r = ussdpay::menus::load_catalog(dir, limits);
    if (!r.errors.empty()) {
      std::cerr << ussdpay::menus::format_errors(r.errors);
      std::cerr << "ussdpay check-menus: " << r.errors.size() << " error(s) in " << dir << "\n";
      return 1;
    }
    std::cout << "ussdpay check-menus: " << dir << ": " << r.cat->screens.size() << " screens in "
              << r.cat->languages.size() << " languages OK (limits " << limits.gsm << " GSM / "
              << limits.ucs2 << " UCS-2 characters)\n";
  }
  return 0;
}
