// dialog_session, the Asio driver of the dialog table, on a real io_context with no sockets: the
// screens it submits are captured as PDUs, and the actions it runs are answered by hand (or never)
// to drive its bounded waits, the idle sweep, draining and reloading. Every wait is bounded.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

#include "gateway/ussd/dialog_session.hpp"

using namespace ussdpay;
using namespace ussdpay::smpp;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace {

std::shared_ptr<const menus::catalog> shipped() {
  static auto r = menus::load_catalog(USSDPAY_SOURCE_DIR "/etc/menus");
  INFO(menus::format_errors(r.errors));
  REQUIRE(r.cat);
  return r.cat;
}

/// The shipped menus with the English main menu's title changed, as an edited menu.toml /
/// text.en.toml reloaded by SIGHUP would be.
std::shared_ptr<const menus::catalog> edited() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ussdpay-session-menus-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(USSDPAY_SOURCE_DIR "/etc/menus", dir);
  std::stringstream text;
  text << std::ifstream(dir / "text.en.toml").rdbuf();
  std::string en = text.str();
  const std::string from = "[main]\ntext = \"Bill Pay\"", to = "[main]\ntext = \"Bills v2\"";
  const auto at = en.find(from);
  REQUIRE(at != std::string::npos);
  en.replace(at, from.size(), to);
  std::ofstream(dir / "text.en.toml", std::ios::trunc) << en;
  auto r = menus::load_catalog(dir.string());
  std::filesystem::remove_all(dir);
  INFO(menus::format_errors(r.errors));
  REQUIRE(r.cat);
  return r.cat;
}

/// A variable an action hands back, as gateway/actions/ does.
std::pair<std::uint16_t, std::string> var(menus::var_id id, std::string v) {
  return {menus::index(id), std::move(v)};
}

ussd::action_result answer(menus::outcome o,
                           std::vector<std::pair<std::uint16_t, std::string>> vars = {},
                           std::vector<menus::list_item> items = {}) {
  return {o, std::move(vars), std::move(items)};
}

menus::list_item lesco() {
  menus::list_item it;
  it.set(*menus::find_item_field("item.id"), "lesco");
  it.set(*menus::find_item_field("item.name"), "LESCO");
  return it;
}

ussd::action_result bill_found() {
  using menus::var_id;
  return answer(menus::outcome::ok,
                {var(var_id::bill_name, "M ASLAM"), var(var_id::bill_period, "2026-11"),
                 var(var_id::bill_due_date, "2026-12-25"), var(var_id::bill_amount, "452000"),
                 var(var_id::bill_after_due, "457000")});
}

/// A dialog_session over a real io_context. The welcome gate ("subscriber") is answered "ok" on
/// the executor at once; every other action waits in `calls` until the test answers it.
struct session_harness {
  struct call {
    std::string action, msisdn;
    ussd::dialog_session::done_fn done;
  };

  asio::io_context io;
  ussd::profile prof = *ussd::builtin_profile("default");
  ussd::dialog_config cfg;
  std::vector<pdu> submitted;
  std::vector<call> calls;
  std::unique_ptr<ussd::dialog_session> s;

  explicit session_harness(ussd::dialog_config config) : cfg(std::move(config)) {
    s = std::make_unique<ussd::dialog_session>(
        io.get_executor(), cfg, prof, shipped(),
        ussd::dialog_session::parts{
            .submit = [this](pdu p) { submitted.push_back(std::move(p)); },
            .run_action =
                [this](const ussd::action_call& c, ussd::dialog_session::done_fn done) {
                  const std::string name(menus::actions()[c.action].name);
                  if (name == "subscriber") {  // a registered subscriber: on to the main menu
                    asio::post(io, [done = std::move(done)] { done(answer(menus::outcome::ok)); });
                    return;
                  }
                  calls.push_back({name, std::string(c.msisdn), std::move(done)});
                },
            .language = [](std::string_view) { return std::string(); }});
  }
  ~session_harness() { s.reset(); }

  sm_body from(const std::string& msisdn, const std::string& text, std::uint8_t op) const {
    sm_body b;
    b.service_type = "USSD";
    b.source = {1, 1, msisdn};
    b.destination = {0, 0, "123"};
    b.short_message = text;
    b.tlvs.push_back(tlv::u8(tag::ussd_service_op, op));
    b.tlvs.push_back(tlv::u16(tag::its_session_info, 7 << 8));
    return b;
  }
  std::uint32_t dial(const std::string& msisdn, const std::string& code = "*123#") {
    return s->on_deliver(from(msisdn, code, prof.begin_ops.front()));
  }
  std::uint32_t reply(const std::string& msisdn, const std::string& text) {
    return s->on_deliver(from(msisdn, text, prof.continue_ops.front()));
  }

  /// Runs the io_context until `pred` holds, for at most `limit`.
  template <class Pred>
  bool run_until(Pred pred, std::chrono::milliseconds limit) {
    const auto deadline = steady::now() + limit;
    while (!pred()) {
      if (steady::now() >= deadline) return false;
      io.run_for(5ms);
      if (io.stopped()) {  // no work left: nothing more can happen but time passing
        io.restart();
        std::this_thread::sleep_for(1ms);
      }
    }
    return true;
  }
  /// Runs the io_context for `d`, whatever happens.
  void run_for(std::chrono::milliseconds d) {
    run_until([] { return false; }, d);
  }
  /// Runs until `n` screens in all were submitted (at most `limit`).
  bool screens(std::size_t n, std::chrono::milliseconds limit = 2s) {
    return run_until([&] { return submitted.size() >= n; }, limit);
  }
  /// Runs until an action named `name` waits for its answer (at most 2 s).
  bool waiting(const std::string& name) {
    return run_until(
        [&] {
          return std::any_of(calls.begin(), calls.end(),
                             [&](const call& c) { return c.action == name; });
        },
        2s);
  }
  /// Answers the oldest waiting action named `name`, on the executor as a real action does.
  void complete(const std::string& name, ussd::action_result r) {
    auto it =
        std::find_if(calls.begin(), calls.end(), [&](const call& c) { return c.action == name; });
    REQUIRE(it != calls.end());
    auto done = std::move(it->done);
    calls.erase(it);
    asio::post(io, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  }

  const sm_body& body(std::size_t i) const {
    REQUIRE(i < submitted.size());
    CHECK(submitted[i].command_id == static_cast<std::uint32_t>(command::submit_sm));
    const auto* b = std::get_if<sm_body>(&submitted[i].body);
    REQUIRE(b != nullptr);
    return *b;
  }
  const sm_body& last() const {
    REQUIRE(!submitted.empty());
    return body(submitted.size() - 1);
  }
  std::string text() const { return last().short_message; }
  std::uint8_t op() const { return *tlv_u8(last().tlvs, tag::ussd_service_op); }

  /// Dial, Pay bill > Electricity > LESCO, a consumer number: the inquiry is started (and left
  /// waiting). The list actions on the way are answered at once.
  void to_inquiry(const std::string& msisdn) {
    const auto n = submitted.size();
    dial(msisdn);
    REQUIRE(screens(n + 1));
    reply(msisdn, "1");  // Pay bill
    reply(msisdn, "1");  // Electricity: the billers list
    REQUIRE(waiting("billers"));
    complete("billers", answer(menus::outcome::ok, {}, {lesco()}));
    REQUIRE(screens(n + 3));
    CHECK(text().starts_with("Choose company\n1. LESCO"));
    reply(msisdn, "1");  // LESCO: its saved accounts (none)
    REQUIRE(waiting("saved_for_biller"));
    complete("saved_for_biller", answer(menus::outcome::empty));
    REQUIRE(screens(n + 4));
    CHECK(text().starts_with("Enter LESCO consumer number"));
    reply(msisdn, "04123456789012");
    REQUIRE(waiting("inquire"));
  }
};

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l == line) return true;
  return false;
}

double ms_since(steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

}  // namespace

TEST_CASE("dialog_session: a dial is answered with the start screen as a submit_sm, one hop timed",
          "[ussd]") {
  session_harness h({});
  // The subscriber dials *123#: accepted at once; the welcome gate answers on the executor, so
  // nothing is sent from inside on_deliver.
  CHECK(h.dial("923001234567") == status::ok);
  CHECK(h.submitted.empty());
  CHECK(h.s->hop_latency().count() == 0);
  REQUIRE(h.screens(1));
  CHECK(h.submitted.size() == 1);
  const auto& b = h.body(0);
  CHECK(h.submitted[0].sequence_number == 0);  // the link numbers it
  CHECK(b.short_message.starts_with("Bill Pay\n1. Pay bill\n2. Saved accounts"));
  CHECK(b.destination.addr == "923001234567");
  CHECK(b.source.addr == "123");
  CHECK(b.service_type == "USSD");
  CHECK(tlv_u8(b.tlvs, tag::ussd_service_op) == 2);  // continue: the dialog stays open
  CHECK(tlv_u16(b.tlvs, tag::its_session_info) == 7 << 8);
  CHECK(h.s->dialogs().live() == 1);
  // The hop from the dial to that screen is one observation, and a short one.
  CHECK(h.s->hop_latency().count() == 1);
  CHECK(h.s->hop_latency().sum_seconds() < 2.0);
  // A reply is a second hop.
  h.reply("923001234567", "6");
  REQUIRE(h.screens(2));
  CHECK(h.text().starts_with("Help\n1. A payment failed"));
  CHECK(h.s->hop_latency().count() == 2);
}

TEST_CASE("dialog_session: actions answered in time complete the dialog with their screens",
          "[ussd]") {
  ussd::dialog_config cfg;
  cfg.inquiry_timeout = cfg.payment_timeout = cfg.action_timeout = 2s;
  session_harness h(cfg);
  const std::string m = "923001234567";
  h.to_inquiry(m);
  CHECK(h.calls.back().msisdn == m);
  // The biller finds the bill.
  auto n = h.submitted.size();
  h.complete("inquire", bill_found());
  REQUIRE(h.screens(n + 1));
  CHECK(h.text() ==
        "LESCO 04123456789012\nM ASLAM\nDue 25/12/2026: Rs4,520\nLate: Rs4,570\n1. Pay Rs4,520\n"
        "2. Other amount\n0. Back\n00. Home");
  // Pay it in full: the quote, then the PIN.
  h.reply(m, "1");
  REQUIRE(h.waiting("quote"));
  h.complete("quote", answer(menus::outcome::ok, {var(menus::var_id::quote_fee, "1000"),
                                                  var(menus::var_id::quote_total, "453000")}));
  REQUIRE(h.screens(n + 2));
  CHECK(
      h.text().starts_with("Pay Rs4,520 to LESCO\nRef 04123456789012 M ASLAM\n"
                           "Fee Rs10. Total Rs4,530\nEnter 4-digit PIN"));
  h.reply(m, "4826");
  REQUIRE(h.waiting("pay"));
  h.complete("pay", answer(menus::outcome::ok, {var(menus::var_id::payment_ref, "0NFVQWJJ3W"),
                                                var(menus::var_id::balance, "547000")}));
  REQUIRE(h.screens(n + 3));
  CHECK(h.text().starts_with(
      "Paid Rs4,520 to LESCO. ID 0NFVQWJJ3W. SMS receipt follows. Bal Rs5,470"));
  CHECK(h.op() == 2);  // "Save this account" is offered
  CHECK(h.s->dialogs().stats().stale_results == 0);
  // Nothing else arrives: each answer made one screen.
  h.run_for(100ms);
  CHECK(h.submitted.size() == n + 3);
}

TEST_CASE("dialog_session: an action never answered gets the timeout screen after its own wait",
          "[ussd]") {
  // Each section makes one wait short and the two others long: the screen arriving within a
  // second, and not before the short wait, shows which wait menus::action_id chose.
  ussd::dialog_config cfg;
  cfg.inquiry_timeout = cfg.payment_timeout = cfg.action_timeout = 10s;
  const std::string m = "923001234567";

  SECTION("inquire waits inquiry_timeout") {
    cfg.inquiry_timeout = 150ms;
    session_harness h(cfg);
    // The billers list (action_timeout) answered after longer than inquiry_timeout still counts.
    h.dial(m);
    REQUIRE(h.screens(1));
    h.reply(m, "1");
    h.reply(m, "1");
    REQUIRE(h.waiting("billers"));
    h.run_for(300ms);
    CHECK(h.submitted.size() == 2);  // the main menu, then Pay bill
    h.complete("billers", answer(menus::outcome::ok, {}, {lesco()}));
    REQUIRE(h.screens(3));
    CHECK(h.text().starts_with("Choose company"));
    h.reply(m, "1");
    REQUIRE(h.waiting("saved_for_biller"));
    h.complete("saved_for_biller", answer(menus::outcome::empty));
    REQUIRE(h.screens(4));
    // The biller never answers the inquiry.
    const auto t0 = steady::now();
    h.reply(m, "04123456789012");
    REQUIRE(h.waiting("inquire"));
    REQUIRE(h.screens(5, 1s));
    CHECK(ms_since(t0) >= 150);
    CHECK(h.text() ==
          "LESCO is slow to reply. Nothing was paid. Dial *123# again in a few minutes.");
    CHECK(h.op() == 17);
    CHECK(h.s->dialogs().live() == 0);
    // Its answer arrives late: dropped by the driver before the table sees it, no screen.
    h.complete("inquire", bill_found());
    h.run_for(200ms);
    CHECK(h.submitted.size() == 5);
    CHECK(h.s->dialogs().stats().stale_results == 0);
  }
  SECTION("pay waits payment_timeout") {
    cfg.payment_timeout = 150ms;
    session_harness h(cfg);
    h.to_inquiry(m);
    // The inquiry answered after longer than payment_timeout still counts.
    h.run_for(300ms);
    CHECK(h.submitted.size() == 4);
    h.complete("inquire", bill_found());
    REQUIRE(h.screens(5));
    CHECK(h.text().starts_with("LESCO 04123456789012"));
    h.reply(m, "1");
    REQUIRE(h.waiting("quote"));
    h.complete("quote", answer(menus::outcome::ok, {var(menus::var_id::quote_fee, "0"),
                                                    var(menus::var_id::quote_total, "452000")}));
    REQUIRE(h.screens(6));
    CHECK(h.text().starts_with("Pay Rs4,520 to LESCO"));
    // The payment never answers within payment_timeout.
    const auto t0 = steady::now();
    h.reply(m, "4826");
    REQUIRE(h.waiting("pay"));
    REQUIRE(h.screens(7, 1s));
    CHECK(ms_since(t0) >= 150);
    CHECK(h.text().find("is processing. Do NOT pay again. You will get an SMS with the result.") !=
          std::string::npos);
    CHECK(h.op() == 17);
    // The payment's answer comes later: no second screen.
    h.complete("pay", answer(menus::outcome::ok, {var(menus::var_id::payment_ref, "0NFVQWJJ3W"),
                                                  var(menus::var_id::balance, "547000")}));
    h.run_for(200ms);
    CHECK(h.submitted.size() == 7);
    CHECK(h.s->dialogs().stats().stale_results == 0);
  }
  SECTION("any other action (the quote) waits action_timeout") {
    cfg.action_timeout = 150ms;
    session_harness h(cfg);
    h.dial(m);
    REQUIRE(h.screens(1));
    h.reply(m, "1");
    h.reply(m, "1");
    REQUIRE(h.waiting("billers"));
    h.complete("billers", answer(menus::outcome::ok, {}, {lesco()}));
    REQUIRE(h.screens(3));
    h.reply(m, "1");
    REQUIRE(h.waiting("saved_for_biller"));
    h.complete("saved_for_biller", answer(menus::outcome::empty));
    REQUIRE(h.screens(4));
    h.reply(m, "04123456789012");
    REQUIRE(h.waiting("inquire"));
    // The inquiry answered after longer than action_timeout still counts.
    h.run_for(300ms);
    CHECK(h.submitted.size() == 4);
    h.complete("inquire", bill_found());
    REQUIRE(h.screens(5));
    const auto t0 = steady::now();
    h.reply(m, "1");
    REQUIRE(h.waiting("quote"));
    REQUIRE(h.screens(6, 1s));
    CHECK(ms_since(t0) >= 150);
    CHECK(h.text() == "Service unavailable. Nothing was paid. Please try again later.");
    CHECK(h.op() == 17);
    h.complete("quote", answer(menus::outcome::ok));
    h.run_for(200ms);
    CHECK(h.submitted.size() == 6);
  }
}

TEST_CASE("dialog_session: the idle sweep ends a dialog with no reply for session_timeout",
          "[ussd]") {
  ussd::dialog_config cfg;
  cfg.session_timeout = 600ms;
  session_harness h(cfg);
  const std::string idle = "923000000001", busy = "923000000002";
  const auto t0 = steady::now();
  h.dial(idle);
  h.dial(busy);
  REQUIRE(h.screens(2));
  // The second subscriber keeps replying (Help, Back...) every 150 ms for 1.3 s: past the
  // first sweep (one a second), which finds only the first dialog idle.
  for (int i = 0; i < 9; ++i) {
    h.run_for(150ms);
    h.reply(busy, i % 2 == 0 ? "6" : "0");
  }
  CHECK(h.s->dialogs().stats().expired == 1);
  const auto expired = std::find_if(h.submitted.begin(), h.submitted.end(), [](const pdu& p) {
    return std::get<sm_body>(p.body).short_message ==
           "Session timed out. Dial *123# to start again.";
  });
  REQUIRE(expired != h.submitted.end());
  const auto& e = std::get<sm_body>(expired->body);
  CHECK(e.destination.addr == idle);
  CHECK(tlv_u8(e.tlvs, tag::ussd_service_op) == 17);
  CHECK(tlv_u16(e.tlvs, tag::its_session_info) == (7 << 8 | 1));  // the end bit
  CHECK(h.s->dialogs().live() == 1);
  // Once the second stops replying it goes too, at a later sweep: within a few seconds in all.
  REQUIRE(h.run_until([&] { return h.s->dialogs().live() == 0; }, 3s));
  CHECK(ms_since(t0) >= 600);
  CHECK(h.s->dialogs().stats().expired == 2);
  CHECK(h.last().destination.addr == busy);
  CHECK(h.text() == "Session timed out. Dial *123# to start again.");
}

TEST_CASE("dialog_session: drain refuses new dials and waits for the screens behind actions",
          "[ussd]") {
  ussd::dialog_config cfg;
  cfg.inquiry_timeout = 10s;
  const std::string a = "923000000001", b = "923000000002", c = "923000000003";
  int done = 0;

  SECTION("done once the waiting action answers") {
    cfg.stop_timeout = 3s;
    session_harness h(cfg);
    h.dial(b);  // on the main menu, waiting for nobody
    REQUIRE(h.screens(1));
    h.to_inquiry(a);  // its inquiry is running
    const auto before = h.submitted.size();
    // SIGTERM.
    h.s->drain([&] { ++done; });
    CHECK(h.s->dialogs().refusing_new());
    CHECK(h.s->dialogs().waiting_for_actions() == 1);
    // A new dial is refused at once with an end screen, and takes no dialog.
    CHECK(h.dial(c) == status::ok);
    REQUIRE(h.submitted.size() == before + 1);
    CHECK(h.last().destination.addr == c);
    CHECK(h.text() == "Service unavailable. Please try again later.");
    CHECK(h.op() == 17);
    CHECK(h.s->dialogs().stats().busy == 1);
    CHECK(h.s->dialogs().live() == 2);
    // Nothing closes while the inquiry runs.
    h.run_for(300ms);
    CHECK(done == 0);
    CHECK(h.submitted.size() == before + 1);
    // The biller answers: the subscriber gets the bill, then every dialog is closed and done.
    const auto t0 = steady::now();
    h.complete("inquire", bill_found());
    REQUIRE(h.run_until([&] { return done > 0; }, 1s));
    CHECK(ms_since(t0) < 1000);
    CHECK(h.s->dialogs().live() == 0);
    REQUIRE(h.submitted.size() == before + 4);
    CHECK(h.body(before + 1).short_message.starts_with("LESCO 04123456789012"));
    for (auto i = before + 2; i < h.submitted.size(); ++i) {
      CHECK(h.body(i).short_message == "Service unavailable. Please try again later.");
      CHECK(tlv_u8(h.body(i).tlvs, tag::ussd_service_op) == 17);
    }
    h.run_for(200ms);
    CHECK(done == 1);
  }
  SECTION("done after stop_timeout when the action never answers") {
    cfg.stop_timeout = 300ms;
    session_harness h(cfg);
    h.to_inquiry(a);
    const auto before = h.submitted.size();
    const auto t0 = steady::now();
    h.s->drain([&] { ++done; });
    REQUIRE(h.run_until([&] { return done > 0; }, 2s));
    CHECK(ms_since(t0) >= 300);
    CHECK(h.s->dialogs().live() == 0);
    REQUIRE(h.submitted.size() == before + 1);
    CHECK(h.text() == "Service unavailable. Please try again later.");
    CHECK(h.last().destination.addr == a);
    // The inquiry's late answer finds no dialog: no screen.
    h.complete("inquire", bill_found());
    h.run_for(200ms);
    CHECK(h.submitted.size() == before + 1);
    CHECK(done == 1);
  }
  SECTION("stop() cancels the timers: no sweep, no drain poll, no timeout screen") {
    cfg.stop_timeout = 5s;
    cfg.session_timeout = 200ms;
    cfg.inquiry_timeout = 100ms;
    session_harness h(cfg);
    h.dial(b);  // idle on the main menu: the sweep would end it
    REQUIRE(h.screens(1));
    h.to_inquiry(a);
    const auto before = h.submitted.size();
    h.s->drain([&] { ++done; });
    h.s->stop();
    // Only the inquiry's own wait (100 ms) is left; when it fires it does nothing, and then the
    // io_context has no work. A sweep left armed would keep it running to the next tick, about
    // a second after the session started.
    const auto t0 = steady::now();
    h.io.restart();
    h.io.run_for(3s);
    CHECK(h.io.stopped());
    CHECK(ms_since(t0) < 600);
    CHECK(h.submitted.size() == before);
    CHECK(done == 0);
    CHECK(h.s->dialogs().live() == 2);
  }
}

TEST_CASE("dialog_session: reload gives new dialogs the new settings, a live one continues",
          "[ussd]") {
  ussd::dialog_config cfg;
  cfg.support_phone = "111";
  session_harness h(cfg);
  const std::string old_one = "923000000001", new_one = "923000000002";
  h.dial(old_one);
  REQUIRE(h.screens(1));
  CHECK(h.text().starts_with("Bill Pay\n1. Pay bill"));
  // SIGHUP: another service code, another support number, an edited main menu.
  auto next = cfg;
  next.service_code = "*124#";
  next.support_phone = "222";
  h.s->reload(next, edited());
  CHECK(h.s->dialogs().config().service_code == "*124#");
  // The live dialog goes on with the menus and settings it began with.
  h.reply(old_one, "6");
  REQUIRE(h.screens(2));
  CHECK(h.text().starts_with("Help"));
  h.reply(old_one, "0");
  REQUIRE(h.screens(3));
  CHECK(h.text().starts_with("Bill Pay\n1. Pay bill"));
  h.reply(old_one, "6");
  h.reply(old_one, "3");
  REQUIRE(h.screens(5));
  CHECK(h.text().starts_with("Call 111 "));
  // A new dial of the old code is not ours any more; of the new one, it gets the new menus.
  h.dial(new_one);
  REQUIRE(h.screens(6));
  CHECK(h.text() == "Unknown service code. Dial *124# for bill payments.");
  h.dial(new_one, "*124#");
  REQUIRE(h.screens(7));
  CHECK(h.text().starts_with("Bills v2\n1. Pay bill"));
  h.reply(new_one, "6");
  h.reply(new_one, "3");
  REQUIRE(h.screens(9));
  CHECK(h.text().starts_with("Call 222 "));
}

TEST_CASE("dialog_session: write_metrics renders the ussdpay_ussd families with their counts",
          "[ussd]") {
  ussd::dialog_config cfg;
  cfg.max_sessions = 2;
  session_harness h(cfg);
  // Two dialogs, a third dial over max_sessions, one reply.
  h.dial("923000000001");
  h.dial("923000000002");
  REQUIRE(h.screens(2));
  h.dial("923000000003");
  REQUIRE(h.screens(3));
  CHECK(h.text() == "Service busy. Please try again in a minute.");
  h.reply("923000000001", "6");
  REQUIRE(h.screens(4));

  metrics::prometheus_text m;
  h.s->write_metrics(m);
  const auto& t = m.text();
  INFO(t);
  CHECK(has_line(t, "# TYPE ussdpay_ussd_live_dialogs gauge"));
  CHECK(has_line(t, "ussdpay_ussd_live_dialogs 2"));
  CHECK(has_line(t, "ussdpay_ussd_dial_limit_numbers 3"));
  CHECK(has_line(t, "# TYPE ussdpay_ussd_hop_latency_seconds histogram"));
  // Three hops answered (two dials, one reply); the busy screen is not a dialog's hop.
  CHECK(has_line(t, "ussdpay_ussd_hop_latency_seconds_count 3"));
  CHECK(has_line(t, "ussdpay_ussd_hop_latency_seconds_bucket{le=\"+Inf\"} 3"));
  CHECK(has_line(t, "ussdpay_ussd_hop_latency_seconds_bucket{le=\"10\"} 3"));
  CHECK(has_line(t, "# TYPE ussdpay_ussd_dialogs_total counter"));
  CHECK(has_line(t, "ussdpay_ussd_dialogs_total{event=\"dialed\"} 3"));
  CHECK(has_line(t, "ussdpay_ussd_dialogs_total{event=\"reply\"} 1"));
  CHECK(has_line(t, "ussdpay_ussd_dialogs_total{event=\"screen\"} 4"));
  CHECK(has_line(t, "ussdpay_ussd_dialogs_total{event=\"busy\"} 1"));
  CHECK(has_line(t, "ussdpay_ussd_dialogs_total{event=\"expired\"} 0"));
  CHECK(has_line(t, "ussdpay_ussd_dialogs_total{event=\"rate_limited\"} 0"));
}
