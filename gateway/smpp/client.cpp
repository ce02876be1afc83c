#include "gateway/smpp/client.hpp"

#include <fmt/format.h>

namespace ussdpay::smpp {

smsc_client::smsc_client(asio::any_io_executor ex, smsc_config cfg,
                         link_session::inbound_handler inbound, state_observer on_state) {
  auto add = [&](bind_mode mode, std::string name) {
    link_config lc = cfg.link;
    lc.mode = mode;
    link_session::state_observer obs;
    if (on_state)
      obs = [on_state, name](link_state from, link_state to, const std::string& why) {
        on_state(name, from, to, why);
      };
    links_.push_back(std::make_unique<link_session>(ex, cfg.endpoint, std::move(lc), name, inbound,
                                                    std::move(obs)));
  };
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(1, cfg.binds); ++i) {
    if (cfg.pair) {
      add(bind_mode::transmitter, fmt::format("tx{}", i));
      add(bind_mode::receiver, fmt::format("rx{}", i));
    } else {
      add(cfg.link.mode,
          fmt::format("{}{}", cfg.link.mode == bind_mode::transceiver ? "trx" : "b", i));
    }
  }
}

void smsc_client::start() {
  for (auto& l : links_) l->start();
}

void smsc_client::stop(std::function<void()> done) {
  auto remaining = std::make_shared<std::size_t>(links_.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  for (auto& l : links_)
    l->stop([remaining, shared_done] {
      if (--*remaining == 0 && *shared_done) (*shared_done)();
    });
}

void smsc_client::submit(pdu request, link_session::completion handler, lane in) {
  // Least loaded bound transmitter; if none is bound, the least loaded transmitter queues it
  // until its link comes back (or queue_timeout fails it back to the owner).
  link_session* best = nullptr;
  bool best_bound = false;
  for (std::size_t k = 0; k < links_.size(); ++k) {
    auto& l = links_[(next_ + k) % links_.size()];
    if (!l->can_transmit()) continue;
    const bool bound = l->state() == link_state::bound;
    if (best == nullptr || (bound && !best_bound) ||
        (bound == best_bound && l->load() < best->load())) {
      best = l.get();
      best_bound = bound;
    }
  }
  next_ = (next_ + 1) % links_.size();
  best->submit(std::move(request), std::move(handler), in);
}

std::size_t smsc_client::bound_links() const {
  std::size_t n = 0;
  for (auto& l : links_)
    if (l->state() == link_state::bound) ++n;
  return n;
}

}  // namespace ussdpay::smpp
