// The payments service against a scratch store and the embedded wallet: the checks before paying
// answer the same for the quote (before the PIN screen) and for the payment itself; and the saga
// driven through a fake biller that answers as the test says (accepted, rejected, unknown, not
// sent, or not yet), with the store, the ledger and the outbox read back after each step.
#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "adapters/embedded_wallet.hpp"
#include "adapters/pin.hpp"
#include "gateway/payments/service.hpp"
#include "store/ledger.hpp"
#include "store/outbox.hpp"
#include "store/payments.hpp"
#include "store/readers.hpp"
#include "store/schema.hpp"
#include "store/subscribers.hpp"
#include "store/writer.hpp"

using namespace ussdpay;
namespace asio = boost::asio;

namespace {

constexpr const char* subscriber = "923001234567";
constexpr const char* pepper = "service-test-pepper";

/// A migrated store with one subscriber (PIN 4826) holding Rs10,000.
struct scratch {
  std::string dir;
  std::optional<store::group_writer> writer;
  std::optional<store::reader_pool> readers;

  scratch() {
    dir = (std::filesystem::temp_directory_path() / "ussdpay-service-").string() +
          std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store::db_error err;
    auto d = store::db::open(dir + "/s.db", store::open_mode::writer, err);
    REQUIRE(d);
    REQUIRE_FALSE(store::migrate(*d));
    const auto h = adapters::hash_pin("4826", pepper, 1'000);
    REQUIRE_FALSE(store::upsert_subscriber(*d, {subscriber, "en", h.hash, h.salt, h.kdf, 0, 0, 1}));
    const auto wallet = store::account_id(*d, store::account_kind::wallet, subscriber, "PKR", true);
    const auto funding = store::account_id(*d, store::account_kind::funding, "", "PKR", true);
    store::account_id(*d, store::account_kind::hold, subscriber, "PKR", true);
    REQUIRE(wallet);
    REQUIRE(funding);
    REQUIRE(store::transfer(*d, "fund", *funding, *wallet, 1'000'000, 1) ==
            store::transfer_status::done);
    writer.emplace(std::move(*d));
    std::optional<store::db_error> e;
    readers.emplace(dir + "/s.db", 1, 100, e);
    REQUIRE_FALSE(e);
  }
  ~scratch() {
    readers.reset();
    writer.reset();
    std::filesystem::remove_all(dir);
  }
};

/// Runs io until `answer` is set (at most 10 s).
payments::pay_answer wait_for(asio::io_context& io, std::optional<payments::pay_answer>& answer) {
  for (int i = 0; i < 2'000 && !answer; ++i) {
    io.run_for(std::chrono::milliseconds(5));
    if (io.stopped()) io.restart();
  }
  REQUIRE(answer);
  return *answer;
}

using adapters::pay_status;
using store::account_kind;
using store::payment_state;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// A biller that answers as the test says. `on_pay` and `on_status` give the answer to every
/// call of that kind; `hold` keeps the call waiting until answer_held(). Every call is recorded
/// ("pay REF", "status REF") and answered on the executor, never inline.
class fake_biller final : public adapters::biller {
 public:
  enum class answer : std::uint8_t { accepted, rejected, unknown, not_sent, no_record, hold };

  explicit fake_biller(asio::any_io_executor ex) : ex_(std::move(ex)) {
    info_.id = "lesco";
    info_.name = "LESCO";
    info_.category = "electricity";
  }

  answer on_pay = answer::accepted;
  answer on_status = answer::accepted;
  std::vector<std::string> calls;
  std::size_t held() const { return held_.size(); }

  /// Answers the oldest call kept waiting.
  void answer_held(answer a) {
    REQUIRE(!held_.empty());
    auto done = std::move(held_.front());
    held_.erase(held_.begin());
    finish(a, std::move(done));
  }

  const adapters::biller_info& info() const override { return info_; }
  void async_inquire(std::string, handler<void(adapters::inquiry_result)> done) override {
    calls.push_back("inquire");
    asio::post(ex_,
               [done = std::move(done)]() mutable { std::move(done)(adapters::inquiry_result{}); });
  }
  void async_pay(adapters::pay_request req, handler<void(adapters::pay_result)> done) override {
    calls.push_back("pay " + req.payment_id);
    amounts.push_back(req.amount);
    start(on_pay, std::move(done));
  }
  void async_status(std::string payment_id, handler<void(adapters::pay_result)> done) override {
    calls.push_back("status " + payment_id);
    start(on_status, std::move(done));
  }
  void async_reverse(std::string payment_id, handler<void(adapters::pay_result)> done) override {
    calls.push_back("reverse " + payment_id);
    finish(answer::rejected, std::move(done));
  }

  std::vector<adapters::minor_units> amounts;  ///< of each pay

 private:
  void start(answer a, handler<void(adapters::pay_result)> done) {
    if (a == answer::hold)
      held_.push_back(std::move(done));
    else
      finish(a, std::move(done));
  }
  void finish(answer a, handler<void(adapters::pay_result)> done) {
    adapters::pay_result r;
    switch (a) {
      case answer::accepted:
        r = {pay_status::accepted, "LESCO-" + std::to_string(++accepted_), "00", "paid", false};
        break;
      case answer::rejected:
        r = {pay_status::rejected, {}, "E42", "account closed", false};
        break;
      case answer::unknown:
        r = {pay_status::unknown, {}, {}, "read timed out", false};
        break;
      case answer::not_sent:
        r = {
            pay_status::rejected, {}, std::string(adapters::code_not_sent), "no connection", false};
        break;
      case answer::no_record:
        r = {pay_status::unknown, {}, "404", "no such payment", true};
        break;
      case answer::hold:
        FAIL("hold is not an answer");
    }
    asio::post(ex_, [done = std::move(done), r = std::move(r)]() mutable {
      std::move(done)(std::move(r));
    });
  }

  asio::any_io_executor ex_;
  adapters::biller_info info_;
  std::vector<handler<void(adapters::pay_result)>> held_;
  int accepted_ = 0;
};

/// The payments service over a scratch store (Rs10,000 in the wallet), the embedded wallet and
/// the fake LESCO, with short saga delays so every step happens within a bounded run. The
/// io_context outlives the store, so completions still queued when a test ends find it.
struct rig {
  asio::io_context io;
  scratch s;
  adapters::embedded_wallet wallet{io.get_executor(),
                                   *s.writer,
                                   *s.readers,
                                   {pepper, 1'000, 3, std::chrono::minutes(30), "PKR"}};
  fake_biller lesco{io.get_executor()};
  payments::payments_config cfg;
  std::vector<std::string> rendered;  ///< every SMS text the service asked for
  int pokes = 0;                      ///< the outbox sender woken
  std::unique_ptr<payments::service> svc;

  explicit rig(payments::payments_config c = small_delays()) : cfg(std::move(c)) { start(); }
  ~rig() {
    if (svc) svc->stop();
    svc.reset();
  }

  static payments::payments_config small_delays() {
    payments::payments_config c;
    c.saga.query_initial = 50ms;
    c.saga.query_max = 200ms;
    c.answer_within = 1'000ms;
    c.biller_timeout = 5'000ms;
    c.scan_interval = 60'000ms;  // recover() looks at operators' requests once in a test
    return c;
  }

  /// A fresh service over the same store: the daemon after a restart.
  void start() {
    svc = std::make_unique<payments::service>(
        io.get_executor(), cfg, *s.writer, *s.readers, wallet,
        [this](std::string_view id) -> adapters::biller* {
          return id == "lesco" ? &lesco : nullptr;
        },
        [this](std::string_view kind, const store::payment_record& p,
               adapters::minor_units balance) {
          auto text = std::string(kind) + " " + p.ref + " " + std::to_string(p.amount) + " bal " +
                      std::to_string(balance);
          rendered.push_back(text);
          return text;
        });
    svc->on_message_queued([this] { ++pokes; });
  }

  /// Rs4,520 to LESCO 04123456789012 with a Rs10 fee, PIN 4826.
  static payments::pay_request request(adapters::minor_units amount = 452'000,
                                       std::string account = "04123456789012") {
    payments::pay_request r;
    r.msisdn = subscriber;
    r.biller = "lesco";
    r.account = std::move(account);
    r.currency = "PKR";
    r.language = "en";
    r.amount = amount;
    r.fee = 1'000;
    r.pin = "4826";
    return r;
  }

  payments::pay_answer pay(payments::pay_request r) {
    std::optional<payments::pay_answer> a;
    svc->pay(std::move(r), [&](payments::pay_answer x) { a = std::move(x); });
    return wait_for(io, a);
  }
  payments::pay_answer quote(payments::pay_request r) {
    std::optional<payments::pay_answer> a;
    svc->quote(std::move(r), [&](payments::pay_answer x) { a = std::move(x); });
    return wait_for(io, a);
  }

  /// Runs the io_context until `pred` holds, for at most `limit`.
  template <class Pred>
  bool run_until(Pred pred, std::chrono::milliseconds limit = 5s) {
    const auto deadline = steady::now() + limit;
    while (!pred()) {
      if (steady::now() >= deadline) return false;
      io.run_for(5ms);
      if (io.stopped()) {
        io.restart();
        std::this_thread::sleep_for(1ms);
      }
    }
    return true;
  }
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }

  // The store as it is now, read on a connection of our own.
  store::db reader() const {
    store::db_error err;
    auto d = store::db::open(s.dir + "/s.db", store::open_mode::reader, err);
    REQUIRE(d);
    return std::move(*d);
  }
  std::optional<store::payment_record> payment(const std::string& ref) const {
    auto d = reader();
    return store::find_payment(d, ref);
  }
  std::optional<payment_state> state_of(const std::string& ref) const {
    const auto p = payment(ref);
    return p ? std::optional(p->state) : std::nullopt;
  }
  /// Runs until the store shows `ref` in state `st` and the saga has let go of it (its own
  /// counters are updated on the network thread after the store commits).
  bool settles(const std::string& ref, payment_state st, std::chrono::milliseconds limit = 5s) {
    return run_until([&] { return svc->stats().in_flight == 0 && state_of(ref) == st; }, limit);
  }
  std::int64_t balance(account_kind k, const std::string& owner = subscriber) const {
    auto d = reader();
    const auto id = store::account_id(d, k, owner, "PKR", false);
    return id ? store::balance(d, *id).value_or(-1) : 0;
  }
  std::int64_t ledger_sum() const {
    auto d = reader();
    return store::ledger_sum(d).value_or(-1);
  }
  std::vector<store::outbox_message> sms(const std::string& ref) const {
    auto d = reader();
    return store::messages_for(d, ref);
  }
  std::size_t payments_made() const {
    auto d = reader();
    return store::recent_payments(d, subscriber, 100).size();
  }
};

constexpr std::int64_t funded = 1'000'000;  // Rs10,000

}  // namespace

TEST_CASE("payments: the quote and the payment answer an amount under the minimum alike",
          "[payments]") {
  scratch s;
  asio::io_context io;
  adapters::embedded_wallet wallet(io.get_executor(), *s.writer, *s.readers,
                                   {pepper, 1'000, 3, std::chrono::minutes(30), "PKR"});
  payments::payments_config cfg;
  cfg.limits.min_amount = 1'000;  // Rs10
  payments::service svc(
      io.get_executor(), cfg, *s.writer, *s.readers, wallet,
      [](std::string_view) -> adapters::biller* { return nullptr; },
      [](std::string_view, const store::payment_record&, adapters::minor_units) {
        return std::string("receipt");
      });

  // A subscriber asks to pay Rs5 to LESCO: below the minimum.
  payments::pay_request r;
  r.msisdn = subscriber;
  r.biller = "lesco";
  r.account = "04123456789012";
  r.currency = "PKR";
  r.language = "en";
  r.amount = 500;

  std::optional<payments::pay_answer> quoted;
  svc.quote(r, [&](payments::pay_answer a) { quoted = a; });
  const auto q = wait_for(io, quoted);
  CHECK(q.kind == payments::answer_kind::too_low);

  // The same request paid with the right PIN (an auto-payment, or a minimum changed between the
  // quote and the PIN) is refused for the same reason, not as a limit.
  std::optional<payments::pay_answer> paid;
  r.pin = "4826";
  svc.pay(r, [&](payments::pay_answer a) { paid = a; });
  const auto p = wait_for(io, paid);
  CHECK(p.kind == payments::answer_kind::too_low);
  CHECK(p.kind == q.kind);
  CHECK(p.limit == 1'000);  // the minimum, for the screen

  // Within the minimum both go on: the quote says ok.
  quoted.reset();
  r.amount = 1'000;
  r.pin.clear();
  svc.quote(r, [&](payments::pay_answer a) { quoted = a; });
  CHECK(wait_for(io, quoted).kind == payments::answer_kind::ok);
  svc.stop();
}

TEST_CASE("payments: a paid payment is committed, debited, balanced and its receipt queued",
          "[payments]") {
  rig t;
  // The subscriber pays Rs4,520 (fee Rs10) with the right PIN; LESCO accepts.
  const auto a = t.pay(rig::request());
  REQUIRE(a.kind == payments::answer_kind::ok);
  CHECK(payments::valid_reference(a.ref));
  CHECK(a.balance == funded - 453'000);
  CHECK(t.lesco.calls == std::vector<std::string>{"pay " + a.ref});
  CHECK(t.lesco.amounts == std::vector<adapters::minor_units>{452'000});
  // The store says so: COMMITTED with LESCO's reference.
  const auto p = t.payment(a.ref);
  REQUIRE(p);
  CHECK(p->state == payment_state::committed);
  CHECK(p->biller_reference == "LESCO-1");
  CHECK(p->amount == 452'000);
  CHECK(p->fee == 1'000);
  // The money: amount + fee out of the wallet, nothing left held, the bill to LESCO's
  // settlement, the fee to ours; the ledger still sums to zero.
  CHECK(t.balance(account_kind::wallet) == funded - 453'000);
  CHECK(t.balance(account_kind::hold) == 0);
  CHECK(t.balance(account_kind::settlement, "lesco") == 452'000);
  CHECK(t.balance(account_kind::fees, "") == 1'000);
  CHECK(t.ledger_sum() == 0);
  // One "confirmed" SMS, queued with the text rendered for it, and the sender woken.
  const auto sms = t.sms(a.ref);
  REQUIRE(sms.size() == 1);
  CHECK(sms[0].kind == "confirmed");
  CHECK(sms[0].msisdn == subscriber);
  CHECK(sms[0].body == "confirmed " + a.ref + " 452000 bal 547000");
  CHECK(t.pokes >= 1);
  CHECK(t.svc->stats().committed == 1);
  CHECK(t.svc->stats().in_flight == 0);
}

TEST_CASE("payments: a definitive rejection fails the payment and releases the hold",
          "[payments]") {
  rig t;
  t.lesco.on_pay = fake_biller::answer::rejected;
  const auto a = t.pay(rig::request());
  REQUIRE(a.kind == payments::answer_kind::rejected);
  CHECK(a.balance == funded);
  const auto p = t.payment(a.ref);
  REQUIRE(p);
  CHECK(p->state == payment_state::failed);
  CHECK(p->biller_code == "E42");
  CHECK(p->reason.starts_with("biller rejected: "));
  // Nothing taken: the whole hold went back.
  CHECK(t.balance(account_kind::wallet) == funded);
  CHECK(t.balance(account_kind::hold) == 0);
  CHECK(t.balance(account_kind::settlement, "lesco") == 0);
  CHECK(t.ledger_sum() == 0);
  const auto sms = t.sms(a.ref);
  REQUIRE(sms.size() == 1);
  CHECK(sms[0].kind == "failed");
  CHECK(sms[0].body == "failed " + a.ref + " 452000 bal 1000000");
  // Rejected means rejected: no status query follows.
  t.run_for(300ms);
  CHECK(t.lesco.calls == std::vector<std::string>{"pay " + a.ref});
}

TEST_CASE("payments: an unknown answer keeps the money held until a status query settles it",
          "[payments]") {
  rig t;
  t.lesco.on_pay = fake_biller::answer::unknown;
  t.lesco.on_status = fake_biller::answer::hold;
  // The post times out at LESCO's end: the dialog is told "processing", with the reference.
  const auto a = t.pay(rig::request());
  REQUIRE(a.kind == payments::answer_kind::pending);
  REQUIRE(payments::valid_reference(a.ref));
  CHECK(t.state_of(a.ref) == payment_state::unknown);
  // Neither paid nor refunded: the money stays held.
  CHECK(t.balance(account_kind::wallet) == funded - 453'000);
  CHECK(t.balance(account_kind::hold) == 453'000);
  CHECK(t.ledger_sum() == 0);
  CHECK(t.sms(a.ref).empty());
  // After query_initial (50 ms) the saga asks LESCO about it...
  REQUIRE(t.run_until([&] { return t.lesco.held() == 1; }, 2s));
  CHECK(t.lesco.calls == std::vector<std::string>{"pay " + a.ref, "status " + a.ref});
  CHECK(t.state_of(a.ref) == payment_state::unknown);
  // ... and LESCO says it was paid: committed, the hold settled, the receipt queued.
  t.lesco.answer_held(fake_biller::answer::accepted);
  REQUIRE(t.settles(a.ref, payment_state::committed));
  CHECK(t.payment(a.ref)->biller_reference == "LESCO-1");
  CHECK(t.balance(account_kind::wallet) == funded - 453'000);
  CHECK(t.balance(account_kind::hold) == 0);
  CHECK(t.balance(account_kind::settlement, "lesco") == 452'000);
  CHECK(t.ledger_sum() == 0);
  const auto sms = t.sms(a.ref);
  REQUIRE(sms.size() == 1);
  CHECK(sms[0].kind == "confirmed");
  CHECK(t.svc->stats().unknown == 1);
  CHECK(t.svc->stats().committed == 1);
  // Posted once: the status answer settled it.
  CHECK(t.lesco.amounts.size() == 1);
}

TEST_CASE("payments: a post that could not be sent is posted again under the same id",
          "[payments]") {
  rig t;
  t.lesco.on_pay = fake_biller::answer::not_sent;
  std::optional<payments::pay_answer> answer;
  t.svc->pay(rig::request(), [&](payments::pay_answer x) { answer = std::move(x); });
  // The first post never left; the saga tries again after query_initial, and LESCO accepts.
  REQUIRE(t.run_until([&] { return t.lesco.calls.size() == 1; }, 2s));
  t.lesco.on_pay = fake_biller::answer::accepted;
  const auto a = wait_for(t.io, answer);
  REQUIRE(a.kind == payments::answer_kind::ok);
  CHECK(t.lesco.calls == std::vector<std::string>{"pay " + a.ref, "pay " + a.ref});
  CHECK(t.state_of(a.ref) == payment_state::committed);
  CHECK(t.balance(account_kind::wallet) == funded - 453'000);
  CHECK(t.ledger_sum() == 0);
}

TEST_CASE("payments: a wrong PIN or a short balance stores nothing and calls no biller",
          "[payments]") {
  rig t;
  SECTION("wrong PIN") {
    auto r = rig::request();
    r.pin = "1357";
    const auto a = t.pay(r);
    CHECK(a.kind == payments::answer_kind::wrong_pin);
    CHECK(a.tries_left == 2);
    CHECK(a.ref.empty());
  }
  SECTION("insufficient balance") {
    // Rs10,000 in the wallet; Rs15,000 + Rs10 asked.
    CHECK(t.quote(rig::request(1'500'000)).kind == payments::answer_kind::insufficient);
    const auto a = t.pay(rig::request(1'500'000));
    CHECK(a.kind == payments::answer_kind::insufficient);
    CHECK(a.balance == funded);
    CHECK(a.ref.empty());
  }
  t.run_for(100ms);
  CHECK(t.payments_made() == 0);
  CHECK(t.lesco.calls.empty());
  CHECK(t.balance(account_kind::wallet) == funded);
  CHECK(t.balance(account_kind::hold) == 0);
  CHECK(t.ledger_sum() == 0);
  CHECK(t.svc->stats().created == 0);
}

TEST_CASE("payments: the daily limit refuses the payment that would pass it, naming the limit",
          "[payments]") {
  auto cfg = rig::small_delays();
  cfg.limits.daily_amount = 600'000;  // Rs6,000 a day
  rig t(cfg);
  // Rs4,520 today: within the limit.
  const auto first = t.pay(rig::request());
  REQUIRE(first.kind == payments::answer_kind::ok);
  // Rs2,000 more to another account would make Rs6,520: refused, before and after the PIN.
  const auto q = t.quote(rig::request(200'000, "04999999999999"));
  CHECK(q.kind == payments::answer_kind::limit);
  CHECK(q.limit == 600'000);
  const auto a = t.pay(rig::request(200'000, "04999999999999"));
  CHECK(a.kind == payments::answer_kind::limit);
  CHECK(a.limit == 600'000);
  CHECK(a.ref.empty());
  // Rs1,480 is exactly what is left: it goes through.
  CHECK(t.pay(rig::request(148'000, "04999999999999")).kind == payments::answer_kind::ok);
  CHECK(t.payments_made() == 2);
  CHECK(t.lesco.amounts == std::vector<adapters::minor_units>{452'000, 148'000});
  CHECK(t.balance(account_kind::wallet) == funded - 453'000 - 149'000);
  CHECK(t.ledger_sum() == 0);
}

TEST_CASE("payments: the same payment again is a duplicate until the subscriber confirms it",
          "[payments]") {
  rig t;
  const auto first = t.pay(rig::request());
  REQUIRE(first.kind == payments::answer_kind::ok);
  // The same amount to the same account a moment later: "you paid this N min ago".
  CHECK(t.quote(rig::request()).kind == payments::answer_kind::duplicate);
  const auto dup = t.pay(rig::request());
  CHECK(dup.kind == payments::answer_kind::duplicate);
  CHECK(dup.duplicate_ref == first.ref);
  CHECK(dup.duplicate_minutes == 1);
  CHECK(dup.ref.empty());
  CHECK(t.payments_made() == 1);
  // "Pay again": it goes through as a payment of its own.
  auto again = rig::request();
  again.duplicate_confirmed = true;
  const auto second = t.pay(again);
  REQUIRE(second.kind == payments::answer_kind::ok);
  CHECK(second.ref != first.ref);
  CHECK(t.state_of(second.ref) == payment_state::committed);
  CHECK(t.payments_made() == 2);
  CHECK(t.lesco.calls == std::vector<std::string>{"pay " + first.ref, "pay " + second.ref});
  CHECK(t.balance(account_kind::wallet) == funded - 2 * 453'000);
  CHECK(t.ledger_sum() == 0);
}

TEST_CASE("payments: recover() after a restart finds a CREATED payment and asks the biller",
          "[payments]") {
  auto cfg = rig::small_delays();
  cfg.answer_within = 100ms;
  rig t(cfg);
  // The daemon posts a payment; LESCO takes it, but the daemon stops before the answer is
  // recorded (the service is stopped, then the answer arrives to nobody).
  t.lesco.on_pay = fake_biller::answer::hold;
  const auto a = t.pay(rig::request());
  REQUIRE(a.kind == payments::answer_kind::pending);
  REQUIRE(t.lesco.held() == 1);
  t.svc->stop();
  t.lesco.answer_held(fake_biller::answer::accepted);
  t.run_for(200ms);
  // Left as the crash left it: CREATED, the money held, no receipt.
  CHECK(t.state_of(a.ref) == payment_state::created);
  CHECK(t.balance(account_kind::hold) == 453'000);
  CHECK(t.sms(a.ref).empty());
  // Restart: a new service over the same store recovers it. It may or may not have been
  // posted, so it asks first; LESCO says it was paid.
  t.start();
  std::optional<std::size_t> recovered;
  t.svc->recover([&](std::size_t n) { recovered = n; });
  REQUIRE(t.run_until([&] { return recovered.has_value(); }, 2s));
  CHECK(*recovered == 1);
  REQUIRE(t.settles(a.ref, payment_state::committed));
  CHECK(t.lesco.calls == std::vector<std::string>{"pay " + a.ref, "status " + a.ref});
  CHECK(t.svc->stats().recovered == 1);
  CHECK(t.svc->stats().committed == 1);
  CHECK(t.balance(account_kind::wallet) == funded - 453'000);
  CHECK(t.balance(account_kind::hold) == 0);
  CHECK(t.ledger_sum() == 0);
  const auto sms = t.sms(a.ref);
  REQUIRE(sms.size() == 1);
  CHECK(sms[0].kind == "confirmed");
}
