// The HTTP biller adapter against ussdpay-billersim over real TLS on 127.0.0.1: a test CA made
// at test time (make_test_ca.sh), a simulator per test case (port 0), the adapter on the test's
// own io_context (always run under run_for). The simulator's GET /_stats is the biller's own
// account of what reached it; POST /_faults changes its misbehaviour mid-test.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include "adapters/http_biller.hpp"
#include "tests/integration/process.hpp"

using namespace ussdpay::adapters;
using namespace std::chrono_literals;
using Catch::Matchers::Contains;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

// ---- The test PKI and bill book: made once per test run in a fresh temporary directory ------

struct test_files {
  std::string dir, ca, server_cert, server_key, other_ca, bills;
};

// The directory (and its private keys) goes when the test process exits.
struct removed_at_exit {
  std::string dir;
  ~removed_at_exit() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
};

const test_files& files() {
  static removed_at_exit cleanup;
  static const test_files f = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/ussdpay-http-biller-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    cleanup.dir = tmpl;
    const std::string cmd = std::string("bash ") + MAKE_TEST_CA_PATH + " " + tmpl;
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("make_test_ca.sh failed");
    test_files out{tmpl,
                   tmpl + "/ca.pem",
                   tmpl + "/server.pem",
                   tmpl + "/server.key",
                   tmpl + "/other-ca.pem",
                   tmpl + "/bills.csv"};
    std::ofstream(out.bills)
        << "biller,account,customer_name,period,due_date,amount_due,amount_after_due,currency,"
           "status,paid_on\n"
           "lesco,04123456789012,M ASLAM,2026-12,2099-12-25,4520,4972,PKR,unpaid,\n"
           "lesco,04112233445566,\"KHAN, SHAHID\",2026-12,2099-12-25,12870,14157,PKR,unpaid,\n"
           "lesco,04155500012345,NASREEN BIBI,2026-11,2026-11-24,3215,3537,PKR,paid,2026-11-18\n";
    return out;
  }();
  return f;
}

// ---- The simulator as a child process --------------------------------------------------------

struct billersim {
  explicit billersim(std::vector<std::string> extra, std::uint16_t fixed_port = 0) {
    std::vector<std::string> args = {
        "--host",     "127.0.0.1",         "--port",    std::to_string(fixed_port),
        "--tls-cert", files().server_cert, "--tls-key", files().server_key,
        "--bills",    files().bills,       "--seed",    "7"};
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<ussdpay::test::child_process>(BILLERSIM_PATH, args);
    REQUIRE(proc->wait_for_log("listening ", 10s));
    const auto log = proc->log();
    port = static_cast<std::uint16_t>(std::stoi(log.substr(log.find("listening ") + 10)));
  }

  std::string base_url() const { return "https://127.0.0.1:" + std::to_string(port) + "/lesco"; }

  // One request on a connection of its own (the simulator counts it under "connections", not
  // "api_connections"); the answer body.
  std::string call(const std::string& method, const std::string& target,
                   const std::string& body = "") const {
    asio::io_context io;
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.load_verify_file(files().ca);
    tls.set_verify_mode(asio::ssl::verify_peer);
    std::string answer;
    auto run = [&]() -> asio::awaitable<void> {
      beast::ssl_stream<beast::tcp_stream> s(io.get_executor(), tls);
      co_await beast::get_lowest_layer(s).async_connect(
          tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
      co_await s.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
      bhttp::request<bhttp::string_body> req{
          method == "POST" ? bhttp::verb::post : bhttp::verb::get, target, 11};
      req.set(bhttp::field::host, "127.0.0.1");
      req.body() = body;
      req.prepare_payload();
      co_await bhttp::async_write(s, req, asio::use_awaitable);
      beast::flat_buffer buf;
      bhttp::response<bhttp::string_body> res;
      co_await bhttp::async_read(s, buf, res, asio::use_awaitable);
      answer = res.body();
    };
    asio::co_spawn(io, run, asio::detached);
    io.run_for(5s);
    REQUIRE_FALSE(answer.empty());
    return answer;
  }

  json::object stats() const { return json::parse(call("GET", "/_stats")).as_object(); }
  std::int64_t stat(const char* name) const { return stats().at(name).to_number<std::int64_t>(); }
  void faults(const std::string& body) const { call("POST", "/_faults", body); }

  std::unique_ptr<ussdpay::test::child_process> proc;
  std::uint16_t port = 0;
};

// ---- The adapter on its own io_context ------------------------------------------------------

biller_info lesco() {
  biller_info i;
  i.id = "lesco";
  i.name = "LESCO";
  i.category = "electricity";
  i.account = {14, 14, true, check_digit::none};
  return i;
}

http_biller_config fast_config(const billersim& sim) {
  http_biller_config c;
  c.base_url = sim.base_url();
  c.ca_file = files().ca;
  c.connect_timeout = 1000ms;
  c.request_timeout = 500ms;
  c.retry_backoff = 10ms;
  c.retries = 2;
  c.breaker_failures = 5;
  c.breaker_cooldown = 10s;
  return c;
}

struct rig {
  explicit rig(http_biller_config c) : cfg(std::move(c)) {
    tls = http_biller_tls_context(cfg);
    biller = std::make_unique<http_biller>(io.get_executor(), *tls, lesco(), cfg);
  }

  // Runs the io_context until the call completes (at most 15 s); checks it completed once.
  template <class Result, class Start>
  Result run(Start start) {
    std::optional<Result> out;
    int calls = 0;
    start([&](Result r) {
      ++calls;
      out = std::move(r);
    });
    const auto deadline = steady::now() + 15s;
    while (!out && steady::now() < deadline) io.run_for(10ms);
    io.run_for(20ms);  // a second completion would show here
    REQUIRE(calls == 1);
    return std::move(*out);
  }

  inquiry_result inquire(const std::string& account) {
    return run<inquiry_result>([&](auto h) { biller->async_inquire(account, std::move(h)); });
  }
  pay_result pay(const std::string& id, const std::string& account, minor_units amount) {
    pay_request req{id, account, amount, "PKR", {}};
    return run<pay_result>([&](auto h) { biller->async_pay(req, std::move(h)); });
  }
  pay_result status(const std::string& id) {
    return run<pay_result>([&](auto h) { biller->async_status(id, std::move(h)); });
  }
  pay_result reverse(const std::string& id) {
    return run<pay_result>([&](auto h) { biller->async_reverse(id, std::move(h)); });
  }

  http_biller_config cfg;
  asio::io_context io;
  // run_for always runs its whole slice, even when the adapter is idle.
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<http_biller> biller;
};

const std::string aslam = "04123456789012";    // owes Rs 4,520.00, due 2099
const std::string khan = "04112233445566";     // owes Rs 12,870.00
const std::string nasreen = "04155500012345";  // paid on 2026-11-18

}  // namespace

TEST_CASE("inquiry: found, already paid, not found, invalid", "[http_biller]") {
  billersim sim({});
  rig r(fast_config(sim));

  // A subscriber looks up M ASLAM's unpaid bill.
  auto found = r.inquire(aslam);
  REQUIRE(found.status == inquiry_status::found);
  CHECK(found.found.customer_name == "M ASLAM");
  CHECK(found.found.amount_due == 452000);
  CHECK(found.found.amount_after_due == 497200);
  CHECK(found.found.due_date == "2099-12-25");
  CHECK(found.found.period == "2026-12");
  CHECK(found.found.currency == "PKR");
  CHECK(found.found.bill_reference == "lesco-04123456789012-2026-12");

  // NASREEN BIBI has paid already.
  auto paid = r.inquire(nasreen);
  REQUIRE(paid.status == inquiry_status::already_paid);
  CHECK(paid.found.paid_on == "2026-11-18");

  // A well-formed number the biller does not know (no --synthesize).
  auto missing = r.inquire("04999999999999");
  CHECK(missing.status == inquiry_status::not_found);
  CHECK(missing.code == "01");

  // A number breaking the biller's rule never leaves the gateway.
  const auto before = sim.stat("requests");
  CHECK(r.inquire("0412").status == inquiry_status::invalid);
  CHECK(sim.stat("requests") == before);
  CHECK(sim.stat("requests") == 3);
}

TEST_CASE("pay accepted, and the same payment id again answers the same, posted once",
          "[http_biller]") {
  billersim sim({"--synthesize"});
  rig r(fast_config(sim));

  // The subscriber pays M ASLAM's bill in full.
  auto first = r.pay("pay-0001", aslam, 452000);
  REQUIRE(first.status == pay_status::accepted);
  CHECK_FALSE(first.biller_reference.empty());
  CHECK(sim.stat("postings") == 1);

  // The saga sends the same payment again (say after a crash): same answer, no second posting.
  auto again = r.pay("pay-0001", aslam, 452000);
  CHECK(again.status == pay_status::accepted);
  CHECK(again.biller_reference == first.biller_reference);
  auto s = sim.stats();
  CHECK(s.at("postings").to_number<int>() == 1);
  CHECK(s.at("duplicates").to_number<int>() == 1);
  CHECK(s.at("amount_total").to_number<std::int64_t>() == 452000);

  // The bill now shows as paid; the status query agrees.
  CHECK(r.inquire(aslam).status == inquiry_status::already_paid);
  auto st = r.status("pay-0001");
  CHECK(st.status == pay_status::accepted);
  CHECK(st.biller_reference == first.biller_reference);

  // A synthesized bill is payable too, for its own amount.
  auto synth = r.inquire("04777777777777");
  REQUIRE(synth.status == inquiry_status::found);
  CHECK(r.pay("pay-0002", "04777777777777", synth.found.amount_due).status == pay_status::accepted);

  // Ops reverse the first payment: reversed once, the bill is unpaid again.
  auto rev = r.reverse("pay-0001");
  CHECK(rev.status == pay_status::accepted);
  CHECK(r.reverse("pay-0001").status == pay_status::accepted);  // idempotent
  CHECK(sim.stat("reversals") == 1);
  CHECK(r.inquire(aslam).status == inquiry_status::found);
  auto after = r.status("pay-0001");
  CHECK(after.status == pay_status::rejected);
  CHECK(after.code == "RV");

  // A status query for a payment the biller never saw: unknown, no record.
  auto none = r.status("pay-never");
  CHECK(none.status == pay_status::unknown);
  CHECK(none.no_record);
  CHECK(none.code == "NOTFOUND");
}

TEST_CASE("pay rejected definitively: wrong amount, unknown consumer, already paid",
          "[http_biller]") {
  billersim sim({});
  rig r(fast_config(sim));

  auto wrong = r.pay("pay-1001", aslam, 100);
  CHECK(wrong.status == pay_status::rejected);
  CHECK(wrong.code == "04");
  auto unknown_consumer = r.pay("pay-1002", "04999999999999", 452000);
  CHECK(unknown_consumer.status == pay_status::rejected);
  CHECK(unknown_consumer.code == "01");
  auto paid = r.pay("pay-1003", nasreen, 321500);
  CHECK(paid.status == pay_status::rejected);
  CHECK(paid.code == "03");
  // A rejected payment cannot be reversed; its status stays rejected.
  CHECK(r.reverse("pay-1001").status == pay_status::rejected);
  CHECK(r.status("pay-1001").status == pay_status::rejected);
  // A payment id we would not send is refused before sending.
  CHECK(r.pay("bad id with spaces", aslam, 452000).code == "30");
  CHECK(sim.stat("postings") == 0);
}

TEST_CASE("a 5xx on pay is unknown, never retried, and a status query then tells the truth",
          "[http_biller]") {
  billersim sim({"--fail-5xx-rate", "1", "--accept-after-timeout"});
  rig r(fast_config(sim));

  // The biller posts the payment, but its front end answers 503.
  auto p = r.pay("pay-2001", khan, 1287000);
  CHECK(p.status == pay_status::unknown);
  CHECK(sim.stat("requests") == 1);  // pay is never sent twice
  CHECK(sim.stat("postings") == 1);

  // Inquiries are safe: retried (1 + retries attempts), then unavailable.
  CHECK(r.inquire(aslam).status == inquiry_status::unavailable);
  CHECK(sim.stat("requests") == 4);

  // The biller recovers; the saga's status query finds the payment accepted.
  sim.faults(R"({"fail_5xx_rate": 0})");
  auto st = r.status("pay-2001");
  CHECK(st.status == pay_status::accepted);
  CHECK_FALSE(st.biller_reference.empty());
}

TEST_CASE("garbage answers: pay unknown, inquiry unavailable", "[http_biller]") {
  billersim sim({"--garbage-rate", "1", "--accept-after-timeout"});
  auto cfg = fast_config(sim);
  cfg.retries = 0;
  rig r(cfg);

  auto p = r.pay("pay-3001", aslam, 452000);
  CHECK(p.status == pay_status::unknown);
  CHECK_THAT(p.detail, Contains("malformed"));
  CHECK(r.inquire(khan).status == inquiry_status::unavailable);
  sim.faults(R"({"garbage_rate": 0})");
  CHECK(r.status("pay-3001").status == pay_status::accepted);
}

TEST_CASE("no answer: pay is unknown within request_timeout", "[http_biller]") {
  billersim sim({"--timeout-rate", "1", "--accept-after-timeout"});
  auto cfg = fast_config(sim);
  cfg.request_timeout = 400ms;
  rig r(cfg);

  const auto t0 = steady::now();
  auto p = r.pay("pay-4001", aslam, 452000);
  const auto took = steady::now() - t0;
  CHECK(p.status == pay_status::unknown);
  CHECK_THAT(p.detail, Contains("request_timeout"));
  CHECK(took >= 390ms);
  CHECK(took < 1500ms);
  CHECK(sim.stat("requests") == 1);

  sim.faults(R"({"timeout_rate": 0})");
  CHECK(r.status("pay-4001").status == pay_status::accepted);  // it went through after all
}

TEST_CASE("a server certificate from another CA is refused before any request", "[http_biller]") {
  billersim sim({});
  auto cfg = fast_config(sim);
  cfg.ca_file = files().other_ca;
  cfg.retries = 0;
  rig r(cfg);

  auto inq = r.inquire(aslam);
  CHECK(inq.status == inquiry_status::unavailable);
  CHECK_THAT(inq.detail, Contains("not sent"));
  // Nothing was sent, so the pay is definitively not made: the hold can be released.
  auto p = r.pay("pay-5001", aslam, 452000);
  CHECK(p.status == pay_status::rejected);
  CHECK(p.code == "UNAVAILABLE");
  CHECK(sim.stat("requests") == 0);
  CHECK(sim.stat("postings") == 0);
}

TEST_CASE("the host name is checked against the certificate: DNS name and IP address",
          "[http_biller]") {
  billersim sim({});
  auto cfg = fast_config(sim);
  cfg.retries = 0;
  // localhost is in the certificate as a DNS name: resolved, SNI sent, name checked.
  cfg.base_url = "https://localhost:" + std::to_string(sim.port) + "/lesco";
  {
    rig r(cfg);
    CHECK(r.inquire(aslam).status == inquiry_status::found);
  }
  // 127.0.0.1 is in it as an IP address (no SNI for an address).
  cfg.base_url = sim.base_url();
  rig ip(cfg);
  CHECK(ip.inquire(aslam).status == inquiry_status::found);
}

TEST_CASE("the circuit opens after breaker_failures failures and closes after the cooldown",
          "[http_biller]") {
  billersim sim({"--fail-5xx-rate", "1"});
  auto cfg = fast_config(sim);
  cfg.retries = 0;
  cfg.breaker_failures = 3;
  cfg.breaker_cooldown = 800ms;
  rig r(cfg);

  // Three 503s in a row open the circuit.
  for (int i = 0; i < 3; ++i) CHECK(r.inquire(aslam).status == inquiry_status::unavailable);
  CHECK(r.biller->circuit() == circuit_breaker::state::open);
  CHECK(sim.stat("requests") == 3);

  // While open, calls fail fast and nothing is sent; a pay says so definitively.
  auto fast = r.inquire(aslam);
  CHECK(fast.status == inquiry_status::unavailable);
  CHECK_THAT(fast.detail, Contains("circuit open"));
  auto p = r.pay("pay-6001", aslam, 452000);
  CHECK(p.status == pay_status::rejected);
  CHECK(p.code == "UNAVAILABLE");
  CHECK_THAT(p.detail, Contains("circuit open, not sent"));
  CHECK(r.status("pay-6001").status == pay_status::unknown);
  CHECK(sim.stat("requests") == 3);

  // The biller recovers; after the cooldown one trial request closes the circuit.
  sim.faults(R"({"fail_5xx_rate": 0})");
  const auto until = steady::now() + 900ms;
  while (steady::now() < until) r.io.run_for(50ms);
  CHECK(r.inquire(aslam).status == inquiry_status::found);
  CHECK(r.biller->circuit() == circuit_breaker::state::closed);
  CHECK(r.pay("pay-6001", aslam, 452000).status == pay_status::accepted);
}

TEST_CASE("a failed trial opens the circuit again", "[http_biller]") {
  billersim sim({"--fail-5xx-rate", "1"});
  auto cfg = fast_config(sim);
  cfg.retries = 0;
  cfg.breaker_failures = 1;
  cfg.breaker_cooldown = 300ms;
  rig r(cfg);

  CHECK(r.inquire(aslam).status == inquiry_status::unavailable);
  CHECK(r.biller->circuit() == circuit_breaker::state::open);
  const auto until = steady::now() + 350ms;
  while (steady::now() < until) r.io.run_for(50ms);
  CHECK(r.inquire(aslam).status == inquiry_status::unavailable);  // the trial: 503
  CHECK(r.biller->circuit() == circuit_breaker::state::open);
  CHECK(sim.stat("requests") == 2);
}

TEST_CASE("keep-alive: sequential calls share one connection, and a closed one is replaced",
          "[http_biller]") {
  billersim sim({"--idle-timeout-ms", "300"});
  rig r(fast_config(sim));

  // Ten look-ups and a payment, one after another: one TLS connection carries them all.
  for (int i = 0; i < 10; ++i) REQUIRE(r.inquire(aslam).status == inquiry_status::found);
  REQUIRE(r.pay("pay-7001", aslam, 452000).status == pay_status::accepted);
  CHECK(sim.stat("api_connections") == 1);
  CHECK(r.biller->open_connections() == 1);

  // The biller drops the idle connection; the next pay must not go out on it (its outcome
  // would be unknown) but on a new one, and be accepted.
  const auto until = steady::now() + 600ms;
  while (steady::now() < until) r.io.run_for(50ms);
  CHECK(r.pay("pay-7002", khan, 1287000).status == pay_status::accepted);
  CHECK(sim.stat("api_connections") == 2);
  CHECK(sim.stat("postings") == 2);
}

TEST_CASE("journal: the simulator's postings survive its restart", "[http_biller]") {
  const auto journal = files().dir + "/journal-" + std::to_string(::getpid()) + ".log";
  std::filesystem::remove(journal);
  std::string reference;
  std::uint16_t port = 0;
  {
    billersim sim({"--journal", journal});
    port = sim.port;
    rig r(fast_config(sim));
    auto p = r.pay("pay-8001", aslam, 452000);
    REQUIRE(p.status == pay_status::accepted);
    reference = p.biller_reference;
    sim.proc->signal(SIGKILL);  // a crash: only what was fsync'd survives
    sim.proc->wait_exit(5s);
  }
  billersim sim({"--journal", journal}, port);
  rig r(fast_config(sim));
  CHECK(sim.stat("journal_loaded") == 1);
  auto st = r.status("pay-8001");
  CHECK(st.status == pay_status::accepted);
  CHECK(st.biller_reference == reference);
  // The saga retries the pay after the restart: the same answer, still one posting.
  CHECK(r.pay("pay-8001", aslam, 452000).biller_reference == reference);
  CHECK(r.inquire(aslam).status == inquiry_status::already_paid);
  CHECK(sim.stat("postings") == 1);
  CHECK(sim.stat("duplicates") == 1);
}

TEST_CASE("destroying the adapter completes pending calls once, as unavailable / unknown",
          "[http_biller]") {
  billersim sim({"--timeout-rate", "1"});
  auto cfg = fast_config(sim);
  cfg.request_timeout = 10s;
  rig r(cfg);

  std::optional<inquiry_result> inq;
  std::optional<pay_result> pay;
  int completions = 0;
  r.biller->async_inquire(aslam, [&](inquiry_result x) {
    ++completions;
    inq = std::move(x);
  });
  r.biller->async_pay(pay_request{"pay-9001", aslam, 452000, "PKR", {}}, [&](pay_result x) {
    ++completions;
    pay = std::move(x);
  });
  CHECK(completions == 0);  // never inside the call
  const auto until = steady::now() + 300ms;
  while (steady::now() < until) r.io.run_for(20ms);  // both requests are out, unanswered
  CHECK(completions == 0);

  const auto t0 = steady::now();
  r.biller.reset();
  while (completions < 2 && steady::now() - t0 < 2s) r.io.run_for(10ms);
  r.io.run_for(50ms);
  CHECK(completions == 2);
  CHECK(steady::now() - t0 < 1s);
  REQUIRE(inq);
  REQUIRE(pay);
  CHECK(inq->status == inquiry_status::unavailable);
  CHECK(pay->status == pay_status::unknown);
}

TEST_CASE("the API key goes out as a bearer token", "[http_biller]") {
  billersim sim({"--api-key", "s3cret-key"});
  auto cfg = fast_config(sim);
  cfg.api_key = "s3cret-key";
  {
    rig r(cfg);
    CHECK(r.inquire(aslam).status == inquiry_status::found);
  }
  cfg.api_key = "wrong";
  rig wrong(cfg);
  auto inq = wrong.inquire(aslam);
  CHECK(inq.status == inquiry_status::unavailable);
  CHECK(inq.code == "AUTH");
  CHECK(wrong.pay("pay-9101", aslam, 452000).status == pay_status::unknown);
  CHECK(sim.stat("postings") == 0);
}

TEST_CASE("with every connection busy, a payment waits ahead of bill inquiries", "[http_biller]") {
  // One connection and a biller that takes 300 ms per answer: an inquiry holds the connection,
  // three more inquiries queue for it, then a payment. The payment goes next; only one of the
  // inquiries fits in the 1 s a call may wait for a connection after it.
  billersim sim({"--synthesize", "--latency-ms", "300"});
  auto cfg = fast_config(sim);
  cfg.pool_size = 1;
  cfg.request_timeout = 2s;
  cfg.retries = 0;
  rig r(cfg);
  std::vector<std::string> order;
  int pending = 0;
  auto inquire = [&](const std::string& name) {
    ++pending;
    r.biller->async_inquire(aslam, [&, name](inquiry_result res) {
      --pending;
      order.push_back(name + (res.status == inquiry_status::found ? "" : " refused"));
    });
  };
  inquire("inquiry 1");
  r.io.run_for(50ms);  // it has the connection
  inquire("inquiry 2");
  inquire("inquiry 3");
  inquire("inquiry 4");
  ++pending;
  r.biller->async_pay(pay_request{"pay-9001", khan, 1287000, "PKR", {}}, [&](pay_result res) {
    --pending;
    order.push_back(res.status == pay_status::accepted ? "pay" : "pay refused");
  });
  const auto deadline = steady::now() + 10s;
  while (pending > 0 && steady::now() < deadline) r.io.run_for(10ms);
  REQUIRE(pending == 0);
  REQUIRE(order.size() == 5);
  CHECK(order[0] == "inquiry 1");
  CHECK(order[1] == "pay");
  CHECK(sim.stat("postings") == 1);
}
