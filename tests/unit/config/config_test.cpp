#include "gateway/config/config.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

// A TOML file in the temp dir, removed at scope exit.
struct temp_toml {
  std::string path;
  explicit temp_toml(const std::string& text) {
    char name[] = "/tmp/ussdpay-config-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
    std::ofstream(path) << text;
  }
  ~temp_toml() { std::remove(path.c_str()); }
};

// An environment block as ::environ would hold it.
struct fake_env {
  std::vector<std::string> vars;
  std::vector<char*> ptrs = {};
  char** get() {
    ptrs.clear();
    for (auto& v : vars) ptrs.push_back(v.data());
    ptrs.push_back(nullptr);
    return ptrs.data();
  }
};

}  // namespace

TEST_CASE("the shipped configuration loads without errors", "[config]") {
  auto r = ussdpay::load_config(USSDPAY_SOURCE_DIR "/etc/ussdpay.toml", nullptr);
  INFO(ussdpay::format_errors(r.errors));
  REQUIRE(r.errors.empty());
  CHECK(r.cfg.smpp.endpoint.port == 2775);
  CHECK(r.cfg.smpp.link.enquire_link_interval == std::chrono::seconds(30));
  CHECK(r.cfg.ussd.service_code == "*123#");
}

TEST_CASE("values from the file override the defaults", "[config]") {
  temp_toml f(R"([smpp]
host = "smsc.example"
port = 2776
window = 50
tps = 12.5
bind = "transmitter_receiver"
enquire_link_interval = "500ms"
inactivity_timeout = "2m"
[ussd]
support_phone = "0800 123"
session_timeout = "45s"
)");
  auto r = ussdpay::load_config(f.path, nullptr);
  INFO(ussdpay::format_errors(r.errors));
  REQUIRE(r.errors.empty());
  CHECK(r.cfg.smpp.endpoint.host == "smsc.example");
  CHECK(r.cfg.smpp.endpoint.port == 2776);
  CHECK(r.cfg.smpp.link.window == 50);
  CHECK(r.cfg.smpp.link.tps == Approx(12.5));
  CHECK(r.cfg.smpp.pair);
  CHECK(r.cfg.smpp.link.enquire_link_interval == std::chrono::milliseconds(500));
  CHECK(r.cfg.smpp.link.inactivity_timeout == std::chrono::minutes(2));
  CHECK(r.cfg.ussd.support_phone == "0800 123");
  CHECK(r.cfg.ussd.session_timeout == std::chrono::seconds(45));
}

TEST_CASE("environment overrides win over the file", "[config]") {
  temp_toml f("[smpp]\nport = 2776\npassword = \"file\"\n");
  fake_env env{{"USSDPAY_SMPP_PORT=3000", "USSDPAY_SMPP_PASSWORD=fromenv", "PATH=/bin",
                "USSDPAY_LOG_LEVEL=debug"}};
  auto r = ussdpay::load_config(f.path, env.get());
  INFO(ussdpay::format_errors(r.errors));
  REQUIRE(r.errors.empty());
  CHECK(r.cfg.smpp.endpoint.port == 3000);
  CHECK(r.cfg.smpp.link.password == "fromenv");
  CHECK(r.cfg.log.level == "debug");
}

TEST_CASE("every error is reported with file, line and key", "[config]") {
  temp_toml f(R"([smpp]
port = "not a number"
windw = 5
enquire_link_interval = 30
password = "much too long"
[nonsense]
x = 1
)");
  fake_env env{{"USSDPAY_SMPP_WINDOW=many"}};
  auto r = ussdpay::load_config(f.path, env.get());
  const std::string report = ussdpay::format_errors(r.errors);
  INFO(report);
  CHECK(report.find(f.path + ":2: smpp.port: must be an integer") != std::string::npos);
  CHECK(report.find(f.path + ":3: smpp.windw: unknown key") != std::string::npos);
  CHECK(report.find(f.path + ":4: smpp.enquire_link_interval: must be a string") !=
        std::string::npos);
  CHECK(report.find("smpp.password: must be at most 8 characters") != std::string::npos);
  CHECK(report.find(":7: nonsense.x: unknown key") != std::string::npos);
  CHECK(report.find("USSDPAY_SMPP_WINDOW: must be an integer") != std::string::npos);
  CHECK(r.errors.size() == 6);
}

TEST_CASE("a TOML syntax error names its line", "[config]") {
  temp_toml f("[smpp]\nport = 2775\nhost = \n");
  auto r = ussdpay::load_config(f.path, nullptr);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 3);
}

TEST_CASE("durations need a unit and ports must fit", "[config]") {
  temp_toml f("[smpp]\nport = 70000\nresponse_timeout = \"10 parsecs\"\n");
  auto r = ussdpay::load_config(f.path, nullptr);
  const std::string report = ussdpay::format_errors(r.errors);
  INFO(report);
  CHECK(report.find("smpp.port: must be between 0 and 65535") != std::string::npos);
  CHECK(report.find("smpp.response_timeout: must be a duration") != std::string::npos);
}

TEST_CASE("the bind password can come from a file", "[config]") {
  temp_toml secret("hunter2\n");
  temp_toml f("[smpp]\npassword_file = \"" + secret.path + "\"\n");
  auto r = ussdpay::load_config(f.path, nullptr);
  INFO(ussdpay::format_errors(r.errors));
  REQUIRE(r.errors.empty());
  CHECK(r.cfg.smpp.link.password == "hunter2");
}

TEST_CASE("the USSD profile starts from a built-in dialect and keys override it", "[config]") {
  temp_toml f(R"([smpp.ussd]
abort_ops = [0x81, 0x82]
profile = "mica"
service_type = "USS"
)");
  fake_env env{{"USSDPAY_SMPP_USSD_END_OP=0x11", "USSDPAY_SMPP_USSD_CONTINUE_OPS=2,18"}};
  auto r = ussdpay::load_config(f.path, env.get());
  INFO(ussdpay::format_errors(r.errors));
  REQUIRE(r.errors.empty());
  const auto& p = r.cfg.ussd_profile;
  // The named profile is the base even though it comes after an override in the file.
  CHECK(p.name == "mica");
  CHECK(p.session_id == ussdpay::ussd::session_id_source::user_message_reference);
  CHECK(p.abort_ops == std::vector<std::uint8_t>{0x81, 0x82});
  CHECK(p.service_type == "USS");
  CHECK(p.continue_ops == std::vector<std::uint8_t>{2, 18});
}

TEST_CASE("bad USSD profile keys and billers are reported by key", "[config]") {
  temp_toml f(R"([smpp.ussd]
profile = "nokia"
begin_ops = [1, 300]
session_id = "somewhere"

[[billers]]
id = "lesco"
name = "LESCO"
category = "electricity"
exactness = "roughly"

[[billers]]
id = "lesco"
name = "A name far too long for a screen"
category = "toys"
colour = "red"
)");
  auto r = ussdpay::load_config(f.path, nullptr);
  const std::string report = ussdpay::format_errors(r.errors);
  INFO(report);
  CHECK(report.find("smpp.ussd.profile: must be one of default, sixdee, mica, huawei") !=
        std::string::npos);
  CHECK(report.find("smpp.ussd.begin_ops: must be an array of integers 0..255") !=
        std::string::npos);
  CHECK(report.find("smpp.ussd.session_id: must be one of") != std::string::npos);
  CHECK(report.find("billers[1].exactness: must be one of exact, at_least, at_most, any") !=
        std::string::npos);
  CHECK(report.find("billers[2].id: 'lesco' is used twice") != std::string::npos);
  CHECK(report.find("billers[2].name: must be 1..16 characters") != std::string::npos);
  CHECK(report.find("billers[2].category: must be electricity, water, gas or fuel") !=
        std::string::npos);
  CHECK(report.find(":16: billers[2].colour: unknown key") != std::string::npos);
}

TEST_CASE("the shipped configuration has the demo billers", "[config]") {
  auto r = ussdpay::load_config(USSDPAY_SOURCE_DIR "/etc/ussdpay.toml", nullptr);
  REQUIRE(r.errors.empty());
  REQUIRE(r.cfg.billers.size() >= 5);
  CHECK(r.cfg.billers[0].info.id == "lesco");
  bool pso = false;
  for (const auto& b : r.cfg.billers) pso |= b.info.id == "pso" && b.info.category == "fuel";
  CHECK(pso);
}

TEST_CASE("the per-number dial limit and the admin allow-list: defaults, overrides, checks",
          "[config]") {
  // Defaults: 10 dials a minute per number, 100,000 numbers remembered; admin on loopback only.
  auto d = ussdpay::load_config(USSDPAY_SOURCE_DIR "/etc/ussdpay.toml", nullptr);
  REQUIRE(d.errors.empty());
  CHECK(d.cfg.ussd.dials_per_msisdn == 10);
  CHECK(d.cfg.ussd.dial_window == std::chrono::minutes(1));
  CHECK(d.cfg.ussd.dial_numbers == 100'000);
  CHECK(d.cfg.admin.allow == "127.0.0.0/8, ::1/128");

  temp_toml f(
      "[ussd]\ndials_per_msisdn = 3\ndial_window = \"10s\"\n[admin]\n"
      "allow = \"10.1.0.0/16, 192.0.2.7\"\n");
  fake_env env{{"USSDPAY_USSD_DIAL_NUMBERS=500"}};
  auto r = ussdpay::load_config(f.path, env.get());
  INFO(ussdpay::format_errors(r.errors));
  REQUIRE(r.errors.empty());
  CHECK(r.cfg.ussd.dials_per_msisdn == 3);
  CHECK(r.cfg.ussd.dial_window == std::chrono::seconds(10));
  CHECK(r.cfg.ussd.dial_numbers == 500);
  CHECK(r.cfg.admin.allow == "10.1.0.0/16, 192.0.2.7");

  // 0 turns the limit off, and then its window and table size are not checked.
  temp_toml off("[ussd]\ndials_per_msisdn = 0\ndial_window = \"0s\"\ndial_numbers = 0\n");
  auto o = ussdpay::load_config(off.path, nullptr);
  INFO(ussdpay::format_errors(o.errors));
  CHECK(o.errors.empty());

  temp_toml bad(
      "[ussd]\ndials_per_msisdn = 5000\ndial_window = \"500ms\"\n"
      "dial_numbers = 0\n[admin]\nallow = \"10.1.2.0/16\"\n");
  auto b = ussdpay::load_config(bad.path, nullptr);
  const std::string report = ussdpay::format_errors(b.errors);
  INFO(report);
  CHECK(report.find("ussd.dials_per_msisdn: must be 0..1000") != std::string::npos);
  CHECK(report.find("ussd.dial_window: must be between 1s and 24h") != std::string::npos);
  CHECK(report.find("ussd.dial_numbers: must be 1..10000000") != std::string::npos);
  CHECK(report.find("admin.allow: must list client addresses or CIDR prefixes") !=
        std::string::npos);
  CHECK(b.errors.size() == 4);
  for (const char* list : {"", "any", "127.0.0.1/33", "::1/129", "127.0.0.1,", "localhost"}) {
    fake_env e{{std::string("USSDPAY_ADMIN_ALLOW=") + list}};
    auto x = ussdpay::load_config(USSDPAY_SOURCE_DIR "/etc/ussdpay.toml", e.get());
    INFO(list);
    CHECK(ussdpay::format_errors(x.errors).find("admin.allow: must list") != std::string::npos);
  }
}
