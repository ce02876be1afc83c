// The configuration loaded from text (load_config_text, the loader's one code path) with secret
// files read through a fake: the regressions tests/fuzz/config_fuzz.cpp found.
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "gateway/config/config.hpp"

namespace {

// The smallest configuration that validates, as if read from /etc/ussdpay/ussdpay.toml.
const std::string minimal = "[smpp]\nsystem_id = \"ussdpay\"\n";
const std::string path = "/etc/ussdpay/ussdpay.toml";

std::optional<std::string> no_secret(const std::string&) {
  return std::nullopt;
}

bool has_error(const ussdpay::load_result& r, const std::string& key) {
  for (const auto& e : r.errors)
    if (e.key == key) return true;
  return false;
}

}  // namespace

TEST_CASE("config text: loads like the file, relative paths from the file's directory",
          "[config]") {
  auto r = ussdpay::load_config_text(minimal + "[store]\npath = \"db/ussdpay.db\"\n", path, nullptr,
                                     no_secret);
  INFO(ussdpay::format_errors(r.errors));
  REQUIRE(r.errors.empty());
  CHECK(r.cfg.source == path);
  CHECK(r.cfg.store.path == "/etc/ussdpay/db/ussdpay.db");
  CHECK(r.cfg.ussd.menus == "/etc/ussdpay/menus");
}

TEST_CASE("config text: secret files go through the reader, a missing one is an error",
          "[config]") {
  std::vector<std::string> asked;
  const ussdpay::secret_reader reader = [&](const std::string& file) -> std::optional<std::string> {
    asked.push_back(file);
    if (file.ends_with("pepper")) return "a-pepper-of-twenty-chars";
    return std::nullopt;
  };
  auto r = ussdpay::load_config_text(
      minimal + "password_file = \"pw\"\n[pin]\npepper_file = \"secrets/pepper\"\n", path, nullptr,
      reader);
  CHECK(asked == std::vector<std::string>{"/etc/ussdpay/pw", "/etc/ussdpay/secrets/pepper"});
  CHECK(r.cfg.pin.pepper == "a-pepper-of-twenty-chars");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key == "smpp.password_file");
  CHECK(r.errors[0].message == "cannot read /etc/ussdpay/pw");
}

TEST_CASE("config text: durations too long for 64 bits are refused, not wrapped", "[config]") {
  // 9223372036854775807 h in milliseconds overflowed (undefined behaviour) before.
  auto r = ussdpay::load_config_text(minimal +
                                         "[ussd]\nsession_timeout = \"9223372036854775807h\"\n"
                                         "max_session_length = \"2562047788015216h\"\n"
                                         "resume_window = \"876000h\"\n",
                                     path, nullptr, no_secret);
  CHECK(has_error(r, "ussd.session_timeout"));
  CHECK(has_error(r, "ussd.max_session_length"));
  CHECK_FALSE(has_error(r, "ussd.resume_window"));  // 100 years is the longest
  CHECK(r.cfg.ussd.resume_window == std::chrono::hours(876'000));
  std::string env_line = "USSDPAY_PAYMENTS_MANUAL_REVIEW_AFTER=876001h";
  char* env[] = {env_line.data(), nullptr};
  auto e = ussdpay::load_config_text(minimal, path, env, no_secret);
  CHECK(has_error(e, "USSDPAY_PAYMENTS_MANUAL_REVIEW_AFTER"));
}

TEST_CASE("config text: numbers must be finite (nan and inf refused)", "[config]") {
  for (const char* v : {"nan", "inf", "-inf", "NAN", "infinity", "1e999"}) {
    std::string env_line = std::string("USSDPAY_SMPP_TPS=") + v;
    char* env[] = {env_line.data(), nullptr};
    auto r = ussdpay::load_config_text(minimal, path, env, no_secret);
    INFO(v);
    CHECK(has_error(r, "USSDPAY_SMPP_TPS"));
    CHECK(r.cfg.smpp.link.tps == 0);
  }
  for (const char* v : {"nan", "inf", "+inf"}) {
    auto r = ussdpay::load_config_text(minimal + "tps = " + v + "\n", path, nullptr, no_secret);
    INFO(v);
    CHECK(has_error(r, "smpp.tps"));
  }
}

TEST_CASE(
    "config text: the PostgreSQL store needs its URL, from the file, url_file or the "
    "environment",
    "[config]") {
  using ussdpay::store::backend;
  // The default is the embedded SQLite file.
  auto sqlite = ussdpay::load_config_text(minimal, path, nullptr, no_secret);
  REQUIRE(sqlite.errors.empty());
  CHECK(sqlite.cfg.store.where().kind == backend::sqlite);
  CHECK(sqlite.cfg.store.where().target == sqlite.cfg.store.path);

  // postgresql without a URL is an error that says where a URL may come from.
  auto none = ussdpay::load_config_text(minimal + "[store]\nbackend = \"postgresql\"\n", path,
                                        nullptr, no_secret);
  CHECK(has_error(none, "store.url"));
  auto bad = ussdpay::load_config_text(minimal + "[store]\nbackend = \"mysql\"\n", path, nullptr,
                                       no_secret);
  CHECK(has_error(bad, "store.backend"));

  // url_file: its first line, relative to the configuration's directory.
  std::vector<std::string> asked;
  const ussdpay::secret_reader reader = [&](const std::string& file) -> std::optional<std::string> {
    asked.push_back(file);
    return "host=db1,db2 password=s3cret target_session_attrs=read-write";
  };
  auto from_file = ussdpay::load_config_text(
      minimal + "[store]\nbackend = \"postgresql\"\nurl_file = \"store-url\"\n", path, nullptr,
      reader);
  INFO(ussdpay::format_errors(from_file.errors));
  REQUIRE(from_file.errors.empty());
  CHECK(asked == std::vector<std::string>{"/etc/ussdpay/store-url"});
  CHECK(from_file.cfg.store.where().kind == backend::postgresql);
  CHECK(from_file.cfg.store.where().target ==
        "host=db1,db2 password=s3cret target_session_attrs=read-write");
  CHECK(from_file.cfg.store.where().describe().find("s3cret") == std::string::npos);

  // The environment wins over url_file, which is then not read.
  std::string url_env = "USSDPAY_STORE_URL=host=db3";
  std::string backend_env = "USSDPAY_STORE_BACKEND=postgresql";
  char* env[] = {url_env.data(), backend_env.data(), nullptr};
  asked.clear();
  auto from_env =
      ussdpay::load_config_text(minimal + "[store]\nurl_file = \"store-url\"\n", path, env, reader);
  REQUIRE(from_env.errors.empty());
  CHECK(asked.empty());
  CHECK(from_env.cfg.store.where().target == "host=db3");
}

TEST_CASE("config text: [cluster] needs PostgreSQL, a plain node name and ttls of three beats",
          "[config]") {
  const std::string pg = minimal + "[store]\nbackend = \"postgresql\"\nurl = \"host=db\"\n";
  auto ok = ussdpay::load_config_text(
      pg + "[cluster]\nnode = \"pay-1.khi\"\nlisten = \"10.0.0.5:7400\"\nheartbeat = \"500ms\"\n",
      path, nullptr, no_secret);
  INFO(ussdpay::format_errors(ok.errors));
  REQUIRE(ok.errors.empty());
  CHECK(ok.cfg.cluster.enabled());
  CHECK(ok.cfg.cluster.node == "pay-1.khi");
  CHECK(ok.cfg.cluster.heartbeat == std::chrono::milliseconds(500));
  // Alone by default.
  CHECK_FALSE(ussdpay::load_config_text(minimal, path, nullptr, no_secret).cfg.cluster.enabled());

  auto on_sqlite =
      ussdpay::load_config_text(minimal + "[cluster]\nnode = \"a\"\n", path, nullptr, no_secret);
  CHECK(has_error(on_sqlite, "cluster.node"));
  auto bad_name =
      ussdpay::load_config_text(pg + "[cluster]\nnode = \"a b\"\n", path, nullptr, no_secret);
  CHECK(has_error(bad_name, "cluster.node"));
  auto short_ttl = ussdpay::load_config_text(
      pg + "[cluster]\nnode = \"a\"\nheartbeat = \"1s\"\nlease_ttl = \"2s\"\n", path, nullptr,
      no_secret);
  CHECK(has_error(short_ttl, "cluster.lease_ttl"));
}
