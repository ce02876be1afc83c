// The HTTP/JSON biller adapter: a `biller` that speaks the JSON contract of docs/biller-api.md
// to one biller over HTTPS (HTTP/1.1, Beast), with a keep-alive connection pool, bounded
// retries of safe calls, and a circuit breaker. The wire format (paths, bodies, the mapping of
// every answer) lives apart in http_biller_json.hpp, without I/O.
//
// One network thread, no locks: every call runs as a coroutine on the executor the adapter was
// built with and completes exactly once, never inside the async_* call.
//
//   async_*(...) --> [circuit closed?] --no--> fail fast (pay: rejected "UNAVAILABLE", not sent)
//                          | yes
//                    [connection]  idle one (still open? not idle too long?) or a new one
//                          |       (at most pool_size; otherwise wait up to connect_timeout)
//                    connect + TLS handshake      <= connect_timeout   fails: "not sent"
//                    write request, read answer   <= request_timeout   fails: "maybe sent"
//                          |
//                    map the answer (http_json::map_*) --> result
//
//   retry (after retry_backoff, at most `retries` more attempts):
//     inquiry, status  on anything but a well-formed answer or a 4xx
//     pay, reverse     only when the attempt was "not sent": connect or TLS failure, or a write
//                      that failed before its first byte on a fresh connection
//
// Circuit breaker (circuit_breaker below): `breaker_failures` consecutive failed attempts
// (transport failure, timeout, 5xx or malformed answer) open it; for `breaker_cooldown` every
// call fails fast without sending; then one trial request is let through (half-open): success
// closes it, failure opens it again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "adapters/biller.hpp"

namespace ussdpay::adapters {

/// Configuration of one HTTP biller (`[[billers]] kind = "http"`).
struct http_biller_config {
  /// https://host[:port][/prefix]; the contract's paths are appended to the prefix
  /// (e.g. https://billers.example:8443/v1/lesco + /bills/{consumer}). Required.
  std::string base_url = "";
  /// PEM file of CA certificates to verify the biller against; "" = the system's default
  /// paths. Used by http_biller_tls_context; the adapter never reads files itself.
  std::string ca_file = "";
  /// Check the certificate names the URL's host (DNS name or IP SAN). The chain is always
  /// verified; false only skips the name check (a biller whose certificate names another host).
  bool verify_host = true;
  /// Sent as "Authorization: Bearer <api_key>"; "" = no Authorization header. Printable ASCII
  /// without spaces.
  std::string api_key = "";
  /// TCP connect and TLS handshake of a new connection; separately, the wait for a free
  /// connection when all pool_size are busy. A DNS lookup (not for IP addresses) comes before
  /// and is bounded by the system resolver.
  std::chrono::milliseconds connect_timeout{2000};
  /// Writing one request and reading its whole answer.
  std::chrono::milliseconds request_timeout{3000};
  /// Connections to this biller at most (kept alive between requests and reused).
  std::size_t pool_size = 8;
  /// An idle connection older than this is closed instead of reused (servers drop idle
  /// connections; sending a payment on one that is going away would make its outcome unknown).
  std::chrono::milliseconds idle_timeout{30000};
  /// Largest answer body in bytes; a larger one is a malformed answer. Headers: 8 KiB.
  std::size_t max_body = 64 * 1024;
  /// Further attempts after a failed one (see the retry rules above); 0 = no retries.
  unsigned retries = 2;
  /// Wait before attempt n+1: n * retry_backoff.
  std::chrono::milliseconds retry_backoff{100};
  /// Consecutive failed attempts that open the circuit; 0 = no circuit breaker.
  unsigned breaker_failures = 5;
  /// How long an open circuit fails fast before it lets one trial request through.
  std::chrono::milliseconds breaker_cooldown{10000};
};

/// A client TLS context for `cfg`: TLS 1.2 or later, peers verified against cfg.ca_file or the
/// system's default paths. Billers with the same ca_file may share one. Blocking file I/O:
/// call at startup. Throws boost::system::system_error when the CA file cannot be loaded.
std::unique_ptr<boost::asio::ssl::context> http_biller_tls_context(const http_biller_config& cfg);

/// The circuit breaker's state machine, without I/O or clocks of its own.
///
///   closed --(failures reach `threshold`)--> open --(cooldown over; try_acquire)--> half_open
///   half_open --success--> closed        half_open --failure--> open (cooldown again)
///
/// In half_open one trial attempt is in flight; every other try_acquire fails fast until it
/// reports. A threshold of 0 disables the breaker (always closed).
class circuit_breaker {
 public:
  using clock = std::chrono::steady_clock;
  enum class state : std::uint8_t { closed, open, half_open };

  circuit_breaker(unsigned threshold, clock::duration cooldown)
      : threshold_(threshold), cooldown_(cooldown) {}

  /// May an attempt be sent now? true in closed; in open once the cooldown is over (the trial:
  /// the state becomes half_open); false otherwise. Every true must be followed by exactly one
  /// on_success, on_failure or on_abandoned.
  bool try_acquire(clock::time_point now);
  /// The biller answered (any well-formed answer, 4xx included).
  void on_success();
  /// The attempt failed on the biller's side (transport, timeout, 5xx, malformed answer).
  void on_failure(clock::time_point now);
  /// The attempt gave no verdict (it never reached the network, or the call was shut down).
  void on_abandoned();

  state current() const { return state_; }
  unsigned consecutive_failures() const { return failures_; }

 private:
  unsigned threshold_;
  clock::duration cooldown_;
  state state_ = state::closed;
  unsigned failures_ = 0;
  clock::time_point open_until_{};
  bool trial_in_flight_ = false;
};

namespace detail {
struct http_biller_state;
}

/// An HTTP/JSON `biller` (docs/biller-api.md). Outcomes beyond the contract's own:
///   - a call that never reached the biller: inquiry unavailable; pay rejected with code
///     "UNAVAILABLE" ("not sent: ..."), which is definitive because nothing was sent, unless an
///     earlier call sent a pay with the same payment id (then unknown); status and reverse
///     unknown (a reverse was not refused, only not asked). The circuit being open is such a
///     case ("circuit open, not sent").
///   - a request that may have reached it without a well-formed answer (timeout, reset, 5xx,
///     garbage, body too large, wrong content type): inquiry unavailable, pay / status /
///     reverse unknown, never rejected.
///   - a payment id that is not 1-64 of A-Z a-z 0-9 . _ - : rejected with code "30" before
///     sending (status: unknown); a consumer number failing info.account: invalid before sending.
///
/// Destroying the adapter (on the network thread) closes its connections and cancels its
/// timers; each pending call completes once, promptly, as unavailable / unknown ("http biller
/// shut down"). Exception: a DNS lookup in progress ends only when the system resolver returns.
/// `tls` must outlive the adapter.
class http_biller final : public biller {
 public:
  /// Throws std::invalid_argument for a bad base_url or api_key, pool_size or max_body of 0,
  /// or non-positive timeouts (bad configuration, at startup).
  http_biller(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls, biller_info info,
              http_biller_config cfg);
  ~http_biller() override;
  http_biller(const http_biller&) = delete;
  http_biller& operator=(const http_biller&) = delete;

  const biller_info& info() const override;
  void async_inquire(std::string account, handler<void(inquiry_result)> done) override;
  void async_pay(pay_request req, handler<void(pay_result)> done) override;
  void async_status(std::string payment_id, handler<void(pay_result)> done) override;
  void async_reverse(std::string payment_id, handler<void(pay_result)> done) override;

  /// The circuit breaker's state, for logs, metrics and tests.
  circuit_breaker::state circuit() const;
  /// Connections open now (idle and in use), for tests.
  std::size_t open_connections() const;

 private:
  std::shared_ptr<detail::http_biller_state> state_;
};

}  // namespace ussdpay::adapters
