// The Asio side of the USSD dialogs (as smpp/link_session is to smpp/link_fsm): feeds deliver_sm
// into ussd::dialogs, submits the screens it is handed, runs actions with their bounded waits and
// sweeps idle dialogs. What an action does is not known here: the daemon passes a callback
// (gateway/actions/).
//
//   action started ──> timer (inquiry_timeout | payment_timeout | action_timeout)
//        │ result first: cancel timer, complete(result)
//        │ timer first:  complete(timeout); the late result is dropped by its stale token
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/common/metrics.hpp"
#include "gateway/smpp/pdu.hpp"
#include "gateway/ussd/dialogs.hpp"

namespace ussdpay::ussd {

class dialog_session {
 public:
  using done_fn = std::function<void(action_result)>;
  struct parts {
    /// Hands a screen (a submit_sm) to the link.
    std::function<void(smpp::pdu)> submit;
    /// Runs a menu action; `done` is called once, never inline.
    std::function<void(const action_call&, done_fn done)> run_action;
    /// The subscriber's language code ("" = not chosen), answered at once.
    std::function<std::string(std::string_view msisdn)> language;
  };

  dialog_session(boost::asio::any_io_executor ex, const dialog_config& cfg, const profile& prof,
                 std::shared_ptr<const menus::catalog> cat, parts p);
  ~dialog_session();
  dialog_session(const dialog_session&) = delete;
  dialog_session& operator=(const dialog_session&) = delete;

  /// The inbound handler's answer for one deliver_sm (its command_status).
  std::uint32_t on_deliver(const smpp::sm_body& in);
  /// SIGHUP: new menus and [ussd] settings for new dialogs; live ones continue.
  void reload(const dialog_config& cfg, std::shared_ptr<const menus::catalog> cat);
  /// SIGTERM: refuse new dials, give the screens waiting for an action up to `stop_timeout` to
  /// be answered, close every dialog with the "unavailable" screen, then `done`.
  void drain(std::function<void()> done);
  void stop();

  const ussd::dialogs& dialogs() const { return dialogs_; }
  /// From a dial or reply arriving to the screen that answers it being handed to the link,
  /// bounded actions (bill inquiry, payment) included.
  const metrics::latency_histogram& hop_latency() const { return hop_latency_; }
  /// The USSD families of /metrics: live dialogs, the dial limit, hop latency, dialog events.
  void write_metrics(metrics::prometheus_text& m) const;

 private:
  void run_action(const action_call& call);
  void arm_sweep();
  void on_refused(std::string_view msisdn, dial_refusal why, bool first);
  void summarise_refusals(clock_type::time_point now);
  void wait_for_screens(clock_type::time_point deadline, std::function<void()> done);

  boost::asio::any_io_executor ex_;
  parts parts_;
  metrics::latency_histogram hop_latency_;
  ussd::dialogs dialogs_;
  boost::asio::steady_timer sweep_;
  boost::asio::steady_timer drain_timer_;
  // Refused dials are logged without flooding the log: the first few numbers over their limit
  // per summary_every by name, a busy table once per summary_every, then one summary line.
  struct refusal_log {
    clock_type::time_point last_summary{}, last_busy_warn{};
    std::uint64_t rate_limited = 0, busy = 0;  // the counters at the last summary
    std::uint32_t named = 0;                   // numbers named since the last summary
  } refusal_log_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ussdpay::ussd
