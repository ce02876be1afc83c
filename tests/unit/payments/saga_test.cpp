// The saga's decisions, without I/O: what each biller answer leads to, back-off, manual review,
// recovery, references and limits.
#include <set>

#include <catch2/catch.hpp>

#include "gateway/payments/saga.hpp"

using namespace ussdpay;
using namespace ussdpay::payments;
using adapters::pay_result;
using adapters::pay_status;
using store::payment_state;

namespace {

store::payment_record payment(payment_state s, std::int64_t created_at = 0,
                              std::int64_t queries = 0) {
  store::payment_record p;
  p.ref = "K7Q2M9XPLA";
  p.state = s;
  p.created_at = created_at;
  p.queries = queries;
  return p;
}

const saga_config cfg{std::chrono::milliseconds(1'000), std::chrono::milliseconds(8'000),
                      std::chrono::milliseconds(60'000)};

}  // namespace

TEST_CASE("a definitive answer finishes the payment either way", "[payments]") {
  for (bool query : {false, true}) {
    auto p = payment(query ? payment_state::unknown : payment_state::created);
    CHECK(on_answer(cfg, p, {pay_status::accepted, "B1", "00", ""}, query, 10).what ==
          command::commit);
    CHECK(on_answer(cfg, p, {pay_status::rejected, "", "05", ""}, query, 10).what == command::fail);
  }
}

TEST_CASE("an unknown answer is never a failure: it is recorded, then asked about", "[payments]") {
  auto p = payment(payment_state::created);
  auto d = on_answer(cfg, p, {pay_status::unknown, "", "", "timeout"}, false, 10);
  CHECK(d.what == command::mark_unknown);
  CHECK(d.delay == std::chrono::milliseconds(1'000));
  p.state = payment_state::unknown;
  p.queries = 1;
  d = on_answer(cfg, p, {pay_status::unknown, "", "", "timeout"}, true, 10);
  CHECK(d.what == command::query);
  CHECK(d.delay == std::chrono::milliseconds(2'000));
}

TEST_CASE("a pay not sent is final only when no earlier post may still arrive", "[payments]") {
  const pay_result not_sent{pay_status::rejected, "", std::string(adapters::code_not_sent),
                            "not sent: connection refused"};
  // The first post never left (our pool was busy, the connection refused): it is sent again,
  // query_initial apart, for post_retry_within after the payment was made; then, since nothing
  // can arrive later, it fails and the hold goes back.
  const auto first = payment(payment_state::created, 1'000'000);
  const auto again = on_answer(cfg, first, not_sent, false, 1'000'010);
  CHECK(again.what == command::post);
  CHECK(again.delay == cfg.query_initial);
  CHECK(on_answer(cfg, first, not_sent, false, 1'000'000 + 9'999).what == command::post);
  CHECK(on_answer(cfg, first, not_sent, false, 1'000'000 + 10'000).what == command::fail);
  // A wall clock that went back behind the payment's creation counts as out of time.
  CHECK(on_answer(cfg, first, not_sent, false, 999'000).what == command::fail);
  saga_config no_retry = cfg;
  no_retry.post_retry_within = std::chrono::milliseconds(0);
  CHECK(on_answer(no_retry, first, not_sent, false, 1'000'010).what == command::fail);
  // A re-post after a status query (after a restart, the first post may still be in flight
  // somewhere): still unknown, the hold stays and the queries go on.
  auto recovered = payment(payment_state::created, 0, 1);
  CHECK(on_answer(cfg, recovered, not_sent, false, 10).what == command::mark_unknown);
  auto unknown = payment(payment_state::unknown, 0, 3);
  CHECK(on_answer(cfg, unknown, not_sent, false, 10).what == command::query);
  // A biller's own refusal of a re-post is as final as any.
  CHECK(on_answer(cfg, unknown, {pay_status::rejected, "", "05", ""}, false, 10).what ==
        command::fail);
}

TEST_CASE("a biller with no record of the payment gets it again under the same id", "[payments]") {
  auto p = payment(payment_state::unknown);
  pay_result none{pay_status::unknown, "", "NOTFOUND", "no record"};
  none.no_record = true;
  CHECK(on_answer(cfg, p, none, true, 10).what == command::post);
  // From pay itself "no record" means nothing: it is an unknown like any other.
  CHECK(on_answer(cfg, payment(payment_state::created), none, false, 10).what ==
        command::mark_unknown);
}

TEST_CASE("back-off doubles up to its ceiling", "[payments]") {
  CHECK(query_delay(cfg, 0) == std::chrono::milliseconds(1'000));
  CHECK(query_delay(cfg, 1) == std::chrono::milliseconds(2'000));
  CHECK(query_delay(cfg, 3) == std::chrono::milliseconds(8'000));
  CHECK(query_delay(cfg, 40) == std::chrono::milliseconds(8'000));
  CHECK(query_delay(cfg, 1'000'000) == std::chrono::milliseconds(8'000));
}

TEST_CASE("unknown for too long goes to manual review once, and asking goes on", "[payments]") {
  auto p = payment(payment_state::unknown, 0, 5);
  const pay_result unknown{pay_status::unknown, "", "", "5xx"};
  CHECK(on_answer(cfg, p, unknown, true, 59'999).what == command::query);
  CHECK(on_answer(cfg, p, unknown, true, 60'000).what == command::mark_review);
  p.state = payment_state::manual_review;
  auto d = on_answer(cfg, p, unknown, true, 600'000);
  CHECK(d.what == command::query);
  CHECK(d.delay == cfg.query_max);
  // The biller's late answer still settles it.
  CHECK(on_answer(cfg, p, {pay_status::accepted, "B", "00", ""}, true, 600'000).what ==
        command::commit);
}

TEST_CASE("recovery asks before it posts, and honours the time already waited", "[payments]") {
  CHECK(on_recover(cfg, payment(payment_state::created), 100).what == command::query);
  auto p = payment(payment_state::unknown);
  p.next_at = 5'000;
  auto d = on_recover(cfg, p, 1'000);
  CHECK(d.what == command::query);
  CHECK(d.delay == std::chrono::milliseconds(4'000));
  p.next_at = 0;
  CHECK(on_recover(cfg, p, 1'000).delay == std::chrono::milliseconds(0));
}

TEST_CASE("references: 10 unambiguous characters, no repeats in 100,000", "[payments]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100'000; ++i) {
    const auto r = new_reference();
    REQUIRE(valid_reference(r));
    REQUIRE(r.find_first_of("ILOU") == std::string::npos);
    seen.insert(r);
  }
  CHECK(seen.size() == 100'000);
  CHECK_FALSE(valid_reference("K7Q2M9XPL"));
  CHECK_FALSE(valid_reference("K7Q2M9XPLO"));
  CHECK_FALSE(valid_reference("k7q2m9xpla"));
}

TEST_CASE("limits: per payment, per day, count and velocity", "[payments]") {
  limits_config l;
  l.max_amount = 50'000;
  l.daily_amount = 100'000;
  l.daily_count = 3;
  l.velocity_count = 2;
  store::usage u;
  CHECK_FALSE(broken_limit(l, u, 50'000));
  CHECK(broken_limit(l, u, 50'001) == 50'000);
  u.amount_since_day = 60'000;
  CHECK(broken_limit(l, u, 40'001) == 100'000);
  CHECK_FALSE(broken_limit(l, u, 40'000));
  u = {};
  u.count_since_day = 3;
  CHECK(broken_limit(l, u, 1));
  u = {};
  u.count_since_recent = 2;
  CHECK(broken_limit(l, u, 1));
  l.daily_amount = l.daily_count = l.velocity_count = 0;
  u = {1'000'000'000, 1'000, 1'000};
  CHECK_FALSE(broken_limit(l, u, 1));
}
