#include "gateway/schedule/scheduler.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/common/clock.hpp"
#include "gateway/common/on_store.hpp"
#include "store/accounts.hpp"
#include "store/outbox.hpp"
#include "store/payments.hpp"

namespace ussdpay::schedule {

namespace asio = boost::asio;

namespace {

// How often an instance that does not hold the scheduler's lease looks whether it does now.
constexpr std::chrono::seconds lease_poll{1};

// What a check learned, from the biller's answer.
bill_seen seen_from(const adapters::inquiry_result& r) {
  using adapters::inquiry_status;
  bill_seen b;
  switch (r.status) {
    case inquiry_status::found:
      b.kind = bill_seen::kind_t::unpaid;
      b.due_date = r.found.due_date;
      b.amount = adapters::amount_due_on(r.found, clock::local_today());
      b.bill_reference = r.found.bill_reference;
      break;
    case inquiry_status::unavailable:
      b.kind = bill_seen::kind_t::unavailable;
      break;
    case inquiry_status::already_paid:
    case inquiry_status::not_found:
    case inquiry_status::invalid:
      b.kind = bill_seen::kind_t::none;
      break;
  }
  return b;
}

std::string_view action_name(action a) {
  return a == action::remind ? "reminder" : a == action::autopay ? "auto-pay" : "nothing";
}

}  // namespace

scheduler::scheduler(asio::any_io_executor ex, schedule_config cfg, scheduler_backends b)
    : ex_(ex), cfg_(std::move(cfg)), b_(std::move(b)), wake_(ex) {
  auto h = parse_hours(cfg_.hours);
  if (!h) throw std::invalid_argument("schedule.hours: want \"HH:MM-HH:MM\"");
  hours_ = *h;
}

scheduler::~scheduler() {
  *alive_ = false;
}

void scheduler::start() {
  if (!cfg_.enabled) return;
  spdlog::info(
      "schedule: bill checks every {}s, reminders {} days and auto-pay {} days before due, "
      "sending hours {}",
      cfg_.check_every.count() / 1000, cfg_.remind_days, cfg_.autopay_days, cfg_.hours);
  asio::co_spawn(ex_, run(), asio::detached);
}

void scheduler::stop() {
  *alive_ = false;
  wake_.cancel();
}

void scheduler::poke() {
  poked_ = true;  // a poke during a batch is not lost: the next look comes at once
  wake_.cancel();
}

asio::awaitable<bool> scheduler::write(std::function<bool(store::db&)> job) {
  store::group_writer::job w = std::move(job);
  if (fence_)  // written only while this instance still holds the scheduler's lease
    w = [fence = *fence_, inner = std::move(w)](store::db& d) {
      return fence.holds(d, clock::now_ms()) && inner(d);
    };
  const bool ok = co_await on_writer(b_.writer, ex_, std::move(w));
  if (!ok) ++stats_.write_errors;
  co_return ok;
}

asio::awaitable<void> scheduler::run() {
  const auto alive = alive_;
  while (*alive) {
    if (b_.lease) {
      // In a cluster only the holder of the scheduler's lease looks; the others wait for it.
      fence_ = b_.lease();
      if (!fence_) {
        wake_.expires_after(lease_poll);
        boost::system::error_code ec;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
    }
    poked_ = false;  // this look sees whatever a poke was about
    auto due = std::make_shared<std::vector<store::watched_account>>();
    const auto limit = cfg_.batch;
    std::function<void(store::db&)> read = [due, limit](store::db& d) {
      *due = store::due_accounts(d, clock::now_ms(), limit);
    };
    const bool ran = co_await on_reader(b_.readers, ex_, std::move(read));
    if (!*alive) co_return;
    std::size_t recorded = 0;
    if (ran && !due->empty()) {
      // `concurrency` workers take accounts from the batch in turn; wait for all of them.
      std::size_t next = 0, left = std::min<std::size_t>(cfg_.concurrency, due->size());
      asio::steady_timer all_done(ex_, asio::steady_timer::time_point::max());
      for (std::size_t w = left; w > 0; --w) {
        auto worker = [this, due, &next, &recorded]() -> asio::awaitable<void> {
          while (next < due->size() && *alive_) {
            auto a = (*due)[next++];
            if (co_await check(std::move(a))) ++recorded;
          }
        };
        asio::co_spawn(ex_, worker, [&left, &all_done](std::exception_ptr e) {
          if (e) spdlog::error("schedule: a check failed with an exception");
          if (--left == 0) all_done.cancel();
        });
      }
      boost::system::error_code ec;
      co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    // A full batch that moved on: the next one at once. Otherwise (caught up, or nothing could
    // be recorded) wait for the interval or a poke.
    if (ran && due->size() == cfg_.batch && recorded > 0) continue;
    if (poked_) continue;  // poked while this batch ran
    wake_.expires_after(cfg_.interval);
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<adapters::inquiry_result> scheduler::inquire(adapters::biller& b,
                                                             std::string account) {
  // The adapter bounds its own calls; this bound is ours. A late answer lands in `w` and is
  // dropped with it.
  struct waiter {
    explicit waiter(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<adapters::inquiry_result> result;
  };
  auto w = std::make_shared<waiter>(ex_);
  w->timer.expires_after(cfg_.inquiry_timeout);
  b.async_inquire(std::move(account), [w](adapters::inquiry_result r) {
    w->result = std::move(r);
    w->timer.cancel();
  });
  boost::system::error_code ec;
  co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (w->result) co_return std::move(*w->result);
  adapters::inquiry_result none;
  none.detail = "no answer within schedule.inquiry_timeout";
  co_return none;
}

sms::bill_notice scheduler::notice(const store::watched_account& a, const bill_seen& bill) const {
  sms::bill_notice n;
  n.language = a.language;
  n.biller = a.biller;
  n.account = a.account;
  n.label = a.label;
  n.due_date = bill.due_date;
  n.currency = b_.currency ? b_.currency(a.biller) : "";
  n.bill_amount = bill.amount;
  n.autopay_max = a.autopay_max;
  n.autopay_days = cfg_.autopay_days;
  n.shortcut = cfg_.shortcut;
  return n;
}

asio::awaitable<bool> scheduler::check(store::watched_account a) {
  ++stats_.checks;
  adapters::biller* biller = b_.biller ? b_.biller(a.biller) : nullptr;
  bill_seen bill;
  if (biller != nullptr) {
    bill = seen_from(co_await inquire(*biller, a.account));
    if (bill.kind == bill_seen::kind_t::unavailable) ++stats_.unanswered;
  }
  const auto p = decide(cfg_, hours_, a, bill, local_at(clock::now_ms()));
  const bool unpaid = bill.kind == bill_seen::kind_t::unpaid;
  const std::string due = unpaid ? bill.due_date : "";
  const std::int64_t amount = unpaid ? bill.amount : 0;
  const store::bill_key key{a.msisdn, a.biller, a.account, bill.due_date};
  spdlog::debug("schedule: {} {} {}: bill {} {} -> {}", a.msisdn, a.biller, a.account,
                unpaid ? bill.due_date : "none", amount, action_name(p.what));

  if (p.what == action::autopay && bill.amount <= a.autopay_max) {
    co_await autopay(a, bill);
  } else if (p.what != action::none) {
    // A reminder, or an auto-payment the bill is too large for: one claim and one SMS.
    const bool over = p.what == action::autopay;
    const std::string kind = over ? "autopay_over" : "reminder";
    const std::string text = b_.render ? b_.render(kind, notice(a, bill)) : std::string();
    auto outcome = std::make_shared<int>(0);  // 1 sent, 2 already done, 3 deferred
    std::function<bool(store::db&)> job = [a, key, kind, text, over, amount,
                                           outcome](store::db& d) {
      if (store::open_payment_to(d, a.msisdn, a.biller, a.account)) {
        *outcome = 3;  // a payment in flight may be paying this very bill
        return true;
      }
      if (!store::claim_bill_action(d, key, over ? "autopay" : "reminder",
                                    over ? "over_max" : "sent", amount, clock::now_ms())) {
        *outcome = 2;
        return true;
      }
      *outcome = 1;
      const auto ref = fmt::format("{}-{}-{}-{}-{}", over ? "autopay" : "remind", a.msisdn,
                                   a.biller, a.account, key.due_date);
      return store::enqueue_message(d, ref, kind, a.msisdn, text, clock::now_ms()) !=
             store::enqueue_status::failed;
    };
    if (co_await write(std::move(job))) {
      if (*outcome == 1) {
        ++(over ? stats_.autopay_refused : stats_.reminders);
        spdlog::info("schedule: {} SMS to {} for {} {} (bill {} due {})", kind, a.msisdn, a.biller,
                     a.account, amount, due);
        if (b_.message_queued) b_.message_queued();
      }
      if (*outcome == 2) ++stats_.already_done;
      if (*outcome == 3) ++stats_.deferred;
    }
  }
  const auto next = p.next_check_at;
  std::function<bool(store::db&)> record = [a, next, due, amount](store::db& d) {
    return !store::record_check(d, a.msisdn, a.biller, a.account, next, due, amount);
  };
  co_return co_await write(std::move(record));
}

asio::awaitable<void> scheduler::autopay(const store::watched_account& a, const bill_seen& bill) {
  payments::pay_request r;
  r.msisdn = a.msisdn;
  r.biller = a.biller;
  r.account = a.account;
  r.currency = b_.currency ? b_.currency(a.biller) : "";
  r.bill_reference = bill.bill_reference;
  r.language = a.language;
  r.amount = bill.amount;
  r.fee = b_.fee ? b_.fee(a.biller, bill.amount) : 0;
  const store::bill_key key{a.msisdn, a.biller, a.account, bill.due_date};
  auto n = notice(a, bill);
  n.total = r.amount + r.fee;
  auto render = b_.render;
  payments::scheduled_hooks hooks;
  hooks.claim = [key, amount = bill.amount](store::db& d) {
    if (store::open_payment_to(d, key.msisdn, key.biller, key.account)) return false;
    return store::claim_bill_action(d, key, "autopay", "paying", amount, clock::now_ms());
  };
  hooks.settled = [key, n, render](store::db& d, const payments::pay_answer& ans,
                                   const store::payment_record* p) {
    using payments::answer_kind;
    if (p != nullptr) {
      store::set_bill_action(d, key, "autopay", "paying", p->ref);
      return;
    }
    // Why no payment was made: an SMS for what the subscriber can act on.
    std::string kind, outcome;
    switch (ans.kind) {
      case answer_kind::insufficient:
        kind = "autopay_funds", outcome = "funds";
        break;
      case answer_kind::limit:
      case answer_kind::too_low:
        kind = "autopay_limit", outcome = "limit";
        break;
      case answer_kind::duplicate:
        outcome = "duplicate:" + ans.duplicate_ref;  // paid by hand minutes ago
        break;
      default:
        outcome = "error";
    }
    store::set_bill_action(d, key, "autopay", outcome, "");
    if (kind.empty() || !render) return;
    auto with_balance = n;
    with_balance.balance = ans.balance;
    const auto ref =
        fmt::format("autopay-{}-{}-{}-{}", key.msisdn, key.biller, key.account, key.due_date);
    store::enqueue_message(d, ref, kind, key.msisdn, render(kind, with_balance), clock::now_ms());
  };
  // The service answers once: when the payment is created and settled, or after answer_within.
  struct answer_box {
    explicit answer_box(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::optional<payments::pay_answer> answer;
  };
  auto box = std::make_shared<answer_box>(ex_);
  box->timer.expires_at(asio::steady_timer::time_point::max());
  b_.payments.pay_scheduled(std::move(r), std::move(hooks), [box](payments::pay_answer ans) {
    box->answer = std::move(ans);
    box->timer.cancel();
  });
  boost::system::error_code ec;
  co_await box->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!box->answer) co_return;
  using payments::answer_kind;
  const auto& ans = *box->answer;
  switch (ans.kind) {
    case answer_kind::ok:
    case answer_kind::pending:
    case answer_kind::rejected:
      ++stats_.autopay_started;
      spdlog::info("schedule: auto-pay {} for {} {} {} (bill {} due {})", ans.ref, a.msisdn,
                   a.biller, a.account, bill.amount, bill.due_date);
      break;
    case answer_kind::skipped:
      ++stats_.already_done;
      break;
    case answer_kind::error:
      ++stats_.write_errors;
      spdlog::warn("schedule: auto-pay for {} {} {} not made (store); tried again at next check",
                   a.msisdn, a.biller, a.account);
      break;
    default:
      ++stats_.autopay_refused;
      spdlog::info("schedule: auto-pay for {} {} {} refused ({}); SMS sent", a.msisdn, a.biller,
                   a.account, static_cast<int>(ans.kind));
  }
}

void scheduler::write_metrics(metrics::prometheus_text& m) const {
  const auto& ss = stats_;
  m.counters("ussdpay_schedule_total", "reminders and auto-pay since start", "event",
             {{"check", ss.checks},
              {"unanswered", ss.unanswered},
              {"reminder", ss.reminders},
              {"autopay", ss.autopay_started},
              {"autopay_refused", ss.autopay_refused},
              {"already_done", ss.already_done}});
}

}  // namespace ussdpay::schedule
