#include "store/requests.hpp"

#include <string>

namespace ussdpay::store {

// ---- complaints -----------------------------------------------------------------------------

std::optional<std::string> open_complaint(db& d, std::string_view ref, std::string_view msisdn,
                                          std::string_view ticket, std::int64_t now) {
  stmt own(d, "SELECT 1 FROM payments WHERE ref = ? AND msisdn = ?");
  own.bind(1, ref).bind(2, msisdn);
  if (!own.step()) return std::nullopt;
  stmt existing(d, "SELECT ticket FROM complaints WHERE ref = ? AND msisdn = ?");
  existing.bind(1, ref).bind(2, msisdn);
  if (existing.step()) return existing.text(0);
  stmt add(d, "INSERT INTO complaints(ticket, ref, msisdn, created_at) VALUES (?, ?, ?, ?)");
  if (add.bind(1, ticket).bind(2, ref).bind(3, msisdn).bind(4, now).run()) return std::nullopt;
  return std::string(ticket);
}

std::vector<complaint> open_complaints(db& d, std::size_t limit) {
  stmt s(d,
         "SELECT ticket, ref, msisdn, state, note, created_at FROM complaints WHERE state = "
         "'open' ORDER BY created_at LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(limit));
  std::vector<complaint> out;
  while (s.step())
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5)});
  return out;
}

// ---- operator requests ----------------------------------------------------------------------

std::optional<std::int64_t> add_request(db& d, std::string_view ref, std::string_view action,
                                        std::string_view note, std::int64_t now, std::string& why) {
  stmt s(d,
         "INSERT INTO operator_requests(ref, action, note, created_at, updated_at) VALUES (?, ?, "
         "?, ?, ?) RETURNING id");
  s.bind(1, ref).bind(2, action).bind(3, note).bind(4, now).bind(5, now);
  if (s.step()) return s.int64(0);
  const db_error e = s.error().value_or(db_error{0, "the request was not added"});
  why = is_unique_violation(e) ? "a " + std::string(action) + " of this payment is already pending"
                               : e.message;
  return std::nullopt;
}

namespace {
std::vector<operator_request> read_requests(stmt& s) {
  std::vector<operator_request> out;
  while (s.step())
    out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.int64(6)});
  return out;
}
constexpr std::string_view request_columns =
    "SELECT id, ref, action, state, note, result, created_at FROM operator_requests ";
}  // namespace

std::vector<operator_request> pending_requests(db& d, std::size_t limit) {
  stmt s(d, std::string(request_columns) + "WHERE state = 'pending' ORDER BY id LIMIT ?");
  s.bind(1, static_cast<std::int64_t>(limit));
  return read_requests(s);
}

std::optional<operator_request> find_request(db& d, std::int64_t id) {
  stmt s(d, std::string(request_columns) + "WHERE id = ?");
  s.bind(1, id);
  auto v = read_requests(s);
  if (v.empty()) return std::nullopt;
  return v.front();
}

bool finish_request(db& d, std::int64_t id, std::string_view state, std::string_view result,
                    std::int64_t now) {
  stmt s(d,
         "UPDATE operator_requests SET state = ?, result = ?, updated_at = ? WHERE id = ? AND "
         "state = 'pending'");
  return !s.bind(1, state).bind(2, result).bind(3, now).bind(4, id).run() && d.changes() == 1;
}

}  // namespace ussdpay::store
