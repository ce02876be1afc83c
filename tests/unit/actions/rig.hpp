// The actions room on its own: menu_actions::run driven directly, against a scratch SQLite store
// in a temp directory, the embedded wallet, the demo biller with a small bill book and the
// payment saga, with the daemon's other parts (outbox sender, SMSC, scheduler, notice texts)
// as recording callbacks. Each test builds a dialog_state as the menus would have left it and
// runs the io_context until the answer arrives (at most 10 s).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "adapters/demo_biller.hpp"
#include "adapters/embedded_wallet.hpp"
#include "adapters/pin.hpp"
#include "gateway/actions/actions.hpp"
#include "gateway/billers/registry.hpp"
#include "gateway/payments/service.hpp"
#include "menus/catalog.hpp"
#include "menus/engine.hpp"
#include "menus/vocabulary.hpp"
#include "store/ledger.hpp"
#include "store/schema.hpp"
#include "store/db.hpp"
#include "store/subscribers.hpp"

namespace ussdpay::test::actions_rig {

namespace asio = boost::asio;
using menus::action_id;
using menus::item_field;
using menus::outcome;
using menus::var_id;

/// The registered subscriber every rig starts with: PIN 4826, Rs10,000 in the wallet.
inline constexpr const char* subscriber = "923001234567";
inline constexpr const char* right_pin = "4826";
inline constexpr std::int64_t opening_balance = 1'000'000;
/// A number nobody registered.
inline constexpr const char* stranger = "923009999999";
inline constexpr const char* pepper = "actions-test-pepper";

/// The consumer numbers of the bill book below.
inline constexpr const char* lesco_unpaid = "04123456789012";  // M ASLAM, Rs4,520
inline constexpr const char* lesco_paid = "04155500012345";    // NASREEN BIBI, paid
inline constexpr const char* pso_unpaid = "7004501122";        // Rs14,250, over the balance

inline std::shared_ptr<const menus::catalog> shipped_menus() {
  static const auto r = menus::load_catalog(USSDPAY_SOURCE_DIR "/etc/menus");
  INFO(menus::format_errors(r.errors));
  REQUIRE(r.cat);
  return r.cat;
}

/// Five billers as etc/ussdpay.toml configures them, one amount rule each, none inventing
/// bills (a number missing from the book is "not found").
inline std::vector<billers::biller_config> test_billers() {
  using adapters::check_digit;
  using adapters::exactness;
  auto make = [](std::string id, std::string name, std::string category, std::uint8_t min_len,
                 std::uint8_t max_len, exactness rule) {
    billers::biller_config b;
    b.info.id = std::move(id);
    b.info.name = std::move(name);
    b.info.category = std::move(category);
    b.info.account = {min_len, max_len, true, check_digit::none};
    b.info.amount_rule = rule;
    b.demo.synthesize = false;
    return b;
  };
  std::vector<billers::biller_config> out;
  out.push_back(make("lesco", "LESCO", "electricity", 14, 14, exactness::exact));
  out.push_back(make("kelectric", "K-Electric", "electricity", 13, 14, exactness::at_least));
  out.push_back(make("iesco", "IESCO", "electricity", 14, 14, exactness::at_most));
  auto wasa = make("wasa-lhr", "WASA Lahore", "water", 10, 12, exactness::any);
  wasa.fee_flat = 1'000;
  out.push_back(std::move(wasa));
  auto pso = make("pso", "PSO", "fuel", 10, 10, exactness::exact);
  pso.fee_percent = 0.5;
  pso.fee_cap = 10'000;
  out.push_back(std::move(pso));
  return out;
}

inline std::shared_ptr<adapters::bill_book> test_book() {
  auto loaded = adapters::parse_bill_book(
      "biller,account,customer_name,period,due_date,amount_due,amount_after_due,currency,status,"
      "paid_on\n"
      "lesco,04123456789012,M ASLAM,2026-12,2099-12-25,4520,4972,PKR,unpaid,\n"
      "lesco,04155500012345,NASREEN BIBI,2026-11,2026-11-24,3215,3537,PKR,paid,2026-11-18\n"
      "kelectric,0400000000011,K CUSTOMER,2026-12,2099-12-20,3000,3300,PKR,unpaid,\n"
      "iesco,04123456789012,SOMEONE ELSE,2026-12,2099-12-22,6240,6864,PKR,unpaid,\n"
      "wasa-lhr,1234567890,WASA CUSTOMER,2026-12,2099-12-15,2500,2750,PKR,unpaid,\n"
      "pso,7004501122,RAFIQ GOODS TRANSPORT,2026-12,2099-12-02,14250,14250,PKR,unpaid,\n",
      "actions-test.csv");
  INFO((loaded.errors.empty() ? std::string() : loaded.errors.front()));
  REQUIRE(loaded.errors.empty());
  return loaded.book;
}

struct options {
  bool self_register = true;
  std::size_t max_saved = 10;
  std::uint32_t codes_per_window = 3;
  /// Whether the subscriber directory already knows the registered subscriber (as the daemon's
  /// does after reading the store at start-up).
  bool directory_knows_subscriber = true;
};

/// A value of an action's result (or of a list item), nullopt when it is not there.
inline std::optional<std::string> var_of(const ussd::action_result& r, var_id v) {
  for (const auto& [id, value] : r.vars)
    if (id == menus::index(v)) return value;
  return std::nullopt;
}
inline std::optional<std::string> field_of(const menus::list_item& item, item_field f) {
  const std::string* value = item.get(f);
  return value == nullptr ? std::nullopt : std::optional<std::string>(*value);
}

/// The first run of `digits` digits in `text` ("" when there is none): the one-time code.
inline std::string first_code(std::string_view text, std::size_t digits) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    run = (text[i] >= '0' && text[i] <= '9') ? run + 1 : 0;
    const bool ends = i + 1 == text.size() || text[i + 1] < '0' || text[i + 1] > '9';
    if (run == digits && ends) return std::string(text.substr(i + 1 - digits, digits));
  }
  return {};
}

class rig {
 public:
  explicit rig(options o = {}) : opts_(o) {
    dir_ = (std::filesystem::temp_directory_path() / "ussdpay-actions-").string() +
           std::to_string(::getpid()) + "-" + std::to_string(++counter_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    const std::string path = dir_ + "/a.db";
    store::db_error err;
    auto d = store::db::open(path, store::open_mode::writer, err);
    REQUIRE(d);
    REQUIRE_FALSE(store::migrate(*d));
    // The subscriber, as `ussdpay subscriber add --pin 4826 --balance 10000` leaves it.
    const auto h = adapters::hash_pin(right_pin, pepper, 1'000);
    REQUIRE_FALSE(store::upsert_subscriber(*d, {subscriber, "en", h.hash, h.salt, h.kdf, 0, 0, 1}));
    using store::account_kind;
    const auto wallet_id = store::account_id(*d, account_kind::wallet, subscriber, "PKR", true);
    const auto funding = store::account_id(*d, account_kind::funding, "", "PKR", true);
    REQUIRE(store::account_id(*d, account_kind::hold, subscriber, "PKR", true));
    REQUIRE(wallet_id);
    REQUIRE(funding);
    REQUIRE(store::transfer(*d, "fund", *funding, *wallet_id, opening_balance, 1) ==
            store::transfer_status::done);
    const auto configured = test_billers();
    auto books = billers::read_demo_books(*d, configured);
    writer.emplace(std::move(*d));
    std::optional<store::db_error> e;
    readers.emplace(path, 2, 1'000, e);
    REQUIRE_FALSE(e);
    auto look_conn = store::db::open(path, store::open_mode::reader, err);
    REQUIRE(look_conn);
    look.emplace(std::move(*look_conn));

    wallet.emplace(
        io.get_executor(), *writer, *readers,
        adapters::embedded_wallet_config{pepper, 1'000, 3, std::chrono::minutes(30), "PKR"});
    registry = std::make_unique<billers::registry>(io.get_executor(), configured, test_book(),
                                                   std::move(books), *writer);
    saga.emplace(
        io.get_executor(), payments::payments_config{}, *writer, *readers, *wallet,
        [this](std::string_view id) { return registry->adapter(id); },
        [](std::string_view kind, const store::payment_record& p, adapters::minor_units balance) {
          return fmt::format("Ref {} {} {} to {} {} Bal {}", p.ref, kind, p.amount, p.biller,
                             p.account, balance);
        });
    saga->on_message_queued([this] { ++receipts_queued; });
    if (opts_.directory_knows_subscriber) directory.remember(subscriber, "en");

    actions::settings cfg;
    cfg.max_saved = opts_.max_saved;
    cfg.registration.self_register = opts_.self_register;
    cfg.registration.codes_per_window = opts_.codes_per_window;
    cfg.autopay_days = 2;
    cfg.shortcut = "*123*2#";
    cfg.pepper = pepper;
    actions::backends b{
        *writer,
        *readers,
        *wallet,
        *saga,
        [this] { ++message_queued; },
        [this](std::string msisdn, std::string text, std::function<void(bool)> accepted) {
          sent_now.push_back({std::move(msisdn), std::move(text)});
          // The SMSC's answer comes later, as it would over the link.
          asio::post(io, [accepted = std::move(accepted), ok = smsc_accepts] { accepted(ok); });
        },
        [this](std::string_view kind, const sms::bill_notice& n) {
          notices.emplace_back(std::string(kind), n);
          return fmt::format("notice {} {} {} up to {}", kind, n.biller, n.account, n.autopay_max);
        },
        [this] { ++schedule_changed; }};
    menu.emplace(io.get_executor(), *registry, std::move(cfg), std::move(b), directory);
  }

  ~rig() {
    // Whatever the writer still has (a "locked" SMS) is committed and its completion run before
    // anything it refers to goes.
    if (writer) drain();
    io.poll();
    menu.reset();
    if (saga) saga->stop();
    saga.reset();
    registry.reset();
    wallet.reset();
    readers.reset();
    writer.reset();
    look.reset();
    io.poll();
    std::filesystem::remove_all(dir_);
  }
  rig(const rig&) = delete;
  rig& operator=(const rig&) = delete;

  /// A dialog's state as the menus leave it: the shipped catalog, English, the variables the
  /// gateway sets when a dialog starts.
  menus::dialog_state state() const {
    menus::dialog_state s;
    s.cat = shipped_menus();
    s.set(var_id::currency, "PKR");
    s.set(var_id::service_code, "*123#");
    s.set(var_id::support_phone, "0800-12345");
    return s;
  }

  /// Runs `a` on `s` for `msisdn` and the io_context until its one answer (at most 10 s).
  ussd::action_result run(action_id a, const menus::dialog_state& s,
                          std::string_view msisdn = subscriber) {
    ussd::action_call call;
    call.action = menus::index(a);
    call.state = &s;
    call.msisdn = msisdn;
    struct answer {
      int calls = 0;
      std::optional<ussd::action_result> result;
    };
    auto got = std::make_shared<answer>();
    menu->run(call, [got](ussd::action_result r) {
      ++got->calls;
      got->result = std::move(r);
    });
    INFO("action " << menus::actions()[call.action].name);
    CHECK(got->calls == 0);  // never inline: the dialog table expects the answer later
    REQUIRE(run_until([&] { return got->calls > 0; }));
    io.poll();  // a second answer would be queued by now
    CHECK(got->calls == 1);
    return std::move(*got->result);
  }

  /// Runs the io_context until `done()` holds, at most `limit`; whether it does.
  template <class Pred>
  bool run_until(Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline)
      io.run_one_for(std::chrono::milliseconds(50));
    return done();
  }

  /// Every writer job submitted so far is committed and the completions they posted to the
  /// io_context have run (the writer runs jobs and their completions in order).
  void barrier() {
    auto flag = std::make_shared<bool>(false);
    REQUIRE(writer->submit([](store::db&) { return true; },
                           [this, flag](bool, std::optional<store::db_error>) {
                             asio::post(io, [flag] { *flag = true; });
                           }));
    REQUIRE(run_until([&] { return *flag; }));
  }

  /// barrier() for the destructor: no assertion, a bounded wait.
  void drain() {
    auto flag = std::make_shared<bool>(false);
    if (writer->submit([](store::db&) { return true; },
                       [this, flag](bool, std::optional<store::db_error>) {
                         asio::post(io, [flag] { *flag = true; });
                       }))
      run_until([&] { return *flag; });
  }

  /// The wallet's answer to `pin` for `msisdn`.
  adapters::auth_result authorize(const std::string& pin, const std::string& msisdn = subscriber) {
    auto got = std::make_shared<std::optional<adapters::auth_result>>();
    wallet->async_authorize(msisdn, pin, [got](adapters::auth_result a) { *got = a; });
    REQUIRE(run_until([&] { return got->has_value(); }));
    return **got;
  }

  /// The outbox's messages of one kind, oldest first (read after barrier()).
  struct queued_sms {
    std::string ref, msisdn, body;
  };
  std::vector<queued_sms> outbox(std::string_view kind) {
    store::stmt s(*look, "SELECT ref, msisdn, body FROM outbox WHERE kind = ? ORDER BY id");
    s.bind(1, kind);
    std::vector<queued_sms> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2)});
    return out;
  }
  std::int64_t outbox_size() {
    store::stmt s(*look, "SELECT count(*) FROM outbox");
    return s.step() ? s.int64(0) : -1;
  }
  std::int64_t balance_of(const std::string& msisdn = subscriber) {
    const auto id = store::account_id(*look, store::account_kind::wallet, msisdn, "PKR", false);
    return id ? store::balance(*look, *id).value_or(-1) : -1;
  }

  // Declared first, destroyed last: every part below posts to it.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{io.get_executor()};
  std::optional<store::group_writer> writer;
  std::optional<store::reader_pool> readers;
  /// The test's own read-only connection, to see what reached the store.
  std::optional<store::db> look;
  std::optional<adapters::embedded_wallet> wallet;
  std::unique_ptr<billers::registry> registry;
  std::optional<payments::service> saga;
  actions::subscriber_directory directory;
  std::optional<actions::menu_actions> menu;

  // What reached the daemon's other parts.
  int message_queued = 0;    ///< the outbox sender poked by an action
  int receipts_queued = 0;   ///< the outbox sender poked by the payment saga
  int schedule_changed = 0;  ///< the scheduler poked
  struct sms_now {
    std::string msisdn, text;
  };
  std::vector<sms_now> sent_now;  ///< one-time codes, sent outside the outbox
  bool smsc_accepts = true;       ///< the SMSC's answer to the next send_now
  std::vector<std::pair<std::string, sms::bill_notice>> notices;  ///< render_notice's calls

 private:
  options opts_;
  std::string dir_;
  static inline std::atomic<int> counter_{0};
};

}  // namespace ussdpay::test::actions_rig
