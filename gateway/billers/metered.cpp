#include "gateway/billers/metered.hpp"

#include <algorithm>
#include <chrono>

namespace ussdpay::billers {

namespace {

using clock_type = std::chrono::steady_clock;
template <class Signature>
using handler = adapters::biller::handler<Signature>;

constexpr std::array<std::string_view, biller_metrics::results> inquiry_results{
    "found", "already_paid", "not_found", "invalid", "unavailable"};
constexpr std::array<std::string_view, biller_metrics::results> pay_results{
    "accepted", "rejected", "unknown", "not_sent", "no_record"};

std::size_t index_of(const adapters::pay_result& r) {
  if (r.no_record) return 4;
  if (r.code == adapters::code_not_sent) return 3;
  return static_cast<std::size_t>(r.status);  // accepted, rejected, unknown
}

/// Starts a pay-shaped call with a handler that counts and times its answer, then passes it on.
template <class Start>
void timed(const std::shared_ptr<biller_metrics>& m, biller_metrics::call c,
           handler<void(adapters::pay_result)> done, Start start) {
  start([m, c, t0 = clock_type::now(), done = std::move(done)](adapters::pay_result r) mutable {
    m->latency[c].observe(clock_type::now() - t0);
    ++m->answers[c][index_of(r)];
    std::move(done)(std::move(r));
  });
}

}  // namespace

std::string_view biller_metrics::result_name(call c, std::size_t r) {
  return c == inquire ? inquiry_results.at(r) : pay_results.at(r);
}

bool biller_metrics::is_error(call c, std::size_t r) {
  return c == inquire ? r == 4 : (r == 2 || r == 3);
}

void metered_biller::async_inquire(std::string account,
                                   handler<void(adapters::inquiry_result)> done) {
  inner_->async_inquire(
      std::move(account),
      [m = m_, t0 = clock_type::now(), done = std::move(done)](adapters::inquiry_result r) mutable {
        m->latency[biller_metrics::inquire].observe(clock_type::now() - t0);
        ++m->answers[biller_metrics::inquire]
                    [std::min<std::size_t>(static_cast<std::size_t>(r.status), 4)];
        std::move(done)(std::move(r));
      });
}

void metered_biller::async_pay(adapters::pay_request req,
                               handler<void(adapters::pay_result)> done) {
  timed(m_, biller_metrics::pay, std::move(done),
        [&](auto h) { inner_->async_pay(std::move(req), std::move(h)); });
}

void metered_biller::async_status(std::string payment_id,
                                  handler<void(adapters::pay_result)> done) {
  timed(m_, biller_metrics::status, std::move(done),
        [&](auto h) { inner_->async_status(std::move(payment_id), std::move(h)); });
}

void metered_biller::async_reverse(std::string payment_id,
                                   handler<void(adapters::pay_result)> done) {
  timed(m_, biller_metrics::reverse, std::move(done),
        [&](auto h) { inner_->async_reverse(std::move(payment_id), std::move(h)); });
}

}  // namespace ussdpay::billers
