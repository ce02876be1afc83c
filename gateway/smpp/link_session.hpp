// link_session: runs one link_fsm over a TCP (optionally TLS) connection on the network thread.
//
// The FSM decides; this class only executes its actions:
//
//   action::connect  -> resolve + connect (+ TLS handshake), then fsm.on_connected
//   bytes to write   -> appended to the connection's write buffer; one writer coroutine per
//                       connection sends everything buffered in one write (many PDUs per syscall)
//   reader coroutine -> framer -> fsm.on_frame for every whole PDU in what one read returned
//   deadline timer   -> fsm.on_timer at fsm.next_deadline()
//   action::close    -> flush what is buffered (bounded by close_flush_timeout), then close
//   action::completed-> the owner's completion handler, posted (never called inline)
//   action::inbound  -> the inbound handler, whose status is sent back as the response (or, when
//                       it returns answer_later after defer(), the responder's status later)
//
// Each connection has a generation number; callbacks from a connection the FSM already closed
// are ignored, so a late read error never tears down its successor.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/smpp/codec.hpp"
#include "gateway/smpp/config.hpp"
#include "gateway/smpp/connection.hpp"
#include "gateway/smpp/link_fsm.hpp"

namespace ussdpay::smpp {

namespace asio = boost::asio;

/// What an inbound handler returns when it will answer later through link_session::defer().
inline constexpr std::uint32_t answer_later = 0xFFFF'FFFFu;

class link_session {
 public:
  using completion = asio::any_completion_handler<void(submit_result)>;
  /// Called for every deliver_sm/data_sm on `link`; returns the command_status to answer with,
  /// or answer_later after link.defer(request).
  using inbound_handler = std::function<std::uint32_t(const pdu&, link_session& link)>;
  /// Sends the deferred answer (once; later calls, or calls after the connection ended or the
  /// deadline passed, do nothing).
  using responder = std::function<void(std::uint32_t status)>;
  using state_observer = std::function<void(link_state from, link_state to, const std::string&)>;

  link_session(asio::any_io_executor ex, endpoint_config ep, link_config cfg, std::string name,
               inbound_handler on_inbound, state_observer on_state = {});
  ~link_session();
  link_session(const link_session&) = delete;
  link_session& operator=(const link_session&) = delete;

  void start();
  /// Graceful: drain the window, unbind, close. `done` (optional) runs when stopped.
  void stop(std::function<void()> done = {});

  /// Inside the inbound handler: the answer to `request` is sent when the returned responder is
  /// called, within deferred_response_timeout (else ESME_RX_T_APPN goes). Empty when the link
  /// cannot wait (max_deferred waiting): then the handler answers now.
  responder defer(const pdu& request);

  /// Sends a submit_sm/data_sm in its lane; the handler gets exactly one result.
  void submit(pdu request, completion handler, lane l = lane::interactive);

  template <class Token>
  auto async_submit(pdu request, Token&& token) {
    return asio::async_initiate<Token, void(submit_result)>(
        [this](auto handler, pdu r) { submit(std::move(r), completion(std::move(handler))); },
        token, std::move(request));
  }

  link_state state() const { return fsm_.state(); }
  bool can_transmit() const { return fsm_.can_transmit(); }
  std::size_t load() const { return fsm_.in_flight() + fsm_.queued(); }
  const flow_fsm& flow(lane l) const { return fsm_.flow(l); }
  std::uint32_t window() const { return fsm_.window(); }
  const link_stats& stats() const { return fsm_.stats(); }
  const std::string& name() const { return name_; }

 private:
  struct connection;
  void pump();
  void arm_timer();
  void log_transition(const action::state_changed& s);
  void start_connect();
  void close_connection(const std::string& reason);
  asio::awaitable<void> connect_op(std::shared_ptr<connection> c);
  asio::awaitable<void> reader(std::shared_ptr<connection> c);
  asio::awaitable<void> writer(std::shared_ptr<connection> c);
  asio::awaitable<void> timer_loop();

  asio::any_io_executor ex_;
  endpoint_config ep_;
  std::string name_;
  inbound_handler on_inbound_;
  state_observer on_state_;
  link_fsm fsm_;
  std::unique_ptr<asio::ssl::context> tls_ctx_;
  std::shared_ptr<connection> conn_;
  std::uint64_t generation_ = 0;
  asio::steady_timer timer_;
  clock::time_point armed_for_ = clock::time_point::max();
  std::unordered_map<request_id, completion> pending_;
  request_id next_id_ = 1;
  std::vector<link_action> actions_;  // reused by pump()
  bool in_pump_ = false;
  bool pump_again_ = false;
  std::function<void()> on_stopped_;
  std::shared_ptr<bool> alive_;
  std::string last_failure_;  // cause of the last connect/bind failure logged at warn
  clock::time_point last_failure_logged_{};
  static constexpr std::chrono::seconds failure_log_interval{60};
  static constexpr std::uint32_t yield_every_frames = 16;
};

}  // namespace ussdpay::smpp
