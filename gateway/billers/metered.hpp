// A biller adapter wrapped to count what its biller answers and how long it takes, per call, for
// /metrics. The counters outlive the adapter (a SIGHUP swaps the adapter, not its history).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "adapters/biller.hpp"
#include "gateway/common/metrics.hpp"

namespace ussdpay::billers {

struct biller_metrics {
  enum call : std::uint8_t { inquire, pay, status, reverse };
  static constexpr std::array<std::string_view, 4> call_names{"inquire", "pay", "status",
                                                              "reverse"};
  /// inquire: found, already_paid, not_found, invalid, unavailable.
  /// pay, status, reverse: accepted, rejected, unknown, not_sent, no_record.
  static constexpr std::size_t results = 5;
  static std::string_view result_name(call c, std::size_t r);
  /// The answers that mean the biller failed us (not a subscriber's mistake): unavailable,
  /// unknown, not_sent.
  static bool is_error(call c, std::size_t r);

  std::array<metrics::latency_histogram, 4> latency;
  std::array<std::array<std::uint64_t, results>, 4> answers{};
};

class metered_biller final : public adapters::biller {
 public:
  metered_biller(std::unique_ptr<adapters::biller> inner, std::shared_ptr<biller_metrics> m)
      : inner_(std::move(inner)), m_(std::move(m)) {}

  const adapters::biller_info& info() const override { return inner_->info(); }
  void async_inquire(std::string account, handler<void(adapters::inquiry_result)> done) override;
  void async_pay(adapters::pay_request req, handler<void(adapters::pay_result)> done) override;
  void async_status(std::string payment_id, handler<void(adapters::pay_result)> done) override;
  void async_reverse(std::string payment_id, handler<void(adapters::pay_result)> done) override;

 private:
  std::unique_ptr<adapters::biller> inner_;
  std::shared_ptr<biller_metrics> m_;
};

}  // namespace ussdpay::billers
