#include "gateway/ussd/dialog_session.hpp"

#include <spdlog/spdlog.h>

#include "gateway/common/log_text.hpp"

namespace ussdpay::ussd {

namespace asio = boost::asio;

namespace {

// Numbers over their dial limit named in the log per summary period; the rest are counted.
constexpr std::uint32_t named_per_summary = 10;
constexpr auto summary_every = std::chrono::seconds(10);

}  // namespace

dialog_session::dialog_session(asio::any_io_executor ex, const dialog_config& cfg,
                               const profile& prof, std::shared_ptr<const menus::catalog> cat,
                               parts p)
    : ex_(ex),
      parts_(std::move(p)),
      dialogs_(
          cfg, prof, std::move(cat),
          {.send = [this](smpp::sm_body b) { parts_.submit(smpp::make_submit(0, std::move(b))); },
           .act = [this](const action_call& c) { run_action(c); },
           .language = [this](std::string_view m) { return parts_.language(m); },
           .hop =
               [](std::string_view msisdn, std::string_view screen, std::string_view input) {
                 // What the subscriber typed, as data: quotes and control characters
                 // escaped (no forged log lines, JSON lines stay JSON), and cut short.
                 if (spdlog::should_log(spdlog::level::debug))
                   spdlog::debug("ussd {} at {}: '{}'", msisdn, screen, loggable(input, 64));
               },
           .answered =
               [this](clock_type::time_point input_at) {
                 hop_latency_.observe(clock_type::now() - input_at);
               },
           .refused = [this](std::string_view msisdn, dial_refusal why,
                             bool first) { on_refused(msisdn, why, first); }}),
      sweep_(ex),
      drain_timer_(ex) {
  refusal_log_.last_summary = clock_type::now();
  arm_sweep();
}

dialog_session::~dialog_session() {
  *alive_ = false;
}

void dialog_session::stop() {
  *alive_ = false;
  sweep_.cancel();
  drain_timer_.cancel();
}

void dialog_session::drain(std::function<void()> done) {
  dialogs_.refuse_new();
  const auto waiting = dialogs_.waiting_for_actions();
  spdlog::info(
      "ussd: stopping: new dials refused; {} screen(s) waiting for an action get up to {} ms",
      waiting, dialogs_.config().stop_timeout.count());
  wait_for_screens(clock_type::now() + dialogs_.config().stop_timeout, std::move(done));
}

void dialog_session::wait_for_screens(clock_type::time_point deadline, std::function<void()> done) {
  const auto waiting = dialogs_.waiting_for_actions();
  if (waiting == 0 || clock_type::now() >= deadline || !*alive_) {
    const auto closed = dialogs_.close_all();
    spdlog::info("ussd: stopped: {} dialog(s) closed, {} still waiting for an action", closed,
                 waiting);
    done();
    return;
  }
  // Polled: screens are answered by their actions' own bounded waits, well within this.
  drain_timer_.expires_after(std::chrono::milliseconds(50));
  drain_timer_.async_wait([this, deadline, done = std::move(done),
                           alive = alive_](boost::system::error_code ec) mutable {
    if (ec || !*alive) return;
    wait_for_screens(deadline, std::move(done));
  });
}

void dialog_session::reload(const dialog_config& cfg, std::shared_ptr<const menus::catalog> cat) {
  dialogs_.reload(cfg, std::move(cat));
}

std::uint32_t dialog_session::on_deliver(const smpp::sm_body& in) {
  return dialogs_.on_deliver(in, clock_type::now());
}

void dialog_session::on_refused(std::string_view msisdn, dial_refusal why, bool first) {
  const auto& cfg = dialogs_.config();
  auto& log = refusal_log_;
  if (why == dial_refusal::rate_limited) {
    if (!first || log.named >= named_per_summary) return;
    ++log.named;
    spdlog::warn(
        "ussd: {} dialed more than {} times within {} s: its dials get the busy screen until its "
        "allowance refills ([ussd] dials_per_msisdn, dial_window)",
        msisdn, cfg.dials_per_msisdn, std::chrono::duration<double>(cfg.dial_window).count());
    return;
  }
  const auto now = clock_type::now();
  if (log.last_busy_warn != clock_type::time_point{} && now - log.last_busy_warn < summary_every)
    return;
  log.last_busy_warn = now;
  spdlog::warn("ussd: {} dialogs live ([ussd] max_sessions): new dials get the busy screen ({})",
               dialogs_.live(), msisdn);
}

void dialog_session::summarise_refusals(clock_type::time_point now) {
  auto& log = refusal_log_;
  if (now - log.last_summary < summary_every) return;
  const auto& st = dialogs_.stats();
  const auto limited = st.rate_limited - log.rate_limited, busy = st.busy - log.busy;
  if (limited > 0 || busy > 0)
    spdlog::warn(
        "ussd: refused in the last {} s: {} dial(s) over the per-number limit ({} number(s) "
        "remembered), {} dial(s) over max_sessions or while stopping ({} live)",
        std::chrono::duration_cast<std::chrono::seconds>(now - log.last_summary).count(), limited,
        dialogs_.rate_tracked(), busy, dialogs_.live());
  log.last_summary = now;
  log.rate_limited = st.rate_limited;
  log.busy = st.busy;
  log.named = 0;
}

void dialog_session::arm_sweep() {
  // Once a second is precise enough for idle timeouts of tens of seconds, and costs nothing
  // when no dialog is due.
  sweep_.expires_after(std::chrono::seconds(1));
  sweep_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (ec || !*alive) return;
    const auto now = clock_type::now();
    if (auto n = dialogs_.expire(now); n > 0) spdlog::info("ussd: {} idle dialog(s) timed out", n);
    summarise_refusals(now);
    arm_sweep();
  });
}

void dialog_session::run_action(const action_call& call) {
  const auto& cfg = dialogs_.config();
  const std::string_view name = menus::actions()[call.action].name;
  using menus::action_id;
  const auto id = static_cast<action_id>(call.action);
  const auto wait = id == action_id::inquire ? cfg.inquiry_timeout
                    : id == action_id::pay   ? cfg.payment_timeout
                                             : cfg.action_timeout;
  struct pending {
    explicit pending(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    bool done = false;
  };
  auto p = std::make_shared<pending>(ex_);
  p->timer.expires_after(wait);
  const auto token = call.token;
  p->timer.async_wait(
      [this, p, token, alive = alive_, action = std::string(name)](boost::system::error_code ec) {
        if (ec || p->done || !*alive) return;
        p->done = true;
        spdlog::warn("ussd: action {} had no answer within its bounded wait", action);
        dialogs_.complete(token, {menus::outcome::timeout, {}, {}}, clock_type::now());
      });
  parts_.run_action(call, [this, p, token, alive = alive_](action_result r) {
    if (p->done || !*alive) return;  // too late: the subscriber already has the timeout screen
    p->done = true;
    p->timer.cancel();
    dialogs_.complete(token, std::move(r), clock_type::now());
  });
}

void dialog_session::write_metrics(metrics::prometheus_text& m) const {
  const auto n = [](auto v) { return static_cast<std::int64_t>(v); };
  m.family("ussdpay_ussd_live_dialogs", "gauge", "USSD dialogs open now");
  m.sample("ussdpay_ussd_live_dialogs", n(dialogs_.live()));
  m.family("ussdpay_ussd_dial_limit_numbers", "gauge",
           "numbers the per-number dial limit remembers (at most [ussd] dial_numbers)");
  m.sample("ussdpay_ussd_dial_limit_numbers", n(dialogs_.rate_tracked()));
  m.family("ussdpay_ussd_hop_latency_seconds", "histogram",
           "from a dial or reply arriving to the screen that answers it leaving");
  m.histogram("ussdpay_ussd_hop_latency_seconds", {}, hop_latency_);
  const auto& ds = dialogs_.stats();
  m.counters("ussdpay_ussd_dialogs_total", "USSD dialog events", "event",
             {{"dialed", ds.dials},
              {"reply", ds.replies},
              {"screen", ds.screens},
              {"ended", ds.ended},
              {"aborted", ds.aborted},
              {"expired", ds.expired},
              {"busy", ds.busy},
              {"rate_limited", ds.rate_limited},
              {"resumed", ds.resumed},
              {"unknown_code", ds.unknown_code}});
}

}  // namespace ussdpay::ussd
