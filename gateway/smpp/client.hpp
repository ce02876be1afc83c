// smsc_client: all binds to one SMSC (N transceivers, or N transmitter+receiver pairs) behind
// one submit() that picks the least-loaded bound transmitter.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gateway/common/metrics.hpp"
#include "gateway/smpp/config.hpp"
#include "gateway/smpp/link_session.hpp"

namespace ussdpay::smpp {

class smsc_client {
 public:
  using state_observer = std::function<void(const std::string& link, link_state from, link_state to,
                                            const std::string& reason)>;

  smsc_client(asio::any_io_executor ex, smsc_config cfg, link_session::inbound_handler inbound,
              state_observer on_state = {});

  void start();
  /// Stops every link gracefully; `done` runs once all are stopped.
  void stop(std::function<void()> done);

  /// Through the least loaded bound transmitter, in lane `l` (interactive: USSD screens first).
  void submit(pdu request, link_session::completion handler, lane l = lane::interactive);

  template <class Token>
  auto async_submit(pdu request, Token&& token) {
    return asio::async_initiate<Token, void(submit_result)>(
        [this](auto handler, pdu r) {
          submit(std::move(r), link_session::completion(std::move(handler)));
        },
        token, std::move(request));
  }

  std::size_t bound_links() const;
  const std::vector<std::unique_ptr<link_session>>& links() const { return links_; }
  /// The SMPP families of /metrics, per bind: state, PDUs, submits, binds, the window, flow
  /// control (gateway/smpp/metrics.cpp).
  void write_metrics(metrics::prometheus_text& m) const;

 private:
  std::vector<std::unique_ptr<link_session>> links_;
  std::size_t next_ = 0;
};

}  // namespace ussdpay::smpp
