// The outbox (store/outbox.hpp) over a real SQLite file: one message per payment and kind,
// resends as bounded copies, due messages across a wall clock that went back, and delivery
// receipts matched by any form of the message id, once. (tests/unit/sms/outbox_test.cpp tests
// the sender that drains it.)
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
