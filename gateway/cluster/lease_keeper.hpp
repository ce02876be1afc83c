// One lease this instance wants, as it knows it (no I/O): the membership loop asks the store to
// take or renew it every heartbeat and reports the answer here. The instance believes it holds
// the lease only until the time the successful attempt was *sent* plus the lease's length minus a
// margin: an answer that arrives late cannot stretch it, and the margin covers the clocks of two
// instances drifting apart. Safety does not rest on this belief (every write under the lease
// checks its epoch in the store); the belief only keeps an instance from starting work it would
// not be allowed to write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ussdpay::cluster {

class lease_keeper {
 public:
  enum class change : std::uint8_t { none, gained, renewed_late, lost };

  /// `margin_ms` is taken off every lease's end as this instance sees it (0 <= margin < ttl).
  lease_keeper(std::string name, std::int64_t ttl_ms, std::int64_t margin_ms);

  const std::string& name() const { return name_; }
  /// The store's answer to an attempt sent at `sent`: the epoch now held, or nullopt (another
  /// instance holds it: lost at once).
  change answer(std::optional<std::int64_t> epoch, std::int64_t sent);
  /// The attempt sent at `sent` could not reach the store: the lease is held no longer than the
  /// deadline already known (the store lets it expire then, too).
  change unanswered(std::int64_t sent);
  /// The epoch held at `now`, or nullopt.
  std::optional<std::int64_t> held(std::int64_t now) const;
  /// Until when the lease is believed held (0: not held).
  std::int64_t deadline() const { return deadline_; }

 private:
  std::string name_;
  std::int64_t ttl_ms_, margin_ms_;
  std::int64_t epoch_ = 0;
  std::int64_t deadline_ = 0;
};

}  // namespace ussdpay::cluster
