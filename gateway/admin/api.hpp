// The admin API's routes: what operations staff and Prometheus ask the daemon.
//
//   GET /                            the status page (HTML; it reads /api/status with the token)
//   GET /health                      200 while the process serves (no token)
//   GET /ready                       200 when bound to the SMSC and the store takes writes,
//                                    503 with the reasons otherwise (no token)
//   GET /metrics                     Prometheus text: links, dialogs, payments, SMS, receipts,
//                                    the scheduler, the store
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

#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "gateway/admin/server.hpp"

namespace ussdpay {
class ussd_service;
struct biller_metrics;
}  // namespace ussdpay
namespace ussdpay::smpp {
class smsc_client;
}
namespace ussdpay::payments {
class service;
}
namespace ussdpay::sms {
class outbox_sender;
}
namespace ussdpay::schedule {
class scheduler;
}
namespace ussdpay::store {
class group_writer;
class reader_pool;
}  // namespace ussdpay::store

namespace ussdpay::admin {

/// What the API reads (never changes): the daemon's parts, by reference.
struct admin_sources {
  const smpp::smsc_client& smsc;
  const ussd_service& ussd;
  payments::service& payments;  ///< non-const: operators resolve payments through it
  const sms::outbox_sender& outbox;
  const schedule::scheduler& schedule;
  store::group_writer& writer;
  store::reader_pool& readers;
  /// Per biller id: its answers and their latency (gateway/metered_biller.hpp).
  const std::map<std::string, std::shared_ptr<biller_metrics>, std::less<>>& billers;
};

route_fn make_routes(boost::asio::any_io_executor ex, const admin_config& cfg, admin_sources src);

/// Whether `authorization` ("Bearer <token>") carries `token`, compared in constant time.
bool bearer_ok(std::string_view authorization, std::string_view token);

}  // namespace ussdpay::admin
