// Reconciliation with a biller's statement (gateway/reconcile/, store/reconcile.hpp):
//   - the statement parser on untrusted CSV: columns by header name, RFC 4180 quotes (commas,
//     doubled quotes, line breaks, which line numbers count), CRLF, a UTF-8 BOM, exact decimal
//     amounts, and every refusal with the line it is on; bounds on records, rows and errors;
//   - the matcher: each category, duplicates, a currency mismatch, open payments never matched,
//     rows of another day, and every row and payment in exactly one item; the settlement;
//   - the CSV it writes (quotes, formulas neutralised);
//   - the store read of one biller's local day, and `ussdpay reconcile`'s exit codes under TZ.
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "tests/unit/tz_guard.hpp"

#include "gateway/cli/reconcile.hpp"
#include "gateway/config/config.hpp"
#include "gateway/reconcile/reconcile.hpp"
#include "store/reconcile.hpp"
#include "store/schema.hpp"

using namespace ussdpay;
using namespace ussdpay::reconcile;

namespace {

constexpr std::string_view header =
    "payment_id,biller_reference,account,amount,currency,paid_at,status\n";

/// The statement's rows; fails the test (with the errors) when it does not read.
std::vector<statement_row> rows_of(std::string_view text, const statement_limits& limits = {}) {
  auto st = parse_statement(text, limits);
  for (const auto& e : st.errors) UNSCOPED_INFO("line " << e.line << ": " << e.message);
  REQUIRE(st.errors.empty());
  return st.rows;
}

/// The one error the statement gives (its line and message).
statement_error only_error(std::string_view text, const statement_limits& limits = {}) {
  auto st = parse_statement(text, limits);
  REQUIRE(st.errors.size() == 1);
  return st.errors.front();
}

store::payment_record payment(std::string ref, std::int64_t amount, store::payment_state st,
                              std::string biller_reference = "") {
  store::payment_record p;
  p.ref = std::move(ref);
  p.msisdn = "923001234567";
  p.biller = "lesco";
  p.account = "04123456789012";
  p.amount = amount;
  p.fee = 1'000;
  p.currency = "PKR";
  p.state = st;
  p.biller_reference = std::move(biller_reference);
  p.created_at = p.updated_at = 1'000;
  return p;
}

statement_row row(std::string id, std::int64_t amount, std::size_t line,
                  their_status st = their_status::paid, std::string currency = "PKR") {
  statement_row r;
  r.line = line;
  r.payment_id = std::move(id);
  r.amount = amount;
  r.currency = std::move(currency);
  r.status = st;
  return r;
}

const item* find_item(const report& r, std::string_view id, category what) {
  for (const auto& i : r.items)
    if (i.payment_id == id && i.what == what) return &i;
  return nullptr;
}

std::size_t count(const report& r, category c) {
  return r.counts[static_cast<std::size_t>(c)];
}

using ussdpay::test::tz_guard;

/// A fresh directory with a migrated store.
struct store_fixture {
  store_fixture() {
    dir = (std::filesystem::temp_directory_path() / "ussdpay-reconcile-").string() +
          std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::filesystem::create_directories(dir);
    store::db_error err;
    auto d = store::db::open(dir + "/r.db", store::open_mode::writer, err);
    REQUIRE(d);
    REQUIRE_FALSE(store::migrate(*d));
    conn.emplace(std::move(*d));
  }
  ~store_fixture() { std::filesystem::remove_all(dir); }

  void add(store::payment_record p) { REQUIRE_FALSE(store::insert_payment(*conn, p)); }
  void write(const std::string& name, std::string_view text) {
    std::ofstream(dir + "/" + name, std::ios::binary) << text;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir + "/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  static inline int counter = 0;
  std::string dir;
  std::optional<store::db> conn;
};

// 2026-12-01 00:00 UTC, counted independently: date -u -d 2026-12-01 +%s = 1796083200.
constexpr std::int64_t dec1_utc_ms = 1'796'083'200'000;
constexpr std::int64_t hour_ms = 3'600'000;

}  // namespace

// ---- the statement -----------------------------------------------------------------------------

TEST_CASE("reconcile statement: the header names the columns, in any order, others ignored",
          "[reconcile]") {
  const auto rows = rows_of(
      "Currency, AMOUNT ,branch,payment_id\n"
      "PKR,4520,Lahore,K7Q2M9XPLA\n"
      "PKR,100.5,Multan,K7Q2M9XPLB\n");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].payment_id == "K7Q2M9XPLA");
  CHECK(rows[0].amount == 452'000);
  CHECK(rows[0].currency == "PKR");
  CHECK(rows[0].line == 2);
  CHECK(rows[0].status == their_status::paid);  // no status column: every row is paid
  CHECK(rows[0].biller_reference.empty());
  CHECK(rows[1].amount == 10'050);
  CHECK(rows[1].line == 3);
}

TEST_CASE("reconcile statement: every column read, status paid or reversed in any case",
          "[reconcile]") {
  const auto rows = rows_of(std::string(header) +
                            "K7Q2M9XPLA,DB0123456789,04123456789012,4520.00,PKR,"
                            "2026-12-01T10:15:00+05:00,PAID\n"
                            "K7Q2M9XPLB,DB0000000001,04112233445566,12870.00,PKR,2026-12-01,"
                            "Reversed\n");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].biller_reference == "DB0123456789");
  CHECK(rows[0].account == "04123456789012");
  CHECK(rows[0].paid_at == "2026-12-01T10:15:00+05:00");
  CHECK(rows[0].status == their_status::paid);
  CHECK(rows[1].status == their_status::reversed);
  CHECK(rows[1].amount == 1'287'000);
}

TEST_CASE("reconcile statement: quoted fields hold commas, doubled quotes and line breaks",
          "[reconcile]") {
  const auto rows = rows_of(
      "payment_id,amount,currency,memo\n"
      "\"K7Q2M9XPLA\",\"4520.00\",PKR,\"Lahore, Gulberg\"\n"
      "K7Q2M9XPLB,1,PKR,\"she said \"\"paid\"\"\"\n"
      "K7Q2M9XPLC,2,PKR,\"two\nlines\r\nthree\"\n"
      "K7Q2M9XPLD,3,PKR,\"\"\n");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].payment_id == "K7Q2M9XPLA");
  CHECK(rows[0].amount == 452'000);
  CHECK(rows[1].line == 3);
  CHECK(rows[2].line == 4);  // the record starts on line 4 and runs to line 6
  CHECK(rows[3].line == 7);
  CHECK(rows[3].amount == 300);

  // A bad row after a multi-line record is reported on its own line.
  const auto e = only_error(
      "payment_id,amount,currency,memo\n"
      "K7Q2M9XPLC,2,PKR,\"two\nlines\nthree\"\n"
      "K7Q2M9XPLD,-3,PKR,x\n");
  CHECK(e.line == 5);
  CHECK_THAT(e.message, Catch::Contains("amount \"-3\""));
}

TEST_CASE("reconcile statement: CRLF line ends and a UTF-8 BOM", "[reconcile]") {
  const auto rows = rows_of(
      "\xEF\xBB\xBFpayment_id,amount,currency\r\n"
      "K7Q2M9XPLA,4520,PKR\r\n"
      "\r\n"
      "K7Q2M9XPLB,1.5,PKR\r\n");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].currency == "PKR");  // not "PKR\r"
  CHECK(rows[1].amount == 150);
  CHECK(rows[1].line == 4);  // the blank line is counted and skipped

  // No line end after the last row, and blank lines at the end.
  CHECK(rows_of("payment_id,amount,currency\nK7Q2M9XPLA,1,PKR").size() == 1);
  CHECK(rows_of("payment_id,amount,currency\nK7Q2M9XPLA,1,PKR\n\n\n").size() == 1);
  // A BOM only counts at the very start.
  CHECK(only_error("payment_id,amount,currency\n\xEF\xBB\xBFK7Q2M9XPLA,1,PKR\n").line == 2);
  // A bare CR is not a line end.
  const auto e = only_error("payment_id,amount,currency\rK7Q2M9XPLA,1,PKR\r");
  CHECK(e.line == 1);
  CHECK_THAT(e.message, Catch::Contains("carriage return"));
}

TEST_CASE("reconcile statement: amounts convert to minor units exactly", "[reconcile]") {
  CHECK(parse_amount("4520", "PKR") == 452'000);
  CHECK(parse_amount("4520.5", "PKR") == 452'050);
  CHECK(parse_amount("4520.50", "PKR") == 452'050);
  CHECK(parse_amount("0.01", "PKR") == 1);
  CHECK(parse_amount("0004520.10", "PKR") == 452'010);
  // 0.1 + 0.2 in binary floating point is 0.30000000000000004: not here.
  CHECK(parse_amount("0.3", "USD") == 30);
  CHECK(parse_amount("1500", "UGX") == 1'500);  // no minor unit
  CHECK(parse_amount("10000000000000.00", "PKR") == max_amount);

  for (const char* bad : {"",
                          "-5",
                          "+5",
                          "4,520",
                          "4520.505",
                          "1e3",
                          " 4520",
                          "4520 ",
                          "4520.",
                          ".5",
                          "0",
                          "0.00",
                          "abc",
                          "45 20",
                          "4520.5x",
                          "10000000000000.01",
                          "99999999999999999999999999",
                          "1..2",
                          "1.2.3",
                          "NaN",
                          "Rs4520"}) {
    INFO(bad);
    CHECK_FALSE(parse_amount(bad, "PKR"));
  }
  CHECK_FALSE(parse_amount("1500.0", "UGX"));

  for (const minor_units v : std::initializer_list<minor_units>{1, 99, 100, 452'050, max_amount}) {
    INFO(v);
    CHECK(parse_amount(format_amount(v, "PKR"), "PKR") == v);
  }
  CHECK(format_amount(5, "PKR") == "0.05");
  CHECK(format_amount(452'000, "PKR") == "4520.00");
  CHECK(format_amount(1'500, "UGX") == "1500");
}

TEST_CASE("reconcile statement: a bad amount is refused with its line number", "[reconcile]") {
  for (const char* bad : {"-4520", "4,520.00", "4520.001", "abc", "0", ""}) {
    INFO(bad);
    const auto e = only_error(std::string("payment_id,amount,currency\nK7Q2M9XPLA,1,PKR\n") +
                              "K7Q2M9XPLB,\"" + bad + "\",PKR\n");
    CHECK(e.line == 3);
    CHECK_THAT(e.message, Catch::Contains("amount"));
  }
}

TEST_CASE("reconcile statement: the header must name payment_id, amount and currency",
          "[reconcile]") {
  auto e = only_error("payment_id,currency\nK7Q2M9XPLA,PKR\n");
  CHECK(e.line == 1);
  CHECK_THAT(e.message, Catch::Contains("amount"));
  e = only_error("id,amount,ccy\nK7Q2M9XPLA,1,PKR\n");
  CHECK_THAT(e.message, Catch::Contains("payment_id, currency"));
  // A data row where the header should be.
  CHECK(only_error("K7Q2M9XPLA,4520,PKR\n").line == 1);
  e = only_error("payment_id,amount,currency,Amount\n");
  CHECK_THAT(e.message, Catch::Contains("named twice"));
  // Nothing at all, or only blank lines.
  CHECK_THAT(only_error("").message, Catch::Contains("empty"));
  CHECK_THAT(only_error("\n\r\n").message, Catch::Contains("empty"));
  // A header and no rows: the biller had nothing that day.
  CHECK(rows_of("payment_id,amount,currency\n").empty());
}

TEST_CASE("reconcile statement: malformed records and fields, each with its line", "[reconcile]") {
  const std::string h = "payment_id,amount,currency,status,biller_reference,account\n";
  const auto error_on_2 = [&](const std::string& line, const char* words) {
    INFO(line);
    const auto e = only_error(h + line + "\nK7Q2M9XPLZ,1,PKR,paid,R,1\n");
    CHECK(e.line == 2);
    CHECK_THAT(e.message, Catch::Contains(words));
  };
  error_on_2("K7Q2M9XPLA,1,PKR,paid,R", "5 fields, the header has 6");
  error_on_2("K7Q2M9XPLA,1,PKR,paid,R,1,extra", "7 fields");
  error_on_2("K7Q2M9XPLA,1,PKR,settled,R,1", "status \"settled\"");
  error_on_2("K7Q2M9XPLA,1,PKR,,R,1", "status \"\"");
  error_on_2("K7Q2M9XPLA,1,pkr,paid,R,1", "currency \"pkr\"");
  error_on_2("K7Q2M9XPLA,1,PKRS,paid,R,1", "currency");
  error_on_2(",1,PKR,paid,R,1", "payment_id \"\"");
  error_on_2("K7Q2 M9XPLA,1,PKR,paid,R,1", "payment_id");
  error_on_2("K7Q2/M9XPLA,1,PKR,paid,R,1", "payment_id");
  error_on_2(std::string(65, 'A') + ",1,PKR,paid,R,1", "payment_id");
  error_on_2("K7Q2M9XPLA,1,PKR,paid,DB 1,1", "biller_reference");
  error_on_2("K7Q2M9XPLA,1,PKR,paid,R,04\x01", "account");
  error_on_2("K7Q2M9XPLA,1,PKR,paid,R,\"04\n12\"", "account");
  error_on_2("K7Q2M9XPLA,1,PKR,paid,R,04\"12", "a quote inside an unquoted field");
  error_on_2("K7Q2M9XPLA,1,PKR,paid,\"R\"x,1", "text after a closing quote");
  error_on_2("K7Q2M9XPLA,1,PKR,paid,R,1\rK7Q2M9XPLB,1,PKR,paid,R,1", "carriage return");

  // An unclosed quote swallows the rest of the file: reported where the record starts.
  const auto e = only_error(h + "K7Q2M9XPLA,1,PKR,paid,\"R,1\nK7Q2M9XPLB,1,PKR,paid,R,1\n");
  CHECK(e.line == 2);
  CHECK_THAT(e.message, Catch::Contains("not closed"));
}

TEST_CASE("reconcile statement: errors are all reported, up to a bound, and no rows come with them",
          "[reconcile]") {
  auto st = parse_statement(
      "payment_id,amount,currency\n"
      "K7Q2M9XPLA,1,PKR\n"
      "K7Q2M9XPLB,x,PKR\n"
      "K7Q2M9XPLC,1,PKR\n"
      "K7Q2M9XPLD,1,XX\n");
  REQUIRE(st.errors.size() == 2);
  CHECK(st.errors[0].line == 3);
  CHECK(st.errors[1].line == 5);

  std::string many = "payment_id,amount,currency\n";
  for (int i = 0; i < 100; ++i) many += "K7Q2M9XPLA,-1,PKR\n";
  st = parse_statement(many, {.max_errors = 5});
  REQUIRE(st.errors.size() == 6);
  CHECK(st.errors[4].line == 6);
  CHECK_THAT(st.errors[5].message, Catch::Contains("more than 5 errors"));
}

TEST_CASE("reconcile statement: records, rows, columns and the file are bounded", "[reconcile]") {
  statement_limits small;
  small.max_record = 40;
  small.max_rows = 3;
  small.max_columns = 4;
  small.max_bytes = 200;
  const std::string h = "payment_id,amount,currency\n";
  // 40 bytes is allowed, 41 is not; the next line is still read.
  const std::string forty = "K7Q2M9XPLA,1,PKR," + std::string(23, 'x');
  REQUIRE(forty.size() == 40);
  CHECK(rows_of("payment_id,amount,currency,memo\n" + forty + "\n", small).size() == 1);
  auto st = parse_statement(
      "payment_id,amount,currency,memo\n" + forty + "y\nK7Q2M9XPLB,1,PKR,\"\n\n\"\n", small);
  REQUIRE(st.errors.size() == 1);
  CHECK(st.errors[0].line == 2);
  CHECK_THAT(st.errors[0].message, Catch::Contains("longer than 40 bytes"));
  // A quoted field cannot hide a long record either (what follows the error is read on as
  // best it can be: here an unclosed quote).
  st = parse_statement(h + "K7Q2M9XPLA,1,\"" + std::string(100, '\n') + "\"\n", small);
  REQUIRE_FALSE(st.errors.empty());
  CHECK(st.errors[0].line == 2);
  CHECK_THAT(st.errors[0].message, Catch::Contains("longer than 40 bytes"));
  // Rows: the fourth is one too many.
  CHECK(rows_of(h + "A,1,PKR\nB,1,PKR\nC,1,PKR\n", small).size() == 3);
  auto e = only_error(h + "A,1,PKR\nB,1,PKR\nC,1,PKR\nD,1,PKR\n", small);
  CHECK(e.line == 5);
  CHECK_THAT(e.message, Catch::Contains("more than 3 rows"));
  // Columns.
  e = only_error("payment_id,amount,currency,a,b\n", small);
  CHECK_THAT(e.message, Catch::Contains("more than 4 fields"));
  // The file.
  CHECK_THAT(only_error(h + std::string(200, '\n'), small).message,
             Catch::Contains("larger than 200 bytes"));
  // The default record bound holds for a long line.
  CHECK_THAT(only_error(h + "K7Q2M9XPLA,1," + std::string(5000, 'P') + "\n").message,
             Catch::Contains("longer than 4096 bytes"));
}

// ---- the matcher --------------------------------------------------------------------------------

TEST_CASE("reconcile match: every category, and every row and payment in exactly one item",
          "[reconcile]") {
  using store::payment_state;
  const std::vector<store::payment_record> ours{
      payment("AAAAAAAAA1", 452'000, payment_state::completed, "DB1"),  // matched
      payment("AAAAAAAAA2", 100'000, payment_state::committed),         // amount differs
      payment("AAAAAAAAA3", 200'000, payment_state::committed),         // not in the statement
      payment("AAAAAAAAA4", 300'000, payment_state::committed, "DB4"),  // their reference differs
      payment("AAAAAAAAA5", 400'000, payment_state::unknown),           // open, they have it paid
      payment("AAAAAAAAA6", 500'000, payment_state::manual_review),     // open, not there
      payment("AAAAAAAAA7", 600'000, payment_state::reversed),          // reversed, not there
      payment("AAAAAAAAA8", 700'000, payment_state::failed),            // failed, not there
      payment("AAAAAAAAA9", 800'000, payment_state::failed),            // failed, they have it
      payment("AAAAAAAAB1", 900'000, payment_state::committed),         // they reversed it
  };
  auto r1 = row("AAAAAAAAA1", 452'000, 2);
  r1.biller_reference = "DB1";
  r1.account = "04123456789012";
  auto r4 = row("AAAAAAAAA4", 300'000, 4);
  r4.biller_reference = "DB4X";
  auto r5 = row("AAAAAAAAA5", 400'000, 5);
  r5.biller_reference = "DB5";
  const std::vector<statement_row> rows{
      r1,
      row("AAAAAAAAA2", 100'100, 3),
      r4,
      r5,
      row("AAAAAAAAA9", 800'000, 6),
      row("ZZZZZZZZZ1", 50'000, 7),  // not ours at all
      row("AAAAAAAAB1", 900'000, 8, their_status::reversed),
  };
  const auto r = match(ours, rows);

  CHECK(count(r, category::matched) == 1);
  CHECK(count(r, category::amount_mismatch) == 1);
  CHECK(count(r, category::detail_mismatch) == 1);
  CHECK(count(r, category::ours_not_theirs) == 2);
  CHECK(count(r, category::theirs_not_ours) == 2);
  CHECK(count(r, category::pending) == 2);
  CHECK(count(r, category::reversed) == 1);
  CHECK(count(r, category::duplicate) == 0);
  CHECK(r.differences == 8);
  CHECK(r.payments == 10);
  CHECK(r.rows == 7);

  const auto* m = find_item(r, "AAAAAAAAA1", category::matched);
  REQUIRE(m);
  CHECK(m->line == 2);
  CHECK(m->our_state == "COMPLETED");
  CHECK(m->their_status == "paid");
  const auto* a = find_item(r, "AAAAAAAAA2", category::amount_mismatch);
  REQUIRE(a);
  CHECK(a->our_amount == 100'000);
  CHECK(a->their_amount == 100'100);
  CHECK_THAT(a->note, Catch::Contains("ours 1000.00 PKR, theirs 1001.00 PKR"));
  REQUIRE(find_item(r, "AAAAAAAAA3", category::ours_not_theirs));
  CHECK(find_item(r, "AAAAAAAAA3", category::ours_not_theirs)->line == 0);
  const auto* d = find_item(r, "AAAAAAAAA4", category::detail_mismatch);
  REQUIRE(d);
  CHECK_THAT(d->note, Catch::Contains("biller reference differs: ours DB4, theirs DB4X"));
  const auto* p = find_item(r, "AAAAAAAAA5", category::pending);
  REQUIRE(p);
  CHECK(p->line == 5);
  CHECK_THAT(p->note, Catch::Contains("ussdpay payments resolve AAAAAAAAA5 --paid DB5"));
  REQUIRE(find_item(r, "AAAAAAAAA6", category::pending));
  CHECK(find_item(r, "AAAAAAAAA6", category::pending)->line == 0);
  REQUIRE(find_item(r, "AAAAAAAAA7", category::reversed));
  const auto* f = find_item(r, "AAAAAAAAA9", category::theirs_not_ours);
  REQUIRE(f);
  CHECK_THAT(f->note, Catch::Contains("FAILED here"));
  CHECK(f->our_state == "FAILED");
  const auto* z = find_item(r, "ZZZZZZZZZ1", category::theirs_not_ours);
  REQUIRE(z);
  CHECK(z->our_state.empty());
  CHECK(z->line == 7);
  const auto* v = find_item(r, "AAAAAAAAB1", category::ours_not_theirs);
  REQUIRE(v);
  CHECK_THAT(v->note, Catch::Contains("reversed"));

  // The FAILED payment the statement does not mention is counted, not listed.
  for (const auto& i : r.items) CHECK(i.payment_id != "AAAAAAAAA8");
  // Every statement line in exactly one item.
  std::vector<std::size_t> lines;
  for (const auto& i : r.items)
    if (i.line != 0) lines.push_back(i.line);
  std::sort(lines.begin(), lines.end());
  CHECK(lines == std::vector<std::size_t>{2, 3, 4, 5, 6, 7, 8});
  CHECK(r.items.size() == 10);  // the 9 payments listed and the foreign row

  // Items come by category (differences first), then payment id.
  for (std::size_t i = 1; i < r.items.size(); ++i) CHECK(r.items[i - 1].what <= r.items[i].what);

  // The settlement: only COMMITTED and COMPLETED count.
  REQUIRE(r.settlement.size() == 1);
  const auto& s = r.settlement[0];
  CHECK(s.currency == "PKR");
  CHECK(s.count == 5);  // A1 A2 A3 A4 B1
  CHECK(s.amount == 452'000 + 100'000 + 200'000 + 300'000 + 900'000);
  CHECK(s.fees == 5'000);
  CHECK(s.pending_count == 2);
  CHECK(s.pending_amount == 900'000);
  CHECK(s.reversed_count == 1);
  CHECK(s.reversed_amount == 600'000);
  CHECK(s.failed_count == 2);
}

TEST_CASE("reconcile match: everything matching is no difference", "[reconcile]") {
  using store::payment_state;
  const std::vector<store::payment_record> ours{
      payment("AAAAAAAAA1", 452'000, payment_state::completed, "DB1"),
      payment("AAAAAAAAA2", 100'000, payment_state::committed),
      payment("AAAAAAAAA3", 100'000, payment_state::failed),
      payment("AAAAAAAAA4", 100'000, payment_state::reversed),
  };
  const std::vector<statement_row> rows{row("AAAAAAAAA1", 452'000, 2),
                                        row("AAAAAAAAA2", 100'000, 3),
                                        row("AAAAAAAAA4", 100'000, 4, their_status::reversed)};
  const auto r = match(ours, rows);
  CHECK(r.differences == 0);
  CHECK(count(r, category::matched) == 2);
  CHECK(count(r, category::reversed) == 1);
  CHECK_THAT(summary(r, "lesco", "2026-12-01"), Catch::Contains("everything matches"));
  // With nothing on either side, nothing differs either.
  CHECK(match({}, {}).differences == 0);
}

TEST_CASE("reconcile match: a payment id twice in the statement is a duplicate", "[reconcile]") {
  const std::vector<store::payment_record> ours{
      payment("AAAAAAAAA1", 452'000, store::payment_state::committed)};
  const std::vector<statement_row> rows{row("AAAAAAAAA1", 452'000, 2), row("ZZZZZZZZZ1", 1'000, 3),
                                        row("AAAAAAAAA1", 452'000, 4), row("ZZZZZZZZZ1", 1'000, 5),
                                        row("AAAAAAAAA1", 452'000, 6)};
  const auto r = match(ours, rows);
  CHECK(count(r, category::matched) == 1);  // the first row is the one matched
  CHECK(find_item(r, "AAAAAAAAA1", category::matched)->line == 2);
  CHECK(count(r, category::duplicate) == 3);
  CHECK(count(r, category::theirs_not_ours) == 1);
  CHECK(r.differences == 4);
  std::size_t on_2 = 0;
  for (const auto& i : r.items)
    if (i.what == category::duplicate && i.payment_id == "AAAAAAAAA1") {
      CHECK_THAT(i.note, Catch::Contains("already on line 2"));
      ++on_2;
    }
  CHECK(on_2 == 2);
}

TEST_CASE("reconcile match: the same number in another currency is an amount mismatch",
          "[reconcile]") {
  const std::vector<store::payment_record> ours{
      payment("AAAAAAAAA1", 452'000, store::payment_state::committed)};
  const std::vector<statement_row> rows{row("AAAAAAAAA1", 452'000, 2, their_status::paid, "USD")};
  const auto r = match(ours, rows);
  const auto* i = find_item(r, "AAAAAAAAA1", category::amount_mismatch);
  REQUIRE(i);
  CHECK_THAT(i->note, Catch::Contains("currency differs: ours 4520.00 PKR, theirs 4520.00 USD"));
  CHECK(r.differences == 1);
}

TEST_CASE("reconcile match: an account that differs is a detail mismatch", "[reconcile]") {
  const std::vector<store::payment_record> ours{
      payment("AAAAAAAAA1", 452'000, store::payment_state::committed)};
  auto theirs = row("AAAAAAAAA1", 452'000, 2);
  theirs.account = "04999999999999";
  const auto r = match(ours, std::vector<statement_row>{theirs});
  const auto* i = find_item(r, "AAAAAAAAA1", category::detail_mismatch);
  REQUIRE(i);
  CHECK_THAT(i->note, Catch::Contains("account differs"));
}

TEST_CASE("reconcile match: an open payment is never matched, whatever the statement says",
          "[reconcile]") {
  using store::payment_state;
  for (const auto st :
       {payment_state::created, payment_state::unknown, payment_state::manual_review}) {
    INFO(store::to_string(st));
    const std::vector<store::payment_record> ours{payment("AAAAAAAAA1", 452'000, st)};
    auto r = match(ours, std::vector<statement_row>{row("AAAAAAAAA1", 452'000, 2)});
    CHECK(count(r, category::pending) == 1);
    CHECK(count(r, category::matched) == 0);
    CHECK(r.settlement.at(0).count == 0);
    CHECK(r.settlement.at(0).pending_count == 1);
    r = match(ours,
              std::vector<statement_row>{row("AAAAAAAAA1", 452'000, 2, their_status::reversed)});
    CHECK_THAT(r.items.at(0).note, Catch::Contains("--not-paid"));
  }
}

TEST_CASE("reconcile match: a row of ours from another day or biller says so", "[reconcile]") {
  auto other = payment("AAAAAAAAA9", 452'000, store::payment_state::completed);
  other.biller = "iesco";
  const std::vector<payment_elsewhere> elsewhere{{other, "2026-11-30"}};
  const auto r = match({}, std::vector<statement_row>{row("AAAAAAAAA9", 452'000, 2)}, elsewhere);
  const auto* i = find_item(r, "AAAAAAAAA9", category::theirs_not_ours);
  REQUIRE(i);
  CHECK_THAT(i->note, Catch::Contains("our payment to iesco made on 2026-11-30"));
  CHECK_THAT(i->note, Catch::Contains("COMPLETED"));
}

TEST_CASE("reconcile match: currencies are settled apart", "[reconcile]") {
  auto usd = payment("AAAAAAAAA2", 1'000, store::payment_state::committed);
  usd.currency = "USD";
  usd.fee = 10;
  const std::vector<store::payment_record> ours{
      payment("AAAAAAAAA1", 452'000, store::payment_state::committed), usd};
  const auto r = match(ours, {});
  REQUIRE(r.settlement.size() == 2);
  CHECK(r.settlement[0].currency == "PKR");
  CHECK(r.settlement[1].currency == "USD");
  CHECK(r.settlement[1].amount == 1'000);
  CHECK(r.settlement[1].fees == 10);
  const auto csv = settlement_csv(r, "lesco", "2026-12-01");
  CHECK(csv ==
        "biller,date,currency,count,amount,fees,pending_count,pending_amount,reversed_count,"
        "reversed_amount,failed_count\n"
        "lesco,2026-12-01,PKR,1,4520.00,10.00,0,0.00,0,0.00,0\n"
        "lesco,2026-12-01,USD,1,10.00,0.10,0,0.00,0,0.00,0\n");
}

// ---- the CSV written --------------------------------------------------------------------------

TEST_CASE("reconcile report CSV: quoted per RFC 4180, formulas neutralised", "[reconcile]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"");
  CHECK(csv_field("+1") == "'+1");
  CHECK(csv_field("-1") == "'-1");
  CHECK(csv_field("@SUM") == "'@SUM");

  auto theirs = row("ZZZZZZZZZ1", 50'000, 7);
  theirs.biller_reference = "=cmd|'/C calc'!A0";
  const auto r = match({}, std::vector<statement_row>{theirs});
  const auto csv = report_csv(r);
  CHECK(csv ==
        "category,payment_id,biller_reference,account,our_amount,their_amount,currency,"
        "our_state,their_status,statement_line,note\n"
        "theirs_not_ours,ZZZZZZZZZ1,'=cmd|'/C calc'!A0,,,500.00,PKR,,paid,7,"
        "no payment of ours with this id\n");
}

// ---- the store and the command ----------------------------------------------------------------

TEST_CASE("reconcile store: one biller's payments of a window, oldest first", "[reconcile]") {
  store_fixture f;
  const auto at = [](std::string ref, std::string biller, std::int64_t ms) {
    auto p = payment(std::move(ref), 1'000, store::payment_state::committed);
    p.biller = std::move(biller);
    p.created_at = p.updated_at = ms;
    return p;
  };
  f.add(at("AAAAAAAAA3", "lesco", 1'999));  // the last moment inside
  f.add(at("AAAAAAAAA1", "lesco", 1'000));  // the first moment inside
  f.add(at("AAAAAAAAA2", "lesco", 1'000));
  f.add(at("AAAAAAAAA4", "lesco", 2'000));  // the end is outside
  f.add(at("AAAAAAAAA5", "lesco", 999));
  f.add(at("AAAAAAAAA6", "iesco", 1'500));
  const auto got = store::payments_of_biller(*f.conn, "lesco", 1'000, 2'000);
  REQUIRE_FALSE(got.error);
  REQUIRE(got.payments.size() == 3);
  CHECK(got.payments[0].ref == "AAAAAAAAA1");
  CHECK(got.payments[1].ref == "AAAAAAAAA2");
  CHECK(got.payments[2].ref == "AAAAAAAAA3");
  CHECK(got.payments[0].state == store::payment_state::committed);
  CHECK(got.payments[0].fee == 1'000);
  CHECK(store::payments_of_biller(*f.conn, "kwsc", 0, 10'000).payments.empty());
}

TEST_CASE("reconcile command: the local day under TZ, the files, and the exit codes",
          "[reconcile]") {
  store_fixture f;
  // 00:30 on 1 December in Karachi (UTC+5) is 19:30 on 30 November in UTC.
  auto early = payment("AAAAAAAAA1", 452'000, store::payment_state::completed);
  early.created_at = early.updated_at = dec1_utc_ms - 5 * hour_ms + hour_ms / 2;
  auto noon = payment("AAAAAAAAA2", 100'000, store::payment_state::committed);
  noon.created_at = noon.updated_at = dec1_utc_ms + 7 * hour_ms;
  f.add(early);
  f.add(noon);

  config cfg;
  cfg.store.path = f.dir + "/r.db";
  biller_config lesco;
  lesco.info.id = "lesco";
  cfg.billers.push_back(lesco);
  const auto run = [&](command_options o, std::string& out, std::string& err) {
    std::ostringstream o_out, o_err;
    const int rc = run_command(cfg, o, o_out, o_err);
    out = o_out.str();
    err = o_err.str();
    return rc;
  };
  const command_options base{"lesco", "2026-12-01", f.dir + "/st.csv", f.dir + "/out"};
  std::string out, err;

  tz_guard karachi("PKT-5");
  f.write("st.csv",
          "payment_id,amount,currency\r\nAAAAAAAAA1,4520.00,PKR\r\nAAAAAAAAA2,1000,PKR\r\n");
  REQUIRE(run(base, out, err) == exit_matched);
  CHECK_THAT(out, Catch::Contains("2 payment(s) of ours, 2 statement row(s)"));
  CHECK_THAT(out, Catch::Contains("settlement PKR: 2 payment(s), amount 5520.00, fees 20.00"));
  CHECK_THAT(f.read("out/settlement-lesco-2026-12-01.csv"),
             Catch::Contains("lesco,2026-12-01,PKR,2,5520.00,20.00,"));
  CHECK_THAT(f.read("out/reconcile-lesco-2026-12-01.csv"),
             Catch::Contains("matched,AAAAAAAAA1,,04123456789012,4520.00,4520.00,PKR,COMPLETED"));

  // In UTC the early payment belongs to 30 November: a difference on both days.
  {
    tz_guard utc("UTC0");
    CHECK(run(base, out, err) == exit_differences);
    CHECK_THAT(out, Catch::Contains("1 payment(s) of ours"));
    CHECK_THAT(f.read("out/reconcile-lesco-2026-12-01.csv"),
               Catch::Contains("our payment to lesco made on 2026-11-30"));
  }

  // A changed amount is a difference.
  f.write("st.csv", "payment_id,amount,currency\nAAAAAAAAA1,4520.01,PKR\nAAAAAAAAA2,1000,PKR\n");
  CHECK(run(base, out, err) == exit_differences);
  CHECK_THAT(out, Catch::Contains("1 difference(s)"));

  // Bad input: the statement's line, the arguments; nothing written over the old report.
  const auto before = f.read("out/reconcile-lesco-2026-12-01.csv");
  f.write("st.csv", "payment_id,amount,currency\nAAAAAAAAA1,4520.00,PKR\nAAAAAAAAA2,-1,PKR\n");
  CHECK(run(base, out, err) == exit_bad_input);
  CHECK_THAT(err, Catch::Contains("st.csv:3: amount \"-1\""));
  CHECK(f.read("out/reconcile-lesco-2026-12-01.csv") == before);
  auto o = base;
  o.date = "2026-02-30";
  CHECK(run(o, out, err) == exit_bad_input);
  o = base;
  o.biller = "../etc";
  CHECK(run(o, out, err) == exit_bad_input);
  CHECK_THAT(err, Catch::Contains("not a configured biller"));
  o = base;
  o.statement = f.dir + "/missing.csv";
  CHECK(run(o, out, err) == exit_bad_input);
  o = base;
  o.date.clear();
  CHECK(run(o, out, err) == exit_bad_input);

  // No store: a failure, not "no payments".
  cfg.store.path = f.dir + "/nowhere/r.db";
  f.write("st.csv", "payment_id,amount,currency\n");
  CHECK(run(base, out, err) == exit_failed);
}
