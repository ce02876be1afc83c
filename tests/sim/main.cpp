// ussdpay-sim: an SMSC / USSD centre and phone simulator for ussdpay.
//
//   --mode interactive  a person types *123# and replies; screens and SMS are shown
//   --mode scripted     runs a script of dial/expect/reply steps; exit status 0 = all passed
//   --mode load         closed-loop USSD sessions at a given concurrency; prints hops/s and
//                       latency percentiles
//   --mode serve        only the SMSC (acks, receipts, fault knobs), until SIGINT/SIGTERM
//
// It prints "ussdpay-sim listening on HOST:PORT" once the socket is bound.
#include <algorithm>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

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
      "generic_nacks_received={} decode_errors={} peak_pending_submits={}\n",
      st.connections, st.binds_ok, st.binds_rejected, st.unbinds, st.submits, st.submits_throttled,
      st.enquire_links, st.deliver_sent, st.deliver_resp_ok, st.deliver_resp_error,
      st.generic_nacks_received, st.decode_errors, st.peak_pending_submits);
  std::fflush(stdout);
}

// --- interactive ---------------------------------------------------------------------------

void show(const sim::mt_message& m) {
  if (!m.ussd) {
    fmt::print("\n[SMS to +{}] {}\n", m.msisdn, m.text);
  } else {
    fmt::print("\n+---------------- USSD ----------------\n");
    std::istringstream lines(m.text);
    for (std::string line; std::getline(lines, line);) fmt::print("| {}\n", line);
    fmt::print("+--------------------------------------\n");
    fmt::print("{}", m.ends_dialog ? "(dialog ended)\n> " : "reply> ");
  }
  std::fflush(stdout);
}

awaitable<void> interactive(sim::smsc& s, std::string msisdn, std::function<void()> quit) {
  auto ex = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor in(ex, ::dup(STDIN_FILENO));
  asio::streambuf buf;
  bool in_dialog = false;
  s.on_mt = [&](const sim::mt_message& m) {
    show(m);
    if (m.ussd && m.msisdn == msisdn) in_dialog = !m.ends_dialog;
  };
  fmt::print(
      "Phone +{}: type a USSD code such as *123# to dial, then answer each screen; "
      "'quit' to exit.\n> ",
      msisdn);
  std::fflush(stdout);
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(in, buf, '\n', nothrow);
    if (ec) break;
    std::string line(asio::buffers_begin(buf.data()),
                     asio::buffers_begin(buf.data()) + static_cast<std::ptrdiff_t>(n));
    buf.consume(n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line == "quit" || line == "exit") break;
    if (line.empty()) continue;
    bool ok;
    if (!in_dialog || (line.front() == '*' && line.back() == '#')) {
      ok = s.dial(msisdn, line);
      in_dialog = ok;
    } else {
      ok = s.reply(msisdn, line);
    }
    if (!ok) {
      fmt::print("(no gateway bound yet; try again in a moment)\n> ");
      std::fflush(stdout);
    }
  }
  quit();
}

// --- scripted --------------------------------------------------------------------------------

awaitable<int> scripted(sim::smsc& s, const std::string& path, std::string msisdn,
                        std::chrono::milliseconds step_timeout) {
  auto ex = co_await asio::this_coro::executor;
  std::ifstream f(path);
  if (!f) {
    fmt::print(stderr, "ussdpay-sim: cannot read script {}\n", path);
    co_return 2;
  }
  inbox box(ex);
  s.on_mt = [&](const sim::mt_message& m) { box.push(m); };
  int lineno = 0;
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
    } else if (verb == "dial") {
      if (!s.dial(msisdn, arg)) co_return fail("no receiver bind to dial through");
    } else if (verb == "reply") {
      if (!s.reply(msisdn, arg)) co_return fail("no open dialog to reply to");
    } else if (verb == "expect" || verb == "expect-end" || verb == "expect-continue" ||
               verb == "expect-sms") {
      auto m = co_await box.next(msisdn, clock_type::now() + step_timeout);
      if (!m) co_return fail(fmt::format("nothing arrived within {} ms", step_timeout.count()));
      fmt::print("{} +{}: {}\n", m->ussd ? "screen" : "sms", m->msisdn, m->text);
      if (m->text.find(arg) == std::string::npos)
        co_return fail(fmt::format("expected '{}' in '{}'", arg, m->text));
      if (verb == "expect-sms" && m->ussd) co_return fail("expected an SMS, got a USSD screen");
      if (verb != "expect-sms" && !m->ussd) co_return fail("expected a USSD screen, got an SMS");
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
  fmt::print("PASS {}\n", path);
  std::fflush(stdout);
  co_return 0;
}

// --- load ------------------------------------------------------------------------------------

struct load_result {
  std::uint64_t hops = 0, dials = 0, timeouts = 0, failures = 0;
  std::vector<double> latencies_ms;
};

awaitable<void> virtual_user(sim::smsc& s, inbox& box, std::string msisdn, std::string code,
                             std::string answer, clock_type::time_point end,
                             std::uint64_t max_dials, std::chrono::milliseconds hop_timeout,
                             load_result& r) {
  while (clock_type::now() < end && r.dials < max_dials) {
    ++r.dials;
    auto sent = clock_type::now();
    if (!s.dial(msisdn, code)) {
      ++r.failures;
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(10));
      co_await t.async_wait(nothrow);
      continue;
    }
    for (int hop = 0; hop < 16; ++hop) {
      auto m = co_await box.next(msisdn, sent + hop_timeout);
      if (!m) {
        ++r.timeouts;
        break;
      }
      if (!m->ussd) {  // an SMS (receipt): not a hop
        --hop;
        continue;
      }
      r.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(clock_type::now() - sent).count());
      ++r.hops;
      if (m->ends_dialog || clock_type::now() >= end) break;
      sent = clock_type::now();
      s.reply(msisdn, answer);
    }
  }
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

awaitable<int> load(sim::smsc& s, std::uint32_t sessions, std::chrono::milliseconds duration,
                    std::uint64_t max_dials, std::string code, std::string answer,
                    std::uint64_t msisdn_base) {
  auto ex = co_await asio::this_coro::executor;
  if (!co_await wait_bound(s, std::chrono::seconds(10))) {
    fmt::print(stderr, "ussdpay-sim: no ESME bound within 10 s\n");
    co_return 1;
  }
  inbox box(ex);
  s.on_mt = [&](const sim::mt_message& m) { box.push(m); };
  load_result r;
  const auto start = clock_type::now();
  const auto end = start + duration;
  auto remaining = std::make_shared<std::uint32_t>(sessions);
  asio::steady_timer done(ex, clock_type::time_point::max());
  for (std::uint32_t i = 0; i < sessions; ++i) {
    asio::co_spawn(ex,
                   virtual_user(s, box, std::to_string(msisdn_base + i), code, answer, end,
                                max_dials, std::chrono::seconds(5), r),
                   [&, remaining](std::exception_ptr) {
                     if (--*remaining == 0) done.cancel();
                   });
  }
  co_await done.async_wait(nothrow);
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  fmt::print(
      "load sessions={} dials={} hops={} seconds={:.2f} hops_per_s={:.0f} p50_ms={:.2f} "
      "p90_ms={:.2f} p99_ms={:.2f} max_ms={:.2f} timeouts={} failures={}\n",
      sessions, r.dials, r.hops, secs, static_cast<double>(r.hops) / secs,
      percentile(r.latencies_ms, 50), percentile(r.latencies_ms, 90),
      percentile(r.latencies_ms, 99), percentile(r.latencies_ms, 100), r.timeouts, r.failures);
  std::fflush(stdout);
  co_return r.timeouts == 0 && r.failures == 0 && r.hops > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ussdpay-sim: SMSC / USSD centre and phone simulator"};
  sim::smsc_options opt;
  opt.port = 2775;
  std::string mode = "interactive", script, msisdn = "923001234567", code = "*123#", answer = "1";
  std::uint32_t sessions = 10, respond_delay_ms = 0, duration_s = 10, step_timeout_ms = 5000;
  std::uint64_t max_dials = 1'000'000;
  app.add_option("--mode", mode, "interactive | scripted | load | serve")
      ->check(CLI::IsMember({"interactive", "scripted", "load", "serve"}));
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
  app.add_option("--respond-delay-ms", respond_delay_ms, "delay before answering submit_sm");
  app.add_flag("--silent", opt.silent, "accept binds, then never answer");
  app.add_option("--flush-every", opt.flush_every,
                 "send answers after every N requests of one read (0 = after the whole read)");
  bool no_receipts = false;
  app.add_flag("--no-receipts", no_receipts, "never send delivery receipts");
  app.add_option("--script", script, "scripted mode: the script to run");
  app.add_option("--step-timeout-ms", step_timeout_ms, "scripted mode: wait per expect step");
  app.add_option("--msisdn", msisdn, "the simulated phone's number (load: the first one)");
  app.add_option("--code", code, "load mode: the code each session dials");
  app.add_option("--answer", answer, "load mode: the reply to every screen that continues");
  app.add_option("--sessions", sessions, "load mode: concurrent sessions");
  app.add_option("--duration", duration_s, "load mode: seconds to run");
  app.add_option("--max-dials", max_dials, "load mode: stop after this many dials");
  CLI11_PARSE(app, argc, argv);
  opt.respond_delay = std::chrono::milliseconds(respond_delay_ms);
  opt.receipts = !no_receipts;
  if (mode == "scripted" && script.empty()) {
    fmt::print(stderr, "ussdpay-sim: --mode scripted needs --script FILE\n");
    return 2;
  }

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

  if (mode == "interactive") {
    asio::co_spawn(io, interactive(s, msisdn, [&] { finish(0); }), asio::detached);
  } else if (mode == "scripted") {
    asio::co_spawn(io, scripted(s, script, msisdn, std::chrono::milliseconds(step_timeout_ms)),
                   [&](std::exception_ptr e, int rc) { finish(e ? 3 : rc); });
  } else if (mode == "load") {
    asio::co_spawn(io,
                   load(s, sessions, std::chrono::seconds(duration_s), max_dials, code, answer,
                        std::stoull(msisdn)),
                   [&](std::exception_ptr e, int rc) { finish(e ? 3 : rc); });
  }
  io.run();
  print_stats(s);
  return exit_code;
}
