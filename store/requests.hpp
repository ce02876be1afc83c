// Complaints subscribers open about a payment (one ticket per payment), and operator requests
// (a reversal) that the ussdpay CLI queues for the daemon to carry out, one pending per payment
// and action. Functions over a connection: writes run as group_writer jobs, reads on a reader
// connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.hpp"

namespace ussdpay::store {

// ---- complaints -------------------------------------------------------------------------------

/// Opens a complaint about payment `ref` of `msisdn` with ticket `ticket`; when one is already
/// open for that payment its ticket is returned instead. nullopt: no such payment of theirs.
std::optional<std::string> open_complaint(db& d, std::string_view ref, std::string_view msisdn,
                                          std::string_view ticket, std::int64_t now);
struct complaint {
  std::string ticket, ref, msisdn, state, note;
  std::int64_t created_at = 0;
};
std::vector<complaint> open_complaints(db& d, std::size_t limit);

// ---- operator requests -------------------------------------------------------------------------

struct operator_request {
  std::int64_t id = 0;
  std::string ref, action, state, note, result;
  std::int64_t created_at = 0;
};
/// Queues a request; nullopt (with `why`) when one is already pending for that payment.
std::optional<std::int64_t> add_request(db& d, std::string_view ref, std::string_view action,
                                        std::string_view note, std::int64_t now, std::string& why);
std::vector<operator_request> pending_requests(db& d, std::size_t limit);
std::optional<operator_request> find_request(db& d, std::int64_t id);
/// Records the outcome of a pending request (state "done" or "refused").
bool finish_request(db& d, std::int64_t id, std::string_view state, std::string_view result,
                    std::int64_t now);

}  // namespace ussdpay::store
