#include "gateway/cluster/lease_keeper.hpp"

#include "gateway/common/assert.hpp"

namespace ussdpay::cluster {

lease_keeper::lease_keeper(std::string name, std::int64_t ttl_ms, std::int64_t margin_ms)
    : name_(std::move(name)), ttl_ms_(ttl_ms), margin_ms_(margin_ms) {
  USSDPAY_ASSERT(ttl_ms > 0 && margin_ms >= 0 && margin_ms < ttl_ms,
                 "a lease's margin is shorter than the lease");
}

lease_keeper::change lease_keeper::answer(std::optional<std::int64_t> epoch, std::int64_t sent) {
  if (!epoch) {
    const bool had = epoch_ != 0;
    epoch_ = 0;
    deadline_ = 0;
    return had ? change::lost : change::none;
  }
  const bool gained = epoch_ != *epoch;
  const std::int64_t until = sent + ttl_ms_ - margin_ms_;
  epoch_ = *epoch;
  if (gained) {
    deadline_ = until;
    return change::gained;
  }
  const bool late = deadline_ <= sent;
  if (until > deadline_) deadline_ = until;
  return late ? change::renewed_late : change::none;
}

lease_keeper::change lease_keeper::unanswered(std::int64_t sent) {
  if (epoch_ == 0 || deadline_ > sent) return change::none;
  epoch_ = 0;
  deadline_ = 0;
  return change::lost;
}

std::optional<std::int64_t> lease_keeper::held(std::int64_t now) const {
  if (epoch_ == 0 || now >= deadline_) return std::nullopt;
  return epoch_;
}

}  // namespace ussdpay::cluster
