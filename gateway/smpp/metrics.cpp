// The SMPP families of /metrics, per bind (smsc_client::write_metrics).
#include "gateway/smpp/client.hpp"

namespace ussdpay::smpp {

void smsc_client::write_metrics(metrics::prometheus_text& m) const {
  using i64 = std::int64_t;
  auto n = [](auto v) { return static_cast<i64>(v); };
  m.family("ussdpay_smpp_link_up", "gauge", "1 when the bind is bound to the SMSC");
  for (const auto& l : links_)
    m.sample("ussdpay_smpp_link_up", {{"link", l->name()}},
             i64{l->state() == smpp::link_state::bound ? 1 : 0});
  m.family("ussdpay_smpp_pdus_total", "counter", "PDUs read and written, per bind");
  for (const auto& l : links_) {
    m.sample("ussdpay_smpp_pdus_total", {{"link", l->name()}, {"direction", "in"}},
             n(l->stats().pdus_in));
    m.sample("ussdpay_smpp_pdus_total", {{"link", l->name()}, {"direction", "out"}},
             n(l->stats().pdus_out));
  }
  m.family("ussdpay_smpp_submits_total", "counter", "submit_sm outcomes, per bind");
  for (const auto& l : links_) {
    const auto& s = l->stats();
    for (auto [what, v] : {std::pair{"accepted", s.accepted},
                           {"rejected", s.rejected},
                           {"timeout", s.timeouts},
                           {"link_lost", s.lost},
                           {"not_sent", s.not_sent},
                           {"throttled", s.throttled}})
      m.sample("ussdpay_smpp_submits_total", {{"link", l->name()}, {"outcome", what}}, n(v));
  }
  m.family("ussdpay_smpp_binds_total", "counter", "bind attempts and link drops, per bind");
  for (const auto& l : links_) {
    const auto& s = l->stats();
    for (auto [what, v] : {std::pair{"bound", s.binds_ok},
                           {"bind_failed", s.binds_failed},
                           {"connect_failed", s.connects_failed},
                           {"dropped", s.drops}})
      m.sample("ussdpay_smpp_binds_total", {{"link", l->name()}, {"event", what}}, n(v));
  }
  m.family("ussdpay_smpp_pdus_by_command_total", "counter",
           "PDUs read and written, per bind, command and command_status");
  for (const auto& l : links_)
    for (const auto& k : l->stats().pdu_kinds) {
      const bool other = k.command_id == 0 && k.status == 0;
      const std::string cmd(other ? "other" : smpp::command_name(k.command_id));
      const std::string st = other ? "other" : smpp::status_name(k.status);
      for (auto [dir, v] : {std::pair{"in", k.in}, {"out", k.out}})
        if (v > 0)
          m.sample("ussdpay_smpp_pdus_by_command_total",
                   {{"link", l->name()}, {"direction", dir}, {"command", cmd}, {"status", st}},
                   n(v));
    }
  m.family("ussdpay_smpp_window_size", "gauge", "requests a bind may have in flight at once");
  for (const auto& l : links_)
    m.sample("ussdpay_smpp_window_size", {{"link", l->name()}}, n(l->window()));
  m.family("ussdpay_smpp_window_peak", "gauge", "the most requests in flight at once, per bind");
  for (const auto& l : links_)
    m.sample("ussdpay_smpp_window_peak", {{"link", l->name()}}, n(l->stats().window_peak));
  m.family("ussdpay_smpp_in_flight", "gauge", "requests in flight or queued, per bind");
  for (const auto& l : links_)
    m.sample("ussdpay_smpp_in_flight", {{"link", l->name()}}, n(l->load()));
  // Flow control (gateway/smpp/flow_fsm.hpp): each lane's rate, as throttling set it.
  constexpr smpp::lane both[] = {smpp::lane::interactive, smpp::lane::bulk};
  m.family("ussdpay_smpp_send_rate", "gauge",
           "messages per second a lane may send, set by throttling answers (0 = unlimited)");
  for (const auto& l : links_)
    for (const auto lane : both)
      m.sample("ussdpay_smpp_send_rate", {{"link", l->name()}, {"lane", smpp::to_string(lane)}},
               l->flow(lane).rate());
  m.family("ussdpay_smpp_throttled_total", "counter",
           "throttling answers (ESME_RTHROTTLED, ESME_RMSGQFUL), per bind and lane");
  for (const auto& l : links_)
    for (const auto lane : both)
      m.sample("ussdpay_smpp_throttled_total",
               {{"link", l->name()}, {"lane", smpp::to_string(lane)}},
               n(l->stats().throttled_by_lane[static_cast<std::size_t>(lane)]));
  m.family("ussdpay_smpp_rate_cuts_total", "counter",
           "times a lane's rate was cut because the SMSC throttled too much of it");
  for (const auto& l : links_)
    for (const auto lane : both)
      m.sample("ussdpay_smpp_rate_cuts_total",
               {{"link", l->name()}, {"lane", smpp::to_string(lane)}},
               n(l->flow(lane).stats().cuts));
}

}  // namespace ussdpay::smpp
