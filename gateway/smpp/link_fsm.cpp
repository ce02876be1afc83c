#include "gateway/smpp/link_fsm.hpp"
#include "gateway/common/assert.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ussdpay::smpp {

std::string_view to_string(bind_mode m) {
  switch (m) {
    case bind_mode::transceiver:
      return "transceiver";
    case bind_mode::transmitter:
      return "transmitter";
    case bind_mode::receiver:
      return "receiver";
  }
  return "?";
}

std::string_view to_string(lane l) {
  return l == lane::interactive ? "interactive" : "bulk";
}

std::string_view to_string(link_state s) {
  switch (s) {
    case link_state::stopped:
      return "stopped";
    case link_state::connecting:
      return "connecting";
    case link_state::binding:
      return "binding";
    case link_state::bound:
      return "bound";
    case link_state::draining:
      return "draining";
    case link_state::unbinding:
      return "unbinding";
    case link_state::backoff:
      return "backoff";
  }
  return "?";
}

std::string_view to_string(outcome o) {
  switch (o) {
    case outcome::accepted:
      return "accepted";
    case outcome::rejected:
      return "rejected";
    case outcome::timeout:
      return "timeout";
    case outcome::link_lost:
      return "link_lost";
    case outcome::not_sent:
      return "not_sent";
  }
  return "?";
}

namespace {
bool is_bind_resp(std::uint32_t id) {
  return id == static_cast<std::uint32_t>(command::bind_transceiver_resp) ||
         id == static_cast<std::uint32_t>(command::bind_transmitter_resp) ||
         id == static_cast<std::uint32_t>(command::bind_receiver_resp);
}
command bind_command(bind_mode m) {
  switch (m) {
    case bind_mode::transmitter:
      return command::bind_transmitter;
    case bind_mode::receiver:
      return command::bind_receiver;
    case bind_mode::transceiver:
      break;
  }
  return command::bind_transceiver;
}
constexpr std::uint32_t id_of(command c) {
  return static_cast<std::uint32_t>(c);
}
}  // namespace

link_fsm::link_fsm(link_config cfg, std::uint64_t jitter_seed)
    : cfg_(std::move(cfg)), rng_(jitter_seed), flows_{flow_fsm(cfg_.flow), flow_fsm(cfg_.flow)} {
  if (cfg_.window == 0) cfg_.window = 1;
  if (cfg_.burst <= 0) cfg_.burst = std::max(1.0, cfg_.tps / 10.0);
}

// --- helpers ---------------------------------------------------------------------------------

void link_fsm::set_state(link_state to, std::string reason) {
  if (to == state_) return;
  actions_.push_back(action::state_changed{state_, to, std::move(reason)});
  state_ = to;
}

namespace {
void count_pdu(link_stats& s, std::uint32_t command_id, std::uint32_t status, bool inbound) {
  pdu_kind* k = nullptr;
  for (auto& e : s.pdu_kinds)
    if (e.command_id == command_id && e.status == status) {
      k = &e;
      break;
    }
  if (k == nullptr) {
    if (s.pdu_kinds.size() + 1 >= link_stats::max_pdu_kinds) {
      command_id = status = 0;
      for (auto& e : s.pdu_kinds)
        if (e.command_id == 0 && e.status == 0) k = &e;
    }
    if (k == nullptr) k = &s.pdu_kinds.emplace_back(pdu_kind{command_id, status, 0, 0});
  }
  ++(inbound ? k->in : k->out);
}
}  // namespace

void link_fsm::send(const pdu& p) {
  if (encode(p, out_)) return;  // only our own well-formed PDUs reach here
  ++stats_.pdus_out;
  count_pdu(stats_, p.command_id, p.command_status, false);
}

std::uint32_t link_fsm::next_sequence() {
  do {
    seq_ = seq_ >= 0x7FFFFFFFu ? 1 : seq_ + 1;
  } while (window_.contains(seq_));
  return seq_;
}

void link_fsm::complete(request_id id, submit_result r) {
  switch (r.result) {
    case outcome::accepted:
      ++stats_.accepted;
      break;
    case outcome::rejected:
      ++stats_.rejected;
      break;
    case outcome::timeout:
      ++stats_.timeouts;
      break;
    case outcome::link_lost:
      ++stats_.lost;
      break;
    case outcome::not_sent:
      ++stats_.not_sent;
      break;
  }
  actions_.push_back(action::completed{id, std::move(r)});
}

void link_fsm::fail_in_flight(outcome o, const std::string& why) {
  // In send order, so owners hear about their requests in the order they were sent.
  for (const auto& [seq, deadline] : deadlines_) {
    auto it = window_.find(seq);
    if (it == window_.end()) continue;
    if (!it->second.internal) complete(it->second.id, {o, 0, {}, why});
    window_.erase(it);
  }
  USSDPAY_ASSERT(window_.empty(), "every request in the window has a deadline");
  deadlines_.clear();
  user_in_flight_ = 0;
  enquire_outstanding_ = false;
  // Deferred answers belong to this connection; the SMSC sends those requests again.
  deferred_.clear();
  deferred_order_.clear();
}

void link_fsm::schedule_reconnect(clock::time_point now, std::string reason) {
  out_.clear();
  if (stopping_) {
    set_state(link_state::stopped, std::move(reason));
    state_deadline_ = clock::time_point::max();
    return;
  }
  // Capped exponential back-off with "equal jitter": uniform in [base/2, base].
  const double base_ms =
      std::min<double>(static_cast<double>(cfg_.reconnect_max.count()),
                       static_cast<double>(cfg_.reconnect_initial.count()) *
                           std::pow(2.0, std::min<std::uint32_t>(reconnect_attempt_, 30)));
  std::uniform_real_distribution<double> jitter(base_ms / 2, base_ms);
  const auto delay = milliseconds(static_cast<std::int64_t>(jitter(rng_)));
  ++reconnect_attempt_;
  set_state(link_state::backoff, fmt::format("{}; reconnect in {} ms", reason, delay.count()));
  state_deadline_ = now + delay;
}

void link_fsm::drop(clock::time_point now, std::string reason) {
  if (state_ == link_state::bound || state_ == link_state::draining) ++stats_.drops;
  actions_.push_back(action::close{reason});
  fail_in_flight(outcome::link_lost, reason);
  // Bytes queued just now (the generic_nack for a framing error, the unbind_resp) are the last
  // words on this connection: the driver writes them before it executes the close.
  std::string last_words = std::move(out_);
  schedule_reconnect(now, std::move(reason));
  out_ = std::move(last_words);
}

void link_fsm::refill_tokens(clock::time_point now) {
  if (cfg_.tps <= 0) return;
  const double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
  if (elapsed > 0) tokens_ = std::min(cfg_.burst, tokens_ + elapsed * cfg_.tps);
  tokens_at_ = now;
}

void link_fsm::pump(clock::time_point now) {
  if (state_ != link_state::bound) return;
  refill_tokens(now);
  // Interactive first; bulk gets what the window, the bind's tps and its own rate leave.
  for (std::size_t l = 0; l < lanes; ++l) {
    auto& queue = queues_[l];
    while (!queue.empty() && user_in_flight_ < cfg_.window) {
      if (cfg_.tps > 0 && tokens_ < 1.0) return;
      if (now - queue.front().queued_at >= cfg_.queue_timeout) {
        complete(queue.front().id, {outcome::not_sent, 0, {}, "queued longer than queue_timeout"});
        queue.pop_front();
        continue;
      }
      if (!flows_[l].try_send(now)) break;
      queued_request q = std::move(queue.front());
      queue.pop_front();
      send_queued(now, std::move(q));
    }
  }
}

void link_fsm::send_queued(clock::time_point now, queued_request q) {
  const std::uint32_t seq = next_sequence();
  q.request.sequence_number = seq;
  if (auto err = encode(q.request, out_)) {
    complete(q.id, {outcome::not_sent, 0, {}, "cannot encode: " + *err});
    return;
  }
  ++stats_.pdus_out;
  count_pdu(stats_, q.request.command_id, q.request.command_status, false);
  if (cfg_.tps > 0) tokens_ -= 1.0;
  const auto deadline = now + cfg_.response_timeout;
  window_.emplace(seq, in_flight_request{q.id, std::move(q.request), q.queued_at, deadline,
                                         q.attempts + 1, false, q.in});
  deadlines_.emplace_back(seq, deadline);
  ++user_in_flight_;
  USSDPAY_ASSERT(user_in_flight_ <= cfg_.window, "at most `window` requests in flight");
  stats_.window_peak = std::max(stats_.window_peak, user_in_flight_);
}

void link_fsm::expire_queued(clock::time_point now) {
  for (auto& queue : queues_)
    while (!queue.empty() && now - queue.front().queued_at >= cfg_.queue_timeout) {
      complete(queue.front().id, {outcome::not_sent, 0, {}, "queued longer than queue_timeout"});
      queue.pop_front();
    }
}

// Answered requests leave their deadline entry behind; drop the ones at the front so the deque
// stays as long as the window instead of growing with every request until the next timeout.
void link_fsm::trim_deadlines() {
  while (!deadlines_.empty()) {
    const auto& [seq, deadline] = deadlines_.front();
    auto it = window_.find(seq);
    if (it != window_.end() && it->second.deadline == deadline) return;
    deadlines_.pop_front();
  }
}

void link_fsm::send_internal(clock::time_point now, pdu p) {
  const std::uint32_t seq = next_sequence();
  p.sequence_number = seq;
  send(p);
  const auto deadline = now + cfg_.response_timeout;
  window_.emplace(seq, in_flight_request{0, std::move(p), now, deadline, 1, true});
  deadlines_.emplace_back(seq, deadline);
}

// --- events ----------------------------------------------------------------------------------

void link_fsm::start(clock::time_point now) {
  if (state_ != link_state::stopped) return;
  stopping_ = false;
  set_state(link_state::connecting, "start");
  actions_.push_back(action::connect{});
  state_deadline_ = now + cfg_.connect_timeout;
}

void link_fsm::stop(clock::time_point now) {
  if (stopping_ && state_ != link_state::stopped) return;
  stopping_ = true;
  for (auto& queue : queues_)
    while (!queue.empty()) {
      complete(queue.front().id, {outcome::not_sent, 0, {}, "link stopping"});
      queue.pop_front();
    }
  switch (state_) {
    case link_state::stopped:
      return;
    case link_state::bound:
      set_state(link_state::draining, "stop");
      state_deadline_ = now + cfg_.drain_timeout;
      check_stop_progress(now);
      return;
    case link_state::draining:
    case link_state::unbinding:
      return;
    case link_state::connecting:
    case link_state::binding:
      actions_.push_back(action::close{"stop"});
      [[fallthrough]];
    case link_state::backoff:
      fail_in_flight(outcome::link_lost, "link stopped");
      out_.clear();
      set_state(link_state::stopped, "stop");
      state_deadline_ = clock::time_point::max();
      return;
  }
}

void link_fsm::check_stop_progress(clock::time_point now) {
  if (state_ != link_state::draining) return;
  // Waits for the answers to what we sent, and for the answers we owe (receipts being written).
  const bool waiting = user_in_flight_ > 0 || !deferred_.empty();
  if (waiting && now < state_deadline_) return;
  set_state(link_state::unbinding, waiting ? "drain timeout" : "drained");
  send_internal(now, make_empty(command::unbind, 0));
  state_deadline_ = now + cfg_.unbind_timeout;
}

void link_fsm::on_connected(clock::time_point now) {
  if (state_ != link_state::connecting) return;
  out_.clear();  // nothing from an earlier connection goes out on this one
  ++connection_;
  deferred_.clear();
  deferred_order_.clear();
  bind_body b{cfg_.system_id, cfg_.password, cfg_.system_type, 0x34, cfg_.address_range};
  send(make_bind(bind_command(cfg_.mode), next_sequence(), std::move(b)));
  last_rx_ = now;
  set_state(link_state::binding, "connected");
  state_deadline_ = now + cfg_.bind_timeout;
}

void link_fsm::on_connect_failed(clock::time_point now, std::string reason) {
  if (state_ != link_state::connecting) return;
  ++stats_.connects_failed;
  schedule_reconnect(now, "connect failed: " + reason);
}

void link_fsm::on_closed(clock::time_point now, std::string reason) {
  switch (state_) {
    case link_state::stopped:
    case link_state::backoff:
      return;  // already handled (we closed it)
    case link_state::connecting:
      on_connect_failed(now, std::move(reason));
      return;
    case link_state::unbinding:
      fail_in_flight(outcome::link_lost, reason);
      set_state(link_state::stopped, "closed while unbinding: " + reason);
      state_deadline_ = clock::time_point::max();
      out_.clear();
      return;
    case link_state::binding:
      ++stats_.binds_failed;
      break;
    case link_state::bound:
    case link_state::draining:
      ++stats_.drops;
      break;
  }
  fail_in_flight(outcome::link_lost, "link closed: " + reason);
  schedule_reconnect(now, "link closed: " + reason);
}

void link_fsm::on_framing_error(clock::time_point now, const header& h, std::string reason) {
  ++stats_.decode_errors;
  if (state_ == link_state::stopped || state_ == link_state::backoff ||
      state_ == link_state::connecting)
    return;
  // The stream cannot be resynchronised: tell the peer why, then drop.
  send(make_empty(command::generic_nack, h.sequence_number, status::invalid_command_length));
  ++stats_.generic_nacks_sent;
  drop(now, "framing error: " + reason);
}

void link_fsm::on_frame(clock::time_point now, std::span<const std::uint8_t> frame) {
  if (state_ == link_state::stopped || state_ == link_state::backoff ||
      state_ == link_state::connecting)
    return;
  last_rx_ = now;
  ++stats_.pdus_in;
  if (frame.size() >= 16) {  // the framer passes whole frames; a header is 16 octets
    auto u32 = [&](std::size_t at) {
      return std::uint32_t{frame[at]} << 24 | std::uint32_t{frame[at + 1]} << 16 |
             std::uint32_t{frame[at + 2]} << 8 | std::uint32_t{frame[at + 3]};
    };
    count_pdu(stats_, u32(4), u32(8), true);
  }
  auto r = decode(frame, cfg_.limits);
  if (auto* e = std::get_if<decode_error>(&r)) {
    handle_bad_frame(now, *e);
    return;
  }
  pdu& p = std::get<pdu>(r);
  if (is_response(p.command_id))
    handle_response(now, p);
  else
    handle_request(now, std::move(p));
}

void link_fsm::handle_bad_frame(clock::time_point now, const decode_error& e) {
  ++stats_.decode_errors;
  const header& h = e.hdr;
  if (is_response(h.command_id)) {
    // The header alone is enough to settle the request it answers.
    pdu p{h.command_id, h.command_status, h.sequence_number, empty_body{}};
    if (h.command_status == status::ok && window_.contains(h.sequence_number))
      p.body = message_id_body{};  // accepted, but the message id was unreadable
    handle_response(now, p);
    return;
  }
  if (e.status == status::invalid_command_id) {
    send(make_empty(command::generic_nack, h.sequence_number, status::invalid_command_id));
    ++stats_.generic_nacks_sent;
    return;
  }
  send(make_empty(static_cast<command>(response_id(h.command_id)), h.sequence_number, e.status));
}

void link_fsm::handle_request(clock::time_point now, pdu p) {
  switch (static_cast<command>(p.command_id)) {
    case command::enquire_link:
      send(p.make_response());
      return;
    case command::unbind:
      send(p.make_response());
      if (state_ == link_state::unbinding) return;  // both sides unbinding; our resp will come
      drop(now, "SMSC sent unbind");
      return;
    case command::deliver_sm:
    case command::data_sm:
      if ((state_ == link_state::bound || state_ == link_state::draining ||
           state_ == link_state::unbinding) &&
          cfg_.mode != bind_mode::transmitter) {
        actions_.push_back(action::inbound{std::move(p)});
      } else {
        send(p.make_response(status::invalid_bind_status));
      }
      return;
    default:
      // A known command that an SMSC must not send to an ESME (bind, submit_sm, ...).
      send(p.make_response(status::invalid_bind_status));
      return;
  }
}

void link_fsm::handle_response(clock::time_point now, const pdu& p) {
  if (is_bind_resp(p.command_id) && state_ == link_state::binding) {
    window_.clear();
    deadlines_.clear();
    if (p.command_status != status::ok) {
      ++stats_.binds_failed;
      drop(now, fmt::format("bind refused: {}", status_name(p.command_status)));
      return;
    }
    ++stats_.binds_ok;
    reconnect_attempt_ = 0;
    state_deadline_ = clock::time_point::max();
    tokens_ = cfg_.burst;
    tokens_at_ = now;
    const auto* b = std::get_if<bind_resp_body>(&p.body);
    set_state(link_state::bound, fmt::format("bound to '{}'", b ? b->system_id : ""));
    pump(now);
    return;
  }
  if (state_ == link_state::binding && p.command_id == id_of(command::generic_nack)) {
    ++stats_.binds_failed;
    drop(now, fmt::format("bind answered with generic_nack {}", status_name(p.command_status)));
    return;
  }

  auto it = window_.find(p.sequence_number);
  if (it == window_.end() || (p.command_id != response_id(it->second.request.command_id) &&
                              p.command_id != id_of(command::generic_nack))) {
    ++stats_.unmatched_responses;
    return;
  }
  in_flight_request r = std::move(it->second);
  window_.erase(it);
  trim_deadlines();

  if (r.internal) {
    if (r.request.command_id == id_of(command::enquire_link)) {
      enquire_outstanding_ = false;
    } else if (r.request.command_id == id_of(command::unbind)) {
      actions_.push_back(action::close{"unbound"});
      fail_in_flight(outcome::link_lost, "link stopped");
      out_.clear();
      set_state(link_state::stopped, "unbound");
      state_deadline_ = clock::time_point::max();
    }
    return;
  }

  USSDPAY_ASSERT(user_in_flight_ > 0, "a response matched a request in flight");
  --user_in_flight_;
  const std::uint32_t st = p.command_status;
  const auto l = static_cast<std::size_t>(r.in);
  if (st == status::ok) {
    flows_[l].on_accepted(now);
    const auto* b = std::get_if<message_id_body>(&p.body);
    complete(r.id, {outcome::accepted, st, b ? b->message_id : std::string{}, {}});
  } else if (st == status::throttled || st == status::message_queue_full) {
    ++stats_.throttled;
    ++stats_.throttled_by_lane[l];
    flows_[l].on_throttled(now);
    // Front of its lane, so it keeps its turn; queue_timeout still counts from its first queuing.
    if (r.attempts <= cfg_.throttle_retries && !stopping_ &&
        now - r.queued_at < cfg_.queue_timeout) {
      queues_[l].push_front({r.id, std::move(r.request), r.queued_at, r.attempts, r.in});
    } else {
      complete(r.id, {outcome::rejected, st, {}, "throttled; retries exhausted"});
    }
  } else {
    complete(r.id, {outcome::rejected, st, {}, status_name(st)});
  }
  pump(now);
  check_stop_progress(now);
}

void link_fsm::on_timer(clock::time_point now) {
  // Requests that waited unsent too long, whatever the state (the link may be down for long).
  expire_queued(now);
  switch (state_) {
    case link_state::stopped:
      return;
    case link_state::connecting:
      if (now >= state_deadline_) {
        actions_.push_back(action::close{"connect timeout"});
        ++stats_.connects_failed;
        schedule_reconnect(now, "connect timeout");
      }
      return;
    case link_state::binding:
      if (now >= state_deadline_) {
        ++stats_.binds_failed;
        drop(now, "no bind_resp within bind_timeout");
      }
      return;
    case link_state::backoff:
      if (now >= state_deadline_) {
        set_state(link_state::connecting, "reconnect");
        actions_.push_back(action::connect{});
        state_deadline_ = now + cfg_.connect_timeout;
      }
      return;
    case link_state::unbinding:
      if (now >= state_deadline_) {
        actions_.push_back(action::close{"no unbind_resp"});
        fail_in_flight(outcome::link_lost, "link stopped");
        out_.clear();
        set_state(link_state::stopped, "unbind timeout");
        state_deadline_ = clock::time_point::max();
      }
      return;
    case link_state::bound:
    case link_state::draining:
      break;
  }

  expire_deferred(now);
  while (!deadlines_.empty()) {
    const auto [seq, deadline] = deadlines_.front();
    auto it = window_.find(seq);
    if (it == window_.end() || it->second.deadline != deadline) {
      deadlines_.pop_front();  // answered already
      continue;
    }
    if (deadline > now) break;
    if (it->second.internal) {
      drop(now, fmt::format("no answer to {} within response_timeout",
                            command_name(it->second.request.command_id)));
      return;
    }
    const request_id id = it->second.id;
    window_.erase(it);
    deadlines_.pop_front();
    USSDPAY_ASSERT(user_in_flight_ > 0, "a timed-out request was in flight");
    --user_in_flight_;
    complete(id, {outcome::timeout, 0, {}, "no response within response_timeout"});
  }
  if (now - last_rx_ >= cfg_.inactivity_timeout) {
    drop(now, "nothing received within inactivity_timeout");
    return;
  }
  if (!enquire_outstanding_ && now - last_rx_ >= cfg_.enquire_link_interval &&
      state_ == link_state::bound) {
    enquire_outstanding_ = true;
    ++stats_.enquire_links_sent;
    send_internal(now, make_empty(command::enquire_link, 0));
  }
  pump(now);
  check_stop_progress(now);
}

void link_fsm::submit(clock::time_point now, request_id id, pdu request, lane l) {
  ++stats_.submitted;
  ++stats_.submitted_by_lane[static_cast<std::size_t>(l)];
  if (stopping_ || state_ == link_state::stopped) {
    complete(id, {outcome::not_sent, 0, {}, "link stopped"});
    return;
  }
  if (!can_transmit()) {
    complete(id, {outcome::not_sent, 0, {}, "receiver bind cannot submit"});
    return;
  }
  if (request.command_id != id_of(command::submit_sm) &&
      request.command_id != id_of(command::data_sm)) {
    complete(id, {outcome::not_sent, 0, {}, "only submit_sm and data_sm can be submitted"});
    return;
  }
  if (queued() >= cfg_.max_queue) {
    complete(id, {outcome::not_sent, 0, {}, "queue full"});
    return;
  }
  queues_[static_cast<std::size_t>(l)].push_back({id, std::move(request), now, 0, l});
  pump(now);
}

bool link_fsm::defer(clock::time_point now, const pdu& request) {
  if (state_ != link_state::bound && state_ != link_state::draining) return false;
  if (deferred_.size() >= cfg_.max_deferred ||
      !deferred_
           .try_emplace(request.sequence_number,
                        deferral{request.command_id, now + cfg_.deferred_response_timeout})
           .second) {  // (a sequence number still waiting: the SMSC reused it; answer now)
    ++stats_.deferred_refused;
    return false;
  }
  deferred_order_.emplace_back(request.sequence_number, now + cfg_.deferred_response_timeout);
  ++stats_.deferred;
  return true;
}

void link_fsm::respond_deferred(clock::time_point now, std::uint64_t conn,
                                std::uint32_t sequence_number, std::uint32_t st) {
  if (conn != connection_) return;
  auto it = deferred_.find(sequence_number);
  if (it == deferred_.end()) return;
  const pdu request{it->second.command_id, 0, sequence_number, empty_body{}};
  deferred_.erase(it);
  respond(request, st);
  trim_deferred();
  check_stop_progress(now);  // the last answer owed may be what a stop waits for
}

// Answered ones leave their deadline entry behind; drop those at the front so the deque stays
// about as long as what still waits.
void link_fsm::trim_deferred() {
  while (!deferred_order_.empty()) {
    auto it = deferred_.find(deferred_order_.front().first);
    if (it != deferred_.end() && it->second.deadline == deferred_order_.front().second) return;
    deferred_order_.pop_front();
  }
}

void link_fsm::expire_deferred(clock::time_point now) {
  while (!deferred_order_.empty() && deferred_order_.front().second <= now) {
    const auto [seq, deadline] = deferred_order_.front();
    deferred_order_.pop_front();
    auto it = deferred_.find(seq);
    if (it == deferred_.end() || it->second.deadline != deadline) continue;  // answered
    const pdu request{it->second.command_id, 0, seq, empty_body{}};
    deferred_.erase(it);
    ++stats_.deferred_expired;
    respond(request, status::temp_app_error);
  }
  trim_deferred();
}

void link_fsm::respond(const pdu& request, std::uint32_t st, std::string message_id) {
  pdu r = request.make_response(st);
  if (auto* b = std::get_if<message_id_body>(&r.body)) b->message_id = std::move(message_id);
  if (state_ == link_state::stopped || state_ == link_state::backoff) return;  // link gone
  send(r);
}

// --- outputs ---------------------------------------------------------------------------------

std::vector<link_action> link_fsm::take_actions() {
  std::vector<link_action> a;
  a.swap(actions_);
  return a;
}

void link_fsm::take_actions(std::vector<link_action>& out) {
  out.clear();
  out.swap(actions_);
}

std::string link_fsm::take_output() {
  std::string o;
  o.swap(out_);
  return o;
}

clock::time_point link_fsm::next_deadline() const {
  auto next = clock::time_point::max();
  if (state_ != link_state::stopped)
    for (const auto& queue : queues_)
      if (!queue.empty()) next = std::min(next, queue.front().queued_at + cfg_.queue_timeout);
  switch (state_) {
    case link_state::stopped:
      return clock::time_point::max();
    case link_state::connecting:
    case link_state::binding:
    case link_state::backoff:
    case link_state::unbinding:
      return std::min(next, state_deadline_);
    case link_state::draining:
      next = std::min(next, state_deadline_);
      break;
    case link_state::bound:
      break;
  }
  if (!deadlines_.empty()) next = std::min(next, deadlines_.front().second);
  if (!deferred_order_.empty()) next = std::min(next, deferred_order_.front().second);
  next = std::min(next, last_rx_ + cfg_.inactivity_timeout);
  if (!enquire_outstanding_ && state_ == link_state::bound)  // on_timer sends it only when bound
    next = std::min(next, last_rx_ + cfg_.enquire_link_interval);
  if (queued() > 0 && user_in_flight_ < cfg_.window) {
    if (cfg_.tps > 0 && tokens_ < 1.0) {
      const auto wait = std::chrono::duration<double>((1.0 - tokens_) / cfg_.tps);
      next = std::min(next, tokens_at_ + std::chrono::duration_cast<clock::duration>(wait) +
                                clock::duration(1));
    } else {
      // A lane held back by its own rate: when its next token is ready.
      for (std::size_t l = 0; l < lanes; ++l)
        if (!queues_[l].empty())
          if (const auto at = flows_[l].next_send(); at != clock::time_point{})
            next = std::min(next, at);
    }
  }
  return next;
}

}  // namespace ussdpay::smpp
