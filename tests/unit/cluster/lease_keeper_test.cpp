// What an instance believes about a lease it wants (gateway/cluster/lease_keeper.hpp): held from
// the store's yes until the attempt's send time plus the lease less the margin, never stretched
// by a late answer, lost at once to another holder, and lapsing when the store cannot be asked.
#include <catch2/catch.hpp>

#include "gateway/cluster/lease_keeper.hpp"

using ussdpay::cluster::lease_keeper;
using change = lease_keeper::change;

TEST_CASE("a lease is held from the store's yes until its send time plus the lease less the margin",
          "[cluster]") {
  lease_keeper k("scheduler", 10'000, 2'000);
  CHECK_FALSE(k.held(0));
  CHECK(k.answer(std::nullopt, 1'000) == change::none);  // another holds it
  CHECK(k.answer(7, 1'000) == change::gained);
  CHECK(k.held(1'000) == 7);
  CHECK(k.held(8'999) == 7);
  CHECK_FALSE(k.held(9'000));  // 1,000 + 10,000 - 2,000
  // Renewed by an attempt sent at 3,000: held until 11,000.
  CHECK(k.answer(7, 3'000) == change::none);
  CHECK(k.deadline() == 11'000);
  // A late answer about an older attempt does not move the end back.
  CHECK(k.answer(7, 2'000) == change::none);
  CHECK(k.deadline() == 11'000);
}

TEST_CASE("a lease is lost at once to another holder, and a new epoch is a new lease",
          "[cluster]") {
  lease_keeper k("scheduler", 10'000, 2'000);
  REQUIRE(k.answer(1, 0) == change::gained);
  CHECK(k.answer(std::nullopt, 1'000) == change::lost);
  CHECK_FALSE(k.held(1'000));
  CHECK(k.deadline() == 0);
  // Taken again later: the store gives the next epoch, and work under epoch 1 is not resumed.
  CHECK(k.answer(3, 20'000) == change::gained);
  CHECK(k.held(20'000) == 3);
  // The belief had lapsed and the store still renewed at the same epoch: held again.
  CHECK(k.answer(3, 40'000) == change::renewed_late);
  CHECK(k.held(40'000) == 3);
}

TEST_CASE("a lease whose renewals go unanswered lapses at the deadline already known",
          "[cluster]") {
  lease_keeper k("scheduler", 10'000, 2'000);
  CHECK(k.unanswered(0) == change::none);  // never held: nothing to lose
  REQUIRE(k.answer(5, 0) == change::gained);
  CHECK(k.unanswered(4'000) == change::none);  // still within 8,000
  CHECK(k.held(7'999) == 5);
  CHECK(k.unanswered(8'000) == change::lost);
  CHECK_FALSE(k.held(8'000));
}
