// The payments service against a scratch store and the embedded wallet: the checks before paying
// answer the same for the quote (before the PIN screen) and for the payment itself.
#include <filesystem>
#include <optional>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "adapters/embedded_wallet.hpp"
#include "adapters/pin.hpp"
#include "gateway/payments/service.hpp"
#include "store/ledger.hpp"
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
