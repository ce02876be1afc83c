// ussdpay-sim: an SMSC / USSD centre and phone simulator for ussdpay.
//
//   --mode interactive  a person types *123# and replies (/abort aborts); screens and SMS are
//                       shown
//   --mode scripted     runs a script of dial/expect/reply/abort steps; exit status 0 = all
//                       passed and every screen fit the profile
//   --mode load         closed-loop dialogs (--inputs) by --sessions subscribers; prints one
//                       "load key=value ..." line (hops/s, latency percentiles, errors);
//                       SIGUSR1 stops starting dialogs (then --linger-ms, then exit)
//   --mode hold         opens --sessions dialogs (--concurrency dials at a time), prints
//                       "held N sessions (M failed) in X s", then serves until SIGINT/SIGTERM
//   --mode serve        only the SMSC (acks, receipts, fault knobs), until SIGINT/SIGTERM
//
// Every mode speaks the operator dialect of --profile. It prints "ussdpay-sim listening on
// HOST:PORT" once the socket is bound, and "sim-stats key=value ..." when it exits.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/ussd/profile.hpp"
#include "tests/sim/drivers.hpp"
#include "tests/sim/smsc.hpp"

namespace {

using namespace ussdpay;
namespace asio = boost::asio;
using asio::awaitable;
using clock_type = std::chrono::steady_clock;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

/// MT messages per subscriber, with one wake-up timer each so a waiter is woken only by its own
/// messages.
class inbox {
 public:
  explicit inbox(asio::any_io_executor ex) : ex_(ex) {}

  void push(const sim::mt_message& m) {
    auto& box = get(m.msisdn);
    box.messages.push_back(m);
    box.wake->cancel();
  }

  /// The next message for msisdn, or nullopt at the deadline.
  awaitable<std::optional<sim::mt_message>> next(const std::string& msisdn,
                                                 clock_type::time_point deadline) {
    auto& box = get(msisdn);
    while (box.messages.empty()) {
      if (clock_type::now() >= deadline) co_return std::nullopt;
      box.wake->expires_at(deadline);
      co_await box.wake->async_wait(nothrow);
    }
    auto m = std::move(box.messages.front());
    box.messages.pop_front();
    co_return m;
  }

 private:
  struct box_t {
    std::deque<sim::mt_message> messages;
    std::unique_ptr<asio::steady_timer> wake;
  };
  box_t& get(const std::string& msisdn) {
    auto& b = boxes_[msisdn];
    if (!b.wake) b.wake = std::make_unique<asio::steady_timer>(ex_);
    return b;
  }
  asio::any_io_executor ex_;
  std::map<std::string, box_t> boxes_;
};

awaitable<bool> wait_bound(sim::smsc& s, std::chrono::milliseconds timeout) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto deadline = clock_type::now() + timeout;
  while (s.stats().bound_now == 0) {
    if (clock_type::now() >= deadline) co_return false;
    t.expires_after(std::chrono::milliseconds(20));
    co_await t.async_wait(nothrow);
  }
  co_return true;
}

void print_stats(const sim::smsc& s) {
  const auto& st = s.stats();
  fmt::print(
      "sim-stats connections={} binds_ok={} binds_rejected={} unbinds={} submits={} "
      "throttled={} enquire_links={} deliver_sent={} deliver_resp_ok={} deliver_resp_error={} "
      "generic_nacks_received={} decode_errors={} peak_pending_submits={} ussd_screens={} "
      "aborts_sent={} ussd_protocol_errors={} open_dialogs={} acked={} drops={} queue_full={} "
      "silent_binds={} sms_acked={} sms_duplicates={} sms_numbers={} sms_most_per_number={} "
      "receipts_answered={} receipts_resent={} receipts_unanswered={}\n",
      st.connections, st.binds_ok, st.binds_rejected, st.unbinds, st.submits, st.submits_throttled,
      st.enquire_links, st.deliver_sent, st.deliver_resp_ok, st.deliver_resp_error,
      st.generic_nacks_received, st.decode_errors, st.peak_pending_submits, st.ussd_screens,
      st.aborts_sent, st.ussd_protocol_errors, s.dialogs().open_dialogs(), st.submits_acked,
      st.drops, st.submits_queue_full, st.silent_binds, st.sms_acked, st.sms_duplicates,
      st.sms_numbers, st.sms_most_per_number, st.receipts_answered, st.receipts_resent,
      s.receipts_unanswered());
  // The first duplicates, for whoever hunts their cause (message ids are in the daemon's log).
  for (const auto& d : s.duplicates())
    fmt::print("sim-duplicate msisdn={} first_message_id={} again_message_id={} text={:?}\n",
               d.msisdn, d.first_message_id, d.again_message_id, d.text.substr(0, 80));
  std::fflush(stdout);
}

// --- interactive ---------------------------------------------------------------------------

/// A screen that does not fit the profile, said where a person or a script log sees it.
void warn_protocol_error(const sim::smsc& s, const sim::mt_message& m) {
  if (m.protocol_error.empty()) return;
  fmt::print("WARNING +{}: ussd_service_op 0x{:02x}: the screen does not fit profile {}: {}\n",
             m.msisdn, m.ussd_op, s.dialogs().profile().name, m.protocol_error);
  std::fflush(stdout);
}

void show(const sim::mt_message& m) {
  if (!m.ussd) {
    fmt::print("\n[SMS to +{}] {}\n", m.msisdn, m.text);
  } else {
    fmt::print("\n+---------------- USSD ----------------\n");
    std::istringstream lines(m.text);
    for (std::string line; std::getline(lines, line);) fmt::print("| {}\n", line);
    fmt::print("+--------------------------------------\n");
  }
  std::fflush(stdout);
}

awaitable<void> interactive(sim::smsc& s, std::string msisdn, std::function<void()> quit) {
  auto ex = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor in(ex, ::dup(STDIN_FILENO));
  asio::streambuf buf;
  auto prompt = [&s, msisdn] {
    fmt::print("{}", s.dialogs().is_open(msisdn) ? "reply> " : "> ");
    std::fflush(stdout);
  };
  // Screens may arrive after this coroutine ends: the handler owns what it uses (s outlives it).
  s.on_mt = [&s, prompt](const sim::mt_message& m) {
    show(m);
    warn_protocol_error(s, m);
    if (m.ussd && m.ends_dialog) fmt::print("(dialog ended)\n");
    prompt();
  };
  fmt::print(
      "Phone +{} ({} dialect): type a USSD code such as *123# to dial, then answer each screen; "
      "/abort aborts the dialog; 'quit' to exit.\n",
      msisdn, s.dialogs().profile().name);
  prompt();
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(in, buf, '\n', nothrow);
    if (ec) break;
    std::string line(asio::buffers_begin(buf.data()),
                     asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n));
    buf.consume(n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line == "quit" || line == "exit") break;
    if (line.empty()) {
      prompt();
      continue;
    }
    const char* problem = nullptr;
    if (line == "/abort") {
      if (!s.can_abort())
        problem = "this dialect has no abort";
      else if (!s.dialogs().is_open(msisdn))
        problem = "no open dialog to abort";
      else if (!s.abort(msisdn))
        problem = "no gateway bound yet; try again in a moment";
      else
        fmt::print("(dialog aborted)\n");
    } else if (!s.dialogs().is_open(msisdn) || (line.front() == '*' && line.back() == '#')) {
      if (!s.dial(msisdn, line)) problem = "no gateway bound yet; try again in a moment";
    } else if (!s.reply(msisdn, line)) {
      problem = "no gateway bound yet; try again in a moment";
    }
    if (problem != nullptr) fmt::print("({})\n", problem);
    if (problem != nullptr || line == "/abort") prompt();
  }
  quit();
}

// --- scripted --------------------------------------------------------------------------------

std::string first_code(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] < '0' || text[i] > '9') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j - i >= 4 && j - i <= 9) return text.substr(i, j - i);
    i = j;
  }
  return {};
}

// The payment reference a screen shows ("... ID 7KQ2M9XH4T. ..."): the 10 characters after
// "ID ", or "" when the screen shows none.
std::string shown_reference(const std::string& text) {
  const auto at = text.find("ID ");
  if (at == std::string::npos || text.size() < at + 13) return {};
  std::string ref = text.substr(at + 3, 10);
  for (char c : ref)
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return {};
  return ref;
}

awaitable<int> scripted(sim::smsc& s, const std::string& path, std::string msisdn,
                        std::chrono::milliseconds step_timeout, bool as_phone) {
  auto ex = co_await asio::this_coro::executor;
  std::ifstream f(path);
  if (!f) {
    fmt::print(stderr, "ussdpay-sim: cannot read script {}\n", path);
    co_return 2;
  }
  // The inbox outlives this coroutine if it ends early: screens may still arrive.
  auto box = std::make_shared<inbox>(ex);
  s.on_mt = [&s, box](const sim::mt_message& m) {
    warn_protocol_error(s, m);
    box->push(m);
  };
  int lineno = 0;
  std::string last_sms, last_ref;
  auto fail = [&](const std::string& why) {
    fmt::print("FAIL {}:{}: {}\n", path, lineno, why);
    std::fflush(stdout);
    return 1;
  };
  for (std::string line; std::getline(f, line);) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string verb;
    words >> verb;
    std::string arg;
    std::getline(words >> std::ws, arg);
    if (verb == "wait-bind") {
      if (!co_await wait_bound(s, std::chrono::milliseconds(arg.empty() ? 10000 : std::stoi(arg))))
        co_return fail("no ESME bound");
    } else if (verb == "as") {
      msisdn = arg;
    } else if (verb == "say") {  // narration, shown with --show
      if (as_phone) fmt::print("\n## {}\n", arg);
    } else if (verb == "dial") {
      if (as_phone) fmt::print("\n+{}> {}\n", msisdn, arg);
      if (!s.dial(msisdn, arg)) co_return fail("no receiver bind to dial through");
    } else if (verb == "reply") {
      if (as_phone) fmt::print("> {}\n", arg);
      if (!s.reply(msisdn, arg)) co_return fail("nothing dialed to reply to, or no receiver bind");
    } else if (verb == "reply-code") {
      // The one-time code from the last SMS: its first run of 4 to 9 digits.
      const std::string code = first_code(last_sms);
      if (code.empty()) co_return fail("no code in the last SMS: '" + last_sms + "'");
      if (!s.reply(msisdn, code)) co_return fail("nothing dialed to reply to, or no receiver bind");
    } else if (verb == "abort") {
      if (!s.can_abort())
        co_return fail(fmt::format("profile {} has no abort op", s.dialogs().profile().name));
      if (!s.abort(msisdn)) co_return fail("no open dialog to abort");
    } else if (verb == "expect" || verb == "expect-end" || verb == "expect-continue" ||
               verb == "expect-sms" || verb == "expect-sms-ref") {
      auto m = co_await box->next(msisdn, clock_type::now() + step_timeout);
      if (!m) co_return fail(fmt::format("nothing arrived within {} ms", step_timeout.count()));
      if (as_phone)
        show(*m);
      else
        fmt::print("{} +{}: {}\n", m->ussd ? "screen" : "sms", m->msisdn, m->text);
      if (!m->protocol_error.empty())
        co_return fail("the screen does not fit the profile: " + m->protocol_error);
      if (m->text.find(arg) == std::string::npos)
        co_return fail(fmt::format("expected '{}' in '{}'", arg, m->text));
      const bool sms = verb == "expect-sms" || verb == "expect-sms-ref";
      if (sms && m->ussd) co_return fail("expected an SMS, got a USSD screen");
      if (!m->ussd) last_sms = m->text;
      if (!sms && !m->ussd) co_return fail("expected a USSD screen, got an SMS");
      if (m->ussd && !shown_reference(m->text).empty()) last_ref = shown_reference(m->text);
      if (verb == "expect-sms-ref") {
        if (last_ref.empty()) co_return fail("no screen has shown a reference (ID ...) yet");
        if (m->text.find(last_ref) == std::string::npos)
          co_return fail(
              fmt::format("the SMS does not carry the reference {} shown on screen", last_ref));
        fmt::print("same reference on screen and in the SMS: {}\n", last_ref);
      }
      std::fflush(stdout);  // a script may sleep long after this: keep its output current
      if (verb == "expect-end" && !m->ends_dialog)
        co_return fail("the screen does not end the dialog");
      if (verb == "expect-continue" && m->ends_dialog) co_return fail("the screen ends the dialog");
    } else if (verb == "sleep") {
      asio::steady_timer t(ex, std::chrono::milliseconds(std::stoi(arg)));
      co_await t.async_wait(nothrow);
    } else {
      co_return fail("unknown step '" + verb + "'");
    }
  }
  if (const auto n = s.stats().ussd_protocol_errors; n > 0)
    co_return fail(
        fmt::format("{} screen(s) did not fit profile {}", n, s.dialogs().profile().name));
  fmt::print("PASS {}\n", path);
  std::fflush(stdout);
  co_return 0;
}

// --- load and hold ---------------------------------------------------------------------------

/// The drivers' phones are the smsc's subscribers.
class smsc_phones final : public sim::phones {
 public:
  explicit smsc_phones(sim::smsc& s) : s_(s) {}
  bool dial(std::string_view msisdn, std::string_view text) override {
    return s_.dial(msisdn, text);
  }
  bool reply(std::string_view msisdn, std::string_view text) override {
    return s_.reply(msisdn, text);
  }
  bool abort(std::string_view msisdn) override { return s_.abort(msisdn); }
  bool can_abort() const override { return s_.can_abort(); }

 private:
  sim::smsc& s_;
};

/// CPU time (user + system) this process has used.
std::chrono::duration<double> cpu_time() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return std::chrono::duration<double>(secs(ru.ru_utime) + secs(ru.ru_stime));
}

constexpr auto tick = std::chrono::milliseconds(5);

/// How long after a dialog's last screen its SMS (the receipt of a payment) was acknowledged:
/// each last screen waits, per number, for the next SMS to that number (one that overtook its
/// screen counts 0). Time spent while the SMSC itself refused everything (throttle_for after
/// the last bind) is not counted against the sender.
struct receipt_clock {
  struct number {
    std::deque<clock_type::time_point> screens;  ///< last screens still waiting for their SMS
    std::uint32_t early = 0;  ///< SMS that overtook their screen (queued before it was sent)
  };
  std::map<std::string, number, std::less<>> numbers;
  sim::latency_histogram after_screen;

  void screen(const std::string& msisdn, clock_type::time_point now) {
    auto& n = numbers[msisdn];
    if (n.early > 0) {
      --n.early;
      after_screen.record(0);
    } else {
      n.screens.push_back(now);
    }
  }
  void sms(const sim::smsc& s, const std::string& msisdn, clock_type::time_point now) {
    auto& n = numbers[msisdn];
    if (n.screens.empty()) {
      ++n.early;
      return;
    }
    const auto since = std::max(n.screens.front(), s.last_bind_at() + s.throttle_for());
    n.screens.pop_front();
    after_screen.record(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::max(now - since, clock_type::duration{}))
                                       .count()));
  }
  /// Last screens whose SMS never came, and SMS with no last screen (codes, reminders, ...).
  std::pair<std::uint64_t, std::uint64_t> unmatched() const {
    std::pair<std::uint64_t, std::uint64_t> r{0, 0};
    for (const auto& [msisdn, n] : numbers) {
      r.first += n.screens.size();
      r.second += n.early;
    }
    return r;
  }
};

awaitable<int> load(sim::smsc& s, sim::load_driver& d, std::chrono::milliseconds linger) {
  auto ex = co_await asio::this_coro::executor;
  if (!co_await wait_bound(s, std::chrono::seconds(10))) {
    fmt::print(stderr, "ussdpay-sim: no ESME bound within 10 s\n");
    co_return 1;
  }
  // d lives in main(), as long as s; receipts lives in this frame, which outlives the handler's
  // use (it is reset below before the frame ends).
  receipt_clock receipts;
  s.on_mt = [&d, &s, &receipts](const sim::mt_message& m) {
    const auto now = clock_type::now();
    if (!m.ussd) {
      receipts.sms(s, m.msisdn, now);
      return;
    }
    const auto completed = d.totals().completed;
    d.on_screen(m.msisdn, m.ends_dialog, !m.protocol_error.empty(), now);
    if (d.totals().completed != completed) receipts.screen(m.msisdn, now);
  };
  const auto cpu_before = cpu_time();
  const auto start = clock_type::now();
  d.start(start);
  // SIGUSR1 ends the run early: no new dialogs, the SMSC serves on (receipts, --linger-ms).
  asio::signal_set usr1(ex, SIGUSR1);
  usr1.async_wait([&d](boost::system::error_code ec, int) {
    if (!ec) d.stop_starting();
  });
  asio::steady_timer t(ex);
  // With reading time, a fine tick keeps replies spread out as independent subscribers' are.
  const auto period = d.options().think > sim::sim_clock::duration::zero()
                          ? std::chrono::milliseconds(1)
                          : std::chrono::milliseconds(tick);
  while (!d.done()) {
    t.expires_after(period);
    co_await t.async_wait(nothrow);
    d.on_tick(clock_type::now());
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  const double cpu = (cpu_time() - cpu_before).count();
  const auto& r = d.totals();
  const auto& h = d.latencies();
  auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  const auto p50 = h.percentile(50), p90 = h.percentile(90), p99 = h.percentile(99);
  fmt::print(
      "load profile={} sessions={} steps={} dials={} completed={} ended_early={} aborts={} "
      "hops={} seconds={:.2f} hops_per_s={:.0f} p50_us={} p90_us={} p99_us={} max_us={} "
      "timeouts={} protocol_errors={} failures={} stray={} cpu_s={:.2f} cpu_us_per_hop={:.2f} "
      "p50_ms={:.3f} p90_ms={:.3f} p99_ms={:.3f} max_ms={:.3f} last_hop_p50_us={} "
      "last_hop_p99_us={} completed_per_s={:.0f} sms_acked={} sms_duplicates={}\n",
      s.dialogs().profile().name, d.options().sessions, d.options().steps.size(), r.dials,
      r.completed, r.ended_early, r.aborts, r.hops, secs,
      secs > 0 ? static_cast<double>(r.hops) / secs : 0.0, p50, p90, p99, h.max(), r.timeouts,
      r.protocol_errors, r.failures, r.stray, cpu,
      r.hops > 0 ? cpu * 1e6 / static_cast<double>(r.hops) : 0.0, ms(p50), ms(p90), ms(p99),
      ms(h.max()), d.last_hop_latencies().percentile(50), d.last_hop_latencies().percentile(99),
      secs > 0 ? static_cast<double>(r.completed) / secs : 0.0, s.stats().sms_acked,
      s.stats().sms_duplicates);
  std::fflush(stdout);
  // SMS still on their way (receipts of the last payments) are counted in sim-stats at exit.
  if (linger.count() > 0) {
    t.expires_after(linger);
    co_await t.async_wait(nothrow);
  }
  const auto& ra = receipts.after_screen;
  fmt::print(
      "receipts after_last_screen={} p50_ms={:.1f} p99_ms={:.1f} max_ms={:.1f} still_waiting={} "
      "unmatched={}\n",
      ra.count(), ms(ra.percentile(50)), ms(ra.percentile(99)), ms(ra.max()),
      receipts.unmatched().first, receipts.unmatched().second);
  std::fflush(stdout);
  s.on_mt = [](const sim::mt_message&) {};
  usr1.cancel();
  co_return r.timeouts == 0 && r.failures == 0 && r.protocol_errors == 0 && r.hops > 0 ? 0 : 1;
}

void print_hold(const char* what, const sim::hold_driver& d, double secs) {
  const auto& r = d.totals();
  const auto& h = d.latencies();
  fmt::print(
      "{} sessions={} held={} failed={} timeouts={} ended={} protocol_errors={} failures={} "
      "released={} stray={} seconds={:.2f} p50_us={} p99_us={} max_us={}\n",
      what, r.dialed, r.held, r.failed(), r.timeouts, r.ended, r.protocol_errors, r.failures,
      r.released, r.stray, secs, h.percentile(50), h.percentile(99), h.max());
  std::fflush(stdout);
}

/// Dials every subscriber, waits for each first screen, then keeps the dialogs open until the
/// program is stopped (the driver keeps counting screens that release them).
awaitable<int> hold(sim::smsc& s, sim::hold_driver& d) {
  auto ex = co_await asio::this_coro::executor;
  if (!co_await wait_bound(s, std::chrono::seconds(10))) {
    fmt::print(stderr, "ussdpay-sim: no ESME bound within 10 s\n");
    co_return 1;
  }
  // d lives in main(), as long as s.
  s.on_mt = [&d](const sim::mt_message& m) {
    if (m.ussd) d.on_screen(m.msisdn, m.ends_dialog, !m.protocol_error.empty(), clock_type::now());
  };
  const auto start = clock_type::now();
  d.start(start);
  asio::steady_timer t(ex);
  while (!d.done()) {
    t.expires_after(tick);
    co_await t.async_wait(nothrow);
    d.on_tick(clock_type::now());
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  fmt::print("held {} sessions ({} failed) in {:.2f} s\n", d.totals().held, d.totals().failed(),
             secs);
  print_hold("hold", d, secs);
  // Serve until SIGINT/SIGTERM; the driver stays alive for late screens.
  for (;;) {
    t.expires_after(std::chrono::seconds(1));
    co_await t.async_wait(nothrow);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ussdpay-sim: SMSC / USSD centre and phone simulator"};
  sim::smsc_options opt;
  opt.port = 2775;
  std::string mode = "interactive", script, msisdn = "923001234567", code = "*123#", inputs;
  std::string profile_name = "default";
  std::uint32_t sessions = 10, concurrency = 100, respond_delay_ms = 0, duration_s = 10,
                step_timeout_ms = 5000;
  double hop_timeout_s = 10;
  std::uint32_t think_ms = 0;
  std::uint64_t max_dialogs = std::numeric_limits<std::uint64_t>::max();
  app.add_option("--mode", mode, "interactive | scripted | load | hold | serve")
      ->check(CLI::IsMember({"interactive", "scripted", "load", "hold", "serve"}));
  const std::string profiles = fmt::format("{}", fmt::join(ussd::builtin_profile_names(), " | "));
  app.add_option("--profile", profile_name, "the operator's USSD dialect: " + profiles);
  app.add_option("--host", opt.host, "address to listen on");
  app.add_option("--port", opt.port, "port to listen on (0 = any free port)");
  app.add_option("--system-id", opt.system_id, "system_id an ESME must bind with");
  app.add_option("--password", opt.password, "password an ESME must bind with");
  app.add_option("--tls-cert", opt.tls_cert_file, "PEM certificate chain: serve TLS");
  app.add_option("--tls-key", opt.tls_key_file, "PEM private key for --tls-cert");
  app.add_flag("--decimal-ids", opt.decimal_message_ids, "message ids in decimal, not hex");
  app.add_option("--throttle-first", opt.throttle_first,
                 "answer the first N submit_sm with ESME_RTHROTTLED");
  app.add_option("--throttle-every", opt.throttle_every,
                 "answer every Nth submit_sm with ESME_RTHROTTLED");
  std::uint32_t throttle_for_ms = 0, linger_ms = 0;
  app.add_option("--throttle-for-ms", throttle_for_ms,
                 "answer every submit_sm with ESME_RTHROTTLED for this long after each bind");
  app.add_flag("--throttle-sms-only", opt.throttle_sms_only,
               "the --throttle-* options apply to SMS only (USSD screens pass)");
  app.add_option("--sms-log", opt.sms_log,
                 "append every acknowledged SMS to this file (sms, msisdn, message id, text as "
                 "hex; tab-separated), to count what reached the wire across runs");
  app.add_option("--queue-full-every", opt.queue_full_every,
                 "answer every Nth submit_sm with ESME_RMSGQFUL");
  app.add_option("--respond-delay-ms", respond_delay_ms, "delay before answering submit_sm");
  app.add_flag("--silent", opt.silent, "accept binds, then never answer");
  app.add_option("--silent-bind-every", opt.silent_bind_every,
                 "every Nth accepted bind goes silent (never answers nor sends after the bind)");
  app.add_option("--flush-every", opt.flush_every,
                 "send answers after every N requests of one read (0 = after the whole read)");
  bool no_receipts = false;
  app.add_flag("--no-receipts", no_receipts, "never send delivery receipts");
  app.add_option("--spread", opt.spread,
                 "deliver_sm round-robin over every receiving bind, as SMSCs do over the binds of "
                 "one system_id: none (the first bind takes all), receipts, all (USSD too)")
      ->check(CLI::IsMember({"none", "receipts", "all"}));
  app.add_option("--receipt-ids", opt.receipt_ids,
                 "how receipts write the message id: same (as submit_sm_resp), other-base "
                 "(hex <-> decimal), padded (lower case, 20 characters with leading zeros)")
      ->check(CLI::IsMember({"same", "other-base", "padded"}));
  app.add_option("--receipt-form", opt.receipt_form,
                 "where receipts say it: both (TLVs and the id:... stat:... text), tlv, text")
      ->check(CLI::IsMember({"both", "tlv", "text"}));
  app.add_option("--receipt-stat", opt.receipt_stat, "the state every receipt reports")
      ->check(CLI::IsMember({"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "ENROUTE",
                             "ACCEPTD", "UNKNOWN"}));
  app.add_option("--drop-every", opt.drop_every,
                 "drop every connection at each Nth submit_sm (left unanswered)");
  std::uint32_t drop_every_ms = 0;
  app.add_option("--drop-every-ms", drop_every_ms,
                 "drop every connection this often, whatever is in flight (0 = never)");
  app.add_option("--stray-receipts", opt.stray_receipts,
                 "after each receipt, send N more for message ids never given out");
  app.add_option("--script", script, "scripted mode: the script to run");
  app.add_option("--step-timeout-ms", step_timeout_ms, "scripted mode: wait per expect step");
  bool as_phone = false;
  app.add_flag("--show", as_phone,
               "scripted mode: print inputs, screens and SMS as the phone shows them, with the "
               "script's `say` lines");
  app.add_option("--msisdn", msisdn,
                 "the simulated phone's number (load, hold: the first of consecutive numbers)");
  app.add_option("--inputs", inputs,
                 "load mode: one dialog's steps, comma-separated: the dial, then each reply; "
                 "{account} becomes a 14-digit number unique per dialog (default: --code)");
  app.add_option("--code", code, "load, hold: the code to dial (load: when --inputs is not given)");
  app.add_option("--sessions", sessions,
                 "load: concurrent subscribers; hold: subscribers to dial and hold");
  app.add_option("--concurrency", concurrency, "hold mode: dials outstanding at most");
  app.add_option("--duration", duration_s, "load mode: seconds to run");
  app.add_option("--max-dialogs,--max-dials", max_dialogs,
                 "load mode: start at most this many dialogs");
  app.add_option("--think-ms", think_ms,
                 "load mode: a subscriber replies this long after each screen (0 = at once)");
  app.add_option("--linger-ms", linger_ms,
                 "load mode: keep serving this long after the last dialog (receipts still coming "
                 "are counted in sim-stats)");
  app.add_option("--hop-timeout", hop_timeout_s,
                 "load, hold: seconds to wait for a screen before giving the hop up")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  opt.respond_delay = std::chrono::milliseconds(respond_delay_ms);
  opt.drop_interval = std::chrono::milliseconds(drop_every_ms);
  opt.throttle_for = std::chrono::milliseconds(throttle_for_ms);
  opt.receipts = !no_receipts;
  if (auto p = ussd::builtin_profile(profile_name)) {
    opt.profile = std::move(*p);
  } else {
    fmt::print(stderr, "ussdpay-sim: unknown --profile '{}' (known: {})\n", profile_name,
               fmt::join(ussd::builtin_profile_names(), ", "));
    return 2;
  }
  if (mode == "scripted" && script.empty()) {
    fmt::print(stderr, "ussdpay-sim: --mode scripted needs --script FILE\n");
    return 2;
  }
  std::uint64_t first_msisdn = 0;
  if (mode == "load" || mode == "hold") {
    const auto r = std::from_chars(msisdn.data(), msisdn.data() + msisdn.size(), first_msisdn);
    if (r.ec != std::errc{} || r.ptr != msisdn.data() + msisdn.size() || msisdn[0] == '0' ||
        first_msisdn + sessions > 999'999'999'999'999ULL) {
      fmt::print(stderr, "ussdpay-sim: --msisdn must be digits (no leading 0) for --mode {}\n",
                 mode);
      return 2;
    }
    opt.decode_mt = false;  // only the verdict matters, and decoding costs
  }
  const auto hop_timeout = std::chrono::duration_cast<sim::sim_clock::duration>(
      std::chrono::duration<double>(hop_timeout_s));

  asio::io_context io(1);
  sim::smsc s(io.get_executor(), opt);
  try {
    s.start();
  } catch (const std::exception& e) {
    fmt::print(stderr, "ussdpay-sim: cannot listen on {}:{}: {}\n", opt.host, opt.port, e.what());
    return 2;
  }
  fmt::print("ussdpay-sim listening on {}:{}{}\n", opt.host, s.port(),
             opt.tls_cert_file.empty() ? "" : " (TLS)");
  std::fflush(stdout);

  int exit_code = 0;
  auto finish = [&](int code_) {
    exit_code = code_;
    s.stop(false);
    // Give the unbind a moment to reach the gateway.
    auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(200));
    t->async_wait([&io, t](boost::system::error_code) { io.stop(); });
  };
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (!ec) finish(exit_code);
  });

  // The drivers live as long as s: its on_mt handler points at them.
  smsc_phones phones(s);
  std::optional<sim::load_driver> load_d;
  std::optional<sim::hold_driver> hold_d;
  auto hold_started = clock_type::now();
  if (mode == "interactive") {
    asio::co_spawn(io, interactive(s, msisdn, [&] { finish(0); }), asio::detached);
  } else if (mode == "scripted") {
    asio::co_spawn(
        io, scripted(s, script, msisdn, std::chrono::milliseconds(step_timeout_ms), as_phone),
        [&](std::exception_ptr e, int rc) { finish(e ? 3 : rc); });
  } else if (mode == "load") {
    sim::load_options lo;
    lo.steps = sim::split_steps(inputs.empty() ? code : inputs);
    lo.sessions = sessions;
    lo.first_msisdn = first_msisdn;
    lo.duration = std::chrono::seconds(duration_s);
    lo.max_dialogs = max_dialogs;
    lo.hop_timeout = hop_timeout;
    lo.think = std::chrono::milliseconds(think_ms);
    load_d.emplace(phones, std::move(lo));
    asio::co_spawn(io, load(s, *load_d, std::chrono::milliseconds(linger_ms)),
                   [&](std::exception_ptr e, int rc) { finish(e ? 3 : rc); });
  } else if (mode == "hold") {
    sim::hold_options ho;
    ho.sessions = sessions;
    ho.concurrency = concurrency;
    ho.first_msisdn = first_msisdn;
    ho.code = code;
    ho.hop_timeout = hop_timeout;
    hold_d.emplace(phones, std::move(ho));
    asio::co_spawn(io, hold(s, *hold_d), [&](std::exception_ptr e, int rc) { finish(e ? 3 : rc); });
  }
  io.run();
  if (mode == "interactive") fmt::print("\n");  // after the last prompt
  if (hold_d)
    print_hold("hold-end", *hold_d,
               std::chrono::duration<double>(clock_type::now() - hold_started).count());
  print_stats(s);
  return exit_code;
}
