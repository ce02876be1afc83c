// Integration tests: the real ussdpayd, as a child process, against the SMSC simulator over
// real SMPP on 127.0.0.1. Each test reads as a transcript of what an operator would see: the
// SMSC's side (the simulator's counters and the screens it received) and the daemon's log.
//
// The simulator runs in this process on its own io_context thread (sim_host). The test thread
// never touches it directly: every look at it is posted to that thread and awaited through a
// future, and every wait is bounded. The daemon is configured only through USSDPAY_* environment
// overrides on top of etc/ussdpay.toml, pointing it at the simulator's port.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "gateway/smpp/pdu.hpp"
#include "tests/integration/process.hpp"
#include "tests/sim/smsc.hpp"

#ifndef USSDPAYD_PATH
#error "USSDPAYD_PATH must name the ussdpayd binary"
#endif
#ifndef USSDPAY_CONFIG_PATH
#error "USSDPAY_CONFIG_PATH must name etc/ussdpay.toml"
#endif

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace sim = ussdpay::sim;
namespace smpp = ussdpay::smpp;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;
using ussdpay::test::child_process;
using ussdpay::test::env_vars;

constexpr auto call_timeout = 5s;
const std::string subscriber = "923001234567";

// --- the simulated SMSC, on its own thread -------------------------------------------------

class sim_host {
 public:
  explicit sim_host(sim::smsc_options opt)
      : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {
    try {
      start(std::move(opt));
    } catch (...) {
      shutdown();
      throw;
    }
  }
  ~sim_host() { shutdown(); }
  sim_host(const sim_host&) = delete;
  sim_host& operator=(const sim_host&) = delete;

  /// Runs f on the simulator's thread and returns its result; throws if the thread does not
  /// answer within call_timeout.
  template <class F>
  auto call(F f) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    auto p = std::make_shared<std::promise<R>>();
    auto result = p->get_future();
    asio::post(io_, [p, f = std::move(f)]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          f();
          p->set_value();
        } else {
          p->set_value(f());
        }
      } catch (...) {
        p->set_exception(std::current_exception());
      }
    });
    if (result.wait_for(call_timeout) != std::future_status::ready)
      throw std::runtime_error("the simulator thread did not answer within 5 s");
    return result.get();
  }

  /// A new SMSC with these options (replacing the current one); listening when this returns.
  void start(sim::smsc_options opt) {
    call([this, opt = std::move(opt)]() mutable {
      auto s = std::make_unique<sim::smsc>(io_.get_executor(), std::move(opt));
      s->on_mt = [this](const sim::mt_message& m) { screens_.push_back(m); };
      s->start();
      port_ = s->port();
      screens_.clear();
      smsc_ = std::move(s);
    });
  }
  /// The SMSC crashes: listener and connections closed, no unbind.
  void crash() {
    call([this] {
      if (smsc_) smsc_->stop(true);
      smsc_.reset();
    });
  }

  std::uint16_t port() const { return port_; }
  sim::smsc_stats stats() {
    return call([this] { return smsc_ ? smsc_->stats() : sim::smsc_stats{}; });
  }
  std::vector<sim::mt_message> screens() {
    return call([this] { return screens_; });
  }
  /// Runs f(smsc&) on the simulator's thread.
  template <class F>
  auto with_smsc(F f) {
    return call([this, f = std::move(f)]() mutable { return f(*smsc_); });
  }
  bool dial(const std::string& msisdn, const std::string& text) {
    return with_smsc([msisdn, text](sim::smsc& s) { return s.dial(msisdn, text); });
  }
  bool reply(const std::string& msisdn, const std::string& text) {
    return with_smsc([msisdn, text](sim::smsc& s) { return s.reply(msisdn, text); });
  }

  /// Polls the simulator's counters until pred holds or timeout passes.
  bool wait_stats(const std::function<bool(const sim::smsc_stats&)>& pred, milliseconds timeout,
                  milliseconds poll = 5ms) {
    const auto deadline = steady::now() + timeout;
    for (;;) {
      if (pred(stats())) return true;
      if (steady::now() >= deadline) return false;
      std::this_thread::sleep_for(poll);
    }
  }
  bool wait_screens(std::size_t n, milliseconds timeout) {
    const auto deadline = steady::now() + timeout;
    for (;;) {
      if (call([this] { return screens_.size(); }) >= n) return true;
      if (steady::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
  }
  bool wait_bound(milliseconds timeout) {
    return wait_stats([](const sim::smsc_stats& s) { return s.bound_now >= 1; }, timeout);
  }

 private:
  void shutdown() {
    if (!thread_.joinable()) return;
    try {
      crash();
    } catch (...) {
      // The thread is stuck; io_.stop() below still ends run().
    }
    work_.reset();
    io_.stop();
    thread_.join();
  }

  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  // Owned by the simulator's thread.
  std::unique_ptr<sim::smsc> smsc_;
  std::vector<sim::mt_message> screens_;
  std::uint16_t port_ = 0;  // written before start() returns, read-only afterwards
  std::thread thread_;      // last: starts once everything it may touch exists
};

sim::smsc_options sim_options() {
  sim::smsc_options o;
  o.port = 0;  // any free port; the daemon is told which
  o.receipts = false;
  return o;
}

/// A temporary directory, removed with everything in it.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "ussdpay-it-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

/// Every number the scenarios below dial, registered (PIN 4826) so that a dial reaches the main
/// menu rather than the offer to register.
std::string subscribers_csv() {
  std::string csv = "msisdn,pin,balance,language\n" + subscriber + ",4826,1000,en\n";
  for (int i = 0; i < 5; ++i) csv += "25470000010" + std::to_string(i) + ",4826,1000,en\n";
  for (int i = 0; i < 40; ++i) csv += "92300100" + std::to_string(1000 + i) + ",4826,1000,en\n";
  for (int i = 1; i <= 3; ++i) csv += "92300000000" + std::to_string(i) + ",4826,1000,en\n";
  return csv;
}

/// A store of its own for one daemon, with subscribers_csv() imported by `ussdpay subscriber
/// import` under the daemon's own configuration and environment.
std::string seeded_store(const env_vars& env, const std::string& config) {
  static const temp_dir stores;  // for the whole test run
  static int made = 0;
  const std::string n = std::to_string(++made);
  const std::string db = stores / ("store-" + n + ".db"),
                    csv = stores / ("subscribers-" + n + ".csv");
  write_file(csv, subscribers_csv());
  env_vars with = env;
  with.emplace_back("USSDPAY_STORE_PATH", db);
  const auto cli = (fs::path(USSDPAYD_PATH).parent_path() / "ussdpay").string();
  child_process import(cli, {"--config", config, "subscriber", "import", csv}, with);
  if (import.wait_exit(30s) != 0)
    throw std::runtime_error("ussdpay subscriber import failed: " + import.log());
  return db;
}

// --- the daemon, as a child process --------------------------------------------------------

/// ussdpayd with etc/ussdpay.toml, pointed at the simulator, logging at debug level (link state
/// changes below "bound" are debug messages). `extra` overrides any of these.
std::unique_ptr<child_process> start_daemon(std::uint16_t port, env_vars extra = {},
                                            const std::string& config = USSDPAY_CONFIG_PATH) {
  env_vars env{{"USSDPAY_SMPP_HOST", "127.0.0.1"},
               {"USSDPAY_SMPP_PORT", std::to_string(port)},
               {"USSDPAY_LOG_LEVEL", "debug"}};
  for (auto& e : extra) {
    std::erase_if(env, [&](const auto& x) { return x.first == e.first; });
    env.push_back(std::move(e));
  }
  if (std::none_of(env.begin(), env.end(),
                   [](const auto& e) { return e.first == "USSDPAY_STORE_PATH"; }))
    env.emplace_back("USSDPAY_STORE_PATH", seeded_store(env, config));
  return std::make_unique<child_process>(
      USSDPAYD_PATH, std::vector<std::string>{"--config", config}, std::move(env));
}

// A failed check shows the daemon's log with it.
#define CHECK_D(cond, d)                  \
  do {                                    \
    INFO("ussdpayd log:\n" << (d).log()); \
    CHECK(cond);                          \
  } while (false)
#define REQUIRE_D(cond, d)                \
  do {                                    \
    INFO("ussdpayd log:\n" << (d).log()); \
    REQUIRE(cond);                        \
  } while (false)

/// Nothing in the log says a sanitizer (ASan, LSan, UBSan) found a problem.
void check_no_sanitizer_report(const std::string& log) {
  INFO("ussdpayd log:\n" << log);
  CHECK(log.find("AddressSanitizer") == std::string::npos);
  CHECK(log.find("LeakSanitizer") == std::string::npos);
  CHECK(log.find("runtime error:") == std::string::npos);
}

/// The operator stops the gateway: SIGTERM, exit status 0 within 5 s, and no sanitizer report.
/// Every scenario ends this way, so a crash or a leak cannot hide behind the SIGKILL of cleanup.
void stop_cleanly(child_process& d) {
  REQUIRE_D(d.signal(SIGTERM), d);  // it was still running
  const auto rc = d.wait_exit(5000ms);
  REQUIRE_D(rc.has_value(), d);
  CHECK_D(*rc == 0, d);
  check_no_sanitizer_report(d.log());
}

/// The number that follows each occurrence of `prefix` in `text`, e.g. the "N" of every
/// "reconnect in N ms" in a log.
std::vector<int> numbers_after(const std::string& text, const std::string& prefix) {
  std::vector<int> out;
  for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    std::size_t end = at + prefix.size();
    int n = 0;
    bool digits = false;
    for (; end < text.size() && text[end] >= '0' && text[end] <= '9'; ++end, digits = true)
      n = n * 10 + (text[end] - '0');
    if (digits) out.push_back(n);
  }
  return out;
}

/// Runs a short command (openssl) to completion; its exit code, or -1 after 30 s.
int run(const std::string& program, std::vector<std::string> args, std::string* output = nullptr) {
  child_process p(program, std::move(args));
  const auto rc = p.wait_exit(30s);
  if (output != nullptr) *output = p.log();
  return rc.value_or(-1);
}

}  // namespace

// --- scenarios ------------------------------------------------------------------------------

TEST_CASE("the daemon binds and answers a dial with the main menu", "[integration]") {
  // The operator's SMSC is up and expects system_id "ussdpay" with password "secret" (the
  // values in etc/ussdpay.toml).
  sim_host smsc(sim_options());
  // The gateway starts with the shipped configuration, pointed at the SMSC.
  auto d = start_daemon(smsc.port());

  // It binds once as a transceiver and says so in its log.
  REQUIRE_D(smsc.wait_bound(5000ms), *d);
  REQUIRE_D(d->wait_for_log("-> bound", 2000ms), *d);
  CHECK(smsc.stats().binds_ok == 1);
  CHECK(smsc.stats().binds_rejected == 0);

  // A subscriber dials the service code: the SMSC sends deliver_sm with ussd_service_op 1
  // (PSSR indication) and a fresh its_session_info (session 1, sequence 0).
  REQUIRE(smsc.dial(subscriber, "*123#"));

  // One screen comes back to that subscriber: the bill-pay main menu, as USSD, waiting for
  // the subscriber's choice.
  REQUIRE_D(smsc.wait_screens(1, 5000ms), *d);
  const auto screens = smsc.screens();
  REQUIRE(screens.size() == 1);
  const sim::mt_message& m = screens.front();
  CHECK(m.msisdn == subscriber);
  CHECK(m.ussd);
  CHECK_FALSE(m.ends_dialog);
  CHECK(m.text.find("Bill Pay\n1. Pay bill\n") == 0);

  // On the wire (raw sm_body): service_type USSD, from the short code to the subscriber,
  // ussd_service_op 2 (USSR request: show and wait for input), and its_session_info echoed for
  // session 1 with the end-of-session bit clear.
  const smpp::sm_body& raw = m.raw;
  CHECK(raw.service_type == "USSD");
  CHECK(raw.source.addr == "123");
  CHECK(raw.destination.addr == subscriber);
  const auto op = smpp::tlv_u8(raw.tlvs, smpp::tag::ussd_service_op);
  const auto session = smpp::tlv_u16(raw.tlvs, smpp::tag::its_session_info);
  REQUIRE(op.has_value());
  REQUIRE(session.has_value());
  CHECK(int{*op} == 2);
  CHECK(int{*session} == 0x0100);

  // The SMSC got its deliver_sm_resp (ESME_ROK) and the daemon logged the answer.
  CHECK(smsc.wait_stats([](const sim::smsc_stats& s) { return s.deliver_resp_ok == 1; }, 2000ms));

  // The operator stops the gateway; it exits cleanly.
  stop_cleanly(*d);
}

TEST_CASE(
    "two transmitter+receiver pairs: dials arrive on a receiver, screens leave on a "
    "transmitter",
    "[integration]") {
  // The operator wants separate transmitter and receiver binds, two pairs of them.
  sim_host smsc(sim_options());
  auto d = start_daemon(
      smsc.port(), {{"USSDPAY_SMPP_BIND", "transmitter_receiver"}, {"USSDPAY_SMPP_BINDS", "2"}});

  // Four binds come up: tx0, rx0, tx1, rx1.
  REQUIRE_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.binds_ok == 4; }, 5000ms), *d);
  CHECK(smsc.stats().connections == 4);

  // Five subscribers dial; each gets the main menu (a transmitter bind can only submit,
  // a receiver bind can only receive, so this only works if the pair is used the right way).
  for (int i = 0; i < 5; ++i) REQUIRE(smsc.dial("25470000010" + std::to_string(i), "*123#"));
  REQUIRE_D(smsc.wait_screens(5, 5000ms), *d);
  CHECK(smsc.stats().submits == 5);

  stop_cleanly(*d);
}

TEST_CASE("a wrong password is retried with capped back-off until the SMSC accepts it",
          "[integration]") {
  // The SMSC expects another password than the gateway's "secret".
  auto opt = sim_options();
  opt.password = "other";
  sim_host smsc(opt);
  // The gateway's reconnect back-off is capped at 500 ms.
  auto d = start_daemon(smsc.port(), {{"USSDPAY_SMPP_RECONNECT_MAX", "500ms"}});

  // Every bind is refused; the gateway keeps trying, soon three times.
  REQUIRE_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.binds_rejected >= 3; }, 3000ms),
            *d);
  // It keeps trying past the point where doubling hits the cap (100, 200, 400, 500, 500 ms).
  REQUIRE_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.binds_rejected >= 6; }, 5000ms),
            *d);
  CHECK(smsc.stats().binds_ok == 0);

  // Its log names the reason, and no pause was longer than the cap (equal jitter: each pause
  // is within [base/2, base], so once capped between 250 and 500 ms).
  const std::string log = d->log();
  CHECK_D(log.find("ESME_RINVPASWD") != std::string::npos, *d);
  const std::vector<int> pauses = numbers_after(log, "bind refused: ESME_RINVPASWD; reconnect in ");
  INFO("ussdpayd log:\n" << log);
  REQUIRE(pauses.size() >= 5);
  for (std::size_t i = 0; i < pauses.size(); ++i) {
    INFO("pause " << i << " = " << pauses[i] << " ms");
    CHECK(pauses[i] <= 500);
    if (i >= 3) CHECK(pauses[i] >= 250);  // capped, not still growing or collapsing
  }

  // The daemon is still running: a wrong password is not fatal.
  CHECK(d->running());

  // The operator fixes the password on the SMSC side; the next attempt binds.
  smsc.with_smsc([](sim::smsc& s) { s.options().password = "secret"; });
  REQUIRE_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.binds_ok == 1; }, 3000ms), *d);
  REQUIRE_D(d->wait_for_log("-> bound", 2000ms), *d);

  // The operator stops the gateway; it exits cleanly.
  stop_cleanly(*d);
}

TEST_CASE("a refused bind is visible at the default log level, once per cause", "[integration]") {
  // The SMSC expects another password; the gateway runs with the shipped log level (info).
  auto opt = sim_options();
  opt.password = "other";
  sim_host smsc(opt);
  auto d = start_daemon(smsc.port(),
                        {{"USSDPAY_LOG_LEVEL", "info"}, {"USSDPAY_SMPP_RECONNECT_MAX", "200ms"}});

  // The operator sees why the link is down without turning on debug logging ...
  REQUIRE_D(d->wait_for_log("bind refused: ESME_RINVPASWD", 3000ms), *d);
  CHECK_D(d->log().find("warn") != std::string::npos, *d);
  // ... but a link that stays down for the same cause does not flood the log.
  REQUIRE_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.binds_rejected >= 8; }, 5000ms),
            *d);
  CHECK_D(numbers_after(d->log(), "bind refused: ESME_RINVPASWD; reconnect in ").size() == 1, *d);

  stop_cleanly(*d);
}

TEST_CASE("an idle link is kept alive with enquire_link", "[integration]") {
  // The SMSC answers everything promptly.
  sim_host smsc(sim_options());
  // The gateway probes after 300 ms of silence and would only drop the link after 5 s.
  auto d = start_daemon(smsc.port(), {{"USSDPAY_SMPP_ENQUIRE_LINK_INTERVAL", "300ms"},
                                      {"USSDPAY_SMPP_INACTIVITY_TIMEOUT", "5s"}});
  REQUIRE_D(smsc.wait_bound(5000ms), *d);
  const auto bound_at = steady::now();

  // Nobody dials. Within 1.5 s the SMSC has seen at least three enquire_links.
  const bool probed =
      smsc.wait_stats([](const sim::smsc_stats& s) { return s.enquire_links >= 3; }, 1500ms, 10ms);
  const auto took = std::chrono::duration_cast<milliseconds>(steady::now() - bound_at);
  INFO("three enquire_links after " << took.count() << " ms");
  REQUIRE_D(probed, *d);

  // Still the same connection: nothing was dropped.
  const auto st = smsc.stats();
  CHECK(st.connections == 1);
  CHECK(st.binds_ok == 1);
  CHECK(st.bound_now == 1);
  CHECK_D(d->log().find("-> backoff") == std::string::npos, *d);

  // The operator stops the gateway; it exits cleanly.
  stop_cleanly(*d);
}

TEST_CASE("40 concurrent dials never exceed the window of 5", "[integration]") {
  // The SMSC answers each submit_sm only after 300 ms.
  auto opt = sim_options();
  opt.respond_delay = 300ms;
  sim_host smsc(opt);
  // The gateway may have 5 requests in flight on its one bind.
  auto d = start_daemon(smsc.port(), {{"USSDPAY_SMPP_WINDOW", "5"}});
  REQUIRE_D(smsc.wait_bound(5000ms), *d);

  // 40 different subscribers dial at the same moment.
  constexpr std::size_t dials = 40;
  const std::size_t sent = smsc.with_smsc([](sim::smsc& s) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < dials; ++i)
      if (s.dial("92300100" + std::to_string(1000 + i), "*123#")) ++n;
    return n;
  });
  REQUIRE(sent == dials);

  // Every one of them gets the main menu (8 rounds of 5 at 300 ms each).
  REQUIRE_D(smsc.wait_screens(dials, 10000ms), *d);
  const auto screens = smsc.screens();
  std::set<std::string> reached;
  for (const auto& m : screens) {
    CHECK_FALSE(m.ends_dialog);
    reached.insert(m.msisdn);
  }
  CHECK(screens.size() == dials);
  CHECK(reached.size() == dials);

  // The SMSC never had more than 5 unanswered submit_sm, and it did have 5: the window was
  // used, and never overrun.
  const auto st = smsc.stats();
  CHECK(st.submits == dials);
  CHECK(st.peak_pending_submits == 5);
  // The last answers go out 300 ms after the last screen; none of the 40 failed.
  CHECK(smsc.wait_stats([](const sim::smsc_stats& s) { return s.pending_submits == 0; }, 2000ms));
  CHECK_D(d->log().find("screen not delivered") == std::string::npos, *d);

  // The operator stops the gateway; it exits cleanly.
  stop_cleanly(*d);
}

TEST_CASE("a throttled screen is sent again at once, without a back-off", "[integration]") {
  // The SMSC answers the first three submit_sm with ESME_RTHROTTLED.
  auto opt = sim_options();
  opt.throttle_first = 3;
  sim_host smsc(opt);
  auto d = start_daemon(smsc.port());
  REQUIRE_D(smsc.wait_bound(5000ms), *d);

  // A subscriber dials.
  const auto dialed_at = steady::now();
  REQUIRE(smsc.dial(subscriber, "*123#"));

  // The screen still arrives, and quickly: three refusals are no reason to pause the bind
  // (the old back-off waited 200 + 400 + 800 ms).
  REQUIRE_D(smsc.wait_screens(1, 6000ms), *d);
  const auto took = std::chrono::duration_cast<milliseconds>(steady::now() - dialed_at);
  INFO("screen after " << took.count() << " ms");
  CHECK(took.count() < 500);
  const auto screens = smsc.screens();
  REQUIRE(screens.size() == 1);
  CHECK(screens.front().msisdn == subscriber);
  CHECK_FALSE(screens.front().ends_dialog);

  // Three throttled attempts, then one accepted: four submit_sm in all, and no failure logged.
  const auto st = smsc.stats();
  CHECK(st.submits_throttled == 3);
  CHECK(st.submits == 4);
  CHECK_D(d->log().find("screen not delivered") == std::string::npos, *d);

  // The operator stops the gateway; it exits cleanly.
  stop_cleanly(*d);
}

TEST_CASE("a silent SMSC is detected and the link reconnected", "[integration]") {
  // The SMSC accepts the bind and then never answers anything.
  auto opt = sim_options();
  opt.silent = true;
  sim_host smsc(opt);
  // The gateway probes after 300 ms of silence and allows 500 ms for any answer.
  auto d = start_daemon(smsc.port(), {{"USSDPAY_SMPP_ENQUIRE_LINK_INTERVAL", "300ms"},
                                      {"USSDPAY_SMPP_RESPONSE_TIMEOUT", "500ms"},
                                      {"USSDPAY_SMPP_INACTIVITY_TIMEOUT", "10s"}});
  REQUIRE_D(smsc.wait_bound(5000ms), *d);

  // The unanswered enquire_link gives the link away as dead: the gateway drops it and connects
  // again, within 3 s.
  REQUIRE_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.connections >= 2; }, 3000ms),
            *d);
  CHECK_D(d->wait_for_log("no answer to enquire_link within response_timeout", 1000ms), *d);
  // And it binds again on the new connection.
  CHECK_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.binds_ok >= 2; }, 2000ms), *d);

  // The operator stops the gateway; it exits cleanly.
  stop_cleanly(*d);
}

TEST_CASE("the daemon re-binds quickly after the SMSC restarts", "[integration]") {
  // The SMSC is up and the gateway bound, with its reconnect back-off capped at 1 s.
  sim_host smsc(sim_options());
  const std::uint16_t port = smsc.port();
  auto d = start_daemon(port, {{"USSDPAY_SMPP_RECONNECT_MAX", "1s"}});
  REQUIRE_D(smsc.wait_bound(5000ms), *d);
  const std::size_t log_mark = d->log_size();

  // The SMSC crashes: its connections are reset without an unbind.
  smsc.crash();
  CHECK_D(d->wait_for_log("-> backoff", 2000ms, log_mark), *d);

  // It stays down for 1.5 s: the gateway's reconnect pauses grow (100, 200, 400, 800 ms) to
  // near the 1 s cap, so the measurement below includes a realistic wait.
  std::this_thread::sleep_for(1500ms);

  // It comes back on the same port (retrying briefly if the port is not free yet).
  auto opt = sim_options();
  opt.port = port;
  const auto retry_until = steady::now() + 3s;
  for (;;) {
    try {
      smsc.start(opt);
      break;
    } catch (const std::exception& e) {
      if (steady::now() >= retry_until)
        FAIL("cannot listen on port " << port << " again: " << e.what());
      std::this_thread::sleep_for(50ms);
    }
  }
  const auto listening_at = steady::now();
  REQUIRE(smsc.port() == port);

  // The gateway binds to the new SMSC in under 2 s.
  const bool rebound =
      smsc.wait_stats([](const sim::smsc_stats& s) { return s.binds_ok >= 1; }, 5000ms, 2ms);
  const auto took = std::chrono::duration_cast<milliseconds>(steady::now() - listening_at);
  WARN("re-bound " << took.count() << " ms after the simulator was listening again");
  REQUIRE_D(rebound, *d);
  CHECK(took.count() < 2000);
  CHECK_D(d->wait_for_log("-> bound", 2000ms, log_mark), *d);

  // A dial works on the new link.
  REQUIRE_D(smsc.wait_bound(2000ms), *d);
  REQUIRE(smsc.dial(subscriber, "*123#"));
  REQUIRE_D(smsc.wait_screens(1, 5000ms), *d);
  CHECK_FALSE(smsc.screens().front().ends_dialog);

  // The operator stops the gateway; it exits cleanly.
  stop_cleanly(*d);
}

TEST_CASE("SIGTERM unbinds and exits 0", "[integration]") {
  sim_host smsc(sim_options());
  auto d = start_daemon(smsc.port());
  REQUIRE_D(smsc.wait_bound(5000ms), *d);
  // Bound on the daemon's side too (the SMSC counts the bind before its bind_resp is read): a
  // daemon stopped while still binding just closes the connection.
  REQUIRE_D(d->wait_for_log("-> bound", 2000ms), *d);

  // The operator stops the service.
  REQUIRE(d->signal(SIGTERM));

  // The gateway unbinds cleanly: the SMSC sees exactly one unbind and no bind left.
  REQUIRE_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.unbinds >= 1; }, 5000ms), *d);
  // The process exits with status 0 within 5 s.
  const auto rc = d->wait_exit(5000ms);
  INFO("ussdpayd log:\n" << d->log());
  REQUIRE(rc.has_value());
  CHECK(*rc == 0);
  const auto st = smsc.stats();
  CHECK(st.unbinds == 1);
  CHECK(st.bound_now == 0);
  CHECK(d->log().find("unbinding") != std::string::npos);
  CHECK(d->log().find("ussdpayd: stopped") != std::string::npos);
  check_no_sanitizer_report(d->log());
}

namespace {

/// A throwaway CA, a server certificate it signed for 127.0.0.1 / localhost, and an unrelated
/// second CA, made with the openssl command line.
struct test_pki {
  temp_dir dir;
  std::string ca, other_ca, cert, key;

  test_pki() {
    write_file(dir / "pki.cnf",
               "[req]\n"
               "distinguished_name = dn\n"
               "[dn]\n"
               "[v3_ca]\n"
               "basicConstraints = critical,CA:TRUE\n"
               "keyUsage = critical,keyCertSign,cRLSign\n"
               "subjectKeyIdentifier = hash\n"
               "[v3_server]\n"
               "basicConstraints = critical,CA:FALSE\n"
               "keyUsage = critical,digitalSignature,keyEncipherment\n"
               "extendedKeyUsage = serverAuth\n"
               "subjectAltName = IP:127.0.0.1,DNS:localhost\n"
               "authorityKeyIdentifier = keyid\n");
    const std::string cnf = dir / "pki.cnf";
    ca = dir / "ca.pem";
    other_ca = dir / "other-ca.pem";
    cert = dir / "server.pem";
    key = dir / "server.key";
    auto make_ca = [&](const std::string& pem, const std::string& k, const std::string& cn) {
      std::string out;
      const int rc = run("openssl",
                         {"req", "-x509", "-config", cnf, "-extensions", "v3_ca", "-newkey", "ec",
                          "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", k,
                          "-out", pem, "-days", "2", "-subj", "/CN=" + cn},
                         &out);
      if (rc != 0) throw std::runtime_error("openssl req -x509 failed:\n" + out);
    };
    make_ca(ca, dir / "ca.key", "ussdpay test CA");
    make_ca(other_ca, dir / "other-ca.key", "some other CA");
    std::string out;
    if (run("openssl",
            {"req", "-new", "-config", cnf, "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", dir / "server.csr",
             "-subj", "/CN=localhost"},
            &out) != 0)
      throw std::runtime_error("openssl req -new failed:\n" + out);
    if (run("openssl",
            {"x509", "-req", "-in", dir / "server.csr", "-CA", ca, "-CAkey", dir / "ca.key",
             "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", cnf, "-extensions",
             "v3_server"},
            &out) != 0)
      throw std::runtime_error("openssl x509 -req failed:\n" + out);
  }
};

}  // namespace

TEST_CASE("TLS: the daemon verifies the SMSC certificate", "[integration][tls]") {
  // The SMSC serves SMPP over TLS with a certificate for 127.0.0.1 from a private CA.
  test_pki pki;
  auto opt = sim_options();
  opt.tls_cert_file = pki.cert;
  opt.tls_key_file = pki.key;
  sim_host smsc(opt);

  SECTION("trusting that CA it binds and answers a dial") {
    // The gateway is configured for TLS with that CA, connecting to 127.0.0.1 (verified
    // against the certificate's IP subjectAltName).
    auto d = start_daemon(smsc.port(),
                          {{"USSDPAY_SMPP_TLS", "true"}, {"USSDPAY_SMPP_TLS_CA_FILE", pki.ca}});
    // The handshake succeeds and it binds inside the tunnel.
    REQUIRE_D(smsc.wait_bound(5000ms), *d);
    CHECK_D(d->wait_for_log("(TLS)", 1000ms), *d);
    // A dial gets the main menu over TLS.
    REQUIRE(smsc.dial(subscriber, "*123#"));
    REQUIRE_D(smsc.wait_screens(1, 5000ms), *d);
    CHECK(smsc.screens().front().text.find("Bill Pay") == 0);
    // The operator stops the gateway; it exits cleanly.
    stop_cleanly(*d);
  }

  SECTION("trusting another CA it refuses the SMSC and never binds") {
    // The gateway is configured with a CA that did not sign the SMSC's certificate.
    auto d = start_daemon(smsc.port(), {{"USSDPAY_SMPP_TLS", "true"},
                                        {"USSDPAY_SMPP_TLS_CA_FILE", pki.other_ca},
                                        {"USSDPAY_SMPP_RECONNECT_MAX", "500ms"}});
    // It reaches the SMSC, the handshake fails on verification, and it backs off and retries.
    REQUIRE_D(smsc.wait_stats([](const sim::smsc_stats& s) { return s.connections >= 2; }, 5000ms),
              *d);
    REQUIRE_D(d->wait_for_log("connect failed", 2000ms), *d);
    CHECK_D(d->log().find("certificate verify failed") != std::string::npos, *d);
    const auto st = smsc.stats();
    // It never bound, and never sent its credentials to the unverified peer.
    CHECK(st.binds_ok == 0);
    CHECK(st.binds_rejected == 0);
    // The operator stops the gateway (it is in back-off); it exits cleanly.
    stop_cleanly(*d);
  }
}

TEST_CASE("ussdpayd --check-config reports every error with file and line",
          "[integration][config]") {
  temp_dir dir;

  SECTION("the shipped configuration is valid") {
    // etc/ussdpay.toml as shipped passes the check.
    child_process check(USSDPAYD_PATH, {"--config", USSDPAY_CONFIG_PATH, "--check-config"});
    const auto rc = check.wait_exit(10s);
    INFO(check.log());
    REQUIRE(rc.has_value());
    CHECK(*rc == 0);
    CHECK(check.log().find("configuration OK") != std::string::npos);
  }

  SECTION("an unknown key and a value of the wrong type") {
    // An operator misspells a key and quotes a number.
    const std::string path = dir / "bad.toml";
    write_file(path,
               "[smpp]\n"
               "host = \"127.0.0.1\"\n"
               "port = \"2775\"\n"
               "windoww = 10\n");
    child_process check(USSDPAYD_PATH, {"--config", path, "--check-config"});
    const auto rc = check.wait_exit(10s);
    const std::string out = check.log();
    INFO(out);
    // Both mistakes are reported, each with file:line and the key; the exit status says no.
    REQUIRE(rc.has_value());
    CHECK(*rc != 0);
    CHECK(out.find(path + ":3: smpp.port: ") != std::string::npos);
    CHECK(out.find(path + ":4: smpp.windoww: unknown key") != std::string::npos);
    CHECK(out.find("configuration OK") == std::string::npos);
  }
}

// --- dialogs ---------------------------------------------------------------------------------

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::trunc) << text;
}
std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

const std::string source_dir =
    std::filesystem::path(USSDPAY_CONFIG_PATH).parent_path().parent_path();

}  // namespace

TEST_CASE("a slow biller never holds the screen: past the bounded wait, a clear end screen",
          "[integration]") {
  // LESCO answers inquiries after 3 s; the gateway waits at most 400 ms.
  temp_dir dir;
  const auto config = dir.path / "ussdpay.toml";
  write_text(config, replaced(read_text(USSDPAY_CONFIG_PATH), "id = \"lesco\"\n",
                              "id = \"lesco\"\nlatency = \"3s\"\n"));
  sim_host smsc(sim_options());
  auto d = start_daemon(smsc.port(),
                        {{"USSDPAY_USSD_INQUIRY_TIMEOUT", "400ms"},
                         {"USSDPAY_USSD_MENUS", source_dir + "/etc/menus"},
                         {"USSDPAY_DEMO_BILLS_FILE", source_dir + "/etc/demo/bills.csv"},
                         {"USSDPAY_PIN_PEPPER_FILE", source_dir + "/etc/demo/pepper"},
                         {"USSDPAY_ADMIN_TOKEN_FILE", source_dir + "/etc/demo/admin-token"}},
                        config.string());
  REQUIRE_D(smsc.wait_bound(5000ms), *d);

  // The subscriber dials straight to LESCO's consumer-number prompt and enters a number.
  REQUIRE(smsc.dial(subscriber, "*123*1*1*1#"));
  REQUIRE_D(smsc.wait_screens(1, 5000ms), *d);
  CHECK(smsc.screens().back().text.starts_with("Enter LESCO consumer number"));
  const auto asked = steady::now();
  REQUIRE(smsc.reply(subscriber, "04123456789012"));

  // Well before the biller answers, the dialog ends with the "slow" screen: nothing was paid.
  REQUIRE_D(smsc.wait_screens(2, 5000ms), *d);
  const auto waited = steady::now() - asked;
  const auto m = smsc.screens().back();
  CHECK(m.ends_dialog);
  CHECK(m.text == "LESCO is slow to reply. Nothing was paid. Dial *123# again in a few minutes.");
  CHECK(waited < 2500ms);
  CHECK_D(d->wait_for_log("action inquire had no answer within its bounded wait", 2000ms), *d);

  // The biller's late answer (3 s) sends nothing to the subscriber, and the daemon carries on.
  std::this_thread::sleep_for(3000ms);
  CHECK(smsc.screens().size() == 2);
  REQUIRE(smsc.dial(subscriber, "*123#"));
  REQUIRE_D(smsc.wait_screens(3, 5000ms), *d);
  CHECK(smsc.screens().back().text.starts_with("Bill Pay"));
  stop_cleanly(*d);
}

TEST_CASE("SIGHUP reloads the menus, and live dialogs finish on the menus they started with",
          "[integration]") {
  temp_dir dir;
  std::filesystem::copy(source_dir + "/etc/menus", dir.path / "menus");
  const auto en = dir.path / "menus" / "text.en.toml";
  sim_host smsc(sim_options());
  auto d = start_daemon(smsc.port(), {{"USSDPAY_USSD_MENUS", (dir.path / "menus").string()}});
  REQUIRE_D(smsc.wait_bound(5000ms), *d);

  // Subscriber A is in the main menu when the operator edits the texts and sends SIGHUP.
  REQUIRE(smsc.dial("923000000001", "*123#"));
  REQUIRE_D(smsc.wait_screens(1, 5000ms), *d);
  write_text(en, replaced(replaced(read_text(en), "text = \"Bill Pay\"", "text = \"Bill Pay 2\""),
                          "[help]\ntext = \"Help\"", "[help]\ntext = \"Help 2\""));
  REQUIRE(d->signal(SIGHUP));
  REQUIRE_D(d->wait_for_log("reloaded [ussd] and the menus", 5000ms), *d);

  // A continues on the old menus; a new dial gets the new ones.
  REQUIRE(smsc.reply("923000000001", "6"));
  REQUIRE_D(smsc.wait_screens(2, 5000ms), *d);
  CHECK(smsc.screens().back().text.starts_with("Help\n1. A payment failed"));
  REQUIRE(smsc.dial("923000000002", "*123#"));
  REQUIRE_D(smsc.wait_screens(3, 5000ms), *d);
  CHECK(smsc.screens().back().text.starts_with("Bill Pay 2\n"));

  // A broken menu is refused whole on SIGHUP: the error is logged, the working menus stay.
  write_text(dir.path / "menus" / "menu.toml", "[menu]\nstart = \"nowhere\"\n");
  REQUIRE(d->signal(SIGHUP));
  REQUIRE_D(d->wait_for_log("menus have errors, keeping the old ones", 5000ms), *d);
  REQUIRE(smsc.dial("923000000003", "*123#"));
  REQUIRE_D(smsc.wait_screens(4, 5000ms), *d);
  CHECK(smsc.screens().back().text.starts_with("Bill Pay 2\n"));
  stop_cleanly(*d);
}

TEST_CASE("SIGHUP reloads biller settings, and adding or removing billers waits for a restart",
          "[integration]") {
  temp_dir dir;
  std::filesystem::copy(source_dir + "/etc/menus", dir.path / "menus");
  std::filesystem::copy(source_dir + "/etc/demo", dir.path / "demo");
  const auto config = dir.path / "ussdpay.toml";
  const auto shipped = read_text(source_dir + "/etc/ussdpay.toml");
  write_text(config, shipped);
  sim_host smsc(sim_options());
  auto d = start_daemon(smsc.port(), {}, config.string());
  REQUIRE_D(smsc.wait_bound(5000ms), *d);
  REQUIRE(smsc.dial("923000000001", "*123*1*1*1#"));
  REQUIRE_D(smsc.wait_screens(1, 5000ms), *d);
  CHECK(smsc.screens().back().text.starts_with("Enter LESCO consumer number"));

  // The biller is renamed: new screens use the new name, with no restart.
  write_text(config, replaced(shipped, "name = \"LESCO\"", "name = \"LESCO Power\""));
  REQUIRE(d->signal(SIGHUP));
  REQUIRE_D(d->wait_for_log("and the settings of 10 biller(s)", 5000ms), *d);
  REQUIRE(smsc.dial("923000000002", "*123*1*1*1#"));
  REQUIRE_D(smsc.wait_screens(2, 5000ms), *d);
  CHECK(smsc.screens().back().text.starts_with("Enter LESCO Power consumer number"));

  // A biller removed: refused whole (the menus and the other billers stay as they were).
  write_text(config, replaced(shipped, "id = \"lesco\"", "id = \"lesco2\""));
  REQUIRE(d->signal(SIGHUP));
  REQUIRE_D(d->wait_for_log("change only at a restart; keeping the old configuration", 5000ms), *d);
  REQUIRE(smsc.dial("923000000003", "*123*1*1*1#"));
  REQUIRE_D(smsc.wait_screens(3, 5000ms), *d);
  CHECK(smsc.screens().back().text.starts_with("Enter LESCO Power consumer number"));
  stop_cleanly(*d);
}
