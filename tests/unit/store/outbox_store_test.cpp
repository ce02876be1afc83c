// The outbox (store/outbox.hpp) over a real SQLite file: one message per payment and kind,
// resends as bounded copies, due messages across a wall clock that went back, and delivery
// receipts matched by any form of the message id, once. (tests/unit/sms/outbox_test.cpp tests
// the sender that drains it.)
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "store/outbox.hpp"
#include "store/payments.hpp"
#include "tests/unit/store/scratch_store.hpp"

using namespace ussdpay;
using namespace ussdpay::store;
using fixture = test::store_fixture;
using test::sample;

TEST_CASE("one message per payment and kind, resends are copies, bounded", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(insert_payment(d, sample("GGGGGGGGGG")));
  CHECK(enqueue_message(d, "GGGGGGGGGG", "confirmed", "923001234567", "Ref GGGGGGGGGG PAID", 5) ==
        enqueue_status::queued);
  CHECK(enqueue_message(d, "GGGGGGGGGG", "confirmed", "923001234567", "other", 6) ==
        enqueue_status::already_queued);
  CHECK(due_messages(d, 4, 0, 10).empty());
  auto due = due_messages(d, 5, 0, 10);
  REQUIRE(due.size() == 1);
  CHECK(due[0].body == "Ref GGGGGGGGGG PAID");
  REQUIRE_FALSE(update_message(d, due[0].id, "sent", "abc", "abc", 1, 0, 7));
  CHECK(due_messages(d, 100, 0, 10).empty());
  // A retry scheduled at 20 for 500 (the clock read 20, retry_max is 1,000)...
  REQUIRE_FALSE(update_message(d, due[0].id, "queued", "", "", 2, 500, 20));
  CHECK(due_messages(d, 100, 0, 10, 100 + 1'000).empty());
  CHECK(due_messages(d, 500, 0, 10, 500 + 1'000).size() == 1);
  // ...then the wall clock went back to -2,000 (an NTP step): no retry waits 2,500, so it is
  // due now rather than when the clock catches up.
  CHECK(due_messages(d, -2'000, 0, 10, -2'000 + 1'000).size() == 1);
  REQUIRE_FALSE(update_message(d, due[0].id, "sent", "abc", "abc", 2, 0, 21));
  CHECK(requeue_message(d, "GGGGGGGGGG", "923001234567", 8, 2));
  CHECK(requeue_message(d, "GGGGGGGGGG", "923001234567", 9, 2));
  CHECK_FALSE(requeue_message(d, "GGGGGGGGGG", "923001234567", 10, 2));
  CHECK_FALSE(requeue_message(d, "GGGGGGGGGG", "923000000000", 10, 2));  // not theirs
  CHECK(messages_for(d, "GGGGGGGGGG").size() == 3);
}

TEST_CASE("a delivery receipt sets the final state of the message with its key, once", "[store]") {
  fixture t;
  auto& d = *t.conn;
  REQUIRE_FALSE(insert_payment(d, sample("HHHHHHHHHH")));
  REQUIRE(enqueue_message(d, "HHHHHHHHHH", "confirmed", "923001234567", "PAID", 5) ==
          enqueue_status::queued);
  REQUIRE(enqueue_message(d, "HHHHHHHHHH", "pending", "923001234567", "PENDING", 5) ==
          enqueue_status::queued);
  auto due = due_messages(d, 5, 0, 10);
  REQUIRE(due.size() == 2);
  // The first is acknowledged as "0001A2B" (kept as given, keyed "1a2b"); the second not yet.
  REQUIRE_FALSE(update_message(d, due[0].id, "sent", "0001A2B", "1a2b", 1, 0, 7));
  // A key nobody has: nothing changes.
  CHECK_FALSE(record_delivery(d, {"ffff", "65535"}, "delivered", "DELIVRD", "000", 8));
  // The second key matches (the receipt wrote the id in decimal).
  auto m = record_delivery(d, {"6699", "1a2b"}, "delivered", "DELIVRD", "000", 9);
  REQUIRE(m);
  CHECK(m->ref == "HHHHHHHHHH");
  CHECK(m->kind == "confirmed");
  CHECK_FALSE(m->repeated);
  // Again: the message keeps its first final state.
  auto again = record_delivery(d, {"1a2b"}, "undeliverable", "UNDELIV", "001", 10);
  REQUIRE(again);
  CHECK(again->repeated);
  const auto all = messages_for(d, "HHHHHHHHHH");
  REQUIRE(all.size() == 2);
  CHECK(all[0].state == "delivered");
  CHECK(all[0].message_id == "0001A2B");
  CHECK(all[0].delivery_stat == "DELIVRD");
  CHECK(all[0].delivery_error == "000");
  CHECK(all[0].delivered_at == 9);
  CHECK(all[1].state == "queued");
  CHECK(all[1].delivered_at == 0);
}

namespace {
/// R000000000, R000000001, ...
std::string ref_of(int i) {
  auto ref = std::to_string(1'000'000'000 + i);
  ref[0] = 'R';
  return ref;
}
}  // namespace

TEST_CASE("claims: two instances never take the same message, a lapsed claim is taken over",
          "[store][cluster]") {
  fixture t;
  auto& d = *t.conn;
  for (int i = 0; i < 10; ++i)
    REQUIRE(enqueue_message(d, ref_of(i), "confirmed", "923001234567", "body", 0) ==
            enqueue_status::queued);
  // a claims four until 1,000; b, asking at the same time, gets the next four.
  auto a = claim_due_messages(d, "a", 10, 1'000, 0, 4);
  auto b = claim_due_messages(d, "b", 10, 1'000, 0, 4);
  REQUIRE(a.size() == 4);
  REQUIRE(b.size() == 4);
  CHECK(a.back().id < b.front().id);  // in id order, and disjoint
  // a asks again: its own four again (it may page its own claims), plus the two left, now
  // until 5,000.
  auto again = claim_due_messages(d, "a", 20, 5'000, 0, 10);
  CHECK(again.size() == 6);
  for (const auto& m : again)
    for (const auto& theirs : b) CHECK(m.id != theirs.id);
  // An outcome ends the claim: a retry queued later is anyone's.
  REQUIRE_FALSE(update_message(d, b[0].id, "queued", "", "", 1, 30, 25));
  auto c = claim_due_messages(d, "c", 30, 1'000, 0, 10);
  REQUIRE(c.size() == 1);
  CHECK(c[0].id == b[0].id);
  // b goes silent: once its claims lapse, they are taken over.
  CHECK(claim_due_messages(d, "c", 999, 2'000, 0, 10).size() == 1);    // c's own only
  CHECK(claim_due_messages(d, "c", 1'000, 2'000, 0, 10).size() == 4);  // b's three, c's one
  CHECK(claim_due_messages(d, "b", 1'001, 2'000, 0, 10).empty());      // b is back: too late
  // A sent message is nobody's to claim.
  REQUIRE_FALSE(update_message(d, c[0].id, "sent", "x", "x", 1, 0, 1'001));
  CHECK(claim_due_messages(d, "a", 5'000, 6'000, 0, 10).size() == 9);
}

TEST_CASE("claims: instances claiming at once on their own connections share without overlap",
          "[store][cluster]") {
  fixture t;
  auto& d = *t.conn;
  constexpr int messages = 400, instances = 4;
  for (int i = 0; i < messages; ++i)
    REQUIRE(enqueue_message(d, ref_of(i), "confirmed", "923001234567", "body", 0) ==
            enqueue_status::queued);
  const std::vector<std::string> names{"n0", "n1", "n2", "n3"};
  std::vector<std::vector<std::int64_t>> got(instances);
  std::vector<std::thread> threads;
  for (int i = 0; i < instances; ++i)
    threads.emplace_back([&, i] {
      const auto k = static_cast<std::size_t>(i);
      auto conn = t.database.open();
      // Paging by id as the sender does, from the top again at the end of the queue.
      std::int64_t after = 0;
      for (int round = 0; round < 200; ++round) {
        auto page = claim_due_messages(conn, names[k], 10, 100'000, after, 7);
        for (const auto& m : page) got[k].push_back(m.id);
        after = page.size() < 7 ? 0 : page.back().id;
      }
    });
  for (auto& th : threads) th.join();
  std::set<std::int64_t> seen;
  std::size_t total = 0;
  for (std::size_t k = 0; k < got.size(); ++k) {
    // Re-claiming its own is allowed; what matters is that no two instances share one.
    std::set<std::int64_t> mine(got[k].begin(), got[k].end());
    for (auto id : mine) CHECK(seen.insert(id).second);
    total += mine.size();
  }
  CHECK(total == messages);
}
