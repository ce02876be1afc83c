// A scratch store for the repository tests: a fresh directory with one writer connection
// migrated to the newest schema, removed after the test; a funded wallet; a sample payment.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "store/ledger.hpp"
#include "store/payments.hpp"
#include "store/schema.hpp"

namespace ussdpay::test {

struct store_fixture {
  store_fixture() {
    std::string name = (std::filesystem::temp_directory_path() / "ussdpay-scratch-").string() +
                       std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::filesystem::create_directories(name);
    dir = name;
    store::db_error err;
    auto d = store::db::open(dir + "/p.db", store::open_mode::writer, err);
    REQUIRE(d);
    REQUIRE_FALSE(store::migrate(*d));
    conn.emplace(std::move(*d));
  }
  ~store_fixture() { std::filesystem::remove_all(dir); }
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

  static inline int counter = 0;
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
