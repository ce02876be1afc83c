#include "gateway/smpp/link_session.hpp"

#include <random>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ussdpay::smpp {

using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
constexpr auto as_tuple_awaitable = asio::as_tuple(use_awaitable);

// The link's connection: the shared byte stream plus the generation it belongs to.
struct link_session::connection : pdu_connection {
  connection(asio::any_io_executor ex, asio::ssl::context* ctx, std::uint64_t g,
             const codec_limits& limits)
      : pdu_connection(ex, ctx, limits), gen(g) {}
  std::uint64_t gen;
};

link_session::link_session(asio::any_io_executor ex, endpoint_config ep, link_config cfg,
                           std::string name, inbound_handler on_inbound, state_observer on_state)
    : ex_(ex),
      ep_(std::move(ep)),
      name_(std::move(name)),
      on_inbound_(std::move(on_inbound)),
      on_state_(std::move(on_state)),
      fsm_(std::move(cfg), std::random_device{}()),
      tls_ctx_(std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client)),
      timer_(ex),
      alive_(std::make_shared<bool>(true)) {
  if (ep_.tls) {
    tls_ctx_->set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (ep_.tls_ca_file.empty())
      tls_ctx_->set_default_verify_paths();
    else
      tls_ctx_->load_verify_file(ep_.tls_ca_file);
    tls_ctx_->set_verify_mode(ep_.tls_verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
  }
}

link_session::~link_session() {
  *alive_ = false;
  if (conn_) conn_->close();
  timer_.cancel();
}

void link_session::start() {
  asio::co_spawn(ex_, timer_loop(), asio::detached);
  fsm_.start(clock::now());
  pump();
}

void link_session::stop(std::function<void()> done) {
  if (fsm_.state() == link_state::stopped) {  // never started, or stopped already
    if (done) asio::post(ex_, std::move(done));
    return;
  }
  on_stopped_ = std::move(done);
  fsm_.stop(clock::now());
  pump();
}

link_session::responder link_session::defer(const pdu& request) {
  if (!fsm_.defer(clock::now(), request)) return {};
  arm_timer();  // the deadline
  return [this, alive = alive_, conn = fsm_.connection(),
          seq = request.sequence_number](std::uint32_t st) {
    if (!*alive) return;
    fsm_.respond_deferred(clock::now(), conn, seq, st);
    pump();
  };
}

void link_session::submit(pdu request, completion handler, lane l) {
  const request_id id = next_id_++;
  pending_.emplace(id, std::move(handler));
  fsm_.submit(clock::now(), id, std::move(request), l);
  pump();
}

// Executes whatever the FSM asked for. Re-entrant calls (an inbound handler that submits) only
// flag another round, so actions are always handled in order.
void link_session::pump() {
  if (in_pump_) {
    pump_again_ = true;
    return;
  }
  in_pump_ = true;
  do {
    pump_again_ = false;
    fsm_.take_actions(actions_);
    for (auto& a : actions_) {
      if (std::holds_alternative<action::connect>(a)) {
        start_connect();
      } else if (auto* c = std::get_if<action::close>(&a)) {
        // Last words (unbind_resp, generic_nack) go out before the close.
        if (fsm_.has_output() && conn_ && !conn_->closed() && !conn_->closing())
          conn_->outbox() += fsm_.take_output();
        close_connection(c->reason);
      } else if (auto* d = std::get_if<action::completed>(&a)) {
        auto it = pending_.find(d->id);
        if (it == pending_.end()) continue;
        completion h = std::move(it->second);
        pending_.erase(it);
        asio::post(ex_, [h = std::move(h), r = std::move(d->result)]() mutable {
          std::move(h)(std::move(r));
        });
      } else if (auto* in = std::get_if<action::inbound>(&a)) {
        std::uint32_t st = status::temp_app_error;
        if (on_inbound_) st = on_inbound_(in->message, *this);
        if (st != answer_later) fsm_.respond(in->message, st);
      } else if (auto* s = std::get_if<action::state_changed>(&a)) {
        log_transition(*s);
        if (on_state_) on_state_(s->from, s->to, s->reason);
        if (s->to == link_state::stopped && on_stopped_) {
          auto done = std::move(on_stopped_);
          on_stopped_ = {};
          asio::post(ex_, std::move(done));
        }
      }
    }
    if (fsm_.has_output()) {
      if (conn_ && !conn_->closed() && !conn_->closing()) {
        if (conn_->outbox().empty())
          conn_->outbox() = fsm_.take_output();
        else
          conn_->outbox() += fsm_.take_output();
        conn_->flush();
      } else {
        fsm_.take_output();  // no connection to write to; the FSM already failed its requests
      }
    }
  } while (pump_again_);
  in_pump_ = false;
  arm_timer();
}

// Binds, drops and stops at info; a failure to connect or bind at warn, but while the link stays
// down with the same cause only once per failure_log_interval, so an SMSC that is away for an
// hour leaves a few lines, not thousands.
void link_session::log_transition(const action::state_changed& s) {
  const auto line = [&](spdlog::level::level_enum lvl) {
    spdlog::log(lvl, "smpp {}: {} -> {} ({})", name_, to_string(s.from), to_string(s.to), s.reason);
  };
  if (s.to == link_state::backoff && s.from != link_state::bound &&
      s.from != link_state::draining) {
    // The reason ends with "; reconnect in N ms"; the cause is what comes before.
    const std::string cause = s.reason.substr(0, s.reason.rfind("; reconnect in"));
    const auto now = clock::now();
    if (cause != last_failure_ || now - last_failure_logged_ >= failure_log_interval) {
      line(spdlog::level::warn);
      last_failure_ = cause;
      last_failure_logged_ = now;
    } else {
      line(spdlog::level::debug);
    }
    return;
  }
  if (s.to == link_state::bound) last_failure_.clear();
  if (s.to == link_state::backoff)
    line(spdlog::level::warn);  // a bound link dropped
  else if (s.to == link_state::bound || s.from == link_state::bound || s.to == link_state::stopped)
    line(spdlog::level::info);
  else
    line(spdlog::level::debug);
}

void link_session::arm_timer() {
  const auto next = fsm_.next_deadline();
  // Only move the timer earlier; a timer that fires early just re-arms.
  if (next < armed_for_) {
    armed_for_ = next;
    timer_.expires_at(next);  // cancels the current wait; timer_loop re-reads the deadline
  }
}

awaitable<void> link_session::timer_loop() {
  auto alive = alive_;
  while (*alive) {
    timer_.expires_at(armed_for_ = fsm_.next_deadline());
    auto [ec] = co_await timer_.async_wait(as_tuple_awaitable);
    if (!*alive) co_return;
    if (fsm_.state() == link_state::stopped && fsm_.next_deadline() == clock::time_point::max())
      co_return;  // restarted by start() if needed
    if (!ec || clock::now() >= fsm_.next_deadline()) {
      fsm_.on_timer(clock::now());
      armed_for_ = clock::time_point::max();
      pump();
    }
  }
}

void link_session::start_connect() {
  if (conn_) conn_->close();
  conn_ = std::make_shared<connection>(ex_, ep_.tls ? tls_ctx_.get() : nullptr, ++generation_,
                                       fsm_.config().limits);
  asio::co_spawn(ex_, connect_op(conn_), asio::detached);
}

void link_session::close_connection(const std::string& reason) {
  if (!conn_) return;
  auto c = std::move(conn_);
  ++generation_;  // whatever c reports from now on is stale
  spdlog::debug("smpp {}: closing connection ({})", name_, reason);
  if (c->outbox().empty()) {
    c->close();
    return;
  }
  // Let the writer flush (an unbind_resp or generic_nack explaining the close), but not forever.
  c->close_after_flush();
  auto guard = std::make_shared<asio::steady_timer>(ex_, ep_.close_flush_timeout);
  guard->async_wait([c, guard](boost::system::error_code) { c->close(); });
}

awaitable<void> link_session::connect_op(std::shared_ptr<connection> c) {
  auto alive = alive_;
  tcp::resolver resolver(ex_);
  auto [rec, endpoints] =
      co_await resolver.async_resolve(ep_.host, std::to_string(ep_.port), as_tuple_awaitable);
  if (!*alive || c->gen != generation_) co_return;
  boost::system::error_code ec = rec;
  if (!ec) {
    auto [cec, ep] = co_await asio::async_connect(c->socket(), endpoints, as_tuple_awaitable);
    ec = cec;
    if (!*alive || c->gen != generation_) co_return;
  }
  if (!ec) {
    c->socket().set_option(tcp::no_delay(true), ec);
    ec = {};
    if (c->tls()) {
      if (ep_.tls_verify)
        c->tls_stream().set_verify_callback(asio::ssl::host_name_verification(ep_.host));
      if (!SSL_set_tlsext_host_name(c->tls_stream().native_handle(), ep_.host.c_str()))
        ec = boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                       asio::error::get_ssl_category());
      if (!ec) {
        auto [hec] = co_await c->tls_stream().async_handshake(asio::ssl::stream_base::client,
                                                              as_tuple_awaitable);
        ec = hec;
        if (!*alive || c->gen != generation_) co_return;
      }
    }
  }
  if (ec) {
    fsm_.on_connect_failed(clock::now(), ec.message());
    pump();
    co_return;
  }
  asio::co_spawn(ex_, reader(c), asio::detached);
  asio::co_spawn(ex_, writer(c), asio::detached);
  fsm_.on_connected(clock::now());
  pump();
}

awaitable<void> link_session::reader(std::shared_ptr<connection> c) {
  auto alive = alive_;
  for (;;) {
    const auto ec = co_await c->read_some();
    if (!*alive || c->gen != generation_) co_return;
    if (ec) {
      fsm_.on_closed(clock::now(), ec == asio::error::eof ? "closed by peer" : ec.message());
      pump();
      co_return;
    }
    auto now = clock::now();
    std::uint32_t handled = 0;
    for (;;) {
      auto next = c->frames().next();
      if (auto* f = std::get_if<std::span<const std::uint8_t>>(&next)) {
        fsm_.on_frame(now, *f);
        if (c->gen != generation_) break;  // the FSM closed this connection
        // A read can hold a whole window of responses. Send what they freed now rather than
        // after the last one, so the SMSC works on new requests while we work on the rest
        // (otherwise the two sides take turns: about half the throughput).
        if (++handled % yield_every_frames == 0 && fsm_.has_output()) {
          pump();
          co_await asio::post(ex_, use_awaitable);
          if (!*alive || c->gen != generation_) co_return;
          now = clock::now();
        }
        continue;
      }
      if (auto* e = std::get_if<framer::framing_error>(&next))
        fsm_.on_framing_error(now, e->hdr, e->reason);
      break;
    }
    pump();
    if (c->gen != generation_) co_return;
  }
}

awaitable<void> link_session::writer(std::shared_ptr<connection> c) {
  auto alive = alive_;
  const auto ec = co_await c->write_loop();
  if (!*alive || !ec || c->gen != generation_) co_return;
  fsm_.on_closed(clock::now(), "write failed: " + ec.message());
  pump();
}

}  // namespace ussdpay::smpp
