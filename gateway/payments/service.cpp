#include "gateway/payments/service.hpp"

#include <ctime>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "adapters/pin.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/common/on_store.hpp"
#include "gateway/payments/resolve.hpp"
#include "store/outbox.hpp"

namespace ussdpay::payments {

namespace asio = boost::asio;
using store::payment_record;
using store::payment_state;

namespace {

// The checks before a payment, the same for the quote and the payment (check_before_paying):
// true with `a` filled in when one refuses.
bool refused_before_paying(store::db& d, const limits_config& l, const pay_request& r,
                           std::int64_t now, pay_answer& a) {
  const auto u = store::subscriber_usage(d, r.msisdn, clock::local_day_start_ms(now),
                                         now - l.velocity_window.count());
  std::optional<store::payment_record> dup;
  if (!r.duplicate_confirmed && r.amount >= l.min_amount)
    dup = store::find_duplicate(d, r.msisdn, r.biller, r.account, r.amount,
                                now - l.duplicate_window.count());
  const auto c = check_before_paying(l, u, r.amount, dup.has_value());
  switch (c.verdict) {
    case precheck::ok:
      return false;
    case precheck::too_low:
      a.kind = answer_kind::too_low;
      a.limit = c.limit;
      return true;
    case precheck::limit:
      a.kind = answer_kind::limit;
      a.limit = c.limit;
      return true;
    case precheck::duplicate:
      a.kind = answer_kind::duplicate;
      a.duplicate_ref = dup->ref;
      a.duplicate_minutes = std::max<std::int64_t>((now - dup->created_at) / 60'000, 1);
      return true;
  }
  return false;
}

asio::awaitable<adapters::auth_result> authorize(adapters::wallet& w, std::string msisdn,
                                                 std::string pin) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(adapters::auth_result)>(
      [&w, msisdn = std::move(msisdn), pin = std::move(pin)](auto handler) mutable {
        w.async_authorize(std::move(msisdn), std::move(pin), std::move(handler));
        adapters::wipe(pin);
      },
      asio::use_awaitable);
}

asio::awaitable<void> sleep_for(asio::any_io_executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

std::string bounded(std::string s, std::size_t n) {
  if (s.size() > n) s.resize(n);
  return s;
}

}  // namespace

/// A payment the dialog still waits for: answered once, by the saga or by the answer timer.
struct service::flight {
  explicit flight(asio::any_io_executor ex) : timer(ex) {}
  std::function<void(pay_answer)> done;
  asio::steady_timer timer;
  void answer(pay_answer a) {
    if (!done) return;
    timer.cancel();
    auto d = std::move(done);
    done = nullptr;
    d(std::move(a));
  }
};

service::service(asio::any_io_executor ex, payments_config cfg, store::group_writer& writer,
                 store::reader_pool& readers, adapters::wallet& wallet, biller_lookup billers,
                 receipt_fn render)
    : ex_(std::move(ex)),
      cfg_(std::move(cfg)),
      writer_(writer),
      readers_(readers),
      wallet_(wallet),
      ledger_(*wallet.in_store()),
      billers_(std::move(billers)),
      render_(std::move(render)) {}

service::~service() {
  *alive_ = false;
}

void service::stop() {
  *alive_ = false;
}

void service::quote(pay_request r, std::function<void(pay_answer)> done) {
  adapters::wipe(r.pin);
  auto out = std::make_shared<pay_answer>();
  const auto cfg = cfg_.limits;
  auto* ledger = &ledger_;
  auto job = [out, r, cfg, ledger](store::db& d) {
    const auto now = clock::now_ms();
    if (refused_before_paying(d, cfg, r, now, *out)) return;
    const auto bal = ledger->balance(d, r.msisdn, r.currency);
    out->balance = bal.balance;
    if (bal.status != adapters::wallet_status::ok) return;  // error: no wallet
    out->kind = bal.balance < r.amount + r.fee ? answer_kind::insufficient : answer_kind::ok;
  };
  auto finish = [out, done](bool ran) {
    if (!ran) out->kind = answer_kind::error;
    done(*out);
  };
  asio::co_spawn(
      ex_,
      [this, job, finish]() -> asio::awaitable<void> {
        std::function<void(store::db&)> read = job;
        finish(co_await on_reader(readers_, ex_, std::move(read)));
      },
      asio::detached);
}

void service::pay(pay_request r, std::function<void(pay_answer)> done) {
  auto flow = [this, r = std::move(r), done = std::move(done)]() mutable -> asio::awaitable<void> {
    const auto auth = co_await authorize(wallet_, r.msisdn, std::move(r.pin));
    adapters::wipe(r.pin);
    using adapters::auth_status;
    if (auth.status != auth_status::ok) {
      pay_answer a;
      a.kind = auth.status == auth_status::wrong_pin ? answer_kind::wrong_pin
               : auth.status == auth_status::locked  ? answer_kind::locked
                                                     : answer_kind::error;
      a.tries_left = auth.tries_left;
      a.locked_minutes = auth.locked_minutes;
      a.just_locked = auth.just_locked;
      done(a);
      co_return;
    }
    co_await create(std::move(r), {}, std::move(done));
  };
  asio::co_spawn(ex_, std::move(flow), asio::detached);
}

void service::resolve(resolution r, std::function<void(resolve_result)> done) {
  asio::co_spawn(ex_, resolve_flow(std::move(r), std::move(done)), asio::detached);
}

asio::awaitable<void> service::resolve_flow(resolution r,
                                            std::function<void(resolve_result)> done) {
  auto out = std::make_shared<resolve_result>();
  store::group_writer::job job = [out, r, render = render_, ledger = &ledger_](store::db& d) {
    *out = resolve_by_hand(d, *ledger, r, render, clock::now_ms());
    return out->result == resolve_result::kind::resolved;
  };
  const bool committed = co_await on_writer(writer_, ex_, std::move(job));
  if (committed) {
    spdlog::info("payment {} resolved by an operator: {} ({})", r.ref,
                 store::to_string(out->payment.state), r.note);
    if (poke_) poke_();
  } else if (out->result == resolve_result::kind::resolved) {
    *out = {resolve_result::kind::failed, "the store did not commit", {}, {}};
  }
  done(std::move(*out));
}

void service::pay_scheduled(pay_request r, scheduled_hooks hooks,
                            std::function<void(pay_answer)> done) {
  adapters::wipe(r.pin);
  asio::co_spawn(ex_, create(std::move(r), std::move(hooks), std::move(done)), asio::detached);
}

asio::awaitable<void> service::create(pay_request r, scheduled_hooks hooks,
                                      std::function<void(pay_answer)> done) {
  // [claim], limits, the duplicate check, the payment row and the hold, [settled]: one
  // transaction.
  struct created {
    pay_answer answer;
    payment_record p;
  };
  auto out = std::make_shared<created>();
  const auto limits = cfg_.limits;
  auto* ledger = &ledger_;
  auto job = [out, r, limits, ledger, hooks](store::db& d) {
    const auto now = clock::now_ms();
    auto& a = out->answer;
    a.kind = answer_kind::error;
    const bool scheduled = static_cast<bool>(hooks.claim);
    if (scheduled && !hooks.claim(d)) {
      a.kind = answer_kind::skipped;
      return true;
    }
    // A refusal commits what the hooks wrote (the claim and its SMS), no payment.
    auto refuse = [&](answer_kind k) {
      a.kind = k;
      if (hooks.settled) hooks.settled(d, a, nullptr);
      return true;
    };
    if (r.fee < 0) return refuse(answer_kind::error);  // fees come from our configuration
    if (refused_before_paying(d, limits, r, now, a)) return refuse(a.kind);
    if (scheduled) {
      // Nobody waits on a USSD screen: a short balance is an answer (and an SMS), not a
      // rolled-back hold.
      const auto bal = ledger->balance(d, r.msisdn, r.currency);
      a.balance = bal.balance;
      if (bal.status != adapters::wallet_status::ok) return false;
      if (bal.balance < r.amount + r.fee) return refuse(answer_kind::insufficient);
    }
    payment_record p;
    for (int i = 0; i < 8 && p.ref.empty(); ++i)
      if (auto ref = new_reference(); !store::find_payment(d, ref)) p.ref = ref;
    if (p.ref.empty()) return false;
    p.msisdn = r.msisdn;
    p.biller = r.biller;
    p.account = r.account;
    p.amount = r.amount;
    p.fee = r.fee;
    p.currency = r.currency;
    p.bill_reference = r.bill_reference;
    p.language = r.language;
    p.state = payment_state::created;
    p.created_at = p.updated_at = now;
    if (store::insert_payment(d, p)) return false;
    const auto st = ledger->hold(d, {p.ref, p.msisdn, p.currency, p.amount + p.fee}, now);
    if (st != adapters::wallet_status::ok) {
      if (st == adapters::wallet_status::insufficient) a.kind = answer_kind::insufficient;
      a.balance = ledger->balance(d, p.msisdn, p.currency).balance;
      return false;  // nothing of this payment remains
    }
    a.kind = answer_kind::ok;
    a.ref = p.ref;
    if (hooks.settled) hooks.settled(d, a, &p);
    out->p = std::move(p);
    return true;
  };
  store::group_writer::job write = std::move(job);
  const bool committed = co_await on_writer(writer_, ex_, std::move(write));
  if (committed && hooks.claim && out->answer.kind != answer_kind::skipped && poke_) poke_();
  if (out->answer.kind != answer_kind::ok) {
    done(out->answer);
    co_return;
  }
  if (!committed) {
    done(pay_answer{});
    co_return;
  }
  ++stats_.created;
  auto f = std::make_shared<flight>(ex_);
  f->done = std::move(done);
  const std::string ref = out->p.ref;
  f->timer.expires_after(cfg_.answer_within);
  f->timer.async_wait([f, ref](boost::system::error_code ec) {
    if (ec) return;
    pay_answer a;
    a.kind = answer_kind::pending;
    a.ref = ref;
    f->answer(a);
  });
  start(std::move(out->p), {command::post}, f);
}

void service::start(payment_record p, decision first, std::shared_ptr<flight> f) {
  if (!active_.insert(p.ref).second) return;  // already being driven
  stats_.in_flight = active_.size();
  asio::co_spawn(ex_, drive(std::move(p), first, std::move(f)), asio::detached);
}

void service::recover(std::function<void(std::size_t)> done) {
  auto found = std::make_shared<std::vector<payment_record>>();
  auto job = [found](store::db& d) {
    for (auto s : {payment_state::created, payment_state::unknown, payment_state::manual_review}) {
      auto v = store::payments_in_state(d, s, 1'000'000);
      found->insert(found->end(), std::make_move_iterator(v.begin()),
                    std::make_move_iterator(v.end()));
    }
  };
  asio::co_spawn(
      ex_,
      [this, job, found, done]() -> asio::awaitable<void> {
        std::function<void(store::db&)> read = job;
        if (!co_await on_reader(readers_, ex_, std::move(read)))
          spdlog::error("payments: could not read open payments for recovery");
        const auto now = clock::now_ms();
        for (auto& p : *found) {
          ++stats_.recovered;
          const auto first = on_recover(cfg_.saga, p, now);
          start(std::move(p), first, nullptr);
        }
        if (!found->empty()) spdlog::info("payments: recovering {} open payment(s)", found->size());
        if (done) done(found->size());
        co_await scan_requests();
      },
      asio::detached);
}

asio::awaitable<adapters::pay_result> service::call_biller(const payment_record& p, bool status) {
  adapters::biller* b = billers_(p.biller);
  if (b == nullptr)
    co_return adapters::pay_result{adapters::pay_status::unknown, {}, {}, "no such biller"};
  // The adapter's answer or, after biller_timeout, "unknown": whichever comes first.
  struct race {
    explicit race(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::function<void(adapters::pay_result)> resume;
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                          void(adapters::pay_result)>(
      [this, b, &p, status](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        auto st = std::make_shared<race>(ex_);
        st->resume = [h](adapters::pay_result r) { std::move (*h)(std::move(r)); };
        st->timer.expires_after(cfg_.biller_timeout);
        st->timer.async_wait([st](boost::system::error_code ec) {
          if (ec || !st->resume) return;
          auto resume = std::move(st->resume);
          st->resume = nullptr;
          resume({adapters::pay_status::unknown, {}, {}, "no answer within biller_timeout"});
        });
        auto answered = [st](adapters::pay_result r) {
          if (!st->resume) return;  // too late: already counted as unknown
          st->timer.cancel();
          auto resume = std::move(st->resume);
          st->resume = nullptr;
          resume(std::move(r));
        };
        if (status)
          b->async_status(p.ref, std::move(answered));
        else
          b->async_pay({p.ref, p.account, p.amount, p.currency, p.bill_reference},
                       std::move(answered));
      },
      asio::use_awaitable);
}

asio::awaitable<service::written> service::persist(payment_record& p, payment_state to,
                                                   std::int64_t next_at) {
  auto next = p;
  next.state = to;
  next.next_at = next_at;
  next.updated_at = clock::now_ms();
  if (to == payment_state::manual_review)
    next.reason = "biller outcome unknown since " + std::to_string(p.created_at);
  const auto from = p.state;
  auto raced = std::make_shared<bool>(false);
  // Still unknown past pending_sms_after: one SMS saying so, in the same transaction (the outbox
  // keeps one message per payment and kind, so later looks queue nothing more).
  const bool tell_pending = (to == payment_state::unknown || to == payment_state::manual_review) &&
                            next.updated_at - p.created_at >= cfg_.pending_sms_after.count();
  std::string pending_text = tell_pending ? render_("pending", next, 0) : std::string();
  // Named, then moved: see gateway/common/on_store.hpp on temporaries inside co_await.
  store::group_writer::job job = [next, from, raced, pending_text](store::db& d) {
    if (!store::update_payment(d, next, from)) {
      *raced = true;
      return false;
    }
    return pending_text.empty() ||
           store::enqueue_message(d, next.ref, "pending", next.msisdn, pending_text,
                                  next.updated_at) != store::enqueue_status::failed;
  };
  const bool ok = co_await on_writer(writer_, ex_, std::move(job));
  if (ok) p = next;
  if (ok && tell_pending && poke_) poke_();
  co_return ok ? written::done : *raced ? written::raced : written::failed;
}

asio::awaitable<service::written> service::finalize(payment_record& p, command what,
                                                    const adapters::pay_result& answer,
                                                    adapters::minor_units& balance) {
  auto next = p;
  const bool paid = what == command::commit;
  next.state = paid ? payment_state::committed : payment_state::failed;
  next.biller_reference = bounded(answer.biller_reference, 64);
  next.biller_code = bounded(answer.code, 16);
  next.reason = paid ? std::string() : bounded("biller rejected: " + answer.detail, 200);
  next.next_at = 0;
  next.updated_at = clock::now_ms();
  const auto from = p.state;
  struct result {
    bool raced = false;
    adapters::minor_units balance = 0;
  };
  auto out = std::make_shared<result>();
  auto* ledger = &ledger_;
  auto render = render_;
  store::group_writer::job job = [next, from, paid, out, ledger, render](store::db& d) {
    if (!store::update_payment(d, next, from)) {
      out->raced = true;
      return false;
    }
    const auto now = next.updated_at;
    const auto st =
        paid ? ledger->commit(
                   d, {next.ref, next.msisdn, next.currency, next.biller, next.amount, next.fee},
                   now)
             : ledger->release(d, {next.ref, next.msisdn, next.currency, next.amount + next.fee},
                               now);
    if (st != adapters::wallet_status::ok) return false;
    out->balance = ledger->balance(d, next.msisdn, next.currency).balance;
    const std::string_view kind = paid ? "confirmed" : "failed";
    return store::enqueue_message(d, next.ref, kind, next.msisdn, render(kind, next, out->balance),
                                  now) != store::enqueue_status::failed;
  };
  const bool ok = co_await on_writer(writer_, ex_, std::move(job));
  if (ok) {
    p = next;
    balance = out->balance;
    if (poke_) poke_();
    co_return written::done;
  }
  if (out->raced) ++stats_.lost_races;
  co_return out->raced ? written::raced : written::failed;
}

void service::finished(const std::string& ref) {
  active_.erase(ref);
  stats_.in_flight = active_.size();
}

asio::awaitable<void> service::scan_requests() {
  const auto alive = alive_;
  while (*alive) {
    auto found = std::make_shared<std::vector<store::operator_request>>();
    std::function<void(store::db&)> job = [found](store::db& d) {
      *found = store::pending_requests(d, 100);
    };
    co_await on_reader(readers_, ex_, std::move(job));
    for (auto& r : *found) {
      if (!*alive) co_return;
      co_await reverse(std::move(r));
    }
    co_await sleep_for(ex_, cfg_.scan_interval);
  }
}

asio::awaitable<void> service::reverse(store::operator_request r) {
  // The payment as it is now.
  auto found = std::make_shared<std::optional<payment_record>>();
  const std::string ref = r.ref;
  std::function<void(store::db&)> read = [found, ref](store::db& d) {
    *found = store::find_payment(d, ref);
  };
  co_await on_reader(readers_, ex_, std::move(read));
  const std::int64_t id = r.id;
  auto refuse = [this, id](std::string why) -> asio::awaitable<void> {
    spdlog::warn("payments: operator request {} refused: {}", id, why);
    store::group_writer::job job = [id, why](store::db& d) {
      return store::finish_request(d, id, "refused", why, clock::now_ms());
    };
    co_await on_writer(writer_, ex_, std::move(job));
  };
  // Strings for refuse() are named first: see gateway/common/on_store.hpp on temporaries.
  std::string why;
  adapters::pay_result answer;
  if (!*found) why = "no such payment";
  payment_record p = found->value_or(payment_record{});
  if (why.empty() && p.state != payment_state::committed && p.state != payment_state::completed)
    why = "only a paid payment can be reversed; this one is " +
          std::string(store::to_string(p.state));
  adapters::biller* b = why.empty() ? billers_(p.biller) : nullptr;
  if (why.empty() && b == nullptr) why = "biller " + p.biller + " is not configured";
  if (why.empty()) {
    answer =
        co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(adapters::pay_result)>(
            [b, id_of = &ref](auto handler) { b->async_reverse(*id_of, std::move(handler)); },
            asio::use_awaitable);
    if (answer.status == adapters::pay_status::rejected)
      why = bounded("the biller refused: " + answer.code + " " + answer.detail, 200);
    else if (answer.status == adapters::pay_status::unknown)
      co_return;  // asked again at the next scan
  }
  if (!why.empty()) co_return co_await refuse(std::move(why));
  // Accepted: refund, state, SMS and the request's result in one transaction.
  auto next = p;
  next.state = payment_state::reversed;
  next.reason = bounded("reversed by an operator: " + r.note, 200);
  next.updated_at = clock::now_ms();
  const auto from = p.state;
  auto* ledger = &ledger_;
  auto render = render_;
  store::group_writer::job job = [next, from, ledger, render, id](store::db& d) {
    if (!store::update_payment(d, next, from)) return false;
    const auto st = ledger->refund(
        d, {next.ref, next.msisdn, next.currency, next.biller, next.amount, next.fee},
        next.updated_at);
    if (st != adapters::wallet_status::ok) return false;
    const auto balance = ledger->balance(d, next.msisdn, next.currency).balance;
    return store::enqueue_message(d, next.ref, "reversed", next.msisdn,
                                  render("reversed", next, balance),
                                  next.updated_at) != store::enqueue_status::failed &&
           store::finish_request(d, id, "done", "reversed and refunded", next.updated_at);
  };
  if (co_await on_writer(writer_, ex_, std::move(job))) {
    ++stats_.reversed;
    spdlog::warn("payment {} {} -> REVERSED by operator request {}", p.ref, store::to_string(from),
                 id);
    if (poke_) poke_();
  }
}

asio::awaitable<void> service::drive(payment_record p, decision d, std::shared_ptr<flight> f) {
  const auto alive = alive_;
  adapters::pay_result last;
  auto tell = [&](answer_kind k, adapters::minor_units balance = 0) {
    if (!f) return;
    pay_answer a;
    a.kind = k;
    a.ref = p.ref;
    a.balance = balance;
    f->answer(a);
  };
  while (*alive) {
    switch (d.what) {
      case command::post:
        if (d.delay.count() > 0) co_await sleep_for(ex_, d.delay);
        if (!*alive) co_return;
        last = co_await call_biller(p, false);
        if (!*alive) co_return;
        d = on_answer(cfg_.saga, p, last, false, clock::now_ms());
        break;
      case command::query:
        if (d.delay.count() > 0) co_await sleep_for(ex_, d.delay);
        if (!*alive) co_return;
        ++p.queries;
        last = co_await call_biller(p, true);
        if (!*alive) co_return;
        d = on_answer(cfg_.saga, p, last, true, clock::now_ms());
        break;
      case command::commit:
      case command::fail: {
        adapters::minor_units balance = 0;
        const auto before = p.state;
        const auto w = co_await finalize(p, d.what, last, balance);
        if (w == written::done) {
          const bool paid = d.what == command::commit;
          ++(paid ? stats_.committed : stats_.failed);
          spdlog::info("payment {} {} -> {} ({} {}{})", p.ref, store::to_string(before),
                       store::to_string(p.state), p.biller, p.amount,
                       paid ? ", biller ref " + p.biller_reference : ", code " + p.biller_code);
          tell(paid ? answer_kind::ok : answer_kind::rejected, balance);
          co_return finished(p.ref);
        }
        tell(answer_kind::pending);
        if (w == written::raced) {
          spdlog::info("payment {}: moved by an operator; the saga stops", p.ref);
          co_return finished(p.ref);
        }
        // The store failed (disk full?): the biller's answer will be the same when asked again.
        d = {command::query, query_delay(cfg_.saga, p.queries)};
        break;
      }
      case command::mark_unknown:
      case command::mark_review: {
        const auto to =
            d.what == command::mark_unknown ? payment_state::unknown : payment_state::manual_review;
        const auto before = p.state;
        const auto wait = d.delay;
        const auto w = co_await persist(p, to, clock::now_ms() + wait.count());
        tell(answer_kind::pending);
        if (w == written::raced) co_return finished(p.ref);  // an operator moved it
        if (w == written::done) {
          ++(to == payment_state::unknown ? stats_.unknown : stats_.review);
          spdlog::warn("payment {} {} -> {} ({}): asking again in {} ms", p.ref,
                       store::to_string(before), store::to_string(to), last.detail, wait.count());
        }
        d = {command::query, wait};
        break;
      }
    }
  }
}

void service::write_metrics(metrics::prometheus_text& m) const {
  const auto& ps = stats_;
  m.counters("ussdpay_payments_total", "payment transitions since start", "event",
             {{"created", ps.created},
              {"committed", ps.committed},
              {"failed", ps.failed},
              {"unknown", ps.unknown},
              {"manual_review", ps.review},
              {"reversed", ps.reversed},
              {"recovered", ps.recovered}});
  m.family("ussdpay_payments_in_flight", "gauge", "payments the saga is driving now");
  m.sample("ussdpay_payments_in_flight", static_cast<std::int64_t>(ps.in_flight));
}

}  // namespace ussdpay::payments
