#include "adapters/http_biller.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "adapters/http_biller_json.hpp"

namespace ussdpay::adapters {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using clock_type = std::chrono::steady_clock;
using http_json::call_kind;
using http_json::wire_request;
using http_json::wire_response;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// ---- circuit_breaker --------------------------------------------------------------------------

bool circuit_breaker::try_acquire(clock::time_point now) {
  switch (state_) {
    case state::closed:
      return true;
    case state::open:
      if (now < open_until_) return false;
      state_ = state::half_open;
      trial_in_flight_ = true;
      return true;
    case state::half_open:
      if (trial_in_flight_) return false;
      trial_in_flight_ = true;  // the previous trial gave no verdict; this one is the trial
      return true;
  }
  return false;
}

// Any well-formed answer shows the biller is back, even one to an attempt sent before the
// circuit opened.
void circuit_breaker::on_success() {
  state_ = state::closed;
  failures_ = 0;
  trial_in_flight_ = false;
}

void circuit_breaker::on_failure(clock::time_point now) {
  if (threshold_ == 0) return;
  switch (state_) {
    case state::closed:
      if (++failures_ < threshold_) return;
      break;
    case state::half_open:
      break;
    case state::open:
      return;  // an attempt sent before the circuit opened: already counted
  }
  state_ = state::open;
  open_until_ = now + cooldown_;
  trial_in_flight_ = false;
}

void circuit_breaker::on_abandoned() {
  if (state_ == state::half_open) trial_in_flight_ = false;
}

// ---- TLS context ----------------------------------------------------------------------------

std::unique_ptr<ssl::context> http_biller_tls_context(const http_biller_config& cfg) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (cfg.ca_file.empty())
    ctx->set_default_verify_paths();
  else
    ctx->load_verify_file(cfg.ca_file);
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

// ---- state ------------------------------------------------------------------------------------

namespace detail {

// One keep-alive connection. `used` is false until it has carried a request: a fresh
// connection still needs its connect and handshake, and a write that fails on it before the
// first byte provably sent nothing.
struct http_connection {
  http_connection(asio::any_io_executor ex, ssl::context& tls, std::uint64_t i)
      : stream(ex, tls), id(i) {}
  void close() { beast::get_lowest_layer(stream).close(); }  // no TLS close_notify: not needed

  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::uint64_t id;
  bool used = false;
  clock_type::time_point idle_since{};
};

// A call waiting for a free connection: woken (granted) when one is freed, or at its deadline.
struct pool_waiter {
  explicit pool_waiter(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  bool granted = false;
  bool money = false;  ///< pay, status or reversal: served before any waiting inquiry
};

struct http_biller_state {
  http_biller_state(asio::any_io_executor e, ssl::context& t, biller_info i, http_biller_config c,
                    http_json::base_url u)
      : ex(std::move(e)),
        tls(t),
        info(std::move(i)),
        cfg(std::move(c)),
        url(std::move(u)),
        breaker(cfg.breaker_failures, cfg.breaker_cooldown) {}

  asio::any_io_executor ex;
  ssl::context& tls;
  biller_info info;
  http_biller_config cfg;
  http_json::base_url url;
  circuit_breaker breaker;
  // The pool: `open` counts every connection (connecting, in use, idle) against pool_size;
  // `idle` holds the reusable ones, most recently used last; `live` every open one, so the
  // destructor can close them.
  std::size_t open = 0;
  std::vector<std::shared_ptr<http_connection>> idle;
  std::map<std::uint64_t, std::weak_ptr<http_connection>> live;
  // FIFO, except that calls about money (pay, status, reversal) wait ahead of inquiries: a
  // subscriber who confirmed a payment is not kept waiting, then refused, behind bill lookups.
  std::deque<std::shared_ptr<pool_waiter>> waiters;
  // Timers of pending calls (pool waits, retry backoff), so the destructor can cancel them.
  std::map<std::uint64_t, std::weak_ptr<asio::steady_timer>> timers;
  // Payment ids whose pay or reverse may have reached the biller (bounded, oldest forgotten
  // first): a later attempt with the same id that is not sent must not be called a rejection.
  std::unordered_set<std::string> sent_ids;
  std::deque<std::string> sent_order;
  std::uint64_t next_id = 0;
  bool closed = false;  // the adapter is gone: every call ends as unavailable / unknown
};

}  // namespace detail

namespace {

using detail::http_biller_state;
using detail::http_connection;
using state_ptr = std::shared_ptr<http_biller_state>;

constexpr std::size_t max_header_bytes = 8 * 1024;
constexpr std::size_t remembered_sent_ids = 100'000;
constexpr const char* shut_down_detail = "http biller shut down";

void remember_sent(http_biller_state& s, const std::string& payment_id) {
  if (!s.sent_ids.insert(payment_id).second) return;
  s.sent_order.push_back(payment_id);
  while (s.sent_order.size() > remembered_sent_ids) {
    s.sent_ids.erase(s.sent_order.front());
    s.sent_order.pop_front();
  }
}

// Wakes the first call waiting for a connection, if any: something was freed.
void wake_one(http_biller_state& s) {
  if (s.waiters.empty()) return;
  auto w = std::move(s.waiters.front());
  s.waiters.pop_front();
  w->granted = true;
  w->timer.cancel();
}

// A connection lent to one attempt. keep() returns it to the pool; otherwise it is closed and
// its slot freed when the lease ends (errors, timeouts, "Connection: close", shutdown).
class lease {
 public:
  lease(state_ptr s, std::shared_ptr<http_connection> c) : s_(std::move(s)), c_(std::move(c)) {}
  lease(lease&& o) noexcept = default;
  lease& operator=(lease&&) = delete;
  lease(const lease&) = delete;
  ~lease() {
    if (c_) drop();
  }

  http_connection& operator*() const { return *c_; }
  http_connection* operator->() const { return c_.get(); }

  void keep() {
    if (s_->closed) return drop();
    c_->used = true;
    c_->idle_since = clock_type::now();
    s_->idle.push_back(std::move(c_));
    wake_one(*s_);
  }

 private:
  void drop() {
    c_->close();
    s_->live.erase(c_->id);
    c_.reset();
    --s_->open;
    wake_one(*s_);
  }

  state_ptr s_;
  std::shared_ptr<http_connection> c_;
};

// Whether an idle connection can carry another request: not idle for too long, nothing
// unread (an idle HTTP/1.1 connection receives nothing; data means a close_notify or garbage),
// and the biller has not closed it (a peek that would block).
bool still_usable(http_connection& c, std::chrono::milliseconds idle_timeout,
                  clock_type::time_point now) {
  if (now - c.idle_since > idle_timeout) return false;
  if (c.buffer.size() != 0 || ::SSL_pending(c.stream.native_handle()) != 0) return false;
  auto& socket = beast::get_lowest_layer(c.stream).socket();
  if (!socket.is_open()) return false;
  char byte = 0;
  const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// A timer the destructor can cancel; unregistered when the returned guard is destroyed.
struct registered_timer {
  registered_timer(const state_ptr& s, std::shared_ptr<asio::steady_timer> t)
      : s_(s), id_(s->next_id++), timer(std::move(t)) {
    s_->timers.emplace(id_, timer);
  }
  ~registered_timer() { s_->timers.erase(id_); }
  registered_timer(const registered_timer&) = delete;
  registered_timer& operator=(const registered_timer&) = delete;

  state_ptr s_;
  std::uint64_t id_;
  std::shared_ptr<asio::steady_timer> timer;
};

// A connection for one attempt: an idle one that is still usable, else a new (unconnected)
// one if the pool has room, else wait for one to be freed until `deadline`. nullopt at the
// deadline or on shutdown. `money` calls queue ahead of inquiries (pool_waiter::money).
awaitable<std::optional<lease>> acquire(state_ptr s, clock_type::time_point deadline, bool money) {
  for (;;) {
    if (s->closed) co_return std::nullopt;
    const auto now = clock_type::now();
    while (!s->idle.empty()) {
      lease l(s, std::move(s->idle.back()));
      s->idle.pop_back();
      if (still_usable(*l, s->cfg.idle_timeout, now)) co_return std::optional<lease>(std::move(l));
      spdlog::debug("http biller {}: discarding idle connection {}", s->info.id, l->id);
    }  // an unusable one is closed as its lease ends
    if (s->open < s->cfg.pool_size) {
      ++s->open;
      auto c = std::make_shared<http_connection>(s->ex, s->tls, s->next_id++);
      s->live.emplace(c->id, c);
      co_return std::optional<lease>(lease(s, std::move(c)));
    }
    if (now >= deadline) co_return std::nullopt;
    auto w = std::make_shared<detail::pool_waiter>(s->ex);
    const registered_timer reg(s, std::shared_ptr<asio::steady_timer>(w, &w->timer));
    w->timer.expires_at(deadline);
    w->money = money;
    const auto behind = money ? std::find_if(s->waiters.begin(), s->waiters.end(),
                                             [](const auto& o) { return !o->money; })
                              : s->waiters.end();
    s->waiters.insert(behind, w);
    co_await w->timer.async_wait(nothrow);
    if (!w->granted) std::erase(s->waiters, w);  // deadline or shutdown: no longer waiting
  }
}

// TCP connect and TLS handshake within connect_timeout (a DNS name is resolved first, bounded
// by the system resolver). The certificate chain is always verified; the name only with
// verify_host. No SNI for an address literal (RFC 6066).
awaitable<boost::system::error_code> connect(state_ptr s, http_connection& c) {
  auto& layer = beast::get_lowest_layer(c.stream);
  boost::system::error_code ec;
  if (s->url.host_is_ip) {
    const auto addr = asio::ip::make_address(s->url.host, ec);
    if (ec) co_return ec;
    layer.expires_after(s->cfg.connect_timeout);
    auto [cec] = co_await layer.async_connect(tcp::endpoint(addr, s->url.port), nothrow);
    ec = cec;
  } else {
    tcp::resolver resolver(s->ex);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(s->url.host, std::to_string(s->url.port), nothrow);
    if (rec) co_return rec;
    if (s->closed) co_return asio::error::operation_aborted;
    layer.expires_after(s->cfg.connect_timeout);
    auto [cec, endpoint] = co_await layer.async_connect(endpoints, nothrow);
    ec = cec;
  }
  if (ec) co_return ec;
  boost::system::error_code ignored;
  layer.socket().set_option(tcp::no_delay(true), ignored);
  if (!s->url.host_is_ip &&
      !::SSL_set_tlsext_host_name(c.stream.native_handle(), s->url.host.c_str()))
    co_return boost::system::error_code(static_cast<int>(::ERR_get_error()),
                                        asio::error::get_ssl_category());
  c.stream.set_verify_mode(ssl::verify_peer);
  if (s->cfg.verify_host) c.stream.set_verify_callback(ssl::host_name_verification(s->url.host));
  auto [hec] = co_await c.stream.async_handshake(ssl::stream_base::client, nothrow);
  co_return hec;
}

std::string describe(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  if (ec.category() == asio::error::get_ssl_category()) {
    // OpenSSL's reason string ("certificate verify failed") is more useful than the number.
    std::string what = ec.message();
    return "TLS: " + what;
  }
  return ec.message();
}

// ---- One attempt: a connection, a request, an answer --------------------------------------

enum class attempt_kind : std::uint8_t {
  answered,       // an HTTP answer within the bounds
  not_sent,       // connect / TLS failed, or the write failed before its first byte (fresh)
  maybe_sent,     // the request may have reached the biller; no (usable) answer
  stale,          // a reused connection the biller had closed: no answer byte
  no_connection,  // no free connection within connect_timeout: not sent, not the biller's fault
  shut_down,      // the adapter was destroyed
};

struct attempt_outcome {
  attempt_kind kind = attempt_kind::shut_down;
  wire_response response;
  std::string detail;
};

using http_request = bhttp::request<bhttp::string_body>;

http_request make_request(const http_biller_state& s, const wire_request& w) {
  http_request req{w.post ? bhttp::verb::post : bhttp::verb::get, w.target, 11};
  req.set(bhttp::field::host, s.url.host_header);
  req.set(bhttp::field::user_agent, "ussdpay");
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::content_type, "application/json");
  if (!s.cfg.api_key.empty()) req.set(bhttp::field::authorization, "Bearer " + s.cfg.api_key);
  if (!w.idempotency_key.empty()) req.set("Idempotency-Key", w.idempotency_key);
  req.keep_alive(true);
  req.body() = w.body;
  req.prepare_payload();
  return req;
}

// `req` lives in the caller's frame for the whole await.
awaitable<attempt_outcome> attempt_once(state_ptr s, const http_request& req, bool money) {
  auto l = co_await acquire(s, clock_type::now() + s->cfg.connect_timeout, money);
  if (s->closed) co_return attempt_outcome{attempt_kind::shut_down, {}, shut_down_detail};
  if (!l)
    co_return attempt_outcome{
        attempt_kind::no_connection, {}, "not sent: no free connection within connect_timeout"};
  auto& c = **l;
  const bool fresh = !c.used;
  if (fresh) {
    const auto ec = co_await connect(s, c);
    if (s->closed) co_return attempt_outcome{attempt_kind::shut_down, {}, shut_down_detail};
    if (ec) co_return attempt_outcome{attempt_kind::not_sent, {}, "not sent: " + describe(ec)};
  }
  c.used = true;  // from here on, bytes may leave

  auto& layer = beast::get_lowest_layer(c.stream);
  layer.expires_after(s->cfg.request_timeout);  // one deadline for the write and the read
  auto [wec, written] = co_await bhttp::async_write(c.stream, req, nothrow);
  if (s->closed) co_return attempt_outcome{attempt_kind::shut_down, {}, shut_down_detail};
  if (wec) {
    const auto kind = fresh && written == 0 ? attempt_kind::not_sent : attempt_kind::maybe_sent;
    co_return attempt_outcome{kind, {}, "write: " + describe(wec)};
  }

  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(max_header_bytes));
  parser.body_limit(s->cfg.max_body);
  auto [rec, read] = co_await bhttp::async_read(c.stream, c.buffer, parser, nothrow);
  if (s->closed) co_return attempt_outcome{attempt_kind::shut_down, {}, shut_down_detail};
  if (rec) {
    if (rec == bhttp::error::body_limit || rec == bhttp::error::header_limit)
      co_return attempt_outcome{attempt_kind::maybe_sent, {}, "answer larger than max_body"};
    const bool closed_by_peer = rec == bhttp::error::end_of_stream || rec == asio::error::eof ||
                                rec == asio::error::connection_reset ||
                                rec == ssl::error::stream_truncated;
    if (!fresh && read == 0 && closed_by_peer)
      co_return attempt_outcome{attempt_kind::stale, {}, "kept-alive connection closed by biller"};
    auto why = rec == beast::error::timeout ? "no answer within request_timeout"
                                            : "read: " + describe(rec);
    co_return attempt_outcome{attempt_kind::maybe_sent, {}, std::move(why)};
  }
  layer.expires_never();
  auto& res = parser.get();
  attempt_outcome out{
      attempt_kind::answered,
      {res.result_int(), std::string(res[bhttp::field::content_type]), std::move(res.body())},
      {}};
  if (parser.keep_alive()) l->keep();  // otherwise closed as the lease ends
  co_return out;
}

// Sleeps `d` unless the adapter is destroyed meanwhile; false then.
awaitable<bool> sleep_for(state_ptr s, clock_type::duration d) {
  const registered_timer reg(s, std::make_shared<asio::steady_timer>(s->ex, d));
  co_await reg.timer->async_wait(nothrow);
  co_return !s->closed;
}

// ---- A whole call: attempts, retries, the circuit breaker ---------------------------------

template <class Result>
struct exchange_outcome {
  std::optional<Result> answer;  // the last attempt's mapped answer, if it got one
  attempt_kind last = attempt_kind::shut_down;
  bool ever_sent = false;     // some attempt may have reached the biller
  bool circuit_open = false;  // ended because the circuit was open
  std::string detail;
};

// Sends `w` until an attempt gets an answer that needs no retry, the retry rules say stop, or
// the circuit is open. `map` turns an answer into Result and says whether it was a fault.
template <class Result, class Map>
awaitable<exchange_outcome<Result>> exchange(state_ptr s, call_kind kind, wire_request w, Map map) {
  const http_request req = make_request(*s, w);
  const bool safe = http_json::safe_to_retry(kind);
  exchange_outcome<Result> out;
  bool stale_retried = false;
  for (unsigned attempt = 0;;) {
    out.answer.reset();
    if (s->closed) {
      out.last = attempt_kind::shut_down;
      out.detail = shut_down_detail;
      co_return out;
    }
    if (!s->breaker.try_acquire(clock_type::now())) {
      out.circuit_open = true;
      out.last = attempt_kind::not_sent;
      out.detail = "circuit open, not sent";
      co_return out;
    }
    const auto circuit_before = s->breaker.current();
    auto a = co_await attempt_once(s, req, kind != call_kind::inquire);
    out.last = a.kind;
    out.detail = std::move(a.detail);
    bool retry = false;
    switch (a.kind) {
      case attempt_kind::answered: {
        auto m = map(a.response);
        out.ever_sent = true;
        if (m.fault)
          s->breaker.on_failure(clock_type::now());
        else
          s->breaker.on_success();
        retry = m.fault && safe;
        out.detail = m.result.detail;
        out.answer = std::move(m.result);
        break;
      }
      case attempt_kind::not_sent:
        s->breaker.on_failure(clock_type::now());
        retry = true;  // nothing reached the biller: safe for every call
        break;
      case attempt_kind::maybe_sent:
        s->breaker.on_failure(clock_type::now());
        out.ever_sent = true;
        retry = safe;
        break;
      case attempt_kind::stale:
        // Not the biller failing: its keep-alive timer beat ours. A safe call gets one free
        // retry on a new connection; pay and reverse cannot know whether the request was read.
        s->breaker.on_abandoned();
        out.ever_sent = true;
        if (safe && !stale_retried) {
          stale_retried = true;
          continue;
        }
        break;
      case attempt_kind::no_connection:
      case attempt_kind::shut_down:
        s->breaker.on_abandoned();
        co_return out;
    }
    if (const auto now_state = s->breaker.current(); now_state != circuit_before) {
      if (now_state == circuit_breaker::state::open)
        spdlog::warn("http biller {}: circuit open for {} ms after {}", s->info.id,
                     s->cfg.breaker_cooldown.count(), out.detail);
      else if (now_state == circuit_breaker::state::closed)
        spdlog::info("http biller {}: circuit closed", s->info.id);
    }
    if (!retry || attempt >= s->cfg.retries) co_return out;
    ++attempt;
    spdlog::debug("http biller {}: retry {} of {} {}: {}", s->info.id, attempt,
                  w.post ? "POST" : "GET", w.target, out.detail);
    if (!co_await sleep_for(s, attempt * s->cfg.retry_backoff)) {
      out.answer.reset();
      out.last = attempt_kind::shut_down;
      out.detail = shut_down_detail;
      co_return out;
    }
  }
}

// ---- The four calls -------------------------------------------------------------------------

awaitable<inquiry_result> inquire_op(state_ptr s, std::string account) {
  if (!valid_account(s->info.account, account))
    co_return inquiry_result{
        inquiry_status::invalid, {}, {}, "malformed consumer number (checked before sending)"};
  const auto map = [&account](const wire_response& r) {
    return http_json::map_inquiry(r, account);
  };
  auto o = co_await exchange<inquiry_result>(s, call_kind::inquire,
                                             http_json::inquiry_request(s->url, account), map);
  if (o.answer) co_return std::move(*o.answer);
  co_return inquiry_result{inquiry_status::unavailable, {}, {}, std::move(o.detail)};
}

awaitable<pay_result> pay_op(state_ptr s, pay_request req) {
  if (!http_json::valid_payment_id(req.payment_id))
    co_return pay_result{
        pay_status::rejected, {}, "30", "payment id must be 1-64 of A-Z a-z 0-9 . _ - (not sent)"};
  const auto map = [&req](const wire_response& r) {
    return http_json::map_payment(call_kind::pay, r, req.payment_id);
  };
  auto o = co_await exchange<pay_result>(s, call_kind::pay,
                                         http_json::pay_wire_request(s->url, req), map);
  if (o.ever_sent) remember_sent(*s, req.payment_id);
  if (o.answer) co_return std::move(*o.answer);
  const bool never_sent =
      !o.ever_sent && (o.last == attempt_kind::not_sent || o.last == attempt_kind::no_connection);
  // Definitive only when no attempt of this call, nor an earlier call with this payment id,
  // may have reached the biller.
  if (never_sent && !s->sent_ids.contains(req.payment_id))
    co_return pay_result{pay_status::rejected, {}, std::string(code_not_sent), std::move(o.detail)};
  co_return pay_result{pay_status::unknown, {}, {}, std::move(o.detail)};
}

awaitable<pay_result> status_op(state_ptr s, std::string payment_id) {
  if (!http_json::valid_payment_id(payment_id))
    co_return pay_result{pay_status::unknown, {}, "30", "malformed payment id (not sent)"};
  const auto map = [&payment_id](const wire_response& r) {
    return http_json::map_payment(call_kind::status, r, payment_id);
  };
  auto o = co_await exchange<pay_result>(s, call_kind::status,
                                         http_json::status_request(s->url, payment_id), map);
  if (o.answer) co_return std::move(*o.answer);
  co_return pay_result{pay_status::unknown, {}, {}, std::move(o.detail)};
}

awaitable<pay_result> reverse_op(state_ptr s, std::string payment_id) {
  if (!http_json::valid_payment_id(payment_id))
    co_return pay_result{pay_status::rejected, {}, "30", "malformed payment id (not sent)"};
  const auto map = [&payment_id](const wire_response& r) {
    return http_json::map_payment(call_kind::reverse, r, payment_id);
  };
  auto o = co_await exchange<pay_result>(s, call_kind::reverse,
                                         http_json::reverse_request(s->url, payment_id), map);
  if (o.ever_sent) remember_sent(*s, payment_id);
  if (o.answer) co_return std::move(*o.answer);
  co_return pay_result{pay_status::unknown, {}, {}, std::move(o.detail)};  // not "cannot"
}

// Runs `op` on the adapter's executor and hands its result to `done` through the handler's
// associated executor (by default the adapter's) after a post to the adapter's: never inside
// the async_* call, exactly once. An exception (only bad_alloc is possible) becomes `on_error`.
template <class Result>
void start(const state_ptr& s, awaitable<Result> op, biller::handler<void(Result)> done,
           Result on_error) {
  auto finish = [ex = s->ex, done = std::move(done), on_error = std::move(on_error)](
                    std::exception_ptr e, Result r) mutable {
    if (e) r = std::move(on_error);
    auto deliver = [ex, done = std::move(done), r = std::move(r)]() mutable {
      const auto target = asio::get_associated_executor(done, ex);
      auto invoke = [done = std::move(done), r = std::move(r)]() mutable {
        std::move(done)(std::move(r));
      };
      asio::dispatch(target, std::move(invoke));
    };
    asio::post(ex, std::move(deliver));
  };
  asio::co_spawn(s->ex, std::move(op), std::move(finish));
}

bool printable_token(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c <= '~'; });
}

}  // namespace

// ---- http_biller ------------------------------------------------------------------------------

http_biller::http_biller(asio::any_io_executor ex, ssl::context& tls, biller_info info,
                         http_biller_config cfg) {
  const auto bad = [&](const std::string& what) {
    return std::invalid_argument("http biller " + info.id + ": " + what);
  };
  std::string why;
  auto url = http_json::parse_base_url(cfg.base_url, &why);
  if (!url) throw bad("base_url " + cfg.base_url + ": " + why);
  if (!printable_token(cfg.api_key)) throw bad("api_key must be printable ASCII without spaces");
  if (cfg.pool_size == 0) throw bad("pool_size must be at least 1");
  if (cfg.max_body == 0) throw bad("max_body must be at least 1");
  using std::chrono::milliseconds;
  if (cfg.connect_timeout <= milliseconds(0) || cfg.request_timeout <= milliseconds(0) ||
      cfg.idle_timeout <= milliseconds(0) || cfg.retry_backoff < milliseconds(0) ||
      cfg.breaker_cooldown < milliseconds(0))
    throw bad("timeouts must be positive (retry_backoff and breaker_cooldown: not negative)");
  state_ = std::make_shared<http_biller_state>(std::move(ex), tls, std::move(info), std::move(cfg),
                                               std::move(*url));
}

http_biller::~http_biller() {
  auto& s = *state_;
  s.closed = true;
  // Closing a socket aborts its pending operation; cancelling a timer wakes its waiter. Each
  // coroutine then sees `closed` and completes its call as unavailable / unknown.
  for (const auto& [id, weak] : s.live)
    if (const auto c = weak.lock()) c->close();
  s.idle.clear();
  for (const auto& [id, weak] : s.timers)
    if (const auto t = weak.lock()) t->cancel();
}

const biller_info& http_biller::info() const {
  return state_->info;
}

circuit_breaker::state http_biller::circuit() const {
  return state_->breaker.current();
}

std::size_t http_biller::open_connections() const {
  return state_->open;
}

void http_biller::async_inquire(std::string account, handler<void(inquiry_result)> done) {
  start(state_, inquire_op(state_, std::move(account)), std::move(done),
        inquiry_result{inquiry_status::unavailable, {}, {}, "internal error"});
}

void http_biller::async_pay(pay_request req, handler<void(pay_result)> done) {
  start(state_, pay_op(state_, std::move(req)), std::move(done),
        pay_result{pay_status::unknown, {}, {}, "internal error"});
}

void http_biller::async_status(std::string payment_id, handler<void(pay_result)> done) {
  start(state_, status_op(state_, std::move(payment_id)), std::move(done),
        pay_result{pay_status::unknown, {}, {}, "internal error"});
}

void http_biller::async_reverse(std::string payment_id, handler<void(pay_result)> done) {
  start(state_, reverse_op(state_, std::move(payment_id)), std::move(done),
        pay_result{pay_status::unknown, {}, {}, "internal error"});
}

}  // namespace ussdpay::adapters
