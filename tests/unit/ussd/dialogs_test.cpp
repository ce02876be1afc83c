// The dialog table driven with deliver_sm bodies as each operator profile sends them, with the
// screens it submits captured and its actions answered by hand.
#include <catch2/catch.hpp>

#include "gateway/ussd/dialogs.hpp"

using namespace ussdpay;
using namespace ussdpay::smpp;
using namespace std::chrono_literals;
using ussd::clock_type;

namespace {

std::shared_ptr<const menus::catalog> shipped() {
  static auto r = menus::load_catalog(USSDPAY_SOURCE_DIR "/etc/menus");
  INFO(menus::format_errors(r.errors));
  REQUIRE(r.cat);
  return r.cat;
}

struct harness {
  ussd::profile prof;
  ussd::dialog_config cfg;
  std::vector<sm_body> sent;
  std::vector<ussd::action_call> calls;
  std::vector<std::string> hops;
  std::vector<std::string> refusals;  // "msisdn busy|rate_limited first|again"
  std::unique_ptr<ussd::dialogs> d;
  clock_type::time_point now = clock_type::time_point(1000s);

  explicit harness(std::string profile_name = "default", std::size_t max_sessions = 100) {
    prof = *ussd::builtin_profile(profile_name);
    cfg.max_sessions = max_sessions;
    d = std::make_unique<ussd::dialogs>(
        cfg, prof, shipped(),
        ussd::dialogs::callbacks{
            .send = [this](sm_body b) { sent.push_back(std::move(b)); },
            .act = [this](const ussd::action_call& c) { calls.push_back(c); },
            .language = [](std::string_view) { return std::string(); },
            .hop =
                [this](std::string_view, std::string_view screen, std::string_view input) {
                  hops.push_back(std::string(screen) + ":" + std::string(input));
                },
            .refused =
                [this](std::string_view msisdn, ussd::dial_refusal why, bool first) {
                  refusals.push_back(std::string(msisdn) +
                                     (why == ussd::dial_refusal::busy ? " busy" : " rate_limited") +
                                     (first ? " first" : " again"));
                }});
  }

  sm_body from(const std::string& msisdn, const std::string& text, std::uint8_t op,
               std::uint16_t session) {
    sm_body b;
    b.service_type = "USSD";
    b.source = {1, 1, msisdn};
    b.destination = {0, 0, "123"};
    b.short_message = text;
    b.tlvs.push_back(tlv::u8(tag::ussd_service_op, op));
    if (prof.session_id == ussd::session_id_source::its_session_info)
      b.tlvs.push_back(tlv::u16(tag::its_session_info, static_cast<std::uint16_t>(session << 8)));
    if (prof.session_id == ussd::session_id_source::user_message_reference)
      b.tlvs.push_back(tlv::u16(tag::user_message_reference, session));
    return b;
  }
  std::uint32_t dial(const std::string& msisdn, const std::string& text = "*123#",
                     std::uint16_t session = 7) {
    const auto st = d->on_deliver(from(msisdn, text, prof.begin_ops.front(), session), now);
    admit();
    return st;
  }
  std::uint32_t reply(const std::string& msisdn, const std::string& text,
                      std::uint16_t session = 7) {
    const auto st = d->on_deliver(from(msisdn, text, prof.continue_ops.front(), session), now);
    admit();
    return st;
  }
  /// Answers the welcome gate ("is this a registered subscriber?") with yes, as the gateway
  /// does from memory, so the tests below start at the main menu.
  void admit() {
    for (std::size_t i = 0; i < calls.size();) {
      if (menus::actions()[calls[i].action].name != "subscriber") {
        ++i;
        continue;
      }
      const auto token = calls[i].token;
      calls.erase(calls.begin() + static_cast<std::ptrdiff_t>(i));
      d->complete(token, {menus::outcome::ok, {}, {}}, now);
      i = 0;
    }
  }
  const sm_body& last() const {
    REQUIRE(!sent.empty());
    return sent.back();
  }
  std::uint8_t op() const { return *tlv_u8(last().tlvs, tag::ussd_service_op); }
  /// New [ussd] settings, as SIGHUP gives them.
  void limit(std::uint32_t per_window, std::chrono::milliseconds window,
             std::size_t numbers = 100'000) {
    cfg.dials_per_msisdn = per_window;
    cfg.dial_window = window;
    cfg.dial_numbers = numbers;
    d->reload(cfg, shipped());
  }
  bool busy() const {
    return last().short_message == "Service busy. Please try again in a minute." && op() == 17;
  }
};

}  // namespace

TEST_CASE("default profile: dial, screens continue with op 2, the final one ends with 17",
          "[ussd]") {
  harness h;
  // The subscriber dials *123#.
  CHECK(h.dial("923001234567") == status::ok);
  REQUIRE(h.sent.size() == 1);
  CHECK(h.last().short_message.starts_with("Bill Pay\n1. Pay bill"));
  CHECK(h.last().destination.addr == "923001234567");
  CHECK(h.last().source.addr == "123");
  CHECK(h.last().service_type == "USSD");
  CHECK(h.last().data_coding == 0);
  CHECK(h.op() == 2);
  // its_session_info echoed with the end bit clear.
  CHECK(tlv_u16(h.last().tlvs, tag::its_session_info) == 7 << 8);
  CHECK(h.d->live() == 1);
  // Help -> Contact us: an end screen, op 17, end bit set, and the dialog is gone.
  h.reply("923001234567", "6");
  h.reply("923001234567", "3");
  CHECK(h.last().short_message.starts_with("Call 111"));
  CHECK(h.op() == 17);
  CHECK(tlv_u16(h.last().tlvs, tag::its_session_info) == (7 << 8 | 1));
  CHECK(h.d->live() == 0);
  CHECK(h.hops == std::vector<std::string>{"dial:*123#", "main:6", "help:3"});
}

TEST_CASE("sixdee profile: 0x12 replies, 0x81 abort, we end with 0x17", "[ussd]") {
  harness h("sixdee");
  h.dial("254700000001");
  CHECK(h.op() == 2);
  h.reply("254700000001", "6");
  CHECK(h.last().short_message.starts_with("Help"));
  h.reply("254700000001", "1");
  CHECK(h.op() == 0x17);
  // A second dialog aborted by the subscriber.
  h.dial("254700000001");
  CHECK(h.d->live() == 1);
  const auto before = h.sent.size();
  h.d->on_deliver(h.from("254700000001", "", 0x81, 7), h.now);
  CHECK(h.d->live() == 0);
  CHECK(h.sent.size() == before);  // nothing is sent to an aborted dialog
  CHECK(h.d->stats().aborted == 1);
}

TEST_CASE("mica profile: the session id is user_message_reference", "[ussd]") {
  harness h("mica");
  h.dial("923001112222", "*123#", 4242);
  CHECK(tlv_u16(h.last().tlvs, tag::user_message_reference) == 4242);
  CHECK(find_tlv(h.last().tlvs, tag::its_session_info) == nullptr);
  // A reply naming another session is not this dialog: it gets the "session ended" screen.
  h.reply("923001112222", "1", 999);
  CHECK(h.last().short_message.starts_with("Your session has ended"));
  CHECK(h.op() == 0x17);
  CHECK(h.d->stats().unknown_session == 1);
  CHECK(h.d->live() == 1);
  // The right session continues.
  h.reply("923001112222", "1", 4242);
  CHECK(h.last().short_message.starts_with("Pay bill"));
}

TEST_CASE("huawei profile: no session id, one dialog per MSISDN", "[ussd]") {
  harness h("huawei");
  h.dial("919800000001");
  CHECK(find_tlv(h.last().tlvs, tag::its_session_info) == nullptr);
  h.reply("919800000001", "1");
  CHECK(h.last().short_message.starts_with("Pay bill"));
}

TEST_CASE("a new dial replaces the subscriber's live dialog", "[ussd]") {
  harness h;
  h.dial("923001234567", "*123#", 1);
  h.reply("923001234567", "6", 1);
  // The subscriber dials again (the network lost the first dialog without telling us): the new
  // dialog replaces the old and offers to continue where it was.
  h.dial("923001234567", "*123#", 2);
  CHECK(h.d->live() == 1);
  CHECK(h.d->stats().replaced == 1);
  CHECK(h.last().short_message.starts_with("Continue where you left off?"));
  // A reply to the old dialog's session is refused; the new one is intact.
  h.reply("923001234567", "1", 1);
  CHECK(h.last().short_message.starts_with("Your session has ended"));
  h.reply("923001234567", "2", 2);
  CHECK(h.last().short_message.starts_with("Bill Pay"));
  h.reply("923001234567", "1", 2);
  CHECK(h.last().short_message.starts_with("Pay bill"));
}

TEST_CASE("beyond max_sessions a dial is told the service is busy", "[ussd]") {
  harness h("default", 2);
  h.dial("923000000001");
  h.dial("923000000002");
  h.dial("923000000003");
  CHECK(h.last().short_message == "Service busy. Please try again in a minute.");
  CHECK(h.op() == 17);
  CHECK(h.d->live() == 2);
  CHECK(h.d->stats().busy == 1);
  // Live dialogs are not disturbed.
  h.reply("923000000001", "6");
  CHECK(h.last().short_message.starts_with("Help"));
}

TEST_CASE("idle dialogs expire with a timed-out screen, and long ones end at their next reply",
          "[ussd]") {
  harness h;
  h.dial("923000000001");
  h.now += 30s;
  h.dial("923000000002");
  CHECK(h.d->next_expiry() == h.now - 30s + h.cfg.session_timeout);
  h.now += 31s;  // the first is 61 s idle, the second 31 s
  CHECK(h.d->expire(h.now) == 1);
  CHECK(h.last().short_message == "Session timed out. Dial *123# to start again.");
  CHECK(h.last().destination.addr == "923000000001");
  CHECK(h.d->live() == 1);
  // Keep the second busy for longer than max_session_length: it ends at the next reply.
  for (int i = 0; i < 4; ++i) {
    h.now += 30s;
    h.reply("923000000002", i % 2 == 0 ? "6" : "0");
  }
  CHECK(h.last().short_message.starts_with("Bill Pay"));
  h.now += 30s;  // 181 s after the dial
  h.reply("923000000002", "6");
  CHECK(h.last().short_message == "Session timed out. Dial *123# to start again.");
  CHECK(h.d->live() == 0);
}

TEST_CASE("bad input from the network gets a clear answer and the right status", "[ussd]") {
  harness h;
  // A dial of someone else's code.
  CHECK(h.dial("923000000001", "*999#") == status::ok);
  CHECK(h.last().short_message == "Unknown service code. Dial *123# for bill payments.");
  CHECK(h.d->live() == 0);
  // A reply with no dialog.
  CHECK(h.reply("923000000009", "1") == status::ok);
  CHECK(h.last().short_message.starts_with("Your session has ended"));
  // An op the profile does not know.
  CHECK(h.d->on_deliver(h.from("923000000001", "x", 0x33, 7), h.now) ==
        status::invalid_optional_param_value);
  // A source address that is no MSISDN.
  CHECK(h.dial("HACKER") == status::invalid_source_addr);
  // UCS-2 text with an odd length cannot be decoded.
  auto odd = h.from("923000000001", std::string("\x00\x31\x00", 3), 1, 7);
  odd.data_coding = 8;
  CHECK(h.d->on_deliver(odd, h.now) == status::perm_app_error);
  // A plain SMS and a delivery receipt are not USSD and are accepted untouched.
  sm_body sms;
  sms.source = {1, 1, "923000000001"};
  sms.short_message = "hello";
  CHECK(h.d->on_deliver(sms, h.now) == status::ok);
  CHECK(h.d->live() == 0);
}

TEST_CASE("actions complete into the right dialog and stale results are dropped", "[ussd]") {
  harness h;
  h.dial("923000000001");
  h.reply("923000000001", "1");
  h.reply("923000000001", "1");  // Electricity: fetch the billers
  REQUIRE(h.calls.size() == 1);
  const auto first = h.calls.back();
  CHECK(menus::actions()[first.action].name == "billers");
  CHECK(first.msisdn == "923000000001");
  // The subscriber dials again before the answer: the old action's result is stale.
  h.dial("923000000001");
  const auto screens = h.sent.size();
  h.d->complete(first.token, {menus::outcome::ok, {}, {}}, h.now);
  CHECK(h.sent.size() == screens);
  CHECK(h.d->stats().stale_results == 1);
  // A fresh action completes normally.
  h.reply("923000000001", "1");
  h.reply("923000000001", "1");
  REQUIRE(h.calls.size() == 2);
  menus::list_item lesco;
  lesco.set(*menus::find_item_field("item.id"), "lesco");
  lesco.set(*menus::find_item_field("item.name"), "LESCO");
  h.d->complete(h.calls.back().token, {menus::outcome::ok, {}, {lesco}}, h.now);
  CHECK(h.last().short_message == "Choose company\n1. LESCO\n0. Back\n00. Home");
}

TEST_CASE("a PIN is never handed to the hop log", "[ussd]") {
  harness h;
  h.dial("923000000001");
  h.reply("923000000001", "4");  // PIN
  h.reply("923000000001", "1");  // Change PIN
  h.reply("923000000001", "1357");
  h.reply("923000000001", "2468");
  for (const auto& hop : h.hops) {
    CHECK(hop.find("1357") == std::string::npos);
    CHECK(hop.find("2468") == std::string::npos);
  }
  CHECK(h.hops.back() == "pin_new:****");
}

TEST_CASE("Urdu screens go out as UCS-2 with the profile's data_coding", "[ussd]") {
  harness h;
  std::vector<ussd::action_call> calls;
  auto d2 = std::make_unique<ussd::dialogs>(
      h.cfg, h.prof, shipped(),
      ussd::dialogs::callbacks{.send = [&](sm_body b) { h.sent.push_back(std::move(b)); },
                               .act = [&](const ussd::action_call& c) { calls.push_back(c); },
                               .language = [](std::string_view) { return std::string("ur"); },
                               .hop = {}});
  d2->on_deliver(h.from("923000000001", "*123#", 1, 7), h.now);
  REQUIRE(calls.size() == 1);  // the welcome gate: a registered subscriber
  d2->complete(calls.front().token, {menus::outcome::ok, {}, {}}, h.now);
  CHECK(h.last().data_coding == 8);
  CHECK(h.last().short_message.size() % 2 == 0);
  CHECK(h.last().short_message.size() <= 160);
}

TEST_CASE("msisdn keys keep leading zeros and refuse anything but digits", "[ussd]") {
  CHECK(ussd::msisdn_text(*ussd::msisdn_key("03001234567")) == "03001234567");
  CHECK(ussd::msisdn_text(*ussd::msisdn_key("+923001234567")) == "923001234567");
  CHECK(ussd::msisdn_key("03001234567") != ussd::msisdn_key("3001234567"));
  CHECK_FALSE(ussd::msisdn_key("1234567890123456"));
  CHECK_FALSE(ussd::msisdn_key("92300123456a"));
  CHECK_FALSE(ussd::msisdn_key(""));
}

TEST_CASE("a dialog cut off mid-menu is offered back on the next dial", "[ussd]") {
  harness h("sixdee");
  // The subscriber gets to LESCO's consumer-number prompt...
  h.dial("923000000001");
  h.reply("923000000001", "1");
  h.reply("923000000001", "1");
  menus::list_item lesco;
  lesco.set(*menus::find_item_field("item.id"), "lesco");
  lesco.set(*menus::find_item_field("item.name"), "LESCO");
  h.d->complete(h.calls.back().token, {menus::outcome::ok, {}, {lesco}}, h.now);
  h.reply("923000000001", "1");
  h.d->complete(h.calls.back().token, {menus::outcome::empty, {}, {}}, h.now);
  CHECK(h.last().short_message.starts_with("Enter LESCO consumer number"));
  // ... and the dialog is aborted (the subscriber walked into a lift).
  h.d->on_deliver(h.from("923000000001", "", 0x81, 7), h.now);
  CHECK(h.d->live() == 0);
  CHECK(h.d->parked() == 1);

  SECTION("1 continues on the same screen") {
    h.now += 60s;
    h.dial("923000000001");
    CHECK(h.last().short_message == "Continue where you left off?\n1. Continue\n2. Start over");
    CHECK(h.op() == 2);
    h.reply("923000000001", "1");
    CHECK(h.last().short_message.starts_with("Enter LESCO consumer number"));
    CHECK(h.d->parked() == 0);
    // The dialog goes on from there.
    h.reply("923000000001", "04123456789012");
    CHECK(menus::actions()[h.calls.back().action].name == "inquire");
    CHECK(h.d->stats().resumed == 1);
  }
  SECTION("2 starts over at the main menu") {
    h.dial("923000000001");
    h.reply("923000000001", "2");
    CHECK(h.last().short_message.starts_with("Bill Pay\n1. Pay bill"));
  }
  SECTION("anything else asks again") {
    h.dial("923000000001");
    h.reply("923000000001", "7");
    CHECK(h.last().short_message.starts_with("Continue where you left off?"));
  }
  SECTION("a shortcut dial means a fresh start") {
    h.dial("923000000001", "*123*6#");
    CHECK(h.last().short_message.starts_with("Help"));
    CHECK(h.d->parked() == 0);
  }
  SECTION("after the window it is forgotten") {
    h.now += 301s;
    h.d->expire(h.now);
    CHECK(h.d->parked() == 0);
    h.dial("923000000001");
    CHECK(h.last().short_message.starts_with("Bill Pay"));
  }
}

TEST_CASE("a PIN is never kept for resuming, and a dialog on the main menu is not offered back",
          "[ussd]") {
  harness h;
  h.dial("923000000001");
  h.reply("923000000001", "4");     // PIN
  h.reply("923000000001", "1");     // Change PIN
  h.reply("923000000001", "1357");  // current PIN, kept while the new one is asked
  h.now += 61s;
  CHECK(h.d->expire(h.now) == 1);  // timed out on the new-PIN screen
  REQUIRE(h.d->parked() == 1);
  h.dial("923000000001");
  h.reply("923000000001", "1");
  CHECK(h.last().short_message.starts_with("Enter new 4-digit PIN"));
  // The current PIN was wiped when the dialog was parked: the change cannot go through on it.
  h.reply("923000000001", "2468");
  h.reply("923000000001", "2468");
  REQUIRE(!h.calls.empty());
  CHECK(h.calls.back().state->get(ussdpay::menus::var_id::pin) == nullptr);

  // Idle on the main menu: nothing worth offering back.
  harness g;
  g.dial("923000000002");
  g.now += 61s;
  g.d->expire(g.now);
  CHECK(g.d->parked() == 0);
}

TEST_CASE("stopping: new dials refused, screens waiting for actions counted, all dialogs closed",
          "[ussd]") {
  harness h;
  h.dial("923001234567");  // at the main menu
  // A second subscriber's dial waits for its welcome gate (an action) to answer.
  h.d->on_deliver(h.from("923001234568", "*123#", h.prof.begin_ops.front(), 8), h.now);
  REQUIRE(h.calls.size() == 1);
  CHECK(h.d->waiting_for_actions() == 1);
  CHECK(h.d->live() == 2);

  CHECK_FALSE(h.d->refusing_new());
  h.d->refuse_new();
  CHECK(h.d->refusing_new());  // /ready says "stopping"
  const auto before = h.sent.size();
  CHECK(h.d->on_deliver(h.from("923001234569", "*123#", h.prof.begin_ops.front(), 9), h.now) ==
        status::ok);
  REQUIRE(h.sent.size() == before + 1);
  CHECK(h.last().short_message.starts_with("Service unavailable"));
  CHECK(h.op() == 17);
  CHECK(h.d->live() == 2);  // not taken

  // Live dialogs go on while stopping: the waiting screen is answered.
  h.admit();
  CHECK(h.d->waiting_for_actions() == 0);
  CHECK(h.sent.size() == before + 2);
  CHECK(h.last().short_message.starts_with("Bill Pay"));

  CHECK(h.d->close_all() == 2);
  CHECK(h.d->live() == 0);
  REQUIRE(h.sent.size() == before + 4);
  for (auto i = before + 2; i < h.sent.size(); ++i) {
    CHECK(h.sent[i].short_message.starts_with("Service unavailable"));
    CHECK(*tlv_u8(h.sent[i].tlvs, tag::ussd_service_op) == 17);
  }
}

TEST_CASE("dial_limiter: a burst of N, then one every window/N, and a full allowance is forgotten",
          "[ussd]") {
  const auto t0 = clock_type::time_point(1000s);
  ussd::dial_limiter l(3, 30s, 100);
  // Three dials at once pass; the fourth is refused, and said once for the window.
  for (int i = 0; i < 3; ++i) CHECK(l.dial(1, t0).allowed);
  auto v = l.dial(1, t0);
  CHECK_FALSE(v.allowed);
  CHECK(v.first_refusal);
  v = l.dial(1, t0 + 9s);
  CHECK_FALSE(v.allowed);
  CHECK_FALSE(v.first_refusal);
  // One dial's worth comes back every 10 s, however hard the number keeps dialing.
  CHECK(l.dial(1, t0 + 10s).allowed);
  CHECK_FALSE(l.dial(1, t0 + 10s).allowed);
  CHECK_FALSE(l.dial(1, t0 + 19s).allowed);
  CHECK(l.dial(1, t0 + 20s).allowed);
  // Over a whole window at most 3 + 3 passed: sustained, N per window.
  // Another number has its own allowance.
  CHECK(l.dial(2, t0 + 20s).allowed);
  CHECK(l.tracked() == 2);
  // A window after its last dial the allowance is full: the number is as new, and forgotten
  // when another number dials.
  const auto later = t0 + 20s + 31s;
  CHECK(l.dial(3, later).allowed);
  CHECK(l.tracked() == 1);
  for (int i = 0; i < 3; ++i) CHECK(l.dial(1, later).allowed);
  v = l.dial(1, later);
  CHECK_FALSE(v.allowed);
  CHECK(v.first_refusal);  // a new window: said again
  CHECK(l.evicted() == 0);
  // Off: everything passes, nothing is remembered.
  l.configure(0, 30s, 100);
  CHECK(l.tracked() == 0);
  for (int i = 0; i < 100; ++i) CHECK(l.dial(1, later).allowed);
  CHECK(l.tracked() == 0);
}

TEST_CASE("a number dialing too often gets the busy screen, others and its replies are not limited",
          "[ussd]") {
  harness h;
  h.limit(3, 30s);
  const std::string a = "923001234567", b = "923001234568";
  // The subscriber dials three times in a row: three dialogs, each replacing the last.
  for (int i = 0; i < 3; ++i) {
    h.dial(a);
    CHECK(h.last().short_message.starts_with("Bill Pay"));
  }
  // The fourth dial within the window: busy, no dialog; its live dialog is left as it was.
  h.dial(a);
  CHECK(h.busy());
  CHECK(h.d->stats().rate_limited == 1);
  CHECK(h.d->stats().busy == 0);
  CHECK(h.d->live() == 1);
  h.dial(a);
  CHECK(h.busy());
  CHECK(h.refusals ==
        std::vector<std::string>{a + " rate_limited first", a + " rate_limited again"});
  // Another subscriber is served meanwhile.
  h.dial(b);
  CHECK(h.last().short_message.starts_with("Bill Pay"));
  // Ten seconds on, one more dial is allowed; replies within that dialog are never counted.
  h.now += 10s;
  h.dial(a);
  REQUIRE(h.last().short_message.starts_with("Bill Pay"));
  for (int i = 0; i < 20; ++i) {
    h.reply(a, "6");  // Help
    CHECK(h.last().short_message.starts_with("Help"));
    h.reply(a, "0");  // back
    CHECK(h.last().short_message.starts_with("Bill Pay"));
  }
  h.dial(a);
  CHECK(h.busy());
  CHECK(h.d->stats().rate_limited == 3);
  // A window later the whole allowance is back.
  h.now += 30s;
  for (int i = 0; i < 3; ++i) {
    h.dial(a);
    CHECK_FALSE(h.busy());
  }
  h.dial(a);
  CHECK(h.busy());
  CHECK(h.refusals.back() == a + " rate_limited first");
  CHECK(h.d->stats().dials == 12);
  // 0 turns the limit off (SIGHUP).
  h.limit(0, 30s);
  for (int i = 0; i < 20; ++i) {
    h.dial(a);
    CHECK_FALSE(h.busy());
  }
  CHECK(h.d->rate_tracked() == 0);
}

TEST_CASE("max_sessions refusals are told apart from the per-number limit", "[ussd]") {
  harness h("default", 1);
  h.dial("923000000001");
  h.dial("923000000002");
  CHECK(h.busy());
  CHECK(h.d->stats().busy == 1);
  CHECK(h.d->stats().rate_limited == 0);
  CHECK(h.refusals == std::vector<std::string>{"923000000002 busy first"});
}

TEST_CASE("the per-number table stays within dial_numbers under a flood of new numbers", "[ussd]") {
  harness h("default", 100'000);
  h.limit(2, 60s, 100);
  const std::string x = "923009999999";
  h.dial(x);
  h.dial(x);
  h.dial(x);
  CHECK(h.busy());
  // Fifty other numbers: x is still remembered, and still refused.
  for (int i = 0; i < 50; ++i) h.dial("92300000" + std::to_string(1000 + i));
  h.dial(x);
  CHECK(h.busy());
  // Thousands of new numbers, each within its allowance: never more than 100 remembered.
  for (int i = 0; i < 5000; ++i) {
    h.dial("9230" + std::to_string(10'000'000 + i));
    REQUIRE(h.d->rate_tracked() <= 100);
  }
  CHECK(h.d->rate_tracked() == 100);
  // x dialed least recently of all and was forgotten: the bound wins, its allowance is full.
  h.dial(x);
  CHECK_FALSE(h.busy());
  CHECK(h.d->stats().rate_limited == 2);
  // A window later every allowance is full: the next dial forgets them all but its own.
  h.now += 61s;
  h.dial("923005555555");
  CHECK(h.d->rate_tracked() == 1);
}

TEST_CASE("a number that keeps leaving dialogs mid-menu does not grow the queue of parked ones",
          "[ussd]") {
  harness h("default", 10);
  h.limit(0, 60s);
  // Dial, into Pay bill, dial again (the dialog is parked, replaced), start over... all day.
  for (int i = 0; i < 2000; ++i) {
    h.now += 10ms;
    h.dial("923001234567");
    if (h.last().short_message.starts_with("Continue where you left off?"))
      h.reply("923001234567", "2");
    h.reply("923001234567", "1");
    REQUIRE(h.last().short_message.starts_with("Pay bill"));
  }
  CHECK(h.d->stats().parked >= 1999);
  CHECK(h.d->parked() == 0);  // the last one was taken back by the dial that offered it
  // One stale entry per park until forgotten in bulk: at most about 64 of them at a time.
  CHECK(h.d->parked_queue() <= 70);
}
