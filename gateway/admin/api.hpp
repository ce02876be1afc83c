// The admin API's routes: what operations staff and Prometheus ask the daemon.
//
//   GET /                            the status page (HTML; it reads /api/status with the token)
//   GET /health                      200 while the process serves (no token)
//   GET /ready                       200 when bound to the SMSC and the store takes writes,
//                                    503 with the reasons otherwise (no token)
//   GET /metrics                     Prometheus text: every component's metrics (the registry:
//                                    links, dialogs, payments, billers, SMS, receipts, the
//                                    scheduler), then the store's
//   GET /api/status                  what the status page shows: binds, live dialogs, outbox
//                                    depth, open payments, the last hour's payments, stuck ones
//   GET /api/payments/REF            one payment with its SMS and their delivery receipts
//   GET /api/payments?msisdn=N       a subscriber's newest payments (limit=, at most 100)
//   GET /api/payments?state=S        payments in a state, oldest first (e.g. MANUAL_REVIEW)
//
// Everything but /, /health and /ready needs "Authorization: Bearer <[admin] token>" (401 without,
// compared in constant time; 403 when no token is configured). Store reads run on the reader
// pool. Nothing here shows a PIN: the store has none to show.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/verb.hpp>

#include "gateway/admin/server.hpp"
#include "gateway/common/metrics.hpp"
#include "gateway/payments/resolve.hpp"
#include "store/payments.hpp"
#include "store/subscribers.hpp"

namespace ussdpay::payments {
class service;
}
namespace ussdpay::store {
class group_writer;
class reader_pool;
}  // namespace ussdpay::store

namespace ussdpay::admin {

/// One SMPP bind as the status page shows it.
struct link_view {
  std::string name;
  std::string state;  ///< "bound", "connecting", ... (smpp::to_string(link_state))
  bool bound = false;
};

/// What the API asks the daemon's other parts, as callbacks: admin includes none of them.
struct probes {
  std::function<std::vector<link_view>()> links;
  std::function<std::size_t()> live_dialogs;
  /// True once SIGTERM: new dials are refused.
  std::function<bool()> stopping;
};

/// What the API reads: the payments (operators resolve through it), the store, every
/// component's metrics (gateway/common/metrics.hpp) and the probes.
struct admin_sources {
  payments::service& payments;
  store::group_writer& writer;
  store::reader_pool& readers;
  const metrics::registry& metrics;
  probes probe;
};

route_fn make_routes(boost::asio::any_io_executor ex, const admin_config& cfg, admin_sources src);

/// Whether `authorization` ("Bearer <token>") carries `token`, compared in constant time.
bool bearer_ok(std::string_view authorization, std::string_view token);

// What the routes read from a request before any store is asked, as pure functions (unit tests
// and tests/fuzz/admin_request_fuzz.cpp): every byte of them comes from the client.

/// Which route a request's method and target (path, then '?' and the query) ask for.
struct route {
  enum class kind_t : std::uint8_t {
    wrong_method,  ///< 405 with `why`
    status_page,
    health,
    ready,
    metrics,
    status,
    payments,  ///< `query` holds the query string
    payment,   ///< `ref` holds REF of /api/payments/REF
    resolve,   ///< `ref` holds REF of /api/payments/REF/resolve
    not_found,
  };
  kind_t kind = kind_t::not_found;
  std::string_view ref = {};    ///< within the target
  std::string_view query = {};  ///< within the target
  std::string_view why = {};
};
route route_of(boost::beast::http::verb method, std::string_view target);

/// GET /api/payments?msisdn=N or ?state=S, with an optional limit=1..100 (20 without): what to
/// list, or the 400's reason in `error` (also for an N that is not an MSISDN).
struct payments_query {
  std::optional<std::string> msisdn;  ///< E.164 digits (store::normalise_msisdn)
  std::optional<store::payment_state> state;
  std::size_t limit = 20;
  std::string error = {};
};
payments_query parse_payments_query(std::string_view query);

/// The body of POST /api/payments/REF/resolve ({"outcome": "paid"|"not_paid",
/// "biller_reference": "...", "note": "..."}) as a resolution checked by
/// payments::check_resolution, or the 400's reason in `error`.
struct resolve_request {
  payments::resolution resolution;
  std::string error = {};
};
resolve_request parse_resolve(std::string_view ref, std::string_view body);

}  // namespace ussdpay::admin
