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

#include "gateway/admin/status_page.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/common/on_store.hpp"
#include "gateway/payments/resolve.hpp"
#include "gateway/payments/service.hpp"
#include "store/outbox.hpp"
#include "store/payments.hpp"
#include "store/subscribers.hpp"

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
    std::size_t binds = 0;
    for (const auto& l : src.probe.links()) binds += l.bound ? 1 : 0;
    // The store takes writes: an empty job through the writer commits.
    store::group_writer::job probe = [](store::db&) { return true; };
    const bool store_ok = co_await on_writer(src.writer, ex, std::move(probe));
    json::array why;
    if (binds == 0) why.emplace_back("not bound to the SMSC");
    if (src.probe.stopping()) why.emplace_back("stopping: new dials are refused");
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
    for (const auto& l : src.probe.links())
      links.push_back(json::object{{"name", l.name}, {"state", l.state}});
    json::object open{{"CREATED", 0}, {"UNKNOWN", 0}, {"MANUAL_REVIEW", 0}};
    for (const auto& [state, count] : f->open) open[state] = count;
    const auto& now = src.payments.stats();
    const auto& then = past->hour_ago();
    json::object hour{
        {"created", now.created - then.created},     {"committed", now.committed - then.committed},
        {"failed", now.failed - then.failed},        {"unknown", now.unknown - then.unknown},
        {"manual_review", now.review - then.review}, {"reversed", now.reversed - then.reversed}};
    const auto t = clock::now_ms();
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
                                           {"live_dialogs", src.probe.live_dialogs()},
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
    metrics::prometheus_text m;
    auto n = [](auto v) { return static_cast<std::int64_t>(v); };

    src.metrics.render(m);
    // The store's own: what it holds (read now) and what its writer did.
    if (have_store) {
      m.family("ussdpay_payments_open", "gauge", "payments not final, per state (store)");
      for (auto s : {"CREATED", "UNKNOWN", "MANUAL_REVIEW"}) {
        std::int64_t v = 0;
        for (const auto& [state, count] : c->open)
          if (state == s) v = count;
        m.sample("ussdpay_payments_open", {{"state", s}}, v);
      }
      m.family("ussdpay_outbox_depth", "gauge", "SMS queued and not yet acknowledged (store)");
      m.sample("ussdpay_outbox_depth", c->queued);
    }
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
  past->add(clock::now_ms(), src.payments.stats());
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
          h->add(clock::now_ms(), service->stats());
        }
      },
      asio::detached);
  return [r](const request& req) { return (*r)(req); };
}

}  // namespace ussdpay::admin
