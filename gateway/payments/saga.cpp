#include "gateway/payments/saga.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <openssl/rand.h>

#include "gateway/common/assert.hpp"

namespace ussdpay::payments {

using adapters::pay_status;
using store::payment_state;

std::chrono::milliseconds query_delay(const saga_config& c, std::int64_t n) {
  auto d = c.query_initial;
  for (std::int64_t i = 0; i < n && d < c.query_max; ++i) d *= 2;
  return std::min(d, c.query_max);
}

namespace {

decision decide(const saga_config& c, const store::payment_record& p,
                const adapters::pay_result& answer, bool from_query, std::int64_t now_ms) {
  switch (answer.status) {
    case pay_status::accepted:
      return {command::commit};
    case pay_status::rejected:
      // A re-post that could not be sent says nothing about the posts before it (one may still
      // be on its way, from before a restart): the outcome stays unknown, the hold stays.
      if (answer.code == adapters::code_not_sent && p.queries > 0) break;
      // The first post never left (our connection pool was busy, the biller refused the
      // connection): the same post a moment later is as safe, and better than failing a payment
      // the subscriber confirmed. A clock that went back counts as out of time.
      if (answer.code == adapters::code_not_sent && !from_query && now_ms >= p.created_at &&
          now_ms - p.created_at < c.post_retry_within.count())
        return {command::post, c.query_initial};
      return {command::fail};
    case pay_status::unknown:
      break;
  }
  // The biller never saw it (or not yet): the same id again cannot pay twice.
  if (from_query && answer.no_record) return {command::post};
  const auto wait = query_delay(c, p.queries);
  const bool too_long = now_ms - p.created_at >= c.manual_review_after.count();
  if (too_long && p.state != payment_state::manual_review) return {command::mark_review, wait};
  if (p.state == payment_state::created) return {command::mark_unknown, wait};
  return {command::query, wait};
}

}  // namespace

decision on_answer(const saga_config& c, const store::payment_record& p,
                   const adapters::pay_result& answer, bool from_query, std::int64_t now_ms) {
  const decision d = decide(c, p, answer, from_query, now_ms);
  USSDPAY_ASSERT(d.what != command::fail || answer.status == pay_status::rejected,
                 "a payment is voided only on a definitive rejection, never on unknown");
  USSDPAY_ASSERT(d.what != command::commit || answer.status == pay_status::accepted,
                 "a payment is committed only when the biller accepted it");
  return d;
}

decision on_recover(const saga_config& c, const store::payment_record& p, std::int64_t now_ms) {
  // CREATED: we may have posted it or not; ask first, and post if the biller has no record.
  if (p.state == payment_state::created) return {command::query};
  const auto wait = std::chrono::milliseconds(std::max<std::int64_t>(p.next_at - now_ms, 0));
  (void)c;
  return {command::query, wait};
}

namespace {
constexpr std::string_view crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

std::string new_reference() {
  std::array<unsigned char, 8> r{};
  if (RAND_bytes(r.data(), static_cast<int>(r.size())) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  std::uint64_t bits = 0;
  for (auto b : r) bits = (bits << 8) | b;
  std::string out(10, '0');
  for (auto& ch : out) {
    ch = crockford[bits & 31];
    bits >>= 5;
  }
  return out;
}

bool valid_reference(std::string_view text) {
  return text.size() == 10 && std::all_of(text.begin(), text.end(), [](char ch) {
           return crockford.find(ch) != std::string_view::npos;
         });
}

}  // namespace ussdpay::payments

namespace ussdpay::payments {

std::optional<adapters::minor_units> broken_limit(const limits_config& l, const store::usage& u,
                                                  adapters::minor_units amount) {
  if (l.max_amount > 0 && amount > l.max_amount) return l.max_amount;
  if (l.daily_amount > 0 && u.amount_since_day + amount > l.daily_amount) return l.daily_amount;
  // Count limits have no amount of their own; the daily amount is what the screen can name.
  if (l.daily_count > 0 && u.count_since_day + 1 > l.daily_count) return l.daily_amount;
  if (l.velocity_count > 0 && u.count_since_recent + 1 > l.velocity_count) return l.daily_amount;
  return std::nullopt;
}

precheck_result check_before_paying(const limits_config& l, const store::usage& u,
                                    adapters::minor_units amount, bool recent_same) {
  if (amount < l.min_amount) return {precheck::too_low, l.min_amount};
  if (auto lim = broken_limit(l, u, amount)) return {precheck::limit, *lim};
  if (recent_same) return {precheck::duplicate, 0};
  return {};
}

}  // namespace ussdpay::payments
