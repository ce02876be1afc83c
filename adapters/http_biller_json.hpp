// The wire format of the HTTP/JSON biller adapter, without I/O: the base URL, each call's
// request (method, path, JSON body, idempotency key), and how each HTTP answer maps onto the
// biller interface's typed outcomes. The contract itself is docs/biller-api.md; http_biller.cpp
// only moves these values over TLS. Everything here is a pure function of its arguments, so the
// unit tests and the libFuzzer target (tests/fuzz/biller_json_fuzz.cpp) drive it without
// sockets.
//
// What an answer means (the full table is in docs/biller-api.md):
//
//   HTTP status        inquiry               pay / status           reverse
//   200 (201 pay)      bill: found,          payment object:        payment object:
//                      already_paid, or      accepted, rejected,    reversed = accepted,
//                      not_found (blocked)   unknown (pending)      rejected, unknown
//   400, 422 + error   invalid               rejected (status: unknown)   rejected
//   404 + error        not_found             rejected (status: unknown)   rejected
//   other 4xx          unavailable           unknown                unknown
//   5xx, 1xx, 3xx,     unavailable           unknown                unknown
//   malformed answer   (fault)               (fault)                (fault)
//
// A "fault" is the biller failing (5xx, or an answer that breaks the contract): it counts
// towards the circuit breaker and lets a safe call (inquiry, status) be retried. A 4xx is the
// biller working as designed: never a fault, never retried.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/biller.hpp"

namespace ussdpay::adapters::http_json {

// ---- Bounds on what the biller sends back; anything outside is a malformed answer -----------

constexpr std::size_t max_code = 64;       ///< responseCode, errorCode
constexpr std::size_t max_reference = 64;  ///< billerReference, billReference, paymentId
constexpr std::size_t max_name = 80;       ///< customerName (UTF-8 bytes)
constexpr std::size_t max_message = 200;   ///< message, errorDescription (UTF-8 bytes)
constexpr std::size_t max_json_depth = 8;  ///< nesting of objects and arrays
/// Money values: 0 to 10^15 minor units.
constexpr minor_units max_amount = 1'000'000'000'000'000;

/// Payment ids we send: 1-64 of A-Z a-z 0-9 '.' '_' '-' (a UUID fits). Anything else is refused
/// before sending, so an id never needs escaping in a path or a header.
bool valid_payment_id(std::string_view id);

// ---- The base URL -----------------------------------------------------------------------------

/// https://host[:port][/prefix], parsed and checked (no user info, query or fragment).
struct base_url {
  std::string host;         ///< for connecting and certificate checks: a name, IPv4 or IPv6
  std::string host_header;  ///< for the Host header: host[:port], IPv6 in brackets
  std::uint16_t port = 443;
  std::string prefix;       ///< "" or "/v1/lesco": starts with '/', no trailing '/'
  bool host_is_ip = false;  ///< an address literal: no SNI, the certificate needs an IP SAN
};

/// Parses a base URL; nullopt (and `why` set, if given) when it is not https, is longer than
/// 2048 characters, has user info, a query, a fragment, an empty or malformed host, a port
/// outside 1-65535, or path characters other than unreserved ones, '/' and '%XX'.
std::optional<base_url> parse_base_url(std::string_view text, std::string* why = nullptr);

// ---- Requests ---------------------------------------------------------------------------------

/// The four calls of the biller interface.
enum class call_kind : std::uint8_t { inquire, pay, status, reverse };

/// Inquiry and status read state and change nothing: sending them twice is harmless. Pay and
/// reverse are sent again only when the earlier attempt provably never reached the biller.
constexpr bool safe_to_retry(call_kind k) {
  return k == call_kind::inquire || k == call_kind::status;
}

/// One HTTP request, before transport: http_biller adds Host, Authorization, Accept and
/// Content-Type.
struct wire_request {
  bool post = false;            ///< POST with `body`, else GET without one
  std::string target;           ///< origin-form path with the URL's prefix
  std::string body;             ///< JSON text for POST
  std::string idempotency_key;  ///< the payment id for pay, status, reverse; "" for inquiry
};

/// GET {prefix}/bills/{account}. The caller has checked `account` with valid_account (letters,
/// digits and '-' only); anything else is percent-encoded anyway.
wire_request inquiry_request(const base_url& url, std::string_view account);
/// POST {prefix}/payments with {"paymentId","consumerNumber","amount":{"value","currency"},
/// "billReference"?}. The caller has checked the payment id with valid_payment_id.
wire_request pay_wire_request(const base_url& url, const pay_request& req);
/// GET {prefix}/payments/{payment_id}.
wire_request status_request(const base_url& url, std::string_view payment_id);
/// POST {prefix}/payments/{payment_id}/reversal with {"paymentId"}.
wire_request reverse_request(const base_url& url, std::string_view payment_id);

// ---- Answers ----------------------------------------------------------------------------------

/// An HTTP answer as the transport received it (the body already bounded by max_body).
struct wire_response {
  unsigned status = 0;
  std::string content_type;  ///< the Content-Type header, "" when absent
  std::string body;
};

/// A mapped answer and whether it was a fault (see the header comment).
template <class Result>
struct mapped {
  Result result;
  bool fault = false;
};

/// Whether a Content-Type header names application/json (any case, parameters allowed).
bool is_json_content_type(std::string_view content_type);

/// The answer to GET /bills/{account}. `account` is what was asked: a bill for another consumer
/// number is malformed.
mapped<inquiry_result> map_inquiry(const wire_response& r, std::string_view account);

/// The answer to a pay, status or reverse call (`kind` must be one of those three) for
/// `payment_id`: a payment object naming another payment id is malformed.
mapped<pay_result> map_payment(call_kind kind, const wire_response& r, std::string_view payment_id);

}  // namespace ussdpay::adapters::http_json
