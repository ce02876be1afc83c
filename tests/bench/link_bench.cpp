// ussdpay-linkbench: pushes N submit_sm through the daemon's own ESME link (smsc_client ->
// link_session -> link_fsm -> codec, nothing bench-specific in between) to an SMSC such as
// `ussdpay-sim --mode serve --no-receipts`, keeping the pipeline full, and reports:
//
//   linkbench messages=N acked=... seconds=... acked_per_s=... p50_us=... p90_us=... p99_us=...
//             max_us=... accepted=... rejected=... timeout=... link_lost=... not_sent=...
//             cpu_s=... cpu_us_per_msg=... peak_rss_mb=... timed_out=0|1
//
// At most window * binds * 2 submits are outstanding in the client at any time (the window of
// every bind full plus as many queued behind it); each completion (a posted handler) submits
// the next. Latency is per message, from the submit call to its completion. seconds and
// acked_per_s cover the first submit to the last completion; cpu_s is this process's user+sys
// CPU over the same span (getrusage), peak_rss_mb the process's peak resident set.
//
// Exit status: 0 if every message was accepted within --seconds; 1 otherwise; 2 on bad usage
// or when no bind came up.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/smpp/client.hpp"

namespace {

using namespace ussdpay;
namespace asio = boost::asio;
using bench_clock = std::chrono::steady_clock;

/// Log-linear latency histogram in nanoseconds: exact below 256 ns, then 128 sub-buckets per
/// power of two (under 1% error), so a million samples cost no memory that would blur peak RSS.
class histogram {
 public:
  void add(std::uint64_t ns) {
    ++counts_[index(ns)];
    ++total_;
    max_ = std::max(max_, ns);
  }
  std::uint64_t count() const { return total_; }
  std::uint64_t max() const { return max_; }
  /// Smallest recorded value v such that at least p% of the samples are <= v (bucket midpoint).
  std::uint64_t percentile(double p) const {
    if (total_ == 0) return 0;
    auto want = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(total_) + 0.5);
    want = std::clamp<std::uint64_t>(want, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= want) return std::min(value_of(i), max_);
    }
    return max_;
  }

 private:
  static constexpr std::size_t exact = 256, sub = 128;
  static std::size_t index(std::uint64_t v) {
    if (v < exact) return static_cast<std::size_t>(v);
    const auto shift = static_cast<unsigned>(std::bit_width(v)) - 8;  // >= 1
    const auto top = static_cast<std::size_t>(v >> shift);            // 128..255
    return exact + (shift - 1) * sub + (top - sub);
  }
  static std::uint64_t value_of(std::size_t i) {
    if (i < exact) return i;
    const auto shift = static_cast<unsigned>((i - exact) / sub + 1);
    const auto top = static_cast<std::uint64_t>((i - exact) % sub + sub);
    return (top << shift) + ((std::uint64_t{1} << shift) >> 1);
  }
  std::array<std::uint64_t, exact + 57 * sub> counts_{};
  std::uint64_t total_ = 0, max_ = 0;
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 2775;
  std::string system_id = "ussdpay";
  std::string password = "secret";
  std::uint64_t messages = 1'000'000;
  std::uint32_t window = 100;
  std::uint32_t binds = 1;
  std::uint32_t seconds = 60;
  std::uint32_t payload_bytes = 60;
};

class bench {
 public:
  bench(asio::io_context& io, const options& o)
      : io_(io),
        opt_(o),
        client_(io.get_executor(), make_config(o), inbound),
        poll_(io),
        limit_(io) {
    smpp::sm_body b;
    b.source = {0, 1, "123"};
    b.destination = {1, 1, "923001234567"};
    b.registered_delivery = 0;  // no receipts: only submit_sm / submit_sm_resp on the wire
    b.short_message.assign(o.payload_bytes, 'x');
    template_ = smpp::make_submit(0, std::move(b));
    max_outstanding_ = std::uint64_t{o.window} * std::max<std::uint32_t>(1, o.binds) * 2;
  }

  /// Runs to completion (or the time bound); returns the process exit status.
  int run() {
    const auto hard_end = bench_clock::now() + std::chrono::seconds(opt_.seconds);
    limit_.expires_at(hard_end);
    limit_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;
      timed_out_ = true;
      finish();
    });
    client_.start();
    wait_bound(bench_clock::now() + std::chrono::seconds(10));
    io_.run();
    return report();
  }

 private:
  static smpp::smsc_config make_config(const options& o) {
    smpp::smsc_config c;
    c.endpoint.host = o.host;
    c.endpoint.port = o.port;
    c.link.system_id = o.system_id;
    c.link.password = o.password;
    c.link.window = o.window;
    c.binds = std::max<std::uint32_t>(1, o.binds);
    c.link.max_queue = std::size_t{o.window} * 4 + 16;  // the bench never queues more than 2x
    return c;
  }
  static std::uint32_t inbound(const smpp::pdu&, smpp::link_session&) { return smpp::status::ok; }

  void wait_bound(bench_clock::time_point deadline) {
    if (client_.bound_links() == client_.links().size()) {
      start_ = bench_clock::now();
      cpu_start_ = cpu_seconds();
      while (submitted_ < opt_.messages && submitted_ - completed_ < max_outstanding_) submit_one();
      return;
    }
    if (bench_clock::now() >= deadline) {
      fmt::print(stderr, "linkbench: {} of {} binds up after 10 s\n", client_.bound_links(),
                 client_.links().size());
      no_bind_ = true;
      finish();
      return;
    }
    poll_.expires_after(std::chrono::milliseconds(5));
    poll_.async_wait([this, deadline](boost::system::error_code ec) {
      if (!ec) wait_bound(deadline);
    });
  }

  void submit_one() {
    ++submitted_;
    const auto sent = bench_clock::now();
    client_.async_submit(template_,
                         [this, sent](smpp::submit_result r) { on_done(sent, r.result); });
  }

  void on_done(bench_clock::time_point sent, smpp::outcome o) {
    const auto now = bench_clock::now();
    latency_.add(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent).count()));
    ++outcomes_[static_cast<std::size_t>(o)];
    ++completed_;
    if (finishing_) return;
    if (completed_ == opt_.messages) {
      end_ = now;
      cpu_end_ = cpu_seconds();
      finish();
      return;
    }
    while (submitted_ < opt_.messages && submitted_ - completed_ < max_outstanding_) submit_one();
  }

  void finish() {
    if (finishing_) return;
    finishing_ = true;
    if (end_ == bench_clock::time_point{}) {
      end_ = bench_clock::now();
      cpu_end_ = cpu_seconds();
    }
    poll_.cancel();
    limit_.cancel();
    client_.stop([this] { io_.stop(); });
    // The unbind must not hang the bench: bounded by drain + unbind timeouts and a margin.
    limit_.expires_after(std::chrono::seconds(5));
    limit_.async_wait([this](boost::system::error_code ec) {
      if (!ec) io_.stop();
    });
  }

  int report() {
    if (no_bind_) return 2;
    const double secs = start_ == bench_clock::time_point{}
                            ? 0
                            : std::chrono::duration<double>(end_ - start_).count();
    const std::uint64_t acked = outcomes_[static_cast<std::size_t>(smpp::outcome::accepted)];
    const double cpu = cpu_end_ - cpu_start_;
    auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
    fmt::print(
        "linkbench messages={} window={} binds={} payload_bytes={} acked={} seconds={:.3f} "
        "acked_per_s={:.0f} p50_us={:.1f} p90_us={:.1f} p99_us={:.1f} max_us={:.1f} "
        "accepted={} rejected={} timeout={} link_lost={} not_sent={} cpu_s={:.3f} "
        "cpu_us_per_msg={:.2f} peak_rss_mb={:.1f} timed_out={}\n",
        opt_.messages, opt_.window, opt_.binds, opt_.payload_bytes, acked, secs,
        secs > 0 ? static_cast<double>(acked) / secs : 0.0, us(latency_.percentile(50)),
        us(latency_.percentile(90)), us(latency_.percentile(99)), us(latency_.max()), acked,
        outcomes_[static_cast<std::size_t>(smpp::outcome::rejected)],
        outcomes_[static_cast<std::size_t>(smpp::outcome::timeout)],
        outcomes_[static_cast<std::size_t>(smpp::outcome::link_lost)],
        outcomes_[static_cast<std::size_t>(smpp::outcome::not_sent)], cpu,
        acked > 0 ? cpu * 1e6 / static_cast<double>(acked) : 0.0, peak_rss_mb(),
        timed_out_ ? 1 : 0);
    std::fflush(stdout);
    return !timed_out_ && acked == opt_.messages ? 0 : 1;
  }

  asio::io_context& io_;
  options opt_;
  smpp::smsc_client client_;
  asio::steady_timer poll_;
  asio::steady_timer limit_;
  smpp::pdu template_;
  std::uint64_t max_outstanding_ = 0;
  std::uint64_t submitted_ = 0, completed_ = 0;
  std::array<std::uint64_t, 5> outcomes_{};
  histogram latency_;
  bench_clock::time_point start_{}, end_{};
  double cpu_start_ = 0, cpu_end_ = 0;
  bool finishing_ = false, timed_out_ = false, no_bind_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ussdpay-linkbench: submit_sm throughput through the ESME link"};
  options o;
  app.add_option("--host", o.host, "SMSC host");
  app.add_option("--port", o.port, "SMSC port")->required();
  app.add_option("--system-id", o.system_id, "bind system_id");
  app.add_option("--password", o.password, "bind password");
  app.add_option("--messages", o.messages, "submit_sm to send")
      ->check(CLI::Range(1ULL, 1'000'000'000ULL));
  app.add_option("--window", o.window, "window per bind")->check(CLI::Range(1U, 100'000U));
  app.add_option("--binds", o.binds, "transceiver binds")->check(CLI::Range(1U, 64U));
  app.add_option("--seconds", o.seconds, "time bound for the whole run (exit 1 when hit)")
      ->check(CLI::Range(1U, 3600U));
  app.add_option("--payload-bytes", o.payload_bytes, "short_message octets")
      ->check(CLI::Range(0U, 253U));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);  // the link logs bind/unbind at info

  asio::io_context io(1);
  bench b(io, o);
  return b.run();
}
