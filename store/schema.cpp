#include "store/schema.hpp"

#include <array>
#include <string>

namespace ussdpay::store {
namespace {

// Money is integer minor units everywhere. Times are Unix milliseconds (UTC).
constexpr std::array<migration, 1> all{{
    {1, R"sql(
-- Subscribers: MSISDN in E.164 without '+'. The PIN is stored only as a salted, peppered slow
-- hash (never the PIN); pin_kdf names the function and its cost so it can be raised later.
CREATE TABLE subscribers (
  msisdn       TEXT PRIMARY KEY CHECK (length(msisdn) BETWEEN 8 AND 15 AND msisdn NOT GLOB '*[^0-9]*'),
  language     TEXT NOT NULL DEFAULT '',
  pin_hash     BLOB,
  pin_salt     BLOB,
  pin_kdf      TEXT NOT NULL DEFAULT '',
  failed_pins  INTEGER NOT NULL DEFAULT 0 CHECK (failed_pins >= 0),
  locked_until INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL
) STRICT;

-- The ledger: accounts with balances kept in step with double entries. A subscriber's wallet
-- and hold can never go negative (the CHECK is the last line of defence; transfers check first).
-- 'funding' is money entering from outside (top-ups), so it runs negative.
CREATE TABLE accounts (
  id       INTEGER PRIMARY KEY,
  kind     TEXT NOT NULL CHECK (kind IN ('wallet', 'hold', 'settlement', 'fees', 'funding')),
  owner    TEXT NOT NULL,
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  balance  INTEGER NOT NULL DEFAULT 0,
  UNIQUE (kind, owner, currency),
  CHECK (kind IN ('funding') OR balance >= 0)
) STRICT;

-- One row per transfer: debit one account, credit another. transfer_id is the idempotency key
-- (payment id plus step), so a retried step cannot move money twice.
CREATE TABLE entries (
  id          INTEGER PRIMARY KEY,
  transfer_id TEXT NOT NULL UNIQUE,
  debit       INTEGER NOT NULL REFERENCES accounts(id),
  credit      INTEGER NOT NULL REFERENCES accounts(id),
  amount      INTEGER NOT NULL CHECK (amount > 0),
  created_at  INTEGER NOT NULL,
  CHECK (debit <> credit)
) STRICT;
CREATE INDEX entries_debit ON entries(debit);
CREATE INDEX entries_credit ON entries(credit);
)sql"},
}};

}  // namespace

std::span<const migration> migrations() {
  return all;
}

int schema_version(db& d) {
  auto v = d.pragma("user_version");
  return v ? std::stoi(*v) : 0;
}

std::optional<db_error> migrate(db& d) {
  const int current = schema_version(d);
  const int newest = all.back().version;
  if (current > newest)
    return db_error{0, "the database is at schema version " + std::to_string(current) +
                           ", newer than this build knows (" + std::to_string(newest) +
                           "); refusing to touch it"};
  for (const auto& m : all) {
    if (m.version <= current) continue;
    if (auto e = d.exec("BEGIN IMMEDIATE")) return e;
    auto e = d.exec(m.sql);
    if (!e) e = d.exec("PRAGMA user_version = " + std::to_string(m.version));
    if (!e) e = d.exec("COMMIT");
    if (e) {
      d.exec("ROLLBACK");
      e->message = "migration " + std::to_string(m.version) + ": " + e->message;
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace ussdpay::store
