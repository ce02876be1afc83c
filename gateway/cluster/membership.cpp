#include "gateway/cluster/membership.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/common/clock.hpp"
#include "gateway/common/on_store.hpp"

namespace ussdpay::cluster {

namespace asio = boost::asio;

namespace {
// A fifth of the lease: what this instance takes off its end for late answers and clocks that
// drift apart.
std::int64_t margin_of(std::chrono::milliseconds ttl) {
  return ttl.count() / 5;
}
}  // namespace

membership::membership(asio::any_io_executor ex, cluster_config cfg, std::int64_t started_at,
                       store::group_writer& writer, store::reader_pool& readers,
                       std::function<void()> evicted)
    : ex_(ex),
      cfg_(std::move(cfg)),
      started_at_(started_at),
      writer_(writer),
      readers_(readers),
      evicted_(std::move(evicted)),
      wake_(ex) {}

membership::~membership() {
  *alive_ = false;
}

void membership::want_lease(std::string name) {
  leases_.emplace_back(std::move(name), cfg_.lease_ttl.count(), margin_of(cfg_.lease_ttl));
}

void membership::start() {
  spdlog::info("cluster: node {} (peer link {}), heartbeat every {} ms, leases of {} ms", cfg_.node,
               cfg_.listen.empty() ? "none" : cfg_.listen, cfg_.heartbeat.count(),
               cfg_.lease_ttl.count());
  asio::co_spawn(ex_, run(), asio::detached);
}

void membership::stop() {
  *alive_ = false;
  wake_.cancel();
  // Given up at once, so another instance need not wait for them to expire.
  const auto now = clock::now_ms();
  std::vector<store::lease_fence> held;
  for (const auto& l : leases_)
    if (auto e = l.held(now)) held.push_back({l.name(), cfg_.node, *e});
  writer_.submit(
      [held, node = cfg_.node, started = started_at_](store::db& d) {
        for (const auto& f : held) store::release_lease(d, f.name, f.node, f.epoch);
        store::leave_cluster(d, node, started);
        return true;
      },
      {});
}

std::optional<store::lease_fence> membership::fence(std::string_view name) const {
  const auto now = clock::now_ms();
  for (const auto& l : leases_)
    if (l.name() == name) {
      if (auto e = l.held(now)) return store::lease_fence{l.name(), cfg_.node, *e};
      return std::nullopt;
    }
  return std::nullopt;
}

asio::awaitable<void> membership::run() {
  const auto alive = alive_;
  while (*alive) {
    co_await beat();
    if (!*alive) co_return;
    wake_.expires_after(cfg_.heartbeat);
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> membership::beat() {
  const auto alive = alive_;  // checked after every wait: stop() may have come meanwhile
  struct answers {
    bool still_member = false;
    std::vector<std::optional<std::int64_t>> epochs;
  };
  auto out = std::make_shared<answers>();
  std::vector<std::string> names;
  for (const auto& l : leases_) names.push_back(l.name());
  const auto sent = clock::now_ms();
  const auto ttl = cfg_.lease_ttl.count();
  store::group_writer::job job = [out, names, sent, ttl, node = cfg_.node,
                                  started = started_at_](store::db& d) {
    out->still_member = store::heartbeat(d, node, started, sent);
    for (const auto& n : names) out->epochs.push_back(store::acquire_lease(d, n, node, sent, ttl));
    return true;
  };
  const bool committed = co_await on_writer(writer_, ex_, std::move(job));
  if (!*alive) co_return;
  ++stats_.heartbeats;
  if (!committed || out->epochs.size() != leases_.size()) {
    ++stats_.unanswered;
    for (auto& l : leases_)
      if (l.unanswered(sent) == lease_keeper::change::lost) {
        ++stats_.leases_lost;
        spdlog::warn("cluster: lease {} lapsed: the store did not answer in time", l.name());
      }
  } else {
    if (!out->still_member) {
      spdlog::error(
          "cluster: another process now runs as node {} (this one was silent for longer than "
          "member_ttl); stopping",
          cfg_.node);
      if (evicted_) evicted_();
      co_return;
    }
    for (std::size_t i = 0; i < leases_.size(); ++i) {
      auto& l = leases_[i];
      switch (l.answer(out->epochs[i], sent)) {
        case lease_keeper::change::gained:
          ++stats_.leases_gained;
          spdlog::info("cluster: lease {} held (epoch {})", l.name(), *out->epochs[i]);
          break;
        case lease_keeper::change::lost:
          ++stats_.leases_lost;
          spdlog::warn("cluster: lease {} lost to another instance", l.name());
          break;
        case lease_keeper::change::renewed_late:
        case lease_keeper::change::none:
          break;
      }
    }
  }
  // Who is alive, for the next steps (dialog owners) and the status page.
  auto live = std::make_shared<std::vector<store::member>>();
  const auto member_ttl = cfg_.member_ttl.count();
  std::function<void(store::db&)> read = [live, member_ttl](store::db& d) {
    *live = store::live_members(d, clock::now_ms(), member_ttl);
  };
  if (co_await on_reader(readers_, ex_, std::move(read)) && *alive) members_ = std::move(*live);
}

void membership::write_metrics(metrics::prometheus_text& m) const {
  m.family("ussdpay_cluster_members", "gauge", "Instances alive at the last look (this one too)");
  m.sample("ussdpay_cluster_members", static_cast<std::int64_t>(members_.size()));
  m.family("ussdpay_cluster_lease_held", "gauge", "1 while this instance holds the lease");
  const auto now = clock::now_ms();
  for (const auto& l : leases_)
    m.sample("ussdpay_cluster_lease_held", {{"lease", l.name()}},
             std::int64_t{l.held(now) ? 1 : 0});
  m.counters("ussdpay_cluster_events_total", "Heartbeats and lease changes since start", "event",
             {{"heartbeat", stats_.heartbeats},
              {"heartbeat_unanswered", stats_.unanswered},
              {"lease_gained", stats_.leases_gained},
              {"lease_lost", stats_.leases_lost}});
}

}  // namespace ussdpay::cluster
