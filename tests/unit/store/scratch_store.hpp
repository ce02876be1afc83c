// A scratch store for the repository tests: a fresh database (scratch_database.hpp: SQLite, or
// PostgreSQL under its fixture) with one writer connection migrated to the newest schema,
// removed after the test; a funded wallet; a sample payment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <catch2/catch.hpp>

#include "store/ledger.hpp"
#include "store/payments.hpp"
#include "store/schema.hpp"
#include "tests/unit/store/scratch_database.hpp"

namespace ussdpay::test {

struct store_fixture {
  store_fixture() {
    conn.emplace(database.open());
    REQUIRE_FALSE(store::migrate(*conn));
    dir = database.dir;
  }
  store_fixture(const store_fixture&) = delete;
  store_fixture& operator=(const store_fixture&) = delete;

  /// A subscriber wallet with `balance`, funded from the funding account.
  void fund(const std::string& msisdn, std::int64_t balance) {
    using store::account_kind;
    auto w = store::account_id(*conn, account_kind::wallet, msisdn, "PKR", true);
    auto f = store::account_id(*conn, account_kind::funding, "", "PKR", true);
    REQUIRE(store::transfer(*conn, "fund/" + msisdn, *f, *w, balance, 1) ==
            store::transfer_status::done);
  }
  std::int64_t balance_of(store::account_kind k, const std::string& owner) {
    auto id = store::account_id(*conn, k, owner, "PKR", false);
    return id ? store::balance(*conn, *id).value_or(-1) : 0;
  }

  scratch_database database;
  std::string dir;
  std::optional<store::db> conn;
};

/// A payment of Rs4,520 (fee Rs10) by 923001234567 to LESCO account 0400012345678, CREATED.
inline store::payment_record sample(const std::string& ref, std::int64_t created_at = 1'000) {
  store::payment_record p;
  p.ref = ref;
  p.msisdn = "923001234567";
  p.biller = "lesco";
  p.account = "0400012345678";
  p.amount = 452'000;
  p.fee = 1'000;
  p.created_at = p.updated_at = created_at;
  return p;
}

}  // namespace ussdpay::test
