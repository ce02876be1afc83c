// ussdpay: the operator's command line. It reads the same configuration (and environment
// overrides) as the daemon, so both agree.
//
//   ussdpay check-menus [--config PATH] [--menus DIR]
//       loads and checks every screen in every language (lengths per encoding, targets,
//       variables, unreachable screens); prints each error with file, screen and language and
//       exits 1 when there is any.
#include <iostream>

#include <CLI/CLI.hpp>

#include "gateway/config.hpp"
#include "menus/catalog.hpp"

extern char** environ;

int main(int argc, char** argv) {
  CLI::App app{"ussdpay: operate a ussdpay gateway"};
  app.require_subcommand(1);
  app.fallthrough();  // --config may come after the subcommand too
  std::string config_path = "etc/ussdpay.toml";
  app.add_option("--config", config_path, "configuration file (TOML)");

  auto* check = app.add_subcommand("check-menus", "check the menus and their texts");
  std::string dir;
  check->add_option("--menus", dir, "menus directory (default: [ussd] menus)");
  CLI11_PARSE(app, argc, argv);

  auto loaded = ussdpay::load_config(config_path, environ);
  if (!loaded.errors.empty()) {
    std::cerr << "ussdpay: configuration errors:\n" << ussdpay::format_errors(loaded.errors);
    return 2;
  }
  const auto& cfg = loaded.cfg;
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
