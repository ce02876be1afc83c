// The Asio side of the USSD dialogs: feeds deliver_sm into ussd::dialogs, submits the screens
// through the SMPP client, runs actions with their bounded waits and sweeps idle dialogs.
//
//   action started ──> timer (inquiry_timeout | payment_timeout | action_timeout)
//        │ result first: cancel timer, complete(result)
//        │ timer first:  complete(timeout); the late result is dropped by its stale token
#pragma once

#include <functional>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/actions.hpp"
#include "gateway/admin/metrics.hpp"
#include "gateway/config.hpp"
#include "gateway/ussd/dialogs.hpp"

namespace ussdpay {

class ussd_service {
 public:
  using submit_fn = std::function<void(smpp::pdu)>;

  ussd_service(boost::asio::any_io_executor ex, const config& cfg,
               std::shared_ptr<const menus::catalog> cat, menu_actions& actions, submit_fn submit);
  ~ussd_service();

  /// The inbound handler's answer for one deliver_sm (its command_status).
  std::uint32_t on_deliver(const smpp::sm_body& in);
  /// SIGHUP: new menus and [ussd] settings for new dialogs; live ones continue.
  void reload(const ussd::dialog_config& cfg, std::shared_ptr<const menus::catalog> cat);
  /// SIGTERM: refuse new dials, give the screens waiting for an action up to `stop_timeout` to
  /// be answered, close every dialog with the "unavailable" screen, then `done`.
  void drain(std::function<void()> done);
  void stop();

  const ussd::dialogs& dialogs() const { return dialogs_; }
  /// From a dial or reply arriving to the screen that answers it being handed to the link,
  /// bounded actions (bill inquiry, payment) included.
  const admin::latency_histogram& hop_latency() const { return hop_latency_; }

 private:
  void run_action(const ussd::action_call& call);
  void arm_sweep();
  void on_refused(std::string_view msisdn, ussd::dial_refusal why, bool first);
  void summarise_refusals(ussd::clock_type::time_point now);
  void wait_for_screens(ussd::clock_type::time_point deadline, std::function<void()> done);

  boost::asio::any_io_executor ex_;
  menu_actions& actions_;
  submit_fn submit_;
  admin::latency_histogram hop_latency_;
  ussd::dialogs dialogs_;
  boost::asio::steady_timer sweep_;
  boost::asio::steady_timer drain_timer_;
  // Refused dials are logged without flooding the log: the first few numbers over their limit
  // per summary_every by name, a busy table once per summary_every, then one summary line.
  struct refusal_log {
    ussd::clock_type::time_point last_summary{}, last_busy_warn{};
    std::uint64_t rate_limited = 0, busy = 0;  // the counters at the last summary
    std::uint32_t named = 0;                   // numbers named since the last summary
  } refusal_log_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ussdpay
