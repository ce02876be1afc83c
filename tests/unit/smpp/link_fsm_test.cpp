// Scenario tests for link_fsm, written as transcripts: each step is one event on the link (time
// passing, the SMSC writing a PDU, the owner submitting), followed by what must have happened.
//
// The harness plays both the driver and the SMSC. Time is a plain time_point advanced by hand;
// on_timer is called whenever next_deadline() has passed, exactly as a driver re-arming one timer
// would. The link's output bytes are split with the framer and decoded, so tests see the PDUs an
// SMSC would see; SMSC PDUs are encoded and fed back through a framer into on_frame.
#include "gateway/smpp/link_fsm.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "gateway/smpp/codec.hpp"
#include "gateway/smpp/pdu.hpp"

using namespace ussdpay::smpp;
using namespace std::chrono_literals;

namespace Catch {
template <>
struct StringMaker<link_state> {
  static std::string convert(link_state s) { return std::string(ussdpay::smpp::to_string(s)); }
};
template <>
struct StringMaker<outcome> {
  static std::string convert(outcome o) { return std::string(ussdpay::smpp::to_string(o)); }
};
}  // namespace Catch

namespace {

constexpr std::uint32_t id_of(command c) {
  return static_cast<std::uint32_t>(c);
}

const clock::time_point t0 = clock::time_point{} + std::chrono::hours(1000);

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> static_cast<unsigned>(shift)) & 0xFFu));
}

/// A PDU written byte by byte, for what encode() refuses to produce.
std::string raw_pdu(std::uint32_t command_id, std::uint32_t command_status, std::uint32_t seq,
                    const std::string& body = {}) {
  std::string out;
  put32(out, static_cast<std::uint32_t>(16 + body.size()));
  put32(out, command_id);
  put32(out, command_status);
  put32(out, seq);
  return out + body;
}

link_config test_config() {
  link_config c;
  c.system_id = "ussdpay";
  c.password = "secret";
  c.system_type = "USSD";
  c.window = 10;
  c.response_timeout = 10s;
  c.queue_timeout = 60s;
  c.enquire_link_interval = 30s;
  c.inactivity_timeout = 120s;
  c.throttle_retries = 5;
  c.flow.interval = 100ms;
  c.flow.min_rate = 20;
  c.reconnect_initial = 100ms;
  c.reconnect_max = 1000ms;
  c.drain_timeout = 2s;
  c.unbind_timeout = 1s;
  return c;
}

/// The submit_sm an owner hands the link for request `id`; the id travels in the text so the
/// fake SMSC can tell which request a submit_sm on the wire carries.
pdu payment(request_id id) {
  sm_body b;
  b.service_type = "USSD";
  b.source = {1, 1, "254700000001"};
  b.destination = {0, 1, "384"};
  b.short_message = "pay " + std::to_string(id);
  return make_submit(0, std::move(b));
}

request_id request_of(const pdu& submit) {
  return std::stoull(std::get<sm_body>(submit.body).short_message.substr(4));
}

/// The SMSC's answer to an ESME request.
pdu answer(const pdu& request, std::uint32_t st = status::ok, const std::string& message_id = {}) {
  pdu r = request.make_response(st);
  if (auto* m = std::get_if<message_id_body>(&r.body)) m->message_id = message_id;
  if (auto* b = std::get_if<bind_resp_body>(&r.body)) b->system_id = "SMSC";
  return r;
}

pdu deliver(std::uint32_t seq, std::string text, tlv_list tlvs = {}) {
  sm_body b;
  b.service_type = "USSD";
  b.source = {1, 1, "254700000001"};
  b.destination = {0, 1, "384"};
  b.short_message = std::move(text);
  b.tlvs = std::move(tlvs);
  return make_deliver(seq, std::move(b));
}

template <class T>
std::vector<T> all_of(const std::vector<link_action>& acts) {
  std::vector<T> r;
  for (const auto& a : acts)
    if (const T* x = std::get_if<T>(&a)) r.push_back(*x);
  return r;
}

template <class T>
std::size_t count_of(const std::vector<link_action>& acts) {
  return all_of<T>(acts).size();
}

/// "from->to" for every state change, in order.
std::vector<std::string> transitions(const std::vector<link_action>& acts) {
  std::vector<std::string> r;
  for (const auto& s : all_of<action::state_changed>(acts))
    r.push_back(std::string(to_string(s.from)) + "->" + std::string(to_string(s.to)));
  return r;
}

std::vector<pdu> with_command(const std::vector<pdu>& pdus, command c) {
  std::vector<pdu> r;
  for (const auto& p : pdus)
    if (p.command_id == id_of(c)) r.push_back(p);
  return r;
}

struct on_wire {
  clock::time_point at;
  pdu p;
};

/// Driver + SMSC around one link_fsm.
struct harness {
  link_fsm fsm;
  clock::time_point now = t0;
  framer from_esme;                            // what the SMSC reads
  framer from_smsc;                            // what the driver reads
  std::vector<on_wire> wire;                   // ESME PDUs not yet looked at
  std::vector<link_action> pending;            // actions not yet looked at
  std::map<request_id, int> completions;       // every completion ever seen, by id
  std::vector<action::completed> all_results;  // every completion ever seen, in order

  explicit harness(link_config cfg = test_config(), std::uint64_t seed = 42)
      : fsm(std::move(cfg), seed) {}

  /// Collects what the link produced since the last look.
  void pull() {
    const std::string out = fsm.take_output();
    if (!out.empty()) from_esme.feed(bytes_of(out));
    for (;;) {
      auto next = from_esme.next();
      if (std::holds_alternative<framer::need_more>(next)) break;
      REQUIRE(std::holds_alternative<std::span<const std::uint8_t>>(next));
      auto d = decode(std::get<std::span<const std::uint8_t>>(next));
      if (const auto* e = std::get_if<decode_error>(&d)) FAIL("ESME sent a bad PDU: " << e->reason);
      wire.push_back({now, std::get<pdu>(std::move(d))});
    }
    for (auto& a : fsm.take_actions()) {
      if (const auto* c = std::get_if<action::completed>(&a)) {
        ++completions[c->id];
        all_results.push_back(*c);
      }
      pending.push_back(std::move(a));
    }
  }

  std::vector<pdu> sent() {
    pull();
    std::vector<pdu> r;
    for (auto& w : wire) r.push_back(std::move(w.p));
    wire.clear();
    return r;
  }
  std::vector<on_wire> sent_timed() {
    pull();
    return std::exchange(wire, {});
  }
  /// Exactly one PDU went out; returns it.
  pdu sent_one() {
    auto s = sent();
    REQUIRE(s.size() == 1);
    return s[0];
  }
  std::vector<link_action> actions() {
    pull();
    return std::exchange(pending, {});
  }
  std::vector<action::completed> completed() { return all_of<action::completed>(actions()); }

  // --- the driver ---------------------------------------------------------------------------

  void connected() {
    from_esme = framer{};
    from_smsc = framer{};
    fsm.on_connected(now);
    pull();
  }
  void closed(const std::string& why) {
    fsm.on_closed(now, why);
    pull();
  }
  /// Bytes from the SMSC: framed, then handed to the link frame by frame.
  void receive_bytes(const std::string& bytes) {
    from_smsc.feed(bytes_of(bytes));
    for (;;) {
      auto next = from_smsc.next();
      if (std::holds_alternative<framer::need_more>(next)) break;
      if (const auto* fe = std::get_if<framer::framing_error>(&next)) {
        fsm.on_framing_error(now, fe->hdr, fe->reason);
        from_smsc = framer{};  // the stream is lost
        break;
      }
      fsm.on_frame(now, std::get<std::span<const std::uint8_t>>(next));
    }
    pull();
  }
  /// The SMSC writes one PDU.
  void reply(const pdu& p) {
    std::string b;
    const auto err = encode(p, b);
    INFO(err.value_or(""));
    REQUIRE_FALSE(err);
    receive_bytes(b);
  }
  void submit(request_id id, lane l = lane::interactive) {
    fsm.submit(now, id, payment(id), l);
    pull();
  }

  /// Lets time pass, firing on_timer at every deadline on the way.
  void advance(clock::duration d) { advance_to(now + d); }
  void advance_to(clock::time_point t) {
    for (int fired = 0;; ++fired) {
      REQUIRE(fired < 100000);
      const auto due = fsm.next_deadline();
      if (due > t) break;
      now = std::max(now, due);
      fsm.on_timer(now);
      pull();
      // Whatever was due has been handled: a driver re-arming its timer must not spin.
      INFO("state " << to_string(fsm.state()) << " at +"
                    << std::chrono::duration_cast<milliseconds>(now - t0).count() << " ms");
      REQUIRE(fsm.next_deadline() > now);
    }
    now = std::max(now, t);
  }
  milliseconds until_deadline() const {
    return std::chrono::duration_cast<milliseconds>(fsm.next_deadline() - now);
  }

  /// start -> connect -> bind -> bound, with nothing left to look at.
  void bring_up() {
    fsm.start(now);
    REQUIRE(count_of<action::connect>(actions()) == 1);
    connected();
    reply(answer(sent_one()));
    REQUIRE(fsm.state() == link_state::bound);
    actions();
  }

  /// Backoff has begun: waits for the reconnect, connects and answers the bind with `st`.
  void reconnect(std::uint32_t st = status::ok) {
    REQUIRE(fsm.state() == link_state::backoff);
    advance(until_deadline());
    REQUIRE(count_of<action::connect>(actions()) == 1);
    connected();
    reply(answer(sent_one(), st));
  }
};

}  // namespace

// =============================================================================================
// Binding

TEST_CASE("link_fsm: start connects, binds as transceiver and becomes bound", "[link_fsm]") {
  harness h;

  // The owner starts the link: the driver is asked for a TCP connection.
  h.fsm.start(h.now);
  auto acts = h.actions();
  CHECK(count_of<action::connect>(acts) == 1);
  CHECK(transitions(acts) == std::vector<std::string>{"stopped->connecting"});
  CHECK(h.sent().empty());
  CHECK(h.until_deadline() == 5000ms);  // connect_timeout

  // TCP is up: the ESME binds as a transceiver with its configured credentials.
  h.connected();
  const pdu bind = h.sent_one();
  CHECK(bind.command_id == id_of(command::bind_transceiver));
  const auto& b = std::get<bind_body>(bind.body);
  CHECK(b.system_id == "ussdpay");
  CHECK(b.password == "secret");
  CHECK(b.system_type == "USSD");
  CHECK(b.interface_version == 0x34);
  CHECK(h.fsm.state() == link_state::binding);
  CHECK(transitions(h.actions()) == std::vector<std::string>{"connecting->binding"});

  // The SMSC accepts the bind.
  h.reply(answer(bind));
  acts = h.actions();
  CHECK(h.fsm.state() == link_state::bound);
  CHECK(transitions(acts) == std::vector<std::string>{"binding->bound"});
  CHECK(count_of<action::close>(acts) == 0);
  CHECK(h.sent().empty());
  CHECK(h.fsm.stats().binds_ok == 1);
  CHECK(h.until_deadline() == 30000ms);  // next: enquire_link_interval
}

TEST_CASE("link_fsm: transmitter and receiver binds send their own bind PDU", "[link_fsm]") {
  link_config cfg = test_config();

  SECTION("bind_transmitter") {
    cfg.mode = bind_mode::transmitter;
    harness h(cfg);
    h.fsm.start(h.now);
    h.connected();
    // The ESME binds as a transmitter.
    const pdu bind = h.sent_one();
    CHECK(bind.command_id == id_of(command::bind_transmitter));
    CHECK(std::get<bind_body>(bind.body).system_id == "ussdpay");
    // The SMSC accepts with bind_transmitter_resp.
    h.reply(answer(bind));
    CHECK(h.fsm.state() == link_state::bound);
    // A transmitter cannot receive: a deliver_sm is refused, not handed to the app.
    h.reply(deliver(7, "hello"));
    const pdu resp = h.sent_one();
    CHECK(resp.command_id == id_of(command::deliver_sm_resp));
    CHECK(resp.command_status == status::invalid_bind_status);
    CHECK(count_of<action::inbound>(h.actions()) == 0);
  }

  SECTION("bind_receiver") {
    cfg.mode = bind_mode::receiver;
    harness h(cfg);
    h.fsm.start(h.now);
    h.connected();
    // The ESME binds as a receiver.
    const pdu bind = h.sent_one();
    CHECK(bind.command_id == id_of(command::bind_receiver));
    CHECK(std::get<bind_body>(bind.body).password == "secret");
    // The SMSC accepts with bind_receiver_resp.
    h.reply(answer(bind));
    CHECK(h.fsm.state() == link_state::bound);
    CHECK_FALSE(h.fsm.can_transmit());
    // A receiver cannot submit: the request completes at once, unsent.
    h.submit(1);
    const auto done = h.completed();
    REQUIRE(done.size() == 1);
    CHECK(done[0].result.result == outcome::not_sent);
    CHECK(h.sent().empty());
  }
}

TEST_CASE("link_fsm: a refused bind backs off with capped, doubling, jittered delays",
          "[link_fsm]") {
  const link_config cfg = test_config();  // reconnect_initial 100 ms, reconnect_max 1000 ms
  std::set<milliseconds> first_delays;

  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    CAPTURE(seed);
    harness h(cfg, seed);
    h.fsm.start(h.now);
    h.connected();
    h.actions();

    // The SMSC refuses the password: the link closes and backs off.
    h.reply(answer(h.sent_one(), status::invalid_password));
    auto acts = h.actions();
    CHECK(count_of<action::close>(acts) == 1);
    CHECK(transitions(acts) == std::vector<std::string>{"binding->backoff"});
    CHECK(h.fsm.state() == link_state::backoff);
    CHECK(h.fsm.stats().binds_failed == 1);
    milliseconds delay = h.until_deadline();
    CHECK(delay >= 50ms);
    CHECK(delay <= 100ms);
    first_delays.insert(delay);

    // Nothing happens until the delay is over; then the link reconnects.
    h.advance(delay - 1ms);
    CHECK(count_of<action::connect>(h.actions()) == 0);
    h.advance(1ms);
    acts = h.actions();
    CHECK(count_of<action::connect>(acts) == 1);
    CHECK(transitions(acts) == std::vector<std::string>{"backoff->connecting"});

    // Every further refusal doubles the delay, up to reconnect_max.
    for (const milliseconds base : {200ms, 400ms, 800ms, 1000ms, 1000ms, 1000ms}) {
      CAPTURE(base.count());
      h.connected();
      const pdu bind = h.sent_one();
      CHECK(std::get<bind_body>(bind.body).password == "secret");
      h.reply(answer(bind, status::invalid_password));
      REQUIRE(h.fsm.state() == link_state::backoff);
      delay = h.until_deadline();
      CHECK(delay >= base / 2);
      CHECK(delay <= base);
      h.advance(delay);
      REQUIRE(count_of<action::connect>(h.actions()) == 1);
    }

    // The password is fixed on the SMSC: the bind succeeds.
    h.connected();
    h.reply(answer(h.sent_one()));
    REQUIRE(h.fsm.state() == link_state::bound);

    // The next drop starts again from reconnect_initial.
    h.closed("connection reset by peer");
    REQUIRE(h.fsm.state() == link_state::backoff);
    delay = h.until_deadline();
    CHECK(delay >= 50ms);
    CHECK(delay <= 100ms);
  }
  // The delays are jittered, not one fixed value.
  CHECK(first_delays.size() > 1);
}

TEST_CASE("link_fsm: connect and bind timeouts back off", "[link_fsm]") {
  harness h;
  h.fsm.start(h.now);
  h.actions();

  // TCP never connects: after connect_timeout the attempt is abandoned.
  h.advance(5000ms);
  auto acts = h.actions();
  CHECK(count_of<action::close>(acts) == 1);
  CHECK(h.fsm.state() == link_state::backoff);
  CHECK(h.fsm.stats().connects_failed == 1);

  // The next attempt connects, but the SMSC never answers the bind.
  h.advance(h.until_deadline());
  REQUIRE(count_of<action::connect>(h.actions()) == 1);
  h.connected();
  h.sent_one();
  h.advance(5000ms - 1ms);
  CHECK(h.fsm.state() == link_state::binding);
  h.advance(1ms);
  acts = h.actions();
  CHECK(count_of<action::close>(acts) == 1);
  CHECK(h.fsm.state() == link_state::backoff);
  CHECK(h.fsm.stats().binds_failed == 1);

  // A refused TCP connect backs off too.
  h.advance(h.until_deadline());
  REQUIRE(count_of<action::connect>(h.actions()) == 1);
  h.fsm.on_connect_failed(h.now, "connection refused");
  CHECK(h.fsm.state() == link_state::backoff);
  CHECK(h.fsm.stats().connects_failed == 2);
}

// =============================================================================================
// The window

TEST_CASE("link_fsm: a window of 3 keeps exactly 3 submit_sm in flight", "[link_fsm]") {
  link_config cfg = test_config();
  cfg.window = 3;
  harness h(cfg);
  h.bring_up();

  // The owner submits 10 payment notifications at once: only 3 go on the wire.
  for (request_id id = 1; id <= 10; ++id) h.submit(id);
  std::vector<pdu> outstanding = h.sent();
  REQUIRE(outstanding.size() == 3);
  CHECK(with_command(outstanding, command::submit_sm).size() == 3);
  CHECK(h.fsm.in_flight() == 3);
  CHECK(h.fsm.queued() == 7);
  CHECK(h.completed().empty());

  std::set<std::uint32_t> sequences;
  std::vector<request_id> sent_order;
  for (const auto& p : outstanding) {
    sequences.insert(p.sequence_number);
    sent_order.push_back(request_of(p));
  }

  // The SMSC answers one at a time, newest first: each answer frees one slot for the next.
  while (!outstanding.empty()) {
    const pdu req = outstanding.back();
    outstanding.pop_back();
    const request_id id = request_of(req);
    CAPTURE(id);
    h.reply(answer(req, status::ok, "MSG-" + std::to_string(id)));

    const auto done = h.completed();
    REQUIRE(done.size() == 1);
    CHECK(done[0].id == id);
    CHECK(done[0].result.result == outcome::accepted);
    CHECK(done[0].result.status == status::ok);
    CHECK(done[0].result.message_id == "MSG-" + std::to_string(id));

    const auto next = h.sent();
    CHECK(next.size() == (sent_order.size() < 10 ? 1u : 0u));
    for (const auto& p : next) {
      CHECK(p.command_id == id_of(command::submit_sm));
      sequences.insert(p.sequence_number);
      sent_order.push_back(request_of(p));
      outstanding.push_back(p);
    }
    CHECK(h.fsm.in_flight() <= 3);
  }

  // Every request went out once, in submit order, each with its own sequence number.
  CHECK(sent_order == std::vector<request_id>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(sequences.size() == 10);
  CHECK(h.fsm.stats().window_peak == 3);
  CHECK(h.fsm.stats().accepted == 10);
  CHECK(h.fsm.in_flight() == 0);
  CHECK(h.fsm.queued() == 0);
}

TEST_CASE("link_fsm: an unanswered request times out and frees its window slot", "[link_fsm]") {
  link_config cfg = test_config();
  cfg.window = 1;
  harness h(cfg);
  h.bring_up();

  // Two requests; the window lets only the first out.
  h.submit(1);
  h.submit(2);
  const pdu first = h.sent_one();
  CHECK(request_of(first) == 1);

  // The SMSC stays silent until just before response_timeout: nothing is given up yet.
  h.advance(10s - 1ms);
  CHECK(h.completed().empty());
  CHECK(h.sent().empty());

  // response_timeout: request 1 ends as a timeout, and request 2 takes its slot.
  h.advance(1ms);
  const auto done = h.completed();
  REQUIRE(done.size() == 1);
  CHECK(done[0].id == 1);
  CHECK(done[0].result.result == outcome::timeout);
  const pdu second = h.sent_one();
  CHECK(request_of(second) == 2);
  CHECK(h.fsm.in_flight() == 1);
  CHECK(h.fsm.stats().timeouts == 1);

  // The late answer to request 1 matches nothing.
  h.reply(answer(first, status::ok, "late"));
  CHECK(h.completed().empty());
  CHECK(h.fsm.stats().unmatched_responses == 1);

  // Request 2 is answered normally.
  h.reply(answer(second, status::ok, "M2"));
  const auto done2 = h.completed();
  REQUIRE(done2.size() == 1);
  CHECK(done2[0].id == 2);
  CHECK(done2[0].result.result == outcome::accepted);
}

TEST_CASE("link_fsm: responses that match no request change nothing", "[link_fsm]") {
  harness h;
  h.bring_up();
  h.submit(1);
  const pdu req = h.sent_one();
  // After the stray answers, the real one still completes the request.
  auto real_answer_completes = [&] {
    h.reply(answer(req, status::ok, "M1"));
    const auto done = h.completed();
    REQUIRE(done.size() == 1);
    CHECK(done[0].id == 1);
    CHECK(done[0].result.result == outcome::accepted);
    CHECK(done[0].result.message_id == "M1");
  };

  SECTION("unknown sequence number") {
    // The SMSC answers a sequence number the ESME never used.
    pdu stray = answer(req, status::ok, "X");
    stray.sequence_number = req.sequence_number + 1000;
    h.reply(stray);
    CHECK(h.fsm.stats().unmatched_responses == 1);
    CHECK(h.actions().empty());
    CHECK(h.sent().empty());
    CHECK(h.fsm.in_flight() == 1);
    CHECK(h.fsm.state() == link_state::bound);
    real_answer_completes();
  }

  SECTION("right sequence number, wrong command id") {
    // data_sm_resp and deliver_sm_resp carrying the submit_sm's sequence number.
    h.reply(pdu{id_of(command::data_sm_resp), status::ok, req.sequence_number,
                message_id_body{"X", {}}});
    h.reply(
        pdu{id_of(command::deliver_sm_resp), status::ok, req.sequence_number, message_id_body{}});
    CHECK(h.fsm.stats().unmatched_responses == 2);
    CHECK(h.actions().empty());
    CHECK(h.fsm.in_flight() == 1);
    real_answer_completes();
  }

  SECTION("generic_nack with the request's sequence number rejects it") {
    // The SMSC could not parse the submit_sm.
    h.reply(make_empty(command::generic_nack, req.sequence_number, status::invalid_command_id));
    const auto done = h.completed();
    REQUIRE(done.size() == 1);
    CHECK(done[0].result.result == outcome::rejected);
    CHECK(done[0].result.status == status::invalid_command_id);
  }
}

// =============================================================================================
// Throttling and rate

TEST_CASE("link_fsm: a throttled request goes again at once, a storm slows only its lane",
          "[link_fsm]") {
  const std::uint32_t st = GENERATE(status::throttled, status::message_queue_full);
  CAPTURE(status_name(st));
  link_config cfg = test_config();  // flow: 100 ms intervals, at least 20 per second

  SECTION("one throttling answer: the request is sent again at once, nothing pauses") {
    harness h(cfg);
    h.bring_up();
    h.submit(1);
    const pdu first = h.sent_one();

    // The SMSC refuses it this time: request 1 is not completed but sent again at once, under
    // a new sequence number; a new request is not held back either.
    h.reply(answer(first, st));
    CHECK(h.completed().empty());
    CHECK(h.fsm.stats().throttled == 1);
    const pdu again = h.sent_one();
    CHECK(request_of(again) == 1);
    CHECK(again.body == first.body);
    CHECK(again.sequence_number != first.sequence_number);
    h.submit(2);
    const pdu second = h.sent_one();
    CHECK(request_of(second) == 2);
    CHECK(h.fsm.flow(lane::interactive).rate() == 0);  // one refusal is no reason to slow down

    h.reply(answer(again, status::ok, "M1"));
    h.reply(answer(second, status::ok, "M2"));
    const auto done = h.completed();
    REQUIRE(done.size() == 2);
    CHECK(done[0].id == 1);
    CHECK(done[0].result.result == outcome::accepted);
    CHECK(done[0].result.message_id == "M1");
    CHECK(done[1].id == 2);
  }

  SECTION("an SMSC refusing every SMS: SMS wait at min_rate, USSD screens keep going") {
    cfg.window = 50;
    harness h(cfg);
    h.bring_up();
    // A backlog of receipts, refused one after another: after 10 refusals in an interval the
    // bulk lane is cut to flow_min_rate (20 per second).
    for (request_id id = 1; id <= 30; ++id) h.submit(id, lane::bulk);
    for (int round = 0; round < 3; ++round)
      for (const auto& p : h.sent()) h.reply(answer(p, st));
    CHECK(h.fsm.flow(lane::bulk).rate() == Approx(cfg.flow.min_rate));
    CHECK(h.fsm.stats().throttled_by_lane[1] >= 10);
    // What the cut let out is refused too; then nothing more goes until the next token.
    for (const auto& p : h.sent()) h.reply(answer(p, st));
    CHECK(h.sent().empty());
    CHECK(h.completed().empty());  // nothing given up: they wait in the queue
    CHECK(h.fsm.queued(lane::bulk) == 30);

    // Meanwhile a subscriber's screen goes out at once, ahead of the waiting SMS.
    h.submit(100, lane::interactive);
    const pdu screen = h.sent_one();
    CHECK(request_of(screen) == 100);
    h.reply(answer(screen, status::ok, "S1"));
    CHECK(h.completed().size() == 1);

    // One SMS per 50 ms while it lasts.
    const auto wire = [&] {
      h.advance(50ms);
      return h.sent().size();
    };
    CHECK(wire() == 1);
  }

  SECTION("after throttle_retries re-sends the request is rejected with the status") {
    cfg.throttle_retries = 3;
    harness h(cfg);
    h.bring_up();
    h.submit(1);
    int sends = 1;
    pdu current = h.sent_one();
    for (;;) {
      // The SMSC keeps throttling.
      h.reply(answer(current, st));
      const auto done = h.completed();
      if (!done.empty()) {
        REQUIRE(done.size() == 1);
        CHECK(done[0].id == 1);
        CHECK(done[0].result.result == outcome::rejected);
        CHECK(done[0].result.status == st);
        break;
      }
      current = h.sent_one();
      ++sends;
      REQUIRE(sends <= 10);
    }
    // The first send plus throttle_retries re-sends.
    CHECK(sends == 4);
    CHECK(h.fsm.stats().throttled == 4);
    CHECK(h.fsm.queued() == 0);
    CHECK(h.fsm.in_flight() == 0);
  }

  SECTION("re-sent until queue_timeout at the latest, then rejected with the status") {
    cfg.throttle_retries = 100'000;
    cfg.queue_timeout = 2s;
    harness h(cfg);
    h.bring_up();
    const auto start = h.now;
    h.submit(1);
    int sends = 0;
    std::vector<action::completed> done;
    while (done.empty()) {
      for (const auto& p : h.sent()) {
        ++sends;
        h.reply(answer(p, st));
      }
      done = h.completed();
      if (done.empty()) h.advance(10ms);
      REQUIRE(h.now - start <= 3s);
    }
    REQUIRE(done.size() == 1);
    CHECK(done[0].id == 1);
    CHECK(done[0].result.result != outcome::accepted);
    CHECK(h.now - start >= 2s);
    // Paced by the lane's rate, not sent in a tight loop: about min_rate per second.
    CHECK(sends >= 20);
    CHECK(sends <= 80);
  }
}

TEST_CASE("link_fsm: the token bucket sends at most tps requests per second", "[link_fsm]") {
  link_config cfg = test_config();
  cfg.tps = 10;
  cfg.burst = 1;
  harness h(cfg);
  h.bring_up();
  const auto bound_at = h.now;

  // Five requests queued at once: the first goes out now.
  for (request_id id = 1; id <= 5; ++id) h.submit(id);
  auto out = h.sent_timed();
  REQUIRE(out.size() == 1);

  // The rest follow one per 100 ms of fake time, never faster.
  SECTION("timer driven") {
    h.advance(1s);
  }
  SECTION("time passing in 7 ms steps") {
    for (int i = 0; i < 150; ++i) h.advance(7ms);  // a coarse timer
  }
  for (auto& w : h.sent_timed()) out.push_back(std::move(w));
  REQUIRE(out.size() == 5);
  CHECK(out[0].at == bound_at);
  for (std::size_t i = 1; i < out.size(); ++i) {
    CAPTURE(i);
    const auto gap = out[i].at - out[i - 1].at;
    CHECK(gap >= 100ms);
    CHECK(gap <= 107ms);
    CHECK(request_of(out[i].p) == i + 1);
  }
}

// =============================================================================================
// Keep-alive

TEST_CASE("link_fsm: enquire_link checks an idle link", "[link_fsm]") {
  link_config cfg = test_config();  // enquire_link_interval 30 s, response_timeout 10 s

  SECTION("an answered enquire_link keeps the link") {
    harness h(cfg);
    h.bring_up();
    // Nothing received for almost 30 s: no enquire_link yet.
    h.advance(30s - 1ms);
    CHECK(h.sent().empty());
    // 30 s of silence: the ESME asks.
    h.advance(1ms);
    const pdu enq = h.sent_one();
    CHECK(enq.command_id == id_of(command::enquire_link));
    CHECK(h.fsm.stats().enquire_links_sent == 1);
    // The SMSC answers.
    h.reply(answer(enq));
    CHECK(h.actions().empty());
    CHECK(h.fsm.state() == link_state::bound);
    // Long after response_timeout the link is still up, and 30 s after the answer it asks again.
    h.advance(30s - 1ms);
    CHECK(h.sent().empty());
    CHECK(h.actions().empty());
    h.advance(1ms);
    CHECK(h.sent_one().command_id == id_of(command::enquire_link));
    CHECK(h.fsm.state() == link_state::bound);
  }

  SECTION("an unanswered enquire_link drops the link") {
    harness h(cfg);
    h.bring_up();
    h.advance(30s);
    CHECK(h.sent_one().command_id == id_of(command::enquire_link));
    // A payment goes out while the enquire_link is outstanding.
    h.advance(1s);
    h.submit(7);
    CHECK(h.sent_one().command_id == id_of(command::submit_sm));
    // No answer to the enquire_link within response_timeout: the link is dropped.
    h.advance(9s - 1ms);
    CHECK(h.actions().empty());
    h.advance(1ms);
    const auto acts = h.actions();
    REQUIRE(count_of<action::close>(acts) == 1);
    const auto done = all_of<action::completed>(acts);
    REQUIRE(done.size() == 1);
    CHECK(done[0].id == 7);
    CHECK(done[0].result.result == outcome::link_lost);
    CHECK(h.fsm.state() == link_state::backoff);
    CHECK(h.fsm.stats().drops == 1);
    CHECK(h.fsm.in_flight() == 0);
  }

  SECTION("inactivity_timeout drops the link") {
    cfg.inactivity_timeout = 35s;
    harness h(cfg);
    h.bring_up();
    h.advance(30s);
    CHECK(h.sent_one().command_id == id_of(command::enquire_link));
    // Still nothing at all from the SMSC 35 s after the bind.
    h.advance(5s - 1ms);
    CHECK(h.actions().empty());
    h.advance(1ms);
    const auto closes = all_of<action::close>(h.actions());
    REQUIRE(closes.size() == 1);
    CHECK_THAT(closes[0].reason, Catch::Contains("inactivity"));
    CHECK(h.fsm.state() == link_state::backoff);
  }
}

TEST_CASE("link_fsm: the SMSC's enquire_link is answered with its sequence number", "[link_fsm]") {
  harness h;
  h.bring_up();
  // The SMSC checks on the ESME.
  h.reply(make_empty(command::enquire_link, 0x1234));
  const pdu resp = h.sent_one();
  CHECK(resp.command_id == id_of(command::enquire_link_resp));
  CHECK(resp.command_status == status::ok);
  CHECK(resp.sequence_number == 0x1234);
  CHECK(h.fsm.state() == link_state::bound);
  CHECK(h.actions().empty());
}

// =============================================================================================
// Requests from the SMSC

TEST_CASE("link_fsm: SMSC requests an ESME cannot take are refused", "[link_fsm]") {
  harness h;

  SECTION("unknown command id -> generic_nack ESME_RINVCMDID") {
    h.bring_up();
    h.receive_bytes(raw_pdu(0x00000099, 0, 77));
    const pdu nack = h.sent_one();
    CHECK(nack.command_id == id_of(command::generic_nack));
    CHECK(nack.command_status == status::invalid_command_id);
    CHECK(nack.sequence_number == 77);
    CHECK(h.fsm.stats().generic_nacks_sent == 1);
    CHECK(h.fsm.state() == link_state::bound);
    CHECK(h.actions().empty());
  }

  SECTION("deliver_sm before the bind completes -> ESME_RINVBNDSTS") {
    h.fsm.start(h.now);
    h.connected();
    const pdu bind = h.sent_one();
    h.actions();
    // The SMSC sends a deliver_sm before its bind_resp.
    h.reply(deliver(5, "*384#"));
    const pdu resp = h.sent_one();
    CHECK(resp.command_id == id_of(command::deliver_sm_resp));
    CHECK(resp.command_status == status::invalid_bind_status);
    CHECK(resp.sequence_number == 5);
    CHECK(count_of<action::inbound>(h.actions()) == 0);
    CHECK(h.fsm.state() == link_state::binding);
    // The bind still completes.
    h.reply(answer(bind));
    CHECK(h.fsm.state() == link_state::bound);
  }

  SECTION("submit_sm from the SMSC -> submit_sm_resp ESME_RINVBNDSTS") {
    h.bring_up();
    pdu sub = payment(1);
    sub.sequence_number = 9;
    h.reply(sub);
    const pdu resp = h.sent_one();
    CHECK(resp.command_id == id_of(command::submit_sm_resp));
    CHECK(resp.command_status == status::invalid_bind_status);
    CHECK(resp.sequence_number == 9);
    CHECK(h.actions().empty());
    CHECK(h.fsm.state() == link_state::bound);
  }
}

TEST_CASE("link_fsm: a deliver_sm goes to the app, which answers it", "[link_fsm]") {
  harness h;
  h.bring_up();

  SECTION("answered with the app's status") {
    const std::uint32_t st = GENERATE(status::ok, status::temp_app_error);
    // A subscriber dials *384*1#: the SMSC delivers it.
    const pdu msg = deliver(31, "*384*1#", {tlv::u8(tag::ussd_service_op, 1)});
    h.reply(msg);
    const auto in = all_of<action::inbound>(h.actions());
    REQUIRE(in.size() == 1);
    CHECK(in[0].message.command_id == id_of(command::deliver_sm));
    CHECK(in[0].message.sequence_number == 31);
    CHECK(std::get<sm_body>(in[0].message.body).short_message == "*384*1#");
    CHECK(tlv_u8(std::get<sm_body>(in[0].message.body).tlvs, tag::ussd_service_op) == 1);
    // Nothing is answered until the app responds.
    CHECK(h.sent().empty());
    h.fsm.respond(in[0].message, st);
    const pdu resp = h.sent_one();
    CHECK(resp.command_id == id_of(command::deliver_sm_resp));
    CHECK(resp.command_status == st);
    CHECK(resp.sequence_number == 31);
  }

  SECTION("40 TLVs -> ESME_RINVOPTPARSTREAM, link stays bound") {
    tlv_list many;
    for (std::uint16_t i = 0; i < 40; ++i)
      many.push_back(tlv::u8(static_cast<std::uint16_t>(0x1400 + i), 1));
    REQUIRE(many.size() > h.fsm.config().limits.max_tlvs);
    // A deliver_sm with 40 optional parameters, more than the codec accepts.
    h.reply(deliver(32, "*384#", many));
    const pdu resp = h.sent_one();
    CHECK(resp.command_id == id_of(command::deliver_sm_resp));
    CHECK(resp.command_status == status::invalid_optional_param_stream);
    CHECK(resp.sequence_number == 32);
    CHECK(h.actions().empty());  // not handed to the app, not dropped
    CHECK(h.fsm.state() == link_state::bound);
    CHECK(h.fsm.stats().decode_errors == 1);
  }
}

// =============================================================================================
// Responses matched on their header

TEST_CASE(
    "link_fsm: a deferred answer goes out when the app has it, or 'try later' at the deadline",
    "[link_fsm]") {
  link_config cfg = test_config();
  cfg.deferred_response_timeout = 5s;
  cfg.max_deferred = 2;
  harness h(cfg);
  h.bring_up();
  const auto conn = h.fsm.connection();

  // A delivery receipt arrives; the app will answer once it has written it.
  h.reply(deliver(41, "id:1A stat:DELIVRD"));
  auto in = all_of<action::inbound>(h.actions());
  REQUIRE(in.size() == 1);
  REQUIRE(h.fsm.defer(h.now, in[0].message));
  CHECK(h.sent().empty());
  CHECK(h.fsm.deferred() == 1);
  // Written: the answer goes out with the receipt's sequence number; a second answer is nothing.
  h.advance(3ms);
  h.fsm.respond_deferred(h.now, conn, 41, status::ok);
  const pdu resp = h.sent_one();
  CHECK(resp.command_id == id_of(command::deliver_sm_resp));
  CHECK(resp.command_status == status::ok);
  CHECK(resp.sequence_number == 41);
  h.fsm.respond_deferred(h.now, conn, 41, status::ok);
  CHECK(h.sent().empty());

  // Two more wait; a third cannot (max_deferred): the app answers that one at once.
  h.reply(deliver(42, "id:1B stat:DELIVRD"));
  h.reply(deliver(43, "id:1C stat:DELIVRD"));
  h.reply(deliver(44, "id:1D stat:DELIVRD"));
  in = all_of<action::inbound>(h.actions());
  REQUIRE(in.size() == 3);
  CHECK(h.fsm.defer(h.now, in[0].message));
  CHECK(h.fsm.defer(h.now, in[1].message));
  CHECK_FALSE(h.fsm.defer(h.now, in[2].message));
  CHECK(h.fsm.stats().deferred_refused == 1);

  // The store never answers (a full disk): at the deadline the SMSC is told to try later.
  h.advance(4999ms);
  CHECK(h.sent().empty());
  h.advance(1ms);
  const auto late = h.sent();
  REQUIRE(late.size() == 2);
  for (const auto& p : late) {
    CHECK(p.command_id == id_of(command::deliver_sm_resp));
    CHECK(p.command_status == status::temp_app_error);
  }
  CHECK(h.fsm.stats().deferred_expired == 2);
  h.fsm.respond_deferred(h.now, conn, 42, status::ok);  // the write came in the end: too late
  CHECK(h.sent().empty());

  // One waits when the link drops: gone with the connection (the SMSC sends it again), and an
  // answer meant for it never reaches the next connection, even under the same number.
  h.reply(deliver(45, "id:1E stat:DELIVRD"));
  in = all_of<action::inbound>(h.actions());
  REQUIRE(h.fsm.defer(h.now, in[0].message));
  h.closed("connection reset by peer");
  h.advance(2s);
  REQUIRE(h.fsm.state() == link_state::connecting);
  h.connected();
  h.reply(answer(h.sent_one()));
  REQUIRE(h.fsm.state() == link_state::bound);
  CHECK(h.fsm.connection() == conn + 1);
  CHECK(h.fsm.deferred() == 0);
  h.reply(deliver(45, "id:1F stat:DELIVRD"));
  h.actions();
  h.fsm.respond_deferred(h.now, conn, 45, status::ok);
  CHECK(h.sent().empty());
}

TEST_CASE("link_fsm: stop waits for the answers the app still owes, within drain_timeout",
          "[link_fsm]") {
  harness h;
  h.bring_up();
  h.reply(deliver(51, "id:2A stat:DELIVRD"));
  auto in = all_of<action::inbound>(h.actions());
  REQUIRE(h.fsm.defer(h.now, in[0].message));
  // SIGTERM: the link drains; nothing of ours is in flight, but a receipt is being written.
  h.fsm.stop(h.now);
  h.advance(100ms);
  CHECK(h.fsm.state() == link_state::draining);
  h.fsm.respond_deferred(h.now, h.fsm.connection(), 51, status::ok);
  h.advance(1ms);
  const auto out = h.sent();
  REQUIRE(out.size() == 2);
  CHECK(out[0].command_id == id_of(command::deliver_sm_resp));
  CHECK(out[1].command_id == id_of(command::unbind));
  CHECK(h.fsm.state() == link_state::unbinding);
}

TEST_CASE("link_fsm: submit_sm_resp is settled by its header", "[link_fsm]") {
  harness h;
  h.bring_up();
  h.submit(1);
  const pdu req = h.sent_one();

  SECTION("status OK with a malformed body still accepts") {
    // message_id without its NUL terminator.
    h.receive_bytes(
        raw_pdu(id_of(command::submit_sm_resp), status::ok, req.sequence_number, "abc"));
    const auto done = h.completed();
    REQUIRE(done.size() == 1);
    CHECK(done[0].id == 1);
    CHECK(done[0].result.result == outcome::accepted);
    CHECK(done[0].result.status == status::ok);
    CHECK(h.fsm.stats().decode_errors == 1);
  }

  SECTION("vendor status 0x400 rejects with that status") {
    // An operator-specific error code.
    h.reply(answer(req, 0x400));
    const auto done = h.completed();
    REQUIRE(done.size() == 1);
    CHECK(done[0].result.result == outcome::rejected);
    CHECK(done[0].result.status == 0x400);
  }

  SECTION("an error status with a message_id body rejects with that status") {
    std::string body = "X1";
    body.push_back('\0');
    // Some SMSCs send a message_id with an error status.
    h.receive_bytes(
        raw_pdu(id_of(command::submit_sm_resp), status::submit_failed, req.sequence_number, body));
    const auto done = h.completed();
    REQUIRE(done.size() == 1);
    CHECK(done[0].result.result == outcome::rejected);
    CHECK(done[0].result.status == status::submit_failed);
  }

  CHECK(h.fsm.in_flight() == 0);
  CHECK(h.fsm.state() == link_state::bound);
}

// =============================================================================================
// Losing the link

TEST_CASE("link_fsm: a dropped link loses what is in flight and keeps the queue", "[link_fsm]") {
  link_config cfg = test_config();
  cfg.window = 2;  // queue_timeout 60 s
  harness h(cfg);
  h.bring_up();
  const auto submitted_at = h.now;
  for (request_id id = 1; id <= 5; ++id) h.submit(id);
  const auto first = h.sent();
  REQUIRE(first.size() == 2);

  // The TCP connection resets.
  h.closed("connection reset by peer");
  auto acts = h.actions();
  auto done = all_of<action::completed>(acts);
  REQUIRE(done.size() == 2);
  CHECK(done[0].id == 1);
  CHECK(done[1].id == 2);
  for (const auto& d : done) CHECK(d.result.result == outcome::link_lost);
  CHECK(count_of<action::close>(acts) == 0);  // it is closed already
  CHECK(h.fsm.state() == link_state::backoff);
  CHECK(h.fsm.queued() == 3);
  CHECK(h.fsm.in_flight() == 0);
  CHECK(h.fsm.stats().drops == 1);

  SECTION("the queue goes out after the re-bind") {
    h.reconnect();
    REQUIRE(h.fsm.state() == link_state::bound);
    auto out = h.sent();
    REQUIRE(out.size() == 2);
    CHECK(request_of(out[0]) == 3);
    CHECK(request_of(out[1]) == 4);
    // A late answer to request 1 from the old connection matches nothing.
    h.reply(answer(first[0], status::ok, "old"));
    CHECK(h.completed().empty());
    // The SMSC answers; request 5 follows.
    h.reply(answer(out[0], status::ok, "M3"));
    const pdu fifth = h.sent_one();
    CHECK(request_of(fifth) == 5);
    h.reply(answer(out[1], status::ok, "M4"));
    h.reply(answer(fifth, status::ok, "M5"));
    done = h.completed();
    REQUIRE(done.size() == 3);
    for (const auto& d : done) CHECK(d.result.result == outcome::accepted);
  }

  SECTION("queue_timeout fails queued requests while the link is down") {
    // The SMSC refuses every TCP connect.
    int refused = 0;
    auto refuse_until = [&](clock::time_point t) {
      std::vector<action::completed> results;
      while (h.now < t) {
        h.advance_to(std::min(t, h.fsm.next_deadline()));
        for (const auto& a : h.actions()) {
          if (std::holds_alternative<action::connect>(a)) {
            h.fsm.on_connect_failed(h.now, "connection refused");
            ++refused;
          }
          if (const auto* c = std::get_if<action::completed>(&a)) results.push_back(*c);
        }
      }
      return results;
    };
    CHECK(refuse_until(submitted_at + 60s - 1ms).empty());
    CHECK(h.fsm.queued() == 3);
    const auto timed_out = refuse_until(submitted_at + 60s);
    REQUIRE(timed_out.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(timed_out[i].id == i + 3);
      CHECK(timed_out[i].result.result == outcome::not_sent);
    }
    CHECK(h.fsm.queued() == 0);
    CHECK(refused > 10);
  }

  // Whatever happened, every request completed exactly once.
  for (request_id id = 1; id <= 5; ++id) CHECK(h.completions[id] == 1);
}

TEST_CASE("link_fsm: a framing error is answered with generic_nack, then the link closes",
          "[link_fsm]") {
  harness h;
  h.bring_up();
  h.submit(1);
  h.sent_one();

  // The SMSC writes a header announcing a 1 MiB PDU: the stream cannot be trusted any more.
  h.receive_bytes(
      raw_pdu(id_of(command::deliver_sm), 0, 55, "garbage").replace(0, 4, "\x00\x10\x00\x00", 4));
  const pdu nack = h.sent_one();
  CHECK(nack.command_id == id_of(command::generic_nack));
  CHECK(nack.command_status == status::invalid_command_length);
  CHECK(nack.sequence_number == 55);
  const auto acts = h.actions();
  CHECK(count_of<action::close>(acts) == 1);
  const auto done = all_of<action::completed>(acts);
  REQUIRE(done.size() == 1);
  CHECK(done[0].result.result == outcome::link_lost);
  CHECK(h.fsm.state() == link_state::backoff);
  CHECK(h.fsm.stats().decode_errors == 1);
}

TEST_CASE("link_fsm: the SMSC's unbind is answered, then the link closes and reconnects",
          "[link_fsm]") {
  harness h;
  h.bring_up();
  h.submit(1);
  h.sent_one();

  // The SMSC unbinds (maintenance).
  h.reply(make_empty(command::unbind, 88));
  const pdu resp = h.sent_one();
  CHECK(resp.command_id == id_of(command::unbind_resp));
  CHECK(resp.command_status == status::ok);
  CHECK(resp.sequence_number == 88);
  const auto acts = h.actions();
  CHECK(count_of<action::close>(acts) == 1);
  const auto done = all_of<action::completed>(acts);
  REQUIRE(done.size() == 1);
  CHECK(done[0].result.result == outcome::link_lost);
  CHECK(h.fsm.state() == link_state::backoff);

  // The link comes back by itself.
  h.reconnect();
  CHECK(h.fsm.state() == link_state::bound);
  CHECK(h.fsm.stats().binds_ok == 2);
}

// =============================================================================================
// Stopping

TEST_CASE("link_fsm: stop drains, unbinds and closes", "[link_fsm]") {
  link_config cfg = test_config();
  cfg.window = 2;  // drain_timeout 2 s, unbind_timeout 1 s, response_timeout 10 s
  harness h(cfg);
  h.bring_up();
  for (request_id id = 1; id <= 4; ++id) h.submit(id);
  const auto in_flight = h.sent();
  REQUIRE(in_flight.size() == 2);

  // The owner stops the link: the queue is given up, the two in flight are waited for.
  h.fsm.stop(h.now);
  auto acts = h.actions();
  CHECK(transitions(acts) == std::vector<std::string>{"bound->draining"});
  auto done = all_of<action::completed>(acts);
  REQUIRE(done.size() == 2);
  CHECK(done[0].id == 3);
  CHECK(done[1].id == 4);
  for (const auto& d : done) CHECK(d.result.result == outcome::not_sent);
  CHECK(h.sent().empty());

  // New work is refused at once.
  h.submit(5);
  done = h.completed();
  REQUIRE(done.size() == 1);
  CHECK(done[0].id == 5);
  CHECK(done[0].result.result == outcome::not_sent);
  CHECK(h.sent().empty());

  SECTION("the responses arrive, then unbind_resp") {
    // First answer: still draining.
    h.reply(answer(in_flight[0], status::ok, "M1"));
    CHECK(h.completed().size() == 1);
    CHECK(h.sent().empty());
    CHECK(h.fsm.state() == link_state::draining);
    // Last answer: the ESME unbinds.
    h.reply(answer(in_flight[1], status::ok, "M2"));
    acts = h.actions();
    CHECK(all_of<action::completed>(acts).size() == 1);
    CHECK(transitions(acts) == std::vector<std::string>{"draining->unbinding"});
    const pdu unbind = h.sent_one();
    CHECK(unbind.command_id == id_of(command::unbind));
    // The SMSC confirms: the link closes and stops.
    h.reply(answer(unbind));
    acts = h.actions();
    CHECK(count_of<action::close>(acts) == 1);
    CHECK(transitions(acts) == std::vector<std::string>{"unbinding->stopped"});
    CHECK(h.fsm.state() == link_state::stopped);
    CHECK(h.fsm.next_deadline() == clock::time_point::max());
  }

  SECTION("drain_timeout: unbind without the answers") {
    // The SMSC never answers the two requests.
    h.advance(2s - 1ms);
    CHECK(h.sent().empty());
    h.advance(1ms);
    const pdu unbind = h.sent_one();
    CHECK(unbind.command_id == id_of(command::unbind));
    CHECK(transitions(h.actions()) == std::vector<std::string>{"draining->unbinding"});
    // The SMSC answers only the unbind: the two requests are lost with the link.
    h.reply(answer(unbind));
    acts = h.actions();
    CHECK(count_of<action::close>(acts) == 1);
    done = all_of<action::completed>(acts);
    REQUIRE(done.size() == 2);
    for (const auto& d : done) CHECK(d.result.result == outcome::link_lost);
    CHECK(h.fsm.state() == link_state::stopped);
  }

  SECTION("unbind_timeout: close without unbind_resp") {
    // Both answers arrive: the ESME unbinds, but the SMSC never confirms.
    h.reply(answer(in_flight[0]));
    h.reply(answer(in_flight[1]));
    CHECK(h.sent_one().command_id == id_of(command::unbind));
    h.actions();
    h.advance(1s - 1ms);
    CHECK(h.actions().empty());
    h.advance(1ms);
    acts = h.actions();
    const auto closes = all_of<action::close>(acts);
    REQUIRE(closes.size() == 1);
    CHECK_THAT(closes[0].reason, Catch::Contains("unbind"));
    CHECK(h.fsm.state() == link_state::stopped);
  }

  // Stopped: every request completed once, and new ones are refused.
  CHECK(h.fsm.state() == link_state::stopped);
  h.submit(6);
  done = h.completed();
  REQUIRE(done.size() == 1);
  CHECK(done[0].result.result == outcome::not_sent);
  for (request_id id = 1; id <= 6; ++id) CHECK(h.completions[id] == 1);
}

TEST_CASE("link_fsm: stop while the link is down stops at once", "[link_fsm]") {
  harness h;
  h.bring_up();
  // The connection resets; a request arrives and waits for the next bind.
  h.closed("connection reset by peer");
  h.submit(1);
  h.actions();
  CHECK(h.fsm.queued() == 1);

  // The owner stops: nothing to drain, no reconnect.
  h.fsm.stop(h.now);
  const auto acts = h.actions();
  CHECK(transitions(acts) == std::vector<std::string>{"backoff->stopped"});
  const auto done = all_of<action::completed>(acts);
  REQUIRE(done.size() == 1);
  CHECK(done[0].result.result == outcome::not_sent);
  h.advance(10s);
  CHECK(h.actions().empty());  // no reconnect
}

TEST_CASE("link_fsm: draining an idle link keeps next_deadline in the future", "[link_fsm]") {
  harness h;  // enquire_link_interval 30 s, drain_timeout 2 s, response_timeout 10 s
  h.bring_up();

  // Nothing received for 29.5 s; two payments go out, then the owner stops.
  h.advance(29500ms);
  h.submit(1);
  h.submit(2);
  const auto out = h.sent();
  REQUIRE(out.size() == 2);
  h.fsm.stop(h.now);
  CHECK(h.fsm.state() == link_state::draining);

  // 30 s of silence passes while draining: no enquire_link is due (the link is going away), and
  // the timer must not fire again and again for it (checked in advance()).
  h.advance(1s);
  CHECK(h.sent().empty());
  CHECK(h.fsm.state() == link_state::draining);

  // The answers arrive; the link unbinds.
  h.reply(answer(out[0]));
  h.reply(answer(out[1]));
  CHECK(h.sent_one().command_id == id_of(command::unbind));
}

// =============================================================================================
// Exactly once, whatever happens

TEST_CASE("link_fsm: every submitted request completes exactly once (randomized)", "[link_fsm]") {
  const std::uint64_t seed = GENERATE(range<std::uint64_t>(1, 9));
  CAPTURE(seed);
  link_config cfg = test_config();
  cfg.window = 4;
  cfg.max_queue = 20;
  cfg.tps = 50;
  cfg.burst = 3;
  cfg.response_timeout = 2s;
  cfg.queue_timeout = 5s;
  cfg.enquire_link_interval = 3s;
  cfg.inactivity_timeout = 10s;
  cfg.throttle_retries = 2;
  cfg.connect_timeout = 1s;
  cfg.bind_timeout = 1s;
  cfg.drain_timeout = 1s;
  cfg.unbind_timeout = 500ms;
  harness h(cfg, seed);
  std::mt19937_64 rng(seed);
  auto chance = [&](int percent) {
    return std::uniform_int_distribution<int>(1, 100)(rng) <= percent;
  };

  std::multiset<request_id> submitted;
  request_id next_id = 1;
  std::vector<pdu> outstanding;  // ESME requests on the current connection, unanswered
  std::vector<pdu> stale;        // submit_sm from earlier connections
  bool connect_requested = false;
  std::size_t checked = 0;  // completions already checked

  // The fake SMSC and driver look at everything the link did.
  auto observe = [&] {
    for (const auto& a : h.actions()) {
      if (std::holds_alternative<action::connect>(a)) connect_requested = true;
      if (std::holds_alternative<action::close>(a)) {
        for (auto& p : outstanding)
          if (p.command_id == id_of(command::submit_sm)) stale.push_back(std::move(p));
        outstanding.clear();
        h.closed("closed by the driver");  // ignored by the link: it closed it itself
      }
      if (const auto* in = std::get_if<action::inbound>(&a)) h.fsm.respond(in->message, 0);
    }
    for (auto& p : h.sent())
      if (!is_response(p.command_id)) outstanding.push_back(std::move(p));
    for (; checked < h.all_results.size(); ++checked) {
      const request_id id = h.all_results[checked].id;
      if (h.completions[id] != 1 || submitted.count(id) != 1)
        FAIL("request " << id << " completed " << h.completions[id] << " times");
    }
    REQUIRE(h.fsm.stats().window_peak <= cfg.window);
  };

  auto answer_one = [&](std::size_t i, bool finishing) {
    const pdu req = outstanding[i];
    outstanding.erase(outstanding.begin() + static_cast<std::ptrdiff_t>(i));
    switch (static_cast<command>(req.command_id)) {
      case command::bind_transceiver:
        h.reply(answer(req, finishing || chance(85) ? status::ok : status::invalid_password));
        break;
      case command::submit_sm: {
        const int r = std::uniform_int_distribution<int>(1, 100)(rng);
        if (finishing || r <= 55)
          h.reply(answer(req, status::ok, "M" + std::to_string(r)));
        else if (r <= 70)
          h.reply(answer(req, status::throttled));
        else if (r <= 78)
          h.reply(answer(req, status::message_queue_full));
        else if (r <= 88)
          h.reply(answer(req, status::invalid_dest_addr));
        else if (r <= 93)
          h.reply(answer(req, 0x400));
        // else: the SMSC loses it
        break;
      }
      case command::enquire_link:
        if (finishing || chance(80)) h.reply(answer(req));
        break;
      case command::unbind:
        h.reply(answer(req));
        break;
      default:
        FAIL("unexpected request from the ESME: " << command_name(req.command_id));
    }
  };

  h.fsm.start(h.now);
  for (int step = 0; step < 4000; ++step) {
    observe();
    const int what = std::uniform_int_distribution<int>(0, 99)(rng);
    if (what < 30) {
      // The owner submits.
      submitted.insert(next_id);
      h.submit(next_id++);
    } else if (what < 60) {
      // The SMSC answers something.
      if (!outstanding.empty())
        answer_one(std::uniform_int_distribution<std::size_t>(0, outstanding.size() - 1)(rng),
                   false);
    } else if (what < 85) {
      // Time passes.
      h.advance(milliseconds(std::uniform_int_distribution<int>(1, 1500)(rng)));
    } else if (what < 93) {
      // The network.
      if (connect_requested && h.fsm.state() == link_state::connecting) {
        connect_requested = false;
        if (chance(85)) {
          outstanding.clear();
          h.connected();
        } else {
          h.fsm.on_connect_failed(h.now, "connection refused");
        }
      } else if ((h.fsm.state() == link_state::bound || h.fsm.state() == link_state::binding) &&
                 chance(15)) {
        for (auto& p : outstanding)
          if (p.command_id == id_of(command::submit_sm)) stale.push_back(std::move(p));
        outstanding.clear();
        h.closed("connection reset by peer");
      }
    } else if (what < 96) {
      // A late answer from an earlier connection.
      if (!stale.empty() && h.fsm.state() == link_state::bound) {
        h.reply(answer(stale.back(), status::ok, "late"));
        stale.pop_back();
      }
    } else {
      // The SMSC's own traffic.
      if (h.fsm.state() == link_state::bound) {
        if (chance(50))
          h.reply(make_empty(command::enquire_link, 0x7000));
        else
          h.reply(deliver(0x7001, "*384#"));
      }
    }
  }

  // The owner stops; the SMSC answers everything from now on.
  observe();
  h.fsm.stop(h.now);
  for (int i = 0; i < 1000 && h.fsm.state() != link_state::stopped; ++i) {
    observe();
    while (!outstanding.empty()) {
      answer_one(0, true);
      observe();
    }
    h.advance(50ms);
  }
  observe();
  REQUIRE(h.fsm.state() == link_state::stopped);
  CHECK(h.fsm.queued() == 0);
  CHECK(h.fsm.in_flight() == 0);

  std::multiset<request_id> completed;
  for (const auto& [id, n] : h.completions)
    for (int k = 0; k < n; ++k) completed.insert(id);
  CHECK(completed == submitted);
  CHECK(submitted.size() > 500);

  // The run went through every kind of ending, and the link kept doing useful work.
  std::set<outcome> kinds;
  for (const auto& r : h.all_results) kinds.insert(r.result.result);
  CHECK(kinds.size() == 5);
  const auto& st = h.fsm.stats();
  CHECK(st.accepted + st.rejected + st.timeouts + st.lost + st.not_sent == st.submitted);
  CHECK(st.accepted >= 100);
  CHECK(st.throttled >= 20);
  CHECK(st.drops >= 5);
  CHECK(st.window_peak == cfg.window);
}
