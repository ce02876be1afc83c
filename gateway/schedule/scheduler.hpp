// Bill reminders and auto-pay, carried out: one coroutine on the network thread looks at the
// store every [schedule] interval for saved accounts whose check is due, asks their billers
// about them (at most `concurrency` inquiries at once), lets planner.hpp decide, and does what
// it says:
//
//   check(account) -> inquire (bounded) -> decide ->
//     none     record_check(next)
//     remind   [open payment to it? skip] claim(bill, reminder) + queue "reminder" SMS  (one tx)
//     autopay  bill above the consent: claim(bill, autopay, over_max) + "autopay_over" SMS
//              else payments::service::pay_scheduled: claim(bill, autopay) + limits + balance +
//              payment + hold (one tx); refused: the claim + "autopay_funds"/"autopay_limit" SMS
//
// The claim (store/accounts.hpp, primary key per bill and action) is what makes "at most once per
// bill" hold across restarts: a check repeated after a crash finds it and does nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/biller.hpp"
#include "gateway/common/metrics.hpp"
#include "gateway/payments/service.hpp"
#include "gateway/schedule/planner.hpp"
#include "gateway/sms/texts.hpp"
#include "store/cluster.hpp"

namespace ussdpay::store {
class group_writer;
class reader_pool;
}  // namespace ussdpay::store

namespace ussdpay::schedule {

struct scheduler_backends {
  store::group_writer& writer;
  store::reader_pool& readers;
  payments::service& payments;
  /// The adapter and the display currency of a biller id (nullptr: no longer configured).
  std::function<adapters::biller*(std::string_view id)> biller;
  std::function<std::string(std::string_view id)> currency;
  /// Our fee for paying `amount` to a biller.
  std::function<adapters::minor_units(std::string_view id, adapters::minor_units amount)> fee;
  /// Words the SMS (reminder, autopay_*): safe on any thread.
  std::function<std::string(std::string_view kind, const sms::bill_notice& n)> render;
  /// Called after a transaction queued an SMS (wires the outbox sender).
  std::function<void()> message_queued;
  /// In a cluster: the fence of the "scheduler" lease if this instance holds it now (nullopt:
  /// another instance schedules; this one looks again at the next heartbeat). Every write of a
  /// pass carries it into its transaction. Empty: one instance alone, always the scheduler.
  std::function<std::optional<store::lease_fence>()> lease;
};

struct scheduler_stats {
  std::uint64_t checks = 0, unanswered = 0, reminders = 0, autopay_started = 0, autopay_refused = 0,
                already_done = 0, deferred = 0, write_errors = 0;
};

class scheduler {
 public:
  /// Throws std::invalid_argument when cfg.hours does not parse (config.cpp checks it first).
  scheduler(boost::asio::any_io_executor ex, schedule_config cfg, scheduler_backends b);
  ~scheduler();
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  /// Starts the loop (nothing when cfg.enabled is false).
  void start();
  void stop();
  /// Look at the store now rather than at the next interval (a menu switch changed an account).
  void poke();
  const scheduler_stats& stats() const { return stats_; }
  /// The schedule family of /metrics: checks, reminders and auto-payments since start.
  void write_metrics(metrics::prometheus_text& m) const;

 private:
  boost::asio::awaitable<void> run();
  /// The pass's fence (a cluster's scheduler lease), carried by every write of the pass.
  std::optional<store::lease_fence> fence_;
  boost::asio::awaitable<bool> check(store::watched_account a);
  boost::asio::awaitable<adapters::inquiry_result> inquire(adapters::biller& b,
                                                           std::string account);
  boost::asio::awaitable<bool> write(std::function<bool(store::db&)> job);
  boost::asio::awaitable<void> autopay(const store::watched_account& a, const bill_seen& bill);
  sms::bill_notice notice(const store::watched_account& a, const bill_seen& bill) const;

  boost::asio::any_io_executor ex_;
  schedule_config cfg_;
  sending_hours hours_;
  scheduler_backends b_;
  boost::asio::steady_timer wake_;
  scheduler_stats stats_;
  bool poked_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ussdpay::schedule
