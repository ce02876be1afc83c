#include "gateway/ussd_service.hpp"

#include <spdlog/spdlog.h>

#include "gateway/admin/server.hpp"

namespace ussdpay {

namespace asio = boost::asio;
using clock_type = ussd::clock_type;

namespace {

// Numbers over their dial limit named in the log per summary period; the rest are counted.
constexpr std::uint32_t named_per_summary = 10;
constexpr auto summary_every = std::chrono::seconds(10);

}  // namespace

ussd_service::ussd_service(asio::any_io_executor ex, const config& cfg,
                           std::shared_ptr<const menus::catalog> cat, menu_actions& actions,
                           submit_fn submit)
    : ex_(ex),
      actions_(actions),
      submit_(std::move(submit)),
      dialogs_(cfg.ussd, cfg.ussd_profile, std::move(cat),
               {.send = [this](smpp::sm_body b) { submit_(smpp::make_submit(0, std::move(b))); },
                .act = [this](const ussd::action_call& c) { run_action(c); },
                .language = [this](std::string_view m) { return actions_.language(m); },
                .hop =
                    [](std::string_view msisdn, std::string_view screen, std::string_view input) {
                      // What the subscriber typed, as data: quotes and control characters
                      // escaped (no forged log lines, JSON lines stay JSON), and cut short.
                      if (spdlog::should_log(spdlog::level::debug))
                        spdlog::debug("ussd {} at {}: '{}'", msisdn, screen,
                                      admin::loggable(input, 64));
                    },
                .answered =
                    [this](clock_type::time_point input_at) {
                      hop_latency_.observe(clock_type::now() - input_at);
                    },
                .refused = [this](std::string_view msisdn, ussd::dial_refusal why,
                                  bool first) { on_refused(msisdn, why, first); }}),
      sweep_(ex),
      drain_timer_(ex) {
  refusal_log_.last_summary = clock_type::now();
  arm_sweep();
}

ussd_service::~ussd_service() {
  *alive_ = false;
}

void ussd_service::stop() {
  *alive_ = false;
  sweep_.cancel();
  drain_timer_.cancel();
}

void ussd_service::drain(std::function<void()> done) {
  dialogs_.refuse_new();
  const auto waiting = dialogs_.waiting_for_actions();
  spdlog::info(
      "ussd: stopping: new dials refused; {} screen(s) waiting for an action get up to {} ms",
      waiting, dialogs_.config().stop_timeout.count());
  wait_for_screens(clock_type::now() + dialogs_.config().stop_timeout, std::move(done));
}

void ussd_service::wait_for_screens(clock_type::time_point deadline, std::function<void()> done) {
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

void ussd_service::reload(const ussd::dialog_config& cfg,
                          std::shared_ptr<const menus::catalog> cat) {
  dialogs_.reload(cfg, std::move(cat));
}

std::uint32_t ussd_service::on_deliver(const smpp::sm_body& in) {
  return dialogs_.on_deliver(in, clock_type::now());
}

void ussd_service::on_refused(std::string_view msisdn, ussd::dial_refusal why, bool first) {
  const auto& cfg = dialogs_.config();
  auto& log = refusal_log_;
  if (why == ussd::dial_refusal::rate_limited) {
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

void ussd_service::summarise_refusals(clock_type::time_point now) {
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

void ussd_service::arm_sweep() {
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

void ussd_service::run_action(const ussd::action_call& call) {
  const auto& cfg = dialogs_.config();
  const std::string_view name = menus::actions()[call.action].name;
  const auto wait = name == "inquire" ? cfg.inquiry_timeout
                    : name == "pay"   ? cfg.payment_timeout
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
  actions_.run(call, [this, p, token, alive = alive_](ussd::action_result r) {
    if (p->done || !*alive) return;  // too late: the subscriber already has the timeout screen
    p->done = true;
    p->timer.cancel();
    dialogs_.complete(token, std::move(r), clock_type::now());
  });
}

}  // namespace ussdpay
