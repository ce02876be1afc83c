#include "gateway/billers/registry.hpp"

#include <stdexcept>

#include "adapters/http_biller.hpp"
#include "gateway/common/assert.hpp"
#include "store/demo_book.hpp"

namespace ussdpay::billers {

namespace {

/// The demo biller's decisions go to the store through the writer before it answers.
adapters::demo_journal journal_to(store::group_writer& writer, std::string id) {
  return
      [id = std::move(id), &writer](adapters::demo_posting p, std::function<void(bool)> durable) {
        store::demo_book_row row{id,
                                 p.payment_id,
                                 p.account,
                                 p.amount,
                                 p.result.status == adapters::pay_status::accepted,
                                 p.reversed,
                                 p.result.biller_reference,
                                 p.result.code,
                                 p.paid_on};
        if (!writer.submit([row](store::db& d) { return !store::put_demo_book(d, row); },
                           [durable](bool ok, std::optional<store::db_error>) { durable(ok); }))
          durable(false);
      };
}

}  // namespace

adapters::minor_units fee_for(const biller_config& b, adapters::minor_units amount) {
  // Percent in integer arithmetic: basis points, rounded half up.
  const auto bp = static_cast<std::int64_t>(b.fee_percent * 100 + 0.5);
  adapters::minor_units fee = b.fee_flat + (amount * bp + 5000) / 10000;
  if (b.fee_cap > 0 && fee > b.fee_cap) fee = b.fee_cap;
  return fee;
}

demo_books read_demo_books(store::db& conn, const std::vector<biller_config>& billers) {
  demo_books books;
  for (const auto& b : billers) {
    auto& book = books.emplace_back();
    for (const auto& r : store::demo_book(conn, b.info.id)) {
      adapters::pay_result res{
          r.accepted ? adapters::pay_status::accepted : adapters::pay_status::rejected,
          r.biller_reference,
          r.code,
          {}};
      book.push_back({r.payment_id, r.account, r.amount, res, r.reversed, r.paid_on});
    }
  }
  return books;
}

registry::registry(boost::asio::any_io_executor ex, const std::vector<biller_config>& billers,
                   std::shared_ptr<adapters::bill_book> book, demo_books books,
                   store::group_writer& writer)
    : ex_(std::move(ex)) {
  USSDPAY_ASSERT(books.size() == billers.size(), "one demo book per configured biller");
  for (std::size_t i = 0; i < billers.size(); ++i) {
    const auto& b = billers[i];
    std::unique_ptr<adapters::biller> a;
    if (b.kind == "http") {
      a = http(b);
    } else {
      auto demo = std::make_unique<adapters::demo_biller>(ex_, b.info, b.demo, book);
      demo->restore(books[i]);
      demo->set_journal(journal_to(writer, b.info.id));
      a = std::move(demo);
    }
    by_id_[b.info.id] = slots_.size();
    slots_.push_back({b, metered(b, std::move(a))});
  }
  publish_names();
}

void registry::publish_names() {
  auto names = std::make_shared<name_map>();
  for (const auto& s : slots_) (*names)[s.cfg.info.id] = s.cfg.info.name;
  names_.store(std::move(names));
}

registry::~registry() = default;

std::unique_ptr<adapters::biller> registry::http(const biller_config& b) {
  try {
    tls_.push_back(adapters::http_biller_tls_context(b.http));
    return std::make_unique<adapters::http_biller>(ex_, *tls_.back(), b.info, b.http);
  } catch (const std::exception& e) {
    throw std::runtime_error("biller " + b.info.id + ": " + e.what());
  }
}

std::unique_ptr<adapters::biller> registry::metered(const biller_config& b,
                                                    std::unique_ptr<adapters::biller> a) {
  auto& m = stats_[b.info.id];
  if (!m) m = std::make_shared<biller_metrics>();
  return std::make_unique<metered_biller>(std::move(a), m);
}

const registry::slot* registry::find(std::string_view id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &slots_[it->second];
}

adapters::biller* registry::adapter(std::string_view id) const {
  const auto* s = find(id);
  return s == nullptr ? nullptr : s->adapter.get();
}

std::string registry::name(std::string_view id) const {
  const auto names = names_.load();
  const auto it = names->find(id);
  return it == names->end() ? std::string(id) : it->second;
}

std::string registry::currency(std::string_view id, std::string_view fallback) const {
  const auto* s = find(id);
  return std::string(s == nullptr ? fallback : std::string_view(s->cfg.info.currency));
}

adapters::minor_units registry::fee(std::string_view id, adapters::minor_units amount) const {
  const auto* s = find(id);
  return s == nullptr ? 0 : fee_for(s->cfg, amount);
}

std::string registry::prepare(const std::vector<biller_config>& next, staged& out) {
  out = {next, std::vector<std::unique_ptr<adapters::biller>>(next.size())};
  if (next.size() != slots_.size())
    return "billers were added or removed: restart ussdpayd for that";
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const auto& b = next[i];
    if (b.info.id != slots_[i].cfg.info.id || b.kind != slots_[i].cfg.kind)
      return "biller " + b.info.id + ": ids, their order and kinds change only at a restart";
    if (b.kind != "http") continue;
    try {
      out.fresh[i] = http(b);
    } catch (const std::exception& e) {
      return e.what();
    }
  }
  return {};
}

void registry::apply(staged s) {
  USSDPAY_ASSERT(s.cfg.size() == slots_.size() && s.fresh.size() == slots_.size(),
                 "a staged SIGHUP matches the billers it was prepared against");
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (s.fresh[i]) {
      retired_.push_back(std::move(slots_[i].adapter));
      slots_[i].adapter = metered(s.cfg[i], std::move(s.fresh[i]));
    }
    slots_[i].cfg = s.cfg[i];  // the demo adapter keeps its book and knobs
  }
  publish_names();
}

void registry::write_metrics(metrics::prometheus_text& m) const {
  using i64 = std::int64_t;
  auto n = [](auto v) { return static_cast<i64>(v); };
  m.family("ussdpay_biller_answers_total", "counter",
           "biller answers, per biller, call and result");
  for (const auto& [id, b] : stats_)
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
  for (const auto& [id, b] : stats_) {
    i64 errors = 0;
    for (std::size_t ci = 0; ci < b->answers.size(); ++ci)
      for (std::size_t r = 0; r < biller_metrics::results; ++r)
        if (biller_metrics::is_error(static_cast<biller_metrics::call>(ci), r))
          errors += n(b->answers[ci][r]);
    m.sample("ussdpay_biller_errors_total", {{"biller", id}}, errors);
  }
  m.family("ussdpay_biller_latency_seconds", "histogram",
           "biller call latency, per biller and call");
  for (const auto& [id, b] : stats_)
    for (std::size_t ci = 0; ci < b->latency.size(); ++ci)
      m.histogram("ussdpay_biller_latency_seconds",
                  {{"biller", id}, {"call", biller_metrics::call_names[ci]}}, b->latency[ci]);
}

}  // namespace ussdpay::billers
