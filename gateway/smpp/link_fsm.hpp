// link_fsm: the ESME side of one SMPP 3.4 bind, as an I/O-free state machine.
//
// Events in (connected, bytes decoded into PDUs, timer ticks, submits from owners), actions out
// (connect, close, bytes to write, results for owners, inbound messages for the app). A thin
// coroutine (link_session) executes the actions; tests drive it with a fake clock.
//
//   stopped --start--> connecting --connected--> binding --bind_resp ok--> bound
//      ^                   |  ^                     |                        |   \ stop
//      |             failed|  |backoff expired      |bind error/timeout      |    v
//      |                   v  |                     v                        |  draining
//      +------stop------ backoff <------------------+------ drop/unbind -----+    |
//                                                                                  v
//   stopped <-- unbind_resp (or unbind_timeout) -- unbinding <-- window empty or drain_timeout
//
// Timers (all from link_config, checked by on_timer against next_deadline()):
//   connect_timeout     connecting too long            -> close, backoff
//   bind_timeout        no bind_resp                   -> close, backoff
//   response_timeout    per request in the window      -> owner gets outcome::timeout
//   enquire_link_interval  nothing received for this long -> send enquire_link
//   inactivity_timeout  nothing received for this long -> close, backoff
//   flow (flow_fsm)     after ESME_RTHROTTLED/RMSGQFUL -> the lane's send rate is cut, the
//                       request re-queued at the front of its lane and sent when the rate allows
//   queue_timeout       request waited this long unsent -> owner gets outcome::not_sent
//   drain_timeout / unbind_timeout on stop
//   reconnect back-off  capped exponential with jitter
//
// Requests travel in two lanes: interactive (USSD screens: a subscriber is looking at the phone)
// goes first, bulk (SMS) takes what the window and its own rate leave. Each lane learns its own
// send rate from the SMSC's throttling answers (flow_fsm): an SMSC whose SMS side is saturated
// does not slow the screens down.
//
// Every request the SMSC sends gets an answer: deliver_sm/data_sm go to the app, which must call
// respond(), or defer() and later respond_deferred() (a delivery receipt is answered once it is
// durable; one not answered within deferred_response_timeout is answered ESME_RX_T_APPN, so the
// SMSC sends it again; a connection that ends drops them, and the SMSC sends those again too);
// enquire_link and unbind are answered here; anything else gets generic_nack
// (ESME_RINVCMDID) or its own response with ESME_RINVBNDSTS. Every request an owner submits
// ends in exactly one completion, also when the link drops or stops.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "gateway/smpp/codec.hpp"
#include "gateway/smpp/flow_fsm.hpp"
#include "gateway/smpp/pdu.hpp"

namespace ussdpay::smpp {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

enum class bind_mode : std::uint8_t { transceiver, transmitter, receiver };
std::string_view to_string(bind_mode m);

/// Which queue a submit waits in: interactive (USSD screens) is served first.
enum class lane : std::uint8_t { interactive, bulk };
inline constexpr std::size_t lanes = 2;
std::string_view to_string(lane l);

/// Everything one bind needs. Defaults follow Kannel/Cloudhopper practice (gateways.md sec. 8).
struct link_config {
  bind_mode mode = bind_mode::transceiver;  ///< which bind PDU to send
  std::string system_id = "ussdpay";        ///< bind system_id (max 15 chars)
  std::string password;                     ///< bind password (max 8 chars)
  std::string system_type;                  ///< bind system_type (max 12 chars)
  address address_range;                    ///< bind address_range
  std::uint32_t window = 10;                ///< requests in flight awaiting a response
  std::size_t max_queue = 100000;           ///< requests waiting for the window, beyond: refused
  double tps = 0;                           ///< requests per second sent; 0 = unlimited
  double burst = 0;                         ///< token bucket depth; 0 = max(1, tps / 10)
  /// Re-sends of one request after ESME_RTHROTTLED/RMSGQFUL before it completes as rejected
  /// (0: hand throttling straight back to the owner). The lane's rate paces them, and
  /// queue_timeout, counted from the first queuing, ends them too.
  std::uint32_t throttle_retries = 1000;
  milliseconds connect_timeout{5000};         ///< TCP (and TLS) connect
  milliseconds bind_timeout{5000};            ///< bind sent -> bind_resp
  milliseconds response_timeout{10000};       ///< request sent -> response
  milliseconds queue_timeout{30000};          ///< request queued unsent -> given up
  milliseconds enquire_link_interval{30000};  ///< idle receive time before enquire_link
  milliseconds inactivity_timeout{120000};    ///< idle receive time before the link is dropped
  flow_config flow;                           ///< how each lane's rate follows throttling
  milliseconds reconnect_initial{100};        ///< first reconnect delay
  milliseconds reconnect_max{1000};           ///< reconnect delay cap (before jitter)
  milliseconds drain_timeout{2000};           ///< on stop: wait for responses in flight
  milliseconds unbind_timeout{1000};          ///< on stop: wait for unbind_resp
  /// An inbound request the app answers later (defer): answered ESME_RX_T_APPN if it has not
  /// answered by then (well within the SMSC's own response timeout, usually 30 s or more).
  milliseconds deferred_response_timeout{5000};
  /// Inbound requests waiting for a later answer, at most; past it defer() refuses (the app
  /// answers at once). Each holds a slot of the SMSC's window.
  std::uint32_t max_deferred = 1000;
  codec_limits limits;  ///< bounds on received PDUs
};

enum class link_state : std::uint8_t {
  stopped,
  connecting,
  binding,
  bound,
  draining,
  unbinding,
  backoff
};
std::string_view to_string(link_state s);

/// How a submitted request ended.
enum class outcome : std::uint8_t {
  accepted,   ///< the SMSC answered ESME_ROK
  rejected,   ///< the SMSC answered an error status (see submit_result::status)
  timeout,    ///< sent, no answer within response_timeout: the SMSC may have it (unknown)
  link_lost,  ///< sent, the link dropped before the answer: the SMSC may have it (unknown)
  not_sent,   ///< never reached the SMSC (queue full or timed out, stopping, unencodable)
};
std::string_view to_string(outcome o);

struct submit_result {
  outcome result = outcome::not_sent;
  std::uint32_t status = 0;  ///< command_status for accepted/rejected
  std::string message_id;    ///< from submit_sm_resp / data_sm_resp
  std::string detail;        ///< human-readable reason for logs
};

using request_id = std::uint64_t;

namespace action {
struct connect {};
struct close {
  std::string reason;
};
struct completed {
  request_id id;
  submit_result result;
};
/// A deliver_sm or data_sm from the SMSC. The owner must call link_fsm::respond().
struct inbound {
  pdu message;
};
struct state_changed {
  link_state from;
  link_state to;
  std::string reason;
};
}  // namespace action
using link_action = std::variant<action::connect, action::close, action::completed, action::inbound,
                                 action::state_changed>;

/// Counters for metrics and tests.
/// PDUs read and written with one command_id and command_status.
struct pdu_kind {
  std::uint32_t command_id = 0, status = 0;
  std::uint64_t in = 0, out = 0;
};

struct link_stats {
  /// The peer chooses both fields of a PDU kind, so the table is bounded: past this many pairs,
  /// the rest are counted under command_id 0 and status 0 ("other").
  static constexpr std::size_t max_pdu_kinds = 48;

  std::uint64_t binds_ok = 0, binds_failed = 0, connects_failed = 0, drops = 0;
  std::uint64_t pdus_in = 0, pdus_out = 0;
  std::vector<pdu_kind> pdu_kinds;  ///< in order of first sight
  std::uint64_t submitted = 0, accepted = 0, rejected = 0, timeouts = 0, lost = 0, not_sent = 0;
  std::uint64_t throttled = 0, enquire_links_sent = 0, generic_nacks_sent = 0;
  std::array<std::uint64_t, lanes> submitted_by_lane{}, throttled_by_lane{};
  std::uint64_t unmatched_responses = 0, decode_errors = 0;
  /// Inbound requests answered later: deferred, then answered by the deadline or not (answered
  /// ESME_RX_T_APPN), or refused a deferral because max_deferred were waiting.
  std::uint64_t deferred = 0, deferred_expired = 0, deferred_refused = 0;
  std::uint32_t window_peak = 0;
};

class link_fsm {
 public:
  link_fsm(link_config cfg, std::uint64_t jitter_seed);

  // --- events -------------------------------------------------------------------------------
  void start(clock::time_point now);
  /// Graceful stop: refuse new work, wait for responses in flight, unbind, close.
  void stop(clock::time_point now);
  void on_connected(clock::time_point now);
  void on_connect_failed(clock::time_point now, std::string reason);
  /// The transport closed (EOF, reset, error) or the driver closed it after action::close.
  void on_closed(clock::time_point now, std::string reason);
  /// One whole frame from the framer.
  void on_frame(clock::time_point now, std::span<const std::uint8_t> frame);
  /// The framer found an unrecoverable length; the link must be dropped.
  void on_framing_error(clock::time_point now, const header& h, std::string reason);
  void on_timer(clock::time_point now);

  /// Queues a submit_sm or data_sm (sequence number assigned here) in its lane. Always ends in
  /// exactly one action::completed with this id, possibly immediately (queue full, receiver
  /// bind, stopped).
  void submit(clock::time_point now, request_id id, pdu request, lane l = lane::interactive);
  /// Answers an inbound deliver_sm/data_sm.
  void respond(const pdu& request, std::uint32_t status, std::string message_id = {});
  /// Instead of respond(): the answer to `request` comes later through respond_deferred, on this
  /// connection (connection()), by deferred_response_timeout. False when max_deferred already
  /// wait or the link cannot answer anyway: then respond() now.
  bool defer(clock::time_point now, const pdu& request);
  /// The later answer to a deferred request of connection `conn`. Nothing when it was answered
  /// already (the deadline passed) or that connection is gone.
  void respond_deferred(clock::time_point now, std::uint64_t conn, std::uint32_t sequence_number,
                        std::uint32_t status);
  /// Counts connections; answers that must go out on the one they belong to carry it.
  std::uint64_t connection() const { return connection_; }
  std::size_t deferred() const { return deferred_.size(); }

  // --- outputs ------------------------------------------------------------------------------
  /// Actions produced since the last call, in order.
  std::vector<link_action> take_actions();
  /// Same, into `out` (cleared first), reusing its capacity: no allocation per event.
  void take_actions(std::vector<link_action>& out);
  /// Bytes to write, appended since the last call.
  std::string take_output();
  bool has_output() const { return !out_.empty(); }
  /// When on_timer must next be called (time_point::max() if never).
  clock::time_point next_deadline() const;

  link_state state() const { return state_; }
  bool can_transmit() const { return cfg_.mode != bind_mode::receiver; }
  std::size_t in_flight() const { return window_.size(); }
  std::uint32_t window() const { return cfg_.window; }
  std::size_t queued() const { return queues_[0].size() + queues_[1].size(); }
  std::size_t queued(lane l) const { return queues_[static_cast<std::size_t>(l)].size(); }
  /// A lane's rate controller (its rate: 0 = unlimited).
  const flow_fsm& flow(lane l) const { return flows_[static_cast<std::size_t>(l)]; }
  const link_stats& stats() const { return stats_; }
  const link_config& config() const { return cfg_; }

 private:
  struct queued_request {
    request_id id;
    pdu request;
    clock::time_point queued_at;
    std::uint32_t attempts = 0;
    lane in = lane::interactive;
  };
  struct in_flight_request {
    request_id id;
    pdu request;  // kept for a re-send after throttling
    clock::time_point queued_at;
    clock::time_point deadline;
    std::uint32_t attempts;
    bool internal;  // enquire_link / unbind sent by the link itself
    lane in = lane::interactive;
  };

  void set_state(link_state to, std::string reason);
  void send(const pdu& p);
  std::uint32_t next_sequence();
  void pump(clock::time_point now);  // move queued requests into the window
  void send_queued(clock::time_point now, queued_request q);
  void refill_tokens(clock::time_point now);
  /// Completes every queued request whose queue_timeout has passed (the oldest are in front).
  void expire_queued(clock::time_point now);
  void drop(clock::time_point now, std::string reason);
  void schedule_reconnect(clock::time_point now, std::string reason);
  void fail_in_flight(outcome o, const std::string& why);
  void complete(request_id id, submit_result r);
  void handle_request(clock::time_point now, pdu p);
  void handle_response(clock::time_point now, const pdu& p);
  void handle_bad_frame(clock::time_point now, const decode_error& e);
  void send_internal(clock::time_point now, pdu p);
  void trim_deadlines();
  void check_stop_progress(clock::time_point now);
  /// Deferred answers past their deadline: ESME_RX_T_APPN.
  void expire_deferred(clock::time_point now);
  void trim_deferred();

  link_config cfg_;
  std::mt19937_64 rng_;
  link_state state_ = link_state::stopped;
  bool stopping_ = false;
  std::vector<link_action> actions_;
  std::string out_;
  link_stats stats_;

  std::uint32_t seq_ = 0;
  std::array<std::deque<queued_request>, lanes> queues_;
  std::array<flow_fsm, lanes> flows_;
  std::unordered_map<std::uint32_t, in_flight_request> window_;
  std::deque<std::pair<std::uint32_t, clock::time_point>> deadlines_;  // send order
  std::uint32_t user_in_flight_ = 0;  // window_ entries that count against cfg_.window

  double tokens_ = 0;
  clock::time_point tokens_at_{};

  clock::time_point state_deadline_ =
      clock::time_point::max();  // connect/bind/drain/unbind/backoff
  clock::time_point last_rx_{};
  bool enquire_outstanding_ = false;
  std::uint32_t reconnect_attempt_ = 0;

  std::uint64_t connection_ = 0;
  struct deferral {
    std::uint32_t command_id;
    clock::time_point deadline;
  };
  std::unordered_map<std::uint32_t, deferral> deferred_;                    // by sequence number
  std::deque<std::pair<std::uint32_t, clock::time_point>> deferred_order_;  // deadline order
};

}  // namespace ussdpay::smpp
