#include "adapters/demo_biller.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "gateway/common/clock.hpp"
#include "tests/unit/tz_guard.hpp"

using namespace ussdpay::adapters;
using namespace std::chrono_literals;
using Catch::Matchers::StartsWith;
namespace asio = boost::asio;

namespace {

const std::string header =
    "biller,account,customer_name,period,due_date,amount_due,amount_after_due,currency,status,"
    "paid_on\n";

// LESCO as the gateway configures it: 14-digit reference numbers, exact payment.
biller_info lesco(exactness rule = exactness::exact) {
  biller_info i;
  i.id = "lesco";
  i.name = "LESCO";
  i.category = "electricity";
  i.account = {14, 14, true, check_digit::none};
  i.amount_rule = rule;
  return i;
}

// M ASLAM owes 4,520 (4,972 after a due date far ahead); NASREEN BIBI has paid; ALI RAZA is late.
std::shared_ptr<const bill_book> test_book() {
  auto loaded = parse_bill_book(
      header +
          "lesco,04123456789012,M ASLAM,2026-12,2099-12-25,4520,4972,PKR,unpaid,\n"
          "lesco,04155500012345,NASREEN BIBI,2026-11,2026-11-24,3215,3537,PKR,paid,2026-11-18\n"
          "lesco,04100000000001,ALI RAZA,2020-01,2020-01-25,1000,1100,PKR,unpaid,\n"
          "iesco,04123456789012,SOMEONE ELSE,2026-12,2099-12-22,6240,6864,PKR,unpaid,\n",
      "test.csv");
  REQUIRE(loaded.errors.empty());
  return loaded.book;
}

std::string today() {
  const std::chrono::year_month_day d{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

// One adapter on its own io_context; each call runs the context until the call completes and
// checks that it completed exactly once and not inside the async_* call itself.
struct rig {
  asio::io_context io;
  std::unique_ptr<demo_biller> biller;

  explicit rig(demo_biller_config config = {}, biller_info info = lesco(),
               std::shared_ptr<const bill_book> book = test_book())
      : biller(std::make_unique<demo_biller>(io.get_executor(), std::move(info), std::move(config),
                                             std::move(book))) {}

  template <class Result, class Start>
  Result run(Start start) {
    std::optional<Result> got;
    int calls = 0;
    start([&](Result r) {
      ++calls;
      got = std::move(r);
    });
    CHECK_FALSE(got);  // never inline
    io.restart();
    io.run_for(10s);
    REQUIRE(calls == 1);
    return *got;
  }

  inquiry_result inquire(const std::string& account) {
    return run<inquiry_result>([&](auto h) { biller->async_inquire(account, std::move(h)); });
  }
  pay_result pay(const std::string& id, const std::string& account, minor_units amount,
                 const std::string& currency = "PKR") {
    return run<pay_result>([&](auto h) {
      biller->async_pay({.payment_id = id,
                         .account = account,
                         .amount = amount,
                         .currency = currency,
                         .bill_reference = {}},
                        std::move(h));
    });
  }
  pay_result status(const std::string& id) {
    return run<pay_result>([&](auto h) { biller->async_status(id, std::move(h)); });
  }
  pay_result reverse(const std::string& id) {
    return run<pay_result>([&](auto h) { biller->async_reverse(id, std::move(h)); });
  }
};

// A fresh adapter with `rule`, paying M ASLAM's bill (4,520 due) once.
pay_result pay_once(exactness rule, minor_units amount) {
  rig r({}, lesco(rule));
  return r.pay("p1", "04123456789012", amount);
}

}  // namespace

// ---- amounts and the CSV book ---------------------------------------------------------------

TEST_CASE("amounts parse exactly from decimal text into minor units", "[demo_biller]") {
  CHECK(parse_amount("4520") == 452000);
  CHECK(parse_amount("4520.50") == 452050);
  CHECK(parse_amount("4520.5") == 452050);
  CHECK(parse_amount("4520.05") == 452005);
  CHECK(parse_amount("0.01") == 1);
  CHECK(parse_amount("0") == 0);
  CHECK(parse_amount("007") == 700);
  CHECK(parse_amount("9999999999999.99") == 999999999999999);
  // 0.1 + 0.2 style drift would show here with floating point.
  CHECK(parse_amount("20504.55") == 2050455);
}

TEST_CASE("amounts that are not plain decimal text are refused", "[demo_biller]") {
  for (const char* bad : {"", "-1", "+1", "1.", ".5", "1.234", "1,000", " 1", "1 ", "1e3", "abc",
                          "12345678901234", "4520.5x", "1..2", "0x10", "-0"})
    CHECK_FALSE(parse_amount(bad));
}

TEST_CASE("a well-formed bill book loads, quoted fields and all", "[demo_biller]") {
  const std::string text =
      "\xEF\xBB\xBF" + header.substr(0, header.size() - 1) + "\r\n" +
      "lesco,04123456789012,M ASLAM,2026-12,2026-12-25,4520,4972,PKR,unpaid,\r\n"
      "lesco,04112233445566,\"KHAN, SHAHID \"\"SHAH\"\"\",2026-12,2026-12-25,12870.5,,PKR,unpaid,"
      "\r\n"
      "\r\n"
      "sngpl,10987654321,ZAINAB AKHTAR,2026-11,2026-11-19,1875.50,2063.05,PKR,paid,2026-11-15";
  const auto loaded = parse_bill_book(text, "t.csv");
  CHECK(loaded.errors.empty());
  REQUIRE(loaded.book);
  CHECK(loaded.book->size() == 3);

  const auto* aslam = loaded.book->find("lesco", "04123456789012");
  REQUIRE(aslam);
  CHECK(aslam->due.customer_name == "M ASLAM");
  CHECK(aslam->due.period == "2026-12");
  CHECK(aslam->due.due_date == "2026-12-25");
  CHECK(aslam->due.amount_due == 452000);
  CHECK(aslam->due.amount_after_due == 497200);
  CHECK(aslam->due.currency == "PKR");
  CHECK_FALSE(aslam->paid);

  const auto* khan = loaded.book->find("lesco", "04112233445566");
  REQUIRE(khan);
  CHECK(khan->due.customer_name == "KHAN, SHAHID \"SHAH\"");
  CHECK(khan->due.amount_due == 1287050);
  CHECK(khan->due.amount_after_due == 1287050);  // empty: the same after the due date

  const auto* zainab = loaded.book->find("sngpl", "10987654321");
  REQUIRE(zainab);
  CHECK(zainab->paid);
  CHECK(zainab->due.paid_on == "2026-11-15");
  CHECK(zainab->due.amount_due == 187550);

  CHECK_FALSE(loaded.book->find("lesco", "10987654321"));
  CHECK_FALSE(loaded.book->find("kesc", "04123456789012"));
}

TEST_CASE("each bad row is reported with its file and line, and good rows still load",
          "[demo_biller]") {
  const std::string text =
      header +                                                                   // 1
      "lesco,04123456789012,M ASLAM,2026-12,2026-12-25,4520,4972,PKR,unpaid,\n"  // 2
      "lesco,04123456789013,M ASLAM,2026-12,2026-12-25,-4520,,PKR,unpaid,\n"     // 3
      "lesco,04123456789014,M ASLAM,2026-13,2026-12-25,4520,,PKR,unpaid,\n"      // 4
      "lesco,04123456789015,M ASLAM,2026-02,2026-02-30,4520,,PKR,unpaid,\n"      // 5
      "lesco,04123456789016,M ASLAM,2026-12,2026-12-25,4520,,PKR,unpaid\n"       // 6
      "lesco,\"04123456789017,M ASLAM,2026-12,2026-12-25,4520,,PKR,unpaid,\n"    // 7
      "lesco,04123456789018,M ASLAM,2026-12,2026-12-25,4520,,PKR,due,\n"         // 8
      "lesco,04123456789012,M ASLAM,2026-12,2026-12-25,4520,,PKR,unpaid,\n"      // 9
      "lesco,04123456789019,M ASLAM,2026-12,2026-12-25,4520,,PKR,paid,\n"        // 10
      "lesco,04123456789020,ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJK,2026-12,2026-12-25,1,,"
      "PKR,unpaid,\n"                                                                     // 11
      "lesco,0412345678901234567890123,M ASLAM,2026-12,2026-12-25,4520,,PKR,unpaid,\n"    // 12
      "iesco,14151617181920,RAJA TARIQ,2026-12,2026-12-22,6240,6864,PKR,unpaid,\n"        // 13
      "iesco,14151617181921,RAJA TARIQ,2026-12,2026-12-22,6240,6000,PKR,unpaid,\n"        // 14
      "iesco,14151617181922,RAJA \"T\" TARIQ,2026-12,2026-12-22,6240,,PKR,unpaid,\n"      // 15
      "iesco,14151617181923,RAJA TARIQ,2026-12,2026-12-22,6240,,pkr,unpaid,\n"            // 16
      "IESCO,14151617181924,RAJA TARIQ,2026-12,2026-12-22,6240,,PKR,unpaid,\n"            // 17
      "iesco,14151617181925,RAJA TARIQ,2026-12,2026-12-22,6240,,PKR,unpaid,2026-12-01\n"  // 18
      "iesco,14151617181926,\"RAJA\" TARIQ,2026-12,2026-12-22,6240,,PKR,unpaid,\n";       // 19
  const auto loaded = parse_bill_book(text, "bills.csv");
  const std::vector<std::string> want = {
      "bills.csv:3: amount_due:",
      "bills.csv:4: period:",
      "bills.csv:5: due_date:",
      "bills.csv:6: expected 10 fields, got 9",
      "bills.csv:7: unterminated quoted",
      "bills.csv:8: status:",
      "bills.csv:9: a second bill for lesco account 04123456789012",
      "bills.csv:10: paid_on:",
      "bills.csv:11: customer_name:",
      "bills.csv:12: account:",
      "bills.csv:14: amount_after_due: less than",
      "bills.csv:15: quote inside an unquoted field",
      "bills.csv:16: currency:",
      "bills.csv:17: biller:",
      "bills.csv:18: paid_on:",
      "bills.csv:19: text after a closing quote"};
  REQUIRE(loaded.errors.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK_THAT(loaded.errors[i], StartsWith(want[i]));
  CHECK(loaded.book->size() == 2);
  CHECK(loaded.book->find("lesco", "04123456789012")->due.amount_after_due == 497200);
  CHECK(loaded.book->find("iesco", "14151617181920"));
}

TEST_CASE("the header line is required, exactly", "[demo_biller]") {
  const std::string row = "lesco,04123456789012,M ASLAM,2026-12,2026-12-25,4520,,PKR,unpaid,\n";
  SECTION("a data row first") {
    const auto loaded = parse_bill_book(row + row, "b.csv");
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0], StartsWith("b.csv:1: the first line must be the header biller,"));
    CHECK(loaded.book->size() == 0);
  }
  SECTION("columns in another order") {
    const auto loaded = parse_bill_book(
        "account,biller,customer_name,period,due_date,amount_due,amount_after_due,currency,"
        "status,paid_on\n" +
            row,
        "b.csv");
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0], StartsWith("b.csv:1: "));
  }
  SECTION("an empty file") {
    const auto loaded = parse_bill_book("", "b.csv");
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0], StartsWith("b.csv:1: empty"));
  }
  SECTION("a header alone is an empty, valid book") {
    const auto loaded = parse_bill_book(header, "b.csv");
    CHECK(loaded.errors.empty());
    CHECK(loaded.book->size() == 0);
  }
}

TEST_CASE("the book bounds rows, bytes and errors", "[demo_biller]") {
  const auto row = [](int n) {
    return fmt::format("lesco,0412345678{:04},M ASLAM,2026-12,2026-12-25,4520,,PKR,unpaid,\n", n);
  };
  SECTION("rows beyond max_rows are refused") {
    const auto loaded =
        parse_bill_book(header + row(1) + row(2) + row(3), "b.csv", {.max_rows = 2});
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0], StartsWith("b.csv:4: more than 2 bills"));
    CHECK(loaded.book->size() == 2);
  }
  SECTION("text beyond max_bytes is refused whole") {
    const auto loaded = parse_bill_book(header + row(1), "b.csv", {.max_bytes = 64});
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0], StartsWith("b.csv:1: larger than 64 bytes"));
    CHECK(loaded.book->size() == 0);
  }
  SECTION("parsing stops after max_errors") {
    std::string text = header;
    for (int i = 0; i < 5; ++i) text += "garbage\n";
    const auto loaded = parse_bill_book(text, "b.csv", {.max_errors = 2});
    REQUIRE(loaded.errors.size() == 3);
    CHECK_THAT(loaded.errors[2], StartsWith("b.csv:3: too many errors"));
  }
  SECTION("a file larger than max_bytes is not read") {
    const auto path = std::filesystem::temp_directory_path() /
                      fmt::format("demo_biller_test_{}.csv",
                                  std::chrono::steady_clock::now().time_since_epoch().count());
    std::ofstream(path) << header << row(1);
    const auto loaded = load_bill_book(path.string(), {.max_bytes = 64});
    std::filesystem::remove(path);
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0], StartsWith(path.string() + ": larger than 64 bytes"));
  }
  SECTION("a missing file is an error, not an exception") {
    const auto loaded = load_bill_book("/nonexistent/bills.csv");
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0], StartsWith("/nonexistent/bills.csv: "));
    REQUIRE(loaded.book);
  }
}

TEST_CASE("the shipped demo bill book loads cleanly", "[demo_biller]") {
  const auto loaded = load_bill_book(USSDPAY_SOURCE_DIR "/etc/demo/bills.csv");
  CHECK(loaded.errors.empty());
  CHECK(loaded.book->size() >= 18);
  const auto* aslam = loaded.book->find("lesco", "04123456789012");
  REQUIRE(aslam);
  CHECK(aslam->due.customer_name == "M ASLAM");
  CHECK(aslam->due.amount_due == 452000);
  CHECK(aslam->due.amount_after_due == 497200);
  CHECK(aslam->due.due_date == "2026-12-25");
  CHECK_FALSE(aslam->paid);
}

// ---- valid_account --------------------------------------------------------------------------

TEST_CASE("valid_account checks length, characters and the check digit", "[demo_biller]") {
  const account_rule fourteen{14, 14, true, check_digit::none};
  CHECK(valid_account(fourteen, "04123456789012"));
  CHECK_FALSE(valid_account(fourteen, "0412345678901"));    // 13 digits
  CHECK_FALSE(valid_account(fourteen, "041234567890123"));  // 15 digits
  CHECK_FALSE(valid_account(fourteen, "0412345678901A"));
  CHECK_FALSE(valid_account(fourteen, ""));
  CHECK_FALSE(valid_account({0, 24, true, check_digit::none}, ""));

  const account_rule letters{4, 12, false, check_digit::none};
  CHECK(valid_account(letters, "LHR-123456"));
  CHECK_FALSE(valid_account(letters, "LHR 123456"));
  CHECK_FALSE(valid_account({4, 12, true, check_digit::none}, "LHR-123456"));

  const account_rule luhn{2, 24, true, check_digit::luhn};
  CHECK(valid_account(luhn, "79927398713"));
  CHECK_FALSE(valid_account(luhn, "79927398710"));
  CHECK(valid_account(luhn, "04123456789011"));
  CHECK_FALSE(valid_account(luhn, "04123456789012"));

  const account_rule mod11{2, 24, true, check_digit::mod11};
  CHECK(valid_account(mod11, "12345674"));
  CHECK_FALSE(valid_account(mod11, "12345675"));
  CHECK(valid_account(mod11, "04123456789012"));
  CHECK_FALSE(valid_account(mod11, "04123456789011"));
  CHECK_FALSE(valid_account({2, 24, false, check_digit::mod11}, "1234567A"));
}

// ---- inquiry --------------------------------------------------------------------------------

TEST_CASE("inquiry answers from the book for this biller", "[demo_biller]") {
  rig r;
  // Subscriber enters M ASLAM's LESCO number: an unpaid bill, LESCO's not IESCO's.
  const auto aslam = r.inquire("04123456789012");
  CHECK(aslam.status == inquiry_status::found);
  CHECK(aslam.code == "00");
  CHECK(aslam.found.customer_name == "M ASLAM");
  CHECK(aslam.found.amount_due == 452000);
  CHECK(aslam.found.amount_after_due == 497200);

  // NASREEN BIBI already paid hers.
  const auto nasreen = r.inquire("04155500012345");
  CHECK(nasreen.status == inquiry_status::already_paid);
  CHECK(nasreen.found.paid_on == "2026-11-18");

  // A 13-digit number is malformed, even though LESCO synthesizes bills.
  CHECK(r.inquire("0412345678901").status == inquiry_status::invalid);
  CHECK(r.inquire("0412345678901x").status == inquiry_status::invalid);
}

TEST_CASE("a check-digit rule rejects numbers before the book is consulted", "[demo_biller]") {
  auto info = lesco();
  info.account.check = check_digit::luhn;
  rig r({}, info);
  // M ASLAM's number is mod-11 valid but not Luhn valid.
  CHECK(r.inquire("04123456789012").status == inquiry_status::invalid);
  CHECK(r.inquire("04123456789011").status == inquiry_status::found);  // synthesized
}

TEST_CASE("synthesized bills are deterministic and plausible", "[demo_biller]") {
  const auto month_before = today().substr(0, 7);
  rig one({.seed = 1});
  rig other({.seed = 99});
  const auto a = one.inquire("04999000000001");
  const auto b = other.inquire("04999000000001");
  const auto month_after = today().substr(0, 7);

  REQUIRE(a.status == inquiry_status::found);
  REQUIRE(b.status == inquiry_status::found);
  CHECK(a.found.customer_name == b.found.customer_name);
  CHECK(a.found.amount_due == b.found.amount_due);
  CHECK(a.found.account == "04999000000001");

  CHECK(a.found.amount_due >= 50000);
  CHECK(a.found.amount_due <= 2500000);
  CHECK(a.found.amount_due % 100 == 0);  // whole rupees
  const minor_units units = a.found.amount_due / 100;
  CHECK(a.found.amount_after_due == (units * 110 + 50) / 100 * 100);
  CHECK((a.found.period == month_before || a.found.period == month_after));
  CHECK(a.found.due_date == a.found.period + "-25");
  CHECK(a.found.currency == "PKR");
  CHECK_FALSE(a.found.customer_name.empty());
  for (char c : a.found.customer_name) CHECK(((c >= 'A' && c <= 'Z') || c == ' '));

  // Other numbers get other bills (not one constant bill).
  bool differs = false;
  for (int i = 2; i < 10; ++i)
    differs |=
        one.inquire(fmt::format("049990000000{:02}", i)).found.amount_due != a.found.amount_due;
  CHECK(differs);
}

TEST_CASE("without synthesize a number missing from the book is not found", "[demo_biller]") {
  rig r({.synthesize = false});
  CHECK(r.inquire("04999000000001").status == inquiry_status::not_found);
  CHECK(r.inquire("04123456789012").status == inquiry_status::found);
  // Nor does a missing book break it.
  rig empty({.synthesize = false}, lesco(), nullptr);
  CHECK(empty.inquire("04123456789012").status == inquiry_status::not_found);
}

TEST_CASE("completion is never inline and happens exactly once", "[demo_biller]") {
  rig r;
  int calls = 0;
  bool returned = false;
  bool completed_after_return = false;
  r.biller->async_inquire("04123456789012", [&](inquiry_result) {
    ++calls;
    completed_after_return = returned;
  });
  returned = true;
  CHECK(calls == 0);
  r.io.run_for(5s);
  CHECK(calls == 1);
  CHECK(completed_after_return);
  r.io.restart();
  r.io.run_for(50ms);
  CHECK(calls == 1);
}

// ---- pay ------------------------------------------------------------------------------------

TEST_CASE("exact: only the amount due is accepted", "[demo_biller]") {
  CHECK(pay_once(exactness::exact, 452000).status == pay_status::accepted);
  for (minor_units wrong : {451999, 452001, 0, -452000}) {
    const auto r = pay_once(exactness::exact, wrong);
    CHECK(r.status == pay_status::rejected);
    CHECK(r.code == "04");
  }
}

TEST_CASE("at_least: the amount due or more", "[demo_biller]") {
  CHECK(pay_once(exactness::at_least, 452000).status == pay_status::accepted);
  CHECK(pay_once(exactness::at_least, 900000).status == pay_status::accepted);
  CHECK(pay_once(exactness::at_least, 451999).code == "04");
}

TEST_CASE("at_most: anything up to the amount due", "[demo_biller]") {
  CHECK(pay_once(exactness::at_most, 100).status == pay_status::accepted);
  CHECK(pay_once(exactness::at_most, 452000).status == pay_status::accepted);
  CHECK(pay_once(exactness::at_most, 452001).code == "04");
  CHECK(pay_once(exactness::at_most, 0).code == "04");
}

TEST_CASE("any: any positive amount", "[demo_biller]") {
  CHECK(pay_once(exactness::any, 1).status == pay_status::accepted);
  CHECK(pay_once(exactness::any, 99999999).status == pay_status::accepted);
  CHECK(pay_once(exactness::any, 0).code == "04");
}

TEST_CASE("after the due date the amount after due is what is owed", "[demo_biller]") {
  rig r;
  // ALI RAZA's bill was due in 2020: 1,000 then, 1,100 now.
  CHECK(r.pay("late-1", "04100000000001", 100000).code == "04");
  const auto paid = r.pay("late-2", "04100000000001", 110000);
  CHECK(paid.status == pay_status::accepted);
}

using ussdpay::test::tz_guard;

TEST_CASE("bill dates are read in the local calendar", "[demo_biller]") {
  // 2026-12-25 02:00 UTC is still the 24th five hours west of Greenwich.
  const std::int64_t at = 1'798'164'000'000;
  {
    tz_guard utc("UTC0");
    CHECK(ussdpay::clock::local_date(at) == "2026-12-25");
  }
  tz_guard est("EST5");
  CHECK(ussdpay::clock::local_date(at) == "2026-12-24");
  bill b;
  b.due_date = "2026-12-24";
  b.amount_due = 1'000;
  b.amount_after_due = 1'100;
  CHECK(amount_due_on(b, "2026-12-24") == 1'000);  // on the due day: on time
  CHECK(amount_due_on(b, "2026-12-25") == 1'100);  // the day after: late
  b.amount_after_due = 0;                          // no late amount given: the amount due stays
  CHECK(amount_due_on(b, "2026-12-25") == 1'000);
}

// The regression test for two calendars: the inquiry screen read lateness in one calendar and
// the biller (and auto-pay's planner) in another, so west of UTC the screen (and auto-pay) could
// offer the on-time amount the biller had already turned late. Now both use the local one.
TEST_CASE("the demo biller decides lateness in the local calendar, as the screen does",
          "[demo_biller]") {
  // A zone whose today is not UTC's: 12 h behind in UTC's morning, 12 h ahead in its afternoon.
  const auto now = std::chrono::system_clock::now();
  const auto utc_hour = std::chrono::duration_cast<std::chrono::hours>(
                            now - std::chrono::floor<std::chrono::days>(now))
                            .count();
  const bool behind = utc_hour < 12;
  tz_guard zone(behind ? "WEST12" : "EAST-12");
  const std::string local = ussdpay::clock::local_today();
  REQUIRE(local != today());  // today() is UTC's
  // Behind: a bill due today (local), which UTC already calls yesterday. Ahead: a bill due
  // yesterday (local), which UTC still calls today.
  const std::string due = behind ? local : today();
  auto loaded = parse_bill_book(
      header + "lesco,04100000000002,T EST,2026-12," + due + ",1000,1100,PKR,unpaid,\n", "t.csv");
  REQUIRE(loaded.errors.empty());
  rig r({}, lesco(), loaded.book);
  const auto found = r.inquire("04100000000002");
  REQUIRE(found.status == inquiry_status::found);
  // What the screen offers (the same rule, the same calendar) is what the biller takes.
  const minor_units offered = amount_due_on(found.found, local);
  CHECK(offered == (behind ? 100'000 : 110'000));
  const minor_units other = offered == 100'000 ? 110'000 : 100'000;
  CHECK(r.pay("tz-1", "04100000000002", other).code == "04");
  CHECK(r.pay("tz-2", "04100000000002", offered).status == pay_status::accepted);
}

TEST_CASE("an accepted payment gets a deterministic DB reference", "[demo_biller]") {
  rig a({.seed = 7});
  rig b({.seed = 7});
  rig c({.seed = 8});
  const auto ra = a.pay("pay-0001", "04123456789012", 452000);
  const auto rb = b.pay("pay-0001", "04123456789012", 452000);
  const auto rc = c.pay("pay-0001", "04123456789012", 452000);
  REQUIRE(ra.status == pay_status::accepted);
  CHECK(ra.code == "00");
  REQUIRE(ra.biller_reference.size() == 12);
  CHECK(ra.biller_reference.substr(0, 2) == "DB");
  for (char ch : ra.biller_reference.substr(2)) CHECK((ch >= '0' && ch <= '9'));
  CHECK(ra.biller_reference == rb.biller_reference);
  CHECK(ra.biller_reference != rc.biller_reference);
}

TEST_CASE("pay is idempotent by payment id", "[demo_biller]") {
  rig r;
  // Subscriber pays M ASLAM's bill.
  const auto first = r.pay("p1", "04123456789012", 452000);
  REQUIRE(first.status == pay_status::accepted);

  // The gateway retries the same payment id: the same answer, not a second payment.
  const auto again = r.pay("p1", "04123456789012", 452000);
  CHECK(again.status == pay_status::accepted);
  CHECK(again.biller_reference == first.biller_reference);

  // A second payment id for the same bill: already paid.
  const auto second = r.pay("p2", "04123456789012", 452000);
  CHECK(second.status == pay_status::rejected);
  CHECK(second.code == "03");

  // The bill now shows as paid today; the shared book was not touched.
  const auto bill_now = r.inquire("04123456789012");
  CHECK(bill_now.status == inquiry_status::already_paid);
  CHECK(bill_now.found.paid_on == today());
  rig fresh;
  CHECK(fresh.inquire("04123456789012").status == inquiry_status::found);

  // A synthesized bill is paid once too.
  const auto synth = r.inquire("04999000000003");
  REQUIRE(synth.status == inquiry_status::found);
  const minor_units owed =
      today() > synth.found.due_date ? synth.found.amount_after_due : synth.found.amount_due;
  CHECK(r.pay("p3", "04999000000003", owed).status == pay_status::accepted);
  CHECK(r.pay("p4", "04999000000003", owed).code == "03");
  CHECK(r.inquire("04999000000003").status == inquiry_status::already_paid);
}

TEST_CASE("pay rejections carry their codes", "[demo_biller]") {
  rig r({.synthesize = false});
  CHECK(r.pay("a", "04999000000001", 452000).code == "01");  // not in the book
  CHECK(r.pay("b", "0412345678901", 452000).code == "02");   // 13 digits
  CHECK(r.pay("c", "04155500012345", 321500).code == "03");  // NASREEN BIBI paid already
  CHECK(r.pay("d", "04123456789012", 452000, "USD").code == "04");
  CHECK(r.pay("", "04123456789012", 452000).code == "30");
  CHECK(r.pay(std::string(65, 'x'), "04123456789012", 452000).code == "30");
  CHECK(r.pay(std::string(64, 'x'), "04123456789012", 452000).status == pay_status::accepted);
}

TEST_CASE("status and reverse follow the payment id", "[demo_biller]") {
  rig r;
  const auto paid = r.pay("p1", "04123456789012", 452000);
  REQUIRE(paid.status == pay_status::accepted);

  CHECK(r.status("p1").status == pay_status::accepted);
  CHECK(r.status("p1").biller_reference == paid.biller_reference);
  const auto unknown = r.status("never-sent");
  CHECK(unknown.status == pay_status::unknown);
  CHECK(unknown.code == "NOTFOUND");

  // The wallet hold could not be committed: the gateway reverses the payment.
  const auto reversed = r.reverse("p1");
  CHECK(reversed.status == pay_status::accepted);
  CHECK(reversed.biller_reference == paid.biller_reference);
  CHECK(r.inquire("04123456789012").status == inquiry_status::found);  // unpaid again
  const auto after = r.status("p1");
  CHECK(after.status == pay_status::rejected);
  CHECK(after.code == "RV");
  // Retrying the reversed payment id does not pay again; reversing again is harmless.
  CHECK(r.pay("p1", "04123456789012", 452000).code == "RV");
  CHECK(r.reverse("p1").status == pay_status::accepted);
  CHECK(r.inquire("04123456789012").status == inquiry_status::found);

  // A new payment id can pay the bill again; reversing the old one does not undo it.
  CHECK(r.pay("p2", "04123456789012", 452000).status == pay_status::accepted);
  CHECK(r.reverse("p1").status == pay_status::accepted);
  CHECK(r.inquire("04123456789012").status == inquiry_status::already_paid);

  // Nothing to reverse: a rejected payment, an unknown id.
  CHECK(r.pay("p3", "04123456789012", 1).status == pay_status::rejected);
  CHECK(r.reverse("p3").code == "NOTPAID");
  CHECK(r.reverse("p3").status == pay_status::rejected);
  CHECK(r.reverse("never-sent").code == "NOTFOUND");
}

TEST_CASE("reject_rate = 1 declines every new payment with 05, remembered", "[demo_biller]") {
  rig r({.reject_rate = 1});
  const auto first = r.pay("p1", "04123456789012", 452000);
  CHECK(first.status == pay_status::rejected);
  CHECK(first.code == "05");
  CHECK(r.pay("p1", "04123456789012", 452000).code == "05");
  CHECK(r.status("p1").code == "05");
  CHECK(r.inquire("04123456789012").status == inquiry_status::found);  // still unpaid
  // Validation comes first: a wrong amount is still "04".
  CHECK(r.pay("p2", "04123456789012", 1).code == "04");
}

TEST_CASE("remembered_payments bounds what the adapter remembers", "[demo_biller]") {
  rig r({.remembered_payments = 2});
  const auto owed = [&](const std::string& account) {
    const auto b = r.inquire(account).found;
    return today() > b.due_date ? b.amount_after_due : b.amount_due;
  };
  for (int i = 1; i <= 3; ++i) {
    const auto account = fmt::format("049990000001{:02}", i);
    CHECK(r.pay(fmt::format("p{}", i), account, owed(account)).status == pay_status::accepted);
  }
  CHECK(r.status("p1").code == "NOTFOUND");  // the oldest is forgotten
  CHECK(r.status("p2").status == pay_status::accepted);
  CHECK(r.status("p3").status == pay_status::accepted);
  CHECK(r.inquire("04999000000101").status == inquiry_status::found);  // its paid mark too
  CHECK(r.inquire("04999000000103").status == inquiry_status::already_paid);
}

// ---- time and faults ------------------------------------------------------------------------

TEST_CASE("latency delays every answer", "[demo_biller]") {
  rig r({.latency = 200ms});
  std::optional<inquiry_result> got;
  const auto start = std::chrono::steady_clock::now();
  r.biller->async_inquire("04123456789012", [&](inquiry_result x) { got = std::move(x); });
  r.io.poll();
  CHECK_FALSE(got);  // only a timer is pending
  r.io.run_for(10s);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(got);
  CHECK(got->status == inquiry_status::found);
  CHECK(elapsed >= 200ms);
  CHECK(elapsed < 5s);
}

TEST_CASE("timeout_rate = 1: no answers in time, yet some payments went through", "[demo_biller]") {
  rig r({.latency = 0ms, .timeout_rate = 1, .timeout = 100ms, .seed = 42});
  const auto start = std::chrono::steady_clock::now();
  const auto inquiry = r.inquire("04123456789012");
  CHECK(std::chrono::steady_clock::now() - start >= 100ms);
  CHECK(inquiry.status == inquiry_status::unavailable);

  // Twenty subscribers pay; the biller answers none of them.
  constexpr int n = 20;
  std::vector<std::optional<pay_result>> results(n);
  for (int i = 0; i < n; ++i) {
    r.biller->async_pay(
        {.payment_id = fmt::format("t{}", i),
         .account = fmt::format("049990000002{:02}", i),
         .amount = 0,
         .currency = "PKR",
         .bill_reference = {}},
        [&results, i](pay_result x) { results[static_cast<std::size_t>(i)] = std::move(x); });
  }
  r.io.restart();
  r.io.run_for(10s);
  for (const auto& x : results) {
    REQUIRE(x);
    CHECK(x->status == pay_status::unknown);
  }

  // The status query reveals what happened on the biller's side: processed (here rejected,
  // amount 0) or never received.
  int processed = 0, lost = 0;
  for (int i = 0; i < n; ++i) {
    const auto s = r.status(fmt::format("t{}", i));
    if (s.status == pay_status::rejected && s.code == "04") ++processed;
    if (s.status == pay_status::unknown && s.code == "NOTFOUND") ++lost;
  }
  CHECK(processed + lost == n);
  CHECK(processed > 0);
  CHECK(lost > 0);
}

TEST_CASE("a payment accepted after our timeout shows up in status", "[demo_biller]") {
  rig r({.timeout_rate = 1, .timeout = 10ms, .seed = 3});
  // Keep paying M ASLAM's bill with new ids until one is processed (a seeded coin).
  std::string accepted_id;
  for (int i = 0; i < 40 && accepted_id.empty(); ++i) {
    const auto id = fmt::format("late{}", i);
    CHECK(r.pay(id, "04123456789012", 452000).status == pay_status::unknown);
    if (r.status(id).status == pay_status::accepted) accepted_id = id;
  }
  REQUIRE_FALSE(accepted_id.empty());
  const auto s = r.status(accepted_id);
  CHECK(s.code == "00");
  CHECK(s.biller_reference.substr(0, 2) == "DB");
  // Reverse always answers, and undoes it.
  CHECK(r.reverse(accepted_id).status == pay_status::accepted);
}

TEST_CASE("destroying the adapter completes pending calls once, as unavailable / unknown",
          "[demo_biller]") {
  for (const std::chrono::milliseconds latency : {0ms, 3'600'000ms}) {
    asio::io_context io;
    auto b = std::make_unique<demo_biller>(io.get_executor(), lesco(),
                                           demo_biller_config{.latency = latency}, test_book());
    int inquiries = 0, pays = 0;
    std::optional<inquiry_result> inquiry;
    std::optional<pay_result> pay;
    b->async_inquire("04123456789012", [&](inquiry_result x) {
      ++inquiries;
      inquiry = std::move(x);
    });
    b->async_pay({.payment_id = "p1",
                  .account = "04123456789012",
                  .amount = 452000,
                  .currency = "PKR",
                  .bill_reference = {}},
                 [&](pay_result x) {
                   ++pays;
                   pay = std::move(x);
                 });
    b.reset();  // shutdown with both calls pending
    const auto start = std::chrono::steady_clock::now();
    io.run_for(10s);
    CHECK(std::chrono::steady_clock::now() - start < 5s);  // the hour-long timers were cancelled
    CHECK(inquiries == 1);
    CHECK(pays == 1);
    REQUIRE(inquiry);
    REQUIRE(pay);
    CHECK(inquiry->status == inquiry_status::unavailable);
    CHECK(pay->status == pay_status::unknown);
    CHECK(pay->detail == "demo biller shut down");
  }
}

TEST_CASE("bad configuration is refused at construction", "[demo_biller]") {
  asio::io_context io;
  const auto make = [&](demo_biller_config c) {
    demo_biller b(io.get_executor(), lesco(), c, nullptr);
  };
  CHECK_THROWS_AS(make({.reject_rate = 1.5}), std::invalid_argument);
  CHECK_THROWS_AS(make({.reject_rate = -0.1}), std::invalid_argument);
  CHECK_THROWS_AS(make({.timeout_rate = 2}), std::invalid_argument);
  CHECK_THROWS_AS(make({.latency = -1ms}), std::invalid_argument);
  CHECK_THROWS_AS(make({.timeout = -1ms}), std::invalid_argument);
  CHECK_THROWS_AS(make({.remembered_payments = 0}), std::invalid_argument);
  CHECK_NOTHROW(make({}));
}

TEST_CASE("a posting the journal could not write is undone: no record, the bill unpaid",
          "[demo_biller]") {
  rig r;
  bool disk_full = true;
  int written = 0;
  r.biller->set_journal([&](demo_posting, std::function<void(bool)> durable) {
    if (!disk_full) ++written;
    durable(!disk_full);
  });
  // The store is full: the biller cannot record the payment, so it has not taken it.
  const auto first = r.pay("p1", "04123456789012", 452000);
  CHECK(first.status == pay_status::unknown);
  const auto asked = r.status("p1");
  CHECK(asked.no_record);
  CHECK(r.inquire("04123456789012").status == inquiry_status::found);
  // The disk has room again: the same payment id posts once, and now it sticks.
  disk_full = false;
  CHECK(r.pay("p1", "04123456789012", 452000).status == pay_status::accepted);
  CHECK(written == 1);
  CHECK(r.status("p1").status == pay_status::accepted);
  CHECK(r.inquire("04123456789012").status == inquiry_status::already_paid);
}
