// libFuzzer target for what the admin API reads from a client before any store is asked
// (gateway/admin/api.hpp): the route from the method and target, the query of GET /api/payments,
// the JSON body of POST /api/payments/REF/resolve, and the bearer token.
//
// Input layout: byte 0 picks the method (GET, POST, PUT, HEAD, DELETE, an unknown one); the
// target runs to the first newline, the body is the rest (the seed corpus holds requests the
// ussdpay CLI and the status page send, and broken ones). Invariants checked (abort on
// violation):
//   * route_of never crashes; the method fits the route (POST only to resolve), the REF and the
//     query lie within the target and match its path;
//   * a payments query either has a reason to refuse or exactly one of msisdn (8..15 digits)
//     and state, and a limit of 1..100;
//   * a resolve body either has a reason to refuse or is a resolution that check_resolution
//     accepts: a 10-character REF, a note, a biller reference exactly when paid, bounded sizes;
//   * only "Bearer " and the exact token passes bearer_ok.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/admin/api.hpp"

namespace admin = ussdpay::admin;
namespace http = boost::beast::http;

namespace {

[[noreturn]] void fail(const char* what, std::string_view target, std::string_view body) {
  std::fprintf(stderr, "admin_request_fuzz: %s\ntarget: %.*s\nbody (%zu bytes): %.*s\n", what,
               static_cast<int>(target.size()), target.data(), body.size(),
               static_cast<int>(body.size()), body.data());
  std::abort();
}

bool within(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr http::verb methods[] = {http::verb::get,     http::verb::post,
                                           http::verb::put,     http::verb::head,
                                           http::verb::delete_, http::verb::unknown};
  const http::verb method = methods[data[0] % std::size(methods)];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto nl = in.find('\n');
  const std::string_view target = in.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? "" : in.substr(nl + 1);

  using k = admin::route::kind_t;
  const auto rt = admin::route_of(method, target);
  if (!within(rt.ref, target) || !within(rt.query, target))
    fail("a part off the target", target, body);
  const std::string_view path = target.substr(0, target.find('?'));
  if (rt.kind == k::wrong_method) {
    if (rt.why.empty()) fail("405 without a reason", target, body);
  } else if (rt.kind == k::resolve) {
    if (method != http::verb::post) fail("resolve without POST", target, body);
    if (rt.ref.empty() || path != "/api/payments/" + std::string(rt.ref) + "/resolve")
      fail("resolve REF not from the path", target, body);
  } else {
    if (method != http::verb::get) fail("a route served without GET", target, body);
    if (rt.kind == k::payment && path != "/api/payments/" + std::string(rt.ref))
      fail("payment REF not from the path", target, body);
  }

  const auto q = admin::parse_payments_query(rt.kind == k::payments ? rt.query : target);
  if (q.error.empty()) {
    if (q.msisdn.has_value() == q.state.has_value())
      fail("not exactly one of msisdn, state", target, body);
    if (q.limit < 1 || q.limit > 100) fail("limit out of bounds", target, body);
    if (q.msisdn && (q.msisdn->size() < 8 || q.msisdn->size() > 15 ||
                     q.msisdn->find_first_not_of("0123456789") != std::string::npos))
      fail("msisdn not 8..15 digits", target, body);
  }

  const auto r = admin::parse_resolve(rt.kind == k::resolve ? rt.ref : path, body);
  if (r.error.empty()) {
    const auto& res = r.resolution;
    if (!ussdpay::payments::check_resolution(res).empty())
      fail("a resolution check_resolution refuses", target, body);
    if (res.ref.size() != 10 || res.note.empty() || res.note.size() > 200 ||
        res.biller_reference.size() > 64 || res.paid == res.biller_reference.empty())
      fail("a resolution out of bounds", target, body);
    for (char c : res.note + res.biller_reference)
      if (static_cast<unsigned char>(c) < 0x20) fail("a control character accepted", target, body);
  }

  constexpr std::string_view token = "0123456789abcdef";
  const std::string_view auth = body.substr(0, body.find('\n'));
  if (admin::bearer_ok(auth, token) != (auth == "Bearer 0123456789abcdef"))
    fail("bearer_ok wrong", target, body);
  if (admin::bearer_ok(auth, "")) fail("bearer_ok with no token", target, body);
  return 0;
}
