#include "gateway/admin/api.hpp"

#include <charconv>
#include <deque>
#include <memory>

#include <openssl/crypto.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "gateway/admin/metrics.hpp"
#include "gateway/admin/status_page.hpp"
#include "gateway/metered_biller.hpp"
#include "gateway/payments/resolve.hpp"
#include "gateway/payments/service.hpp"
#include "gateway/schedule/scheduler.hpp"
#include "gateway/smpp/client.hpp"
#include "gateway/sms/outbox.hpp"
#include "gateway/store_async.hpp"
#include "gateway/ussd_service.hpp"
#include "store/ledger.hpp"
#include "store/payments.hpp"

namespace ussdpay::admin {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = boost::beast::http;

bool bearer_ok(std::string_view authorization, std::string_view token) {
  constexpr std::string_view scheme = "Bearer ";
  if (token.empty() || !authorization.starts_with(scheme)) return false;
  const auto given = authorization.substr(scheme.size());
  if (given.size() != token.size()) return false;
  return CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

namespace {

reply json_reply(unsigned status, const json::value& v) {
  return {status, "application/json", json::serialize(v) + "\n"};
}
reply error_reply(unsigned status, std::string_view why) {
  return json_reply(status, json::object{{"error", why}});
}

// The query parameters we accept are short and plain: letters, digits, '_' and '+'.
std::optional<std::string> param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != key) continue;
    const auto v = pair.substr(eq + 1);
    if (v.empty() || v.size() > 32) return std::nullopt;
    for (char c : v)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '+') return std::nullopt;
    return std::string(v);
  }
  return std::nullopt;
}

json::object payment_json(const store::payment_record& p) {
  return {{"ref", p.ref},
          {"msisdn", p.msisdn},
          {"biller", p.biller},
          {"account", p.account},
          {"amount", p.amount},
          {"fee", p.fee},
          {"currency", p.currency},
          {"state", store::to_string(p.state)},
          {"reason", p.reason},
          {"biller_reference", p.biller_reference},
          {"biller_code", p.biller_code},
          {"queries", p.queries},
          {"created_at", p.created_at},
          {"updated_at", p.updated_at}};
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The payment counters once a minute for the last hour, so the status page can show what
/// happened in the last hour without reading the whole payments table.
struct history {
  std::deque<std::pair<std::int64_t, payments::service_stats>> samples;  ///< (Unix ms, counters)
  void add(std::int64_t now, const payments::service_stats& s) {
    samples.emplace_back(now, s);
    while (samples.size() > 1 && samples[1].first <= now - 3'600'000) samples.pop_front();
  }
  /// The oldest sample no older than an hour (or the oldest there is).
  const payments::service_stats& hour_ago() const { return samples.front().second; }
};

struct routes {
  asio::any_io_executor ex;
  admin_config cfg;
  admin_sources src;
  std::shared_ptr<history> past;

  asio::awaitable<reply> operator()(const request& req) const {
    const std::string_view target(req.target().data(), req.target().size());
    using k = route::kind_t;
    const route rt = route_of(req.method(), target);
    if (rt.kind == k::wrong_method) co_return error_reply(405, rt.why);
    if (rt.kind == k::health) co_return json_reply(200, json::object{{"status", "ok"}});
    // The status page carries no data: it asks /api/status with the token it is given.
    if (rt.kind == k::status_page)
      co_return reply{200, "text/html; charset=utf-8", std::string(status_page())};
    if (rt.kind == k::ready) co_return co_await ready();
    if (cfg.token.empty()) co_return error_reply(403, "no admin token is configured");
    const auto auth = req[http::field::authorization];
    if (!bearer_ok(std::string_view(auth.data(), auth.size()), cfg.token)) {
      reply r = error_reply(401, "a bearer token is required");
      r.www_authenticate = R"(Bearer realm="ussdpay")";
      co_return r;
    }
    if (rt.kind == k::metrics) co_return co_await metrics();
    if (rt.kind == k::status) co_return co_await status();
    if (rt.kind == k::payments) co_return co_await payments(rt.query);
    if (rt.kind == k::resolve) co_return co_await resolve(rt.ref, req.body());
    if (rt.kind == k::payment) co_return co_await payment(rt.ref);
    co_return error_reply(404, "no such resource");
  }

  asio::awaitable<reply> ready() const {
    const auto binds = src.smsc.bound_links();
    // The store takes writes: an empty job through the writer commits.
    store::group_writer::job probe = [](store::db&) { return true; };
    const bool store_ok = co_await on_writer(src.writer, ex, std::move(probe));
    json::array why;
    if (binds == 0) why.emplace_back("not bound to the SMSC");
    if (src.ussd.dialogs().refusing_new()) why.emplace_back("stopping: new dials are refused");
    if (!store_ok) why.emplace_back("the store does not take writes");
    const bool ok = why.empty();
    json::object body{{"ready", ok}, {"smsc_binds", binds}, {"store_writable", store_ok}};
    if (!ok) body["reasons"] = std::move(why);
    co_return json_reply(ok ? 200 : 503, body);
  }

  asio::awaitable<reply> status() const {
    struct found {
      std::vector<std::pair<std::string, std::int64_t>> open;
      std::int64_t queued = -1;
      std::vector<store::payment_record> stuck;
    };
    auto f = std::make_shared<found>();
    std::function<void(store::db&)> read = [f](store::db& d) {
      f->open = store::open_payment_counts(d);
      f->queued = store::queued_messages(d);
      for (auto st : {store::payment_state::manual_review, store::payment_state::unknown})
        for (auto& p : store::payments_in_state(d, st, 10)) f->stuck.push_back(std::move(p));
    };
    if (!co_await on_reader(src.readers, ex, std::move(read)))
      co_return error_reply(503, "the store is busy");
    json::array links;
    for (const auto& l : src.smsc.links())
      links.push_back(json::object{{"name", l->name()}, {"state", smpp::to_string(l->state())}});
    json::object open{{"CREATED", 0}, {"UNKNOWN", 0}, {"MANUAL_REVIEW", 0}};
    for (const auto& [state, count] : f->open) open[state] = count;
    const auto& now = src.payments.stats();
    const auto& then = past->hour_ago();
    json::object hour{
        {"created", now.created - then.created},     {"committed", now.committed - then.committed},
        {"failed", now.failed - then.failed},        {"unknown", now.unknown - then.unknown},
        {"manual_review", now.review - then.review}, {"reversed", now.reversed - then.reversed}};
    const auto t = now_ms();
    json::array stuck;
    for (const auto& p : f->stuck)
      stuck.push_back(json::object{{"ref", p.ref},
                                   {"state", store::to_string(p.state)},
                                   {"biller", p.biller},
                                   {"amount", p.amount},
                                   {"currency", p.currency},
                                   {"age_s", (t - p.created_at) / 1000},
                                   {"reason", p.reason}});
    co_return json_reply(200, json::object{{"links", std::move(links)},
                                           {"live_dialogs", src.ussd.dialogs().live()},
                                           {"outbox_depth", f->queued},
                                           {"open", std::move(open)},
                                           {"last_hour", std::move(hour)},
                                           {"stuck", std::move(stuck)},
                                           {"time", t}});
  }

  asio::awaitable<reply> payment(std::string_view ref) const {
    if (ref.size() != 10) co_return error_reply(404, "no such payment");
    struct found {
      std::optional<store::payment_record> p;
      std::vector<store::outbox_message> messages;
    };
    auto out = std::make_shared<found>();
    std::function<void(store::db&)> read = [out, ref = std::string(ref)](store::db& d) {
      out->p = store::find_payment(d, ref);
      if (out->p) out->messages = store::messages_for(d, ref);
    };
    if (!co_await on_reader(src.readers, ex, std::move(read)))
      co_return error_reply(503, "the store is busy");
    if (!out->p) co_return error_reply(404, "no such payment");
    auto body = payment_json(*out->p);
    json::array sms;
    for (const auto& m : out->messages)
      sms.push_back(json::object{{"kind", m.kind},
                                 {"state", m.state},
                                 {"attempts", m.attempts},
                                 {"message_id", m.message_id},
                                 {"delivery_stat", m.delivery_stat},
                                 {"delivery_error", m.delivery_error},
                                 {"delivered_at", m.delivered_at},
                                 {"created_at", m.created_at}});
    body["sms"] = std::move(sms);
    co_return json_reply(200, body);
  }

  /// POST /api/payments/REF/resolve {"outcome": "paid"|"not_paid", "biller_reference": "...",
  /// "note": "who and why"}: 200 with the payment and its receipt; 400, 404 or 409 (not open).
  asio::awaitable<reply> resolve(std::string_view ref, const std::string& body) const {
    auto req = parse_resolve(ref, body);
    if (!req.error.empty()) co_return error_reply(400, req.error);
    // Named before the co_await: GCC 12 mishandles lambda temporaries in co_await expressions.
    auto start = [&service = src.payments, r = std::move(req.resolution),
                  ex = ex](auto handler) mutable {
      auto h = std::make_shared<decltype(handler)>(std::move(handler));
      // Resumed from the executor, never from inside the service's own coroutine.
      service.resolve(std::move(r), [h, ex](payments::resolve_result got) {
        asio::post(ex, [h, got = std::move(got)]() mutable { std::move (*h)(std::move(got)); });
      });
    };
    const auto res = co_await asio::async_initiate<const asio::use_awaitable_t<>&,
                                                   void(payments::resolve_result)>(
        std::move(start), asio::use_awaitable);
    using k = payments::resolve_result::kind;
    switch (res.result) {
      case k::resolved: {
        auto out = payment_json(res.payment);
        out["sms"] = res.sms;
        co_return json_reply(200, out);
      }
      case k::not_found:
        co_return error_reply(404, res.why);
      case k::wrong_state:
        co_return error_reply(409, res.why);
      case k::bad_request:
        co_return error_reply(400, res.why);
      case k::failed:
        break;
    }
    co_return error_reply(503, res.why);
  }

  asio::awaitable<reply> payments(std::string_view query) const {
    const auto q = parse_payments_query(query);
    if (!q.error.empty()) co_return error_reply(400, q.error);
    auto out = std::make_shared<std::vector<store::payment_record>>();
    std::function<void(store::db&)> read = [out, q](store::db& d) {
      if (q.msisdn)
        *out = store::recent_payments(d, *q.msisdn, q.limit);
      else
        *out = store::payments_in_state(d, *q.state, q.limit);
    };
    if (!co_await on_reader(src.readers, ex, std::move(read)))
      co_return error_reply(503, "the store is busy");
    json::array list;
    for (const auto& p : *out) list.push_back(payment_json(p));
    co_return json_reply(200, json::object{{"payments", std::move(list)}});
  }

  asio::awaitable<reply> metrics() const {
    struct counts {
      std::vector<std::pair<std::string, std::int64_t>> open;
      std::int64_t queued = -1;
    };
    auto c = std::make_shared<counts>();
    std::function<void(store::db&)> read = [c](store::db& d) {
      c->open = store::open_payment_counts(d);
      c->queued = store::queued_messages(d);
    };
    const bool have_store = co_await on_reader(src.readers, ex, std::move(read));
    prometheus_text m;
    using i64 = std::int64_t;
    auto n = [](auto v) { return static_cast<i64>(v); };

    m.family("ussdpay_smpp_link_up", "gauge", "1 when the bind is bound to the SMSC");
    for (const auto& l : src.smsc.links())
      m.sample("ussdpay_smpp_link_up", {{"link", l->name()}},
               i64{l->state() == smpp::link_state::bound ? 1 : 0});
    m.family("ussdpay_smpp_pdus_total", "counter", "PDUs read and written, per bind");
    for (const auto& l : src.smsc.links()) {
      m.sample("ussdpay_smpp_pdus_total", {{"link", l->name()}, {"direction", "in"}},
               n(l->stats().pdus_in));
      m.sample("ussdpay_smpp_pdus_total", {{"link", l->name()}, {"direction", "out"}},
               n(l->stats().pdus_out));
    }
    m.family("ussdpay_smpp_submits_total", "counter", "submit_sm outcomes, per bind");
    for (const auto& l : src.smsc.links()) {
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
    for (const auto& l : src.smsc.links()) {
      const auto& s = l->stats();
      for (auto [what, v] : {std::pair{"bound", s.binds_ok},
                             {"bind_failed", s.binds_failed},
                             {"connect_failed", s.connects_failed},
                             {"dropped", s.drops}})
        m.sample("ussdpay_smpp_binds_total", {{"link", l->name()}, {"event", what}}, n(v));
    }
    m.family("ussdpay_smpp_pdus_by_command_total", "counter",
             "PDUs read and written, per bind, command and command_status");
    for (const auto& l : src.smsc.links())
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
    for (const auto& l : src.smsc.links())
      m.sample("ussdpay_smpp_window_size", {{"link", l->name()}}, n(l->window()));
    m.family("ussdpay_smpp_window_peak", "gauge", "the most requests in flight at once, per bind");
    for (const auto& l : src.smsc.links())
      m.sample("ussdpay_smpp_window_peak", {{"link", l->name()}}, n(l->stats().window_peak));
    m.family("ussdpay_smpp_in_flight", "gauge", "requests in flight or queued, per bind");
    for (const auto& l : src.smsc.links())
      m.sample("ussdpay_smpp_in_flight", {{"link", l->name()}}, n(l->load()));
    // Flow control (gateway/smpp/flow_fsm.hpp): each lane's rate, as throttling set it.
    constexpr smpp::lane both[] = {smpp::lane::interactive, smpp::lane::bulk};
    m.family("ussdpay_smpp_send_rate", "gauge",
             "messages per second a lane may send, set by throttling answers (0 = unlimited)");
    for (const auto& l : src.smsc.links())
      for (const auto lane : both)
        m.sample("ussdpay_smpp_send_rate", {{"link", l->name()}, {"lane", smpp::to_string(lane)}},
                 l->flow(lane).rate());
    m.family("ussdpay_smpp_throttled_total", "counter",
             "throttling answers (ESME_RTHROTTLED, ESME_RMSGQFUL), per bind and lane");
    for (const auto& l : src.smsc.links())
      for (const auto lane : both)
        m.sample("ussdpay_smpp_throttled_total",
                 {{"link", l->name()}, {"lane", smpp::to_string(lane)}},
                 n(l->stats().throttled_by_lane[static_cast<std::size_t>(lane)]));
    m.family("ussdpay_smpp_rate_cuts_total", "counter",
             "times a lane's rate was cut because the SMSC throttled too much of it");
    for (const auto& l : src.smsc.links())
      for (const auto lane : both)
        m.sample("ussdpay_smpp_rate_cuts_total",
                 {{"link", l->name()}, {"lane", smpp::to_string(lane)}},
                 n(l->flow(lane).stats().cuts));

    const auto& dialogs = src.ussd.dialogs();
    m.family("ussdpay_ussd_live_dialogs", "gauge", "USSD dialogs open now");
    m.sample("ussdpay_ussd_live_dialogs", n(dialogs.live()));
    m.family("ussdpay_ussd_dial_limit_numbers", "gauge",
             "numbers the per-number dial limit remembers (at most [ussd] dial_numbers)");
    m.sample("ussdpay_ussd_dial_limit_numbers", n(dialogs.rate_tracked()));
    m.family("ussdpay_ussd_hop_latency_seconds", "histogram",
             "from a dial or reply arriving to the screen that answers it leaving");
    m.histogram("ussdpay_ussd_hop_latency_seconds", {}, src.ussd.hop_latency());
    m.family("ussdpay_ussd_dialogs_total", "counter", "USSD dialog events");
    const auto& ds = dialogs.stats();
    for (auto [what, v] : {std::pair{"dialed", ds.dials},
                           {"reply", ds.replies},
                           {"screen", ds.screens},
                           {"ended", ds.ended},
                           {"aborted", ds.aborted},
                           {"expired", ds.expired},
                           {"busy", ds.busy},
                           {"rate_limited", ds.rate_limited},
                           {"resumed", ds.resumed},
                           {"unknown_code", ds.unknown_code}})
      m.sample("ussdpay_ussd_dialogs_total", {{"event", what}}, n(v));

    const auto& ps = src.payments.stats();
    m.family("ussdpay_payments_total", "counter", "payment transitions since start");
    for (auto [what, v] : {std::pair{"created", ps.created},
                           {"committed", ps.committed},
                           {"failed", ps.failed},
                           {"unknown", ps.unknown},
                           {"manual_review", ps.review},
                           {"reversed", ps.reversed},
                           {"recovered", ps.recovered}})
      m.sample("ussdpay_payments_total", {{"event", what}}, n(v));
    m.family("ussdpay_payments_in_flight", "gauge", "payments the saga is driving now");
    m.sample("ussdpay_payments_in_flight", n(ps.in_flight));
    m.family("ussdpay_biller_answers_total", "counter",
             "biller answers, per biller, call and result");
    for (const auto& [id, b] : src.billers)
      for (std::size_t ci = 0; ci < b->answers.size(); ++ci)
        for (std::size_t r = 0; r < biller_metrics::results; ++r) {
          const auto call = static_cast<biller_metrics::call>(ci);
          m.sample("ussdpay_biller_answers_total",
                   {{"biller", id},
                    {"call", biller_metrics::call_names[ci]},
                    {"result", biller_metrics::result_name(call, r)}},
                   n(b->answers[ci][r]));
        }
    m.family("ussdpay_biller_errors_total", "counter",
             "biller calls that failed (unavailable, unknown outcome, not sent), per biller");
    for (const auto& [id, b] : src.billers) {
      i64 errors = 0;
      for (std::size_t ci = 0; ci < b->answers.size(); ++ci)
        for (std::size_t r = 0; r < biller_metrics::results; ++r)
          if (biller_metrics::is_error(static_cast<biller_metrics::call>(ci), r))
            errors += n(b->answers[ci][r]);
      m.sample("ussdpay_biller_errors_total", {{"biller", id}}, errors);
    }
    m.family("ussdpay_biller_latency_seconds", "histogram",
             "biller call latency, per biller and call");
    for (const auto& [id, b] : src.billers)
      for (std::size_t ci = 0; ci < b->latency.size(); ++ci)
        m.histogram("ussdpay_biller_latency_seconds",
                    {{"biller", id}, {"call", biller_metrics::call_names[ci]}}, b->latency[ci]);
    if (have_store) {
      m.family("ussdpay_payments_open", "gauge", "payments not final, per state (store)");
      for (auto s : {"CREATED", "UNKNOWN", "MANUAL_REVIEW"}) {
        i64 v = 0;
        for (const auto& [state, count] : c->open)
          if (state == s) v = count;
        m.sample("ussdpay_payments_open", {{"state", s}}, v);
      }
      m.family("ussdpay_outbox_depth", "gauge", "SMS queued and not yet acknowledged (store)");
      m.sample("ussdpay_outbox_depth", c->queued);
    }

    const auto& os = src.outbox.stats();
    m.family("ussdpay_sms_total", "counter", "SMS outcomes since start");
    for (auto [what, v] :
         {std::pair{"sent", os.sent}, {"failed", os.failed}, {"retried", os.retried}})
      m.sample("ussdpay_sms_total", {{"result", what}}, n(v));
    m.family("ussdpay_sms_unknown_outcomes_total", "counter",
             "SMS submits with no answer (timeout or link lost): the only ones sent again after "
             "the SMSC may have taken them");
    m.sample("ussdpay_sms_unknown_outcomes_total", n(os.unknown));
    m.family("ussdpay_sms_in_flight", "gauge", "SMS submitted and not yet answered");
    m.sample("ussdpay_sms_in_flight", n(os.in_flight));
    m.family("ussdpay_receipts_total", "counter", "delivery receipts since start");
    for (auto [what, v] : {std::pair{"matched", os.receipts_matched},
                           {"unknown_id", os.receipts_unknown},
                           {"repeated", os.receipts_repeated},
                           {"not_final", os.receipts_pending},
                           {"unreadable", os.receipts_unreadable},
                           {"deferred", os.receipts_deferred}})
      m.sample("ussdpay_receipts_total", {{"result", what}}, n(v));

    const auto& ss = src.schedule.stats();
    m.family("ussdpay_receipts_by_state_total", "counter",
             "readable delivery receipts, by the state they report");
    for (std::size_t i = 0; i < os.receipt_states.size(); ++i)
      m.sample("ussdpay_receipts_by_state_total", {{"state", sms::receipt_state_names[i]}},
               n(os.receipt_states[i]));
    m.family("ussdpay_schedule_total", "counter", "reminders and auto-pay since start");
    for (auto [what, v] : {std::pair{"check", ss.checks},
                           {"unanswered", ss.unanswered},
                           {"reminder", ss.reminders},
                           {"autopay", ss.autopay_started},
                           {"autopay_refused", ss.autopay_refused},
                           {"already_done", ss.already_done}})
      m.sample("ussdpay_schedule_total", {{"event", what}}, n(v));

    const auto ws = src.writer.stats();
    m.family("ussdpay_store_commits_total", "counter", "durable store transactions");
    m.sample("ussdpay_store_commits_total", n(ws.commits));
    m.family("ussdpay_store_jobs_total", "counter", "store write jobs, and those that failed");
    m.sample("ussdpay_store_jobs_total", {{"result", "ok"}}, n(ws.jobs - ws.failed));
    m.sample("ussdpay_store_jobs_total", {{"result", "failed"}}, n(ws.failed));
    co_return reply{200, "text/plain; version=0.0.4; charset=utf-8", m.text()};
  }
};

}  // namespace

route route_of(http::verb method, std::string_view target) {
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  constexpr std::string_view one = "/api/payments/", resolve_suffix = "/resolve";
  const bool resolving = path.size() > one.size() + resolve_suffix.size() &&
                         path.starts_with(one) && path.ends_with(resolve_suffix);
  using k = route::kind_t;
  if (method != (resolving ? http::verb::post : http::verb::get))
    return {k::wrong_method, {}, {}, resolving ? "resolve with POST" : "only GET is served here"};
  if (path == "/health") return {k::health};
  if (path == "/") return {k::status_page};
  if (path == "/ready") return {k::ready};
  if (path == "/metrics") return {k::metrics};
  if (path == "/api/status") return {k::status};
  if (path == "/api/payments") return {k::payments, {}, query};
  if (resolving)
    return {k::resolve, path.substr(one.size(), path.size() - one.size() - resolve_suffix.size())};
  if (path.starts_with(one)) return {k::payment, path.substr(one.size())};
  return {k::not_found};
}

payments_query parse_payments_query(std::string_view query) {
  payments_query out;
  if (const auto m = param(query, "msisdn")) {
    // As subscribers are stored: E.164 digits ("+92...", "0092..." and "92..." alike).
    out.msisdn = store::normalise_msisdn(*m);
    if (!out.msisdn) {
      out.error = "msisdn: 8..15 digits with the country code";
      return out;
    }
  }
  const auto state_text = param(query, "state");
  if (const auto l = param(query, "limit")) {
    unsigned n = 0;
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
    if (ec != std::errc() || p != l->data() + l->size() || n == 0 || n > 100) {
      out.error = "limit: 1..100";
      return out;
    }
    out.limit = n;
  }
  if (state_text) {
    out.state = store::parse_payment_state(*state_text);
    if (!out.state) {
      out.error = "state: CREATED, UNKNOWN, MANUAL_REVIEW, ...";
      return out;
    }
  }
  if (!out.msisdn == !out.state) out.error = "give msisdn=N or state=S";
  return out;
}

resolve_request parse_resolve(std::string_view ref, std::string_view body) {
  resolve_request out;
  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (o == nullptr) {
    out.error = "the body is a JSON object";
    return out;
  }
  auto text = [o](std::string_view key) -> std::optional<std::string> {
    const auto* f = o->if_contains(key);
    if (f == nullptr) return std::string();
    if (!f->is_string()) return std::nullopt;
    return std::string(f->get_string());
  };
  const auto outcome = text("outcome"), biller_ref = text("biller_reference"), note = text("note");
  if (!outcome || !biller_ref || !note || (*outcome != "paid" && *outcome != "not_paid")) {
    out.error = R"(outcome: "paid" or "not_paid"; biller_reference and note: strings)";
    return out;
  }
  out.resolution = {std::string(ref), *outcome == "paid", *biller_ref, *note};
  out.error = payments::check_resolution(out.resolution);
  return out;
}

route_fn make_routes(asio::any_io_executor ex, const admin_config& cfg, admin_sources src) {
  auto past = std::make_shared<history>();
  past->add(now_ms(), src.payments.stats());
  auto r = std::make_shared<routes>(routes{ex, cfg, src, past});
  // Once a minute, the payment counters for the last hour (a weak hold: it ends with the API).
  std::weak_ptr<history> weak = past;
  const auto* service = &src.payments;
  asio::co_spawn(
      ex,
      [weak, service, ex]() -> asio::awaitable<void> {
        asio::steady_timer t(ex);
        for (;;) {
          t.expires_after(std::chrono::minutes(1));
          boost::system::error_code ec;
          co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          auto h = weak.lock();
          if (!h || ec) co_return;
          h->add(now_ms(), service->stats());
        }
      },
      asio::detached);
  return [r](const request& req) { return (*r)(req); };
}

}  // namespace ussdpay::admin
