// ussdpayd: the ussdpay daemon. Arguments, --check-config, logging, the store opened and
// migrated; then the daemon (gateway/daemon.hpp) owns every part until a stop signal.
#include <malloc.h>

#include <iostream>
#include <optional>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "gateway/daemon.hpp"
#include "store/schema.hpp"

namespace {

void setup_logging(const ussdpay::log_config& c) {
  auto logger = spdlog::stderr_color_mt("ussdpayd");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(c.level));
  if (c.json)
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","pid":%P,"msg":"%v"})");
  else
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace

int main(int argc, char** argv) {
  // SQLite allocates and frees its statement and page caches around every transaction. With
  // glibc's defaults the freed memory went back to the kernel each time (madvise) and was
  // faulted in again on the next: a third of the writer thread's time under load (perf,
  // docs/benchmarks.md). Keep up to 64 MiB of freed heap for reuse instead.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  CLI::App app{"ussdpayd: USSD bill payments over SMPP 3.4"};
  std::string config_path = "etc/ussdpay.toml";
  bool check_only = false;
  app.add_option("--config", config_path, "configuration file (TOML)");
  app.add_flag("--check-config", check_only,
               "check the configuration and the menus, report every error, exit");
  CLI11_PARSE(app, argc, argv);

  std::string errors;
  auto checked = ussdpay::check_config(config_path, errors);
  if (!checked) {
    std::cerr << "ussdpayd: " << errors;
    return 2;
  }
  if (check_only) {
    std::cout << config_path << ": configuration OK; menus in " << checked->cfg.ussd.menus
              << " OK\n";
    // A server is checked too: can we reach it, and which schema version does it hold.
    if (const auto where = checked->cfg.store.where();
        where.kind == ussdpay::store::backend::postgresql) {
      ussdpay::store::db_error err;
      auto d = ussdpay::store::db::open(where, ussdpay::store::open_mode::reader, err);
      if (!d) {
        std::cerr << "ussdpayd: store: cannot connect to " << where.describe() << ": "
                  << err.message << "\n";
        return 1;
      }
      std::cout << "store: " << where.describe() << " reachable; schema version "
                << ussdpay::store::schema_version(*d)
                << " (this build: " << ussdpay::store::migrations().back().version << ")\n";
    }
    return 0;
  }
  setup_logging(checked->cfg.log);
  if (checked->cfg.pin.pepper.empty()) {
    std::cerr << "ussdpayd: no PIN pepper: set [pin] pepper_file or USSDPAY_PIN_PEPPER\n";
    return 2;
  }
  std::string why;
  auto conn = ussdpay::store::open_writer(checked->cfg.store.where(), why);
  if (!conn) {
    std::cerr << "ussdpayd: " << why << "\n";
    return 1;
  }
  // Built here, run below: an exception while serving is a bug and is not dressed up as a
  // start-up error.
  std::optional<ussdpay::daemon> d;
  try {
    d.emplace(std::move(*checked), std::move(*conn));
  } catch (const ussdpay::startup_error& e) {
    std::cerr << "ussdpayd: " << e.what() << "\n";
    return e.exit_code;
  } catch (const std::runtime_error& e) {  // a biller that cannot be built
    std::cerr << "ussdpayd: " << e.what() << "\n";
    return 2;
  }
  return d->run();
}
