// Where a store test's database lives: a fresh SQLite file in a temporary directory, or, when
// the test runs under the PostgreSQL fixture (ctest's "store on postgresql" tests set
// USSDPAY_TEST_POSTGRESQL to the file holding the server's connection string), a fresh schema
// of its own on that server. Either is gone after the test. The same test cases run on both.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <unistd.h>
#include <catch2/catch.hpp>

#include "store/db.hpp"

namespace ussdpay::test {

class scratch_database {
 public:
  scratch_database() {
    char name[] = "/tmp/ussdpay-store-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    dir = name;
    const char* url_file = std::getenv("USSDPAY_TEST_POSTGRESQL");
    if (url_file == nullptr || *url_file == '\0') {
      where_ = store::location(dir + "/ussdpay.db");
      return;
    }
    std::ifstream f(url_file);
    std::string server;
    REQUIRE(std::getline(f, server));
    schema_.assign(1, 't');
    schema_ += std::to_string(::getpid());
    schema_ += '_';
    schema_ += std::to_string(++counter);
    store::db_error err;
    admin_ = store::db::open(store::location(store::backend::postgresql, server),
                             store::open_mode::writer, err);
    INFO(err.message);
    REQUIRE(admin_);
    REQUIRE_FALSE(admin_->exec("CREATE SCHEMA " + schema_));
    where_ = store::location(store::backend::postgresql,
                             server + " options='-c search_path=" + schema_ + "'");
  }
  ~scratch_database() {
    if (admin_) admin_->exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    std::filesystem::remove_all(dir);
  }
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  const store::location& where() const { return where_; }
  bool postgresql() const { return where_.kind == store::backend::postgresql; }

  store::db open(store::open_mode mode = store::open_mode::writer) {
    store::db_error err;
    auto d = store::db::open(where_, mode, err);
    INFO(err.message);
    REQUIRE(d.has_value());
    return std::move(*d);
  }

  /// A temporary directory of the test's own (the SQLite file is in it), for any other files.
  std::string dir;

 private:
  static inline int counter = 0;
  store::location where_;
  std::string schema_;
  std::optional<store::db> admin_;
};

}  // namespace ussdpay::test

// A failed statement's error in the test's report, not `{?}`.
namespace Catch {
template <>
struct StringMaker<std::optional<ussdpay::store::db_error>> {
  static std::string convert(const std::optional<ussdpay::store::db_error>& e) {
    if (!e) return "no error";
    return "error " + std::to_string(e->code) + (e->sqlstate.empty() ? "" : " " + e->sqlstate) +
           ": " + e->message;
  }
};
}  // namespace Catch
