#include "store/schema.hpp"

#include <array>
#include <filesystem>
#include <string>

namespace ussdpay::store {
namespace {

// Money is integer minor units everywhere. Times are Unix milliseconds (UTC).
constexpr std::array<migration, 7> all{{
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
    {2, R"sql(
-- Payments: one row per payment, keyed by its reference (10 characters of Crockford base32),
-- which is also the idempotency key everywhere: ledger transfer ids (<ref>/hold, /settle, /fee,
-- /void, /refund), the biller's Idempotency-Key, and the outbox (ref + kind).
-- Durable states (gateway/payments/saga.hpp): CREATED (PIN ok, limits passed; the hold may or
-- may not have been taken), UNKNOWN (the biller's answer is unknown; resolving by status query),
-- MANUAL_REVIEW (unknown for too long; the hold is kept for an operator), COMMITTED (paid, hold
-- settled), FAILED (not paid; the hold, if any, returned), REVERSED (paid, then undone by an
-- operator; the money returned), COMPLETED (COMMITTED and the receipt was delivered).
CREATE TABLE payments (
  ref              TEXT PRIMARY KEY CHECK (length(ref) = 10),
  msisdn           TEXT NOT NULL,
  biller           TEXT NOT NULL,
  account          TEXT NOT NULL,
  amount           INTEGER NOT NULL CHECK (amount > 0),
  fee              INTEGER NOT NULL CHECK (fee >= 0),
  currency         TEXT NOT NULL CHECK (length(currency) = 3),
  bill_reference   TEXT NOT NULL DEFAULT '',
  language         TEXT NOT NULL DEFAULT '',
  state            TEXT NOT NULL CHECK (state IN ('CREATED', 'UNKNOWN', 'MANUAL_REVIEW',
                     'COMMITTED', 'FAILED', 'REVERSED', 'COMPLETED')),
  reason           TEXT NOT NULL DEFAULT '',  -- why FAILED / REVERSED / MANUAL_REVIEW
  biller_reference TEXT NOT NULL DEFAULT '',
  biller_code      TEXT NOT NULL DEFAULT '',
  queries          INTEGER NOT NULL DEFAULT 0,  -- status queries and re-posts so far
  next_at          INTEGER NOT NULL DEFAULT 0,  -- Unix ms: when the saga looks at it again
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX payments_open ON payments(state) WHERE state IN ('CREATED', 'UNKNOWN', 'MANUAL_REVIEW');
-- Covering for the limits (sum and count of a subscriber's recent payments) and the history.
CREATE INDEX payments_by_msisdn ON payments(msisdn, created_at, state, amount);
-- The duplicate check: same subscriber, biller, account and amount, newest first.
CREATE INDEX payments_duplicate ON payments(msisdn, biller, account, amount, created_at);
CREATE INDEX payments_by_biller ON payments(biller, created_at);

-- Messages to subscribers, written in the transaction that decides what they say, so a final
-- payment without its receipt cannot exist. (payment ref, kind) is unique: one receipt per
-- outcome, never two.
CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY,
  ref        TEXT NOT NULL,   -- the payment (or other subject) the message is about
  kind       TEXT NOT NULL,   -- confirmed, pending, failed, reversed, locked, ...
  msisdn     TEXT NOT NULL,
  body       TEXT NOT NULL,   -- UTF-8
  state      TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed',
               'delivered', 'undeliverable', 'expired')),
  attempts   INTEGER NOT NULL DEFAULT 0,
  next_at    INTEGER NOT NULL DEFAULT 0,
  message_id TEXT NOT NULL DEFAULT '',  -- the SMSC's id from submit_sm_resp
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (ref, kind)
) STRICT;
CREATE INDEX outbox_queued ON outbox(next_at) WHERE state = 'queued';

-- A subscriber's saved consumer numbers ("Home", "Shop").
CREATE TABLE saved_accounts (
  msisdn     TEXT NOT NULL,
  biller     TEXT NOT NULL,
  account    TEXT NOT NULL,
  label      TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (msisdn, biller, account)
) STRICT;

-- Problems subscribers report from the menu about a payment, for operators.
CREATE TABLE complaints (
  id         INTEGER PRIMARY KEY,
  ticket     TEXT NOT NULL UNIQUE,
  ref        TEXT NOT NULL,
  msisdn     TEXT NOT NULL,
  state      TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  note       TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE (ref, msisdn)
) STRICT;

-- What operators ask the daemon to do to a payment (`ussdpay payments reverse REF`): the daemon
-- carries it out (biller reverse, wallet refund, SMS) and writes the result here.
CREATE TABLE operator_requests (
  id         INTEGER PRIMARY KEY,
  ref        TEXT NOT NULL,
  action     TEXT NOT NULL CHECK (action IN ('reverse')),
  state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'refused')),
  note       TEXT NOT NULL DEFAULT '',
  result     TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX operator_requests_pending ON operator_requests(ref, action)
  WHERE state = 'pending';

-- The demo biller's own book of the payments it received, so it answers status queries with
-- the truth after a restart, like a real biller's database would. Real billers keep their own.
CREATE TABLE demo_biller_book (
  biller           TEXT NOT NULL,
  payment_id       TEXT NOT NULL,
  account          TEXT NOT NULL,
  amount           INTEGER NOT NULL,
  accepted         INTEGER NOT NULL CHECK (accepted IN (0, 1)),
  reversed         INTEGER NOT NULL DEFAULT 0 CHECK (reversed IN (0, 1)),
  biller_reference TEXT NOT NULL DEFAULT '',
  code             TEXT NOT NULL DEFAULT '',
  paid_on          TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (biller, payment_id)
) STRICT;
)sql"},
    {3, R"sql(
-- One-time codes sent by SMS (self-registration, forgotten-PIN reset): a keyed digest of the
-- code (HMAC with the server's pepper), never the code. An empty digest is a used or void code;
-- the row stays to count the codes sent in the current window (store/codes.hpp).
CREATE TABLE one_time_codes (
  msisdn       TEXT NOT NULL,
  purpose      TEXT NOT NULL CHECK (purpose IN ('register', 'reset')),
  digest       BLOB NOT NULL,
  expires_at   INTEGER NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  verified_at  INTEGER NOT NULL DEFAULT 0,
  sends        INTEGER NOT NULL CHECK (sends > 0),
  window_start INTEGER NOT NULL,
  PRIMARY KEY (msisdn, purpose)
) STRICT, WITHOUT ROWID;
)sql"},
    {4, R"sql(
-- Delivery receipts. message_key is the SMSC's message id in one canonical form (lower case,
-- no leading zeros: gateway/smpp/receipt.hpp), so a receipt that writes the id in decimal, in hex or
-- padded still finds its message; delivery_stat and delivery_error are the receipt's own words.
ALTER TABLE outbox ADD COLUMN message_key TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivery_stat TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivery_error TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivered_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_message_key ON outbox(message_key) WHERE message_key != '';
-- The sender pages through queued messages in id order (store::due_messages).
DROP INDEX outbox_queued;
CREATE INDEX outbox_queued_by_id ON outbox(id) WHERE state = 'queued';
)sql"},
    {5, R"sql(
-- Bill reminders and auto-pay for saved accounts (store/accounts.hpp, gateway/schedule/).
-- The scheduler asks the biller about a watched account (reminders on, or auto-pay on) when
-- next_check_at comes; due_date and bill_amount are the last unpaid bill it was told of.
-- next_check_at = 9223372036854775807: not watched (reminders off and no auto-pay).
ALTER TABLE saved_accounts ADD COLUMN reminders INTEGER NOT NULL DEFAULT 1 CHECK (reminders IN (0, 1));
ALTER TABLE saved_accounts ADD COLUMN next_check_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE saved_accounts ADD COLUMN due_date TEXT NOT NULL DEFAULT '';
ALTER TABLE saved_accounts ADD COLUMN bill_amount INTEGER NOT NULL DEFAULT 0;
CREATE INDEX saved_accounts_by_check ON saved_accounts(next_check_at);

-- Auto-pay consents: the subscriber authorised, once, with their PIN (checked, never kept),
-- payments of this account's new bills up to max_amount. No row: auto-pay is off.
CREATE TABLE autopay (
  msisdn     TEXT NOT NULL,
  biller     TEXT NOT NULL,
  account    TEXT NOT NULL,
  max_amount INTEGER NOT NULL CHECK (max_amount > 0),
  currency   TEXT NOT NULL CHECK (length(currency) = 3),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (msisdn, biller, account)
) STRICT, WITHOUT ROWID;

-- What the scheduler did about one bill (a saved account's bill is known by its due date): at
-- most one reminder and one auto-pay attempt per bill, whatever restarts in between. The row is
-- written in the transaction that queues the reminder or creates the payment.
CREATE TABLE bill_actions (
  msisdn      TEXT NOT NULL,
  biller      TEXT NOT NULL,
  account     TEXT NOT NULL,
  due_date    TEXT NOT NULL,
  action      TEXT NOT NULL CHECK (action IN ('reminder', 'autopay')),
  outcome     TEXT NOT NULL DEFAULT '',  -- reminder: sent; autopay: paying, over_max, funds, limit, ...
  payment_ref TEXT NOT NULL DEFAULT '',  -- the auto-payment, if one was made
  amount      INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (msisdn, biller, account, due_date, action)
) STRICT, WITHOUT ROWID;
)sql"},
    {6, R"sql(
-- Several instances on one database (store/cluster.hpp). Each instance is a member while its
-- heartbeat is fresh; started_at tells two processes claiming the same node name apart.
CREATE TABLE cluster_members (
  node         TEXT PRIMARY KEY CHECK (length(node) BETWEEN 1 AND 64),
  listen       TEXT NOT NULL DEFAULT '',  -- its peer link, host:port
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) STRICT;
-- What one instance at a time does (the scheduler, reconciliation, the operator's one bind): the
-- holder until expires_at, and the epoch, a fencing token that grows each time the lease
-- changes hands. Work done under a lease checks the epoch in the transaction that writes it, so
-- an instance that lost its lease while paused cannot write as if it still held it.
CREATE TABLE leases (
  name       TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
  holder     TEXT NOT NULL,
  epoch      INTEGER NOT NULL CHECK (epoch > 0),
  expires_at INTEGER NOT NULL
) STRICT;
)sql"},
    {7, R"sql(
-- In a cluster every instance with a bound link sends (store::claim_due_messages): a queued
-- message is claimed by one instance until claim_until, so no two submit it.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claim_until INTEGER NOT NULL DEFAULT 0;
)sql"},
}};

// The same schema on PostgreSQL, version for version: BIGINT for SQLite's 64-bit INTEGER, BYTEA
// for BLOB, identity columns for INTEGER PRIMARY KEY, a regular expression for GLOB. The
// version is the one row of ussdpay_schema (PostgreSQL has no user_version).
constexpr std::array<migration, 7> all_postgresql{{
    {1, R"sql(
CREATE TABLE subscribers (
  msisdn       TEXT PRIMARY KEY CHECK (length(msisdn) BETWEEN 8 AND 15 AND msisdn ~ '^[0-9]+$'),
  language     TEXT NOT NULL DEFAULT '',
  pin_hash     BYTEA,
  pin_salt     BYTEA,
  pin_kdf      TEXT NOT NULL DEFAULT '',
  failed_pins  BIGINT NOT NULL DEFAULT 0 CHECK (failed_pins >= 0),
  locked_until BIGINT NOT NULL DEFAULT 0,
  created_at   BIGINT NOT NULL
);
CREATE TABLE accounts (
  id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  kind     TEXT NOT NULL CHECK (kind IN ('wallet', 'hold', 'settlement', 'fees', 'funding')),
  owner    TEXT NOT NULL,
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  balance  BIGINT NOT NULL DEFAULT 0,
  UNIQUE (kind, owner, currency),
  CHECK (kind IN ('funding') OR balance >= 0)
);
CREATE TABLE entries (
  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  transfer_id TEXT NOT NULL UNIQUE,
  debit       BIGINT NOT NULL REFERENCES accounts(id),
  credit      BIGINT NOT NULL REFERENCES accounts(id),
  amount      BIGINT NOT NULL CHECK (amount > 0),
  created_at  BIGINT NOT NULL,
  CHECK (debit <> credit)
);
CREATE INDEX entries_debit ON entries(debit);
CREATE INDEX entries_credit ON entries(credit);
)sql"},
    {2, R"sql(
CREATE TABLE payments (
  ref              TEXT PRIMARY KEY CHECK (length(ref) = 10),
  msisdn           TEXT NOT NULL,
  biller           TEXT NOT NULL,
  account          TEXT NOT NULL,
  amount           BIGINT NOT NULL CHECK (amount > 0),
  fee              BIGINT NOT NULL CHECK (fee >= 0),
  currency         TEXT NOT NULL CHECK (length(currency) = 3),
  bill_reference   TEXT NOT NULL DEFAULT '',
  language         TEXT NOT NULL DEFAULT '',
  state            TEXT NOT NULL CHECK (state IN ('CREATED', 'UNKNOWN', 'MANUAL_REVIEW',
                     'COMMITTED', 'FAILED', 'REVERSED', 'COMPLETED')),
  reason           TEXT NOT NULL DEFAULT '',
  biller_reference TEXT NOT NULL DEFAULT '',
  biller_code      TEXT NOT NULL DEFAULT '',
  queries          BIGINT NOT NULL DEFAULT 0,
  next_at          BIGINT NOT NULL DEFAULT 0,
  created_at       BIGINT NOT NULL,
  updated_at       BIGINT NOT NULL
);
CREATE INDEX payments_open ON payments(state) WHERE state IN ('CREATED', 'UNKNOWN', 'MANUAL_REVIEW');
CREATE INDEX payments_by_msisdn ON payments(msisdn, created_at, state, amount);
CREATE INDEX payments_duplicate ON payments(msisdn, biller, account, amount, created_at);
CREATE INDEX payments_by_biller ON payments(biller, created_at);
CREATE TABLE outbox (
  id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  ref        TEXT NOT NULL,
  kind       TEXT NOT NULL,
  msisdn     TEXT NOT NULL,
  body       TEXT NOT NULL,
  state      TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed',
               'delivered', 'undeliverable', 'expired')),
  attempts   BIGINT NOT NULL DEFAULT 0,
  next_at    BIGINT NOT NULL DEFAULT 0,
  message_id TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (ref, kind)
);
CREATE INDEX outbox_queued ON outbox(next_at) WHERE state = 'queued';
CREATE TABLE saved_accounts (
  msisdn     TEXT NOT NULL,
  biller     TEXT NOT NULL,
  account    TEXT NOT NULL,
  label      TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (msisdn, biller, account)
);
CREATE TABLE complaints (
  id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  ticket     TEXT NOT NULL UNIQUE,
  ref        TEXT NOT NULL,
  msisdn     TEXT NOT NULL,
  state      TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  note       TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  UNIQUE (ref, msisdn)
);
CREATE TABLE operator_requests (
  id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  ref        TEXT NOT NULL,
  action     TEXT NOT NULL CHECK (action IN ('reverse')),
  state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'refused')),
  note       TEXT NOT NULL DEFAULT '',
  result     TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX operator_requests_pending ON operator_requests(ref, action)
  WHERE state = 'pending';
-- seq keeps the order rows arrived in (SQLite's rowid).
CREATE TABLE demo_biller_book (
  seq              BIGINT GENERATED BY DEFAULT AS IDENTITY,
  biller           TEXT NOT NULL,
  payment_id       TEXT NOT NULL,
  account          TEXT NOT NULL,
  amount           BIGINT NOT NULL,
  accepted         BIGINT NOT NULL CHECK (accepted IN (0, 1)),
  reversed         BIGINT NOT NULL DEFAULT 0 CHECK (reversed IN (0, 1)),
  biller_reference TEXT NOT NULL DEFAULT '',
  code             TEXT NOT NULL DEFAULT '',
  paid_on          TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (biller, payment_id)
);
)sql"},
    {3, R"sql(
CREATE TABLE one_time_codes (
  msisdn       TEXT NOT NULL,
  purpose      TEXT NOT NULL CHECK (purpose IN ('register', 'reset')),
  digest       BYTEA NOT NULL,
  expires_at   BIGINT NOT NULL,
  attempts     BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  verified_at  BIGINT NOT NULL DEFAULT 0,
  sends        BIGINT NOT NULL CHECK (sends > 0),
  window_start BIGINT NOT NULL,
  PRIMARY KEY (msisdn, purpose)
);
)sql"},
    {4, R"sql(
ALTER TABLE outbox ADD COLUMN message_key TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivery_stat TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivery_error TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivered_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_message_key ON outbox(message_key) WHERE message_key != '';
DROP INDEX outbox_queued;
CREATE INDEX outbox_queued_by_id ON outbox(id) WHERE state = 'queued';
)sql"},
    {5, R"sql(
ALTER TABLE saved_accounts ADD COLUMN reminders BIGINT NOT NULL DEFAULT 1 CHECK (reminders IN (0, 1));
ALTER TABLE saved_accounts ADD COLUMN next_check_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE saved_accounts ADD COLUMN due_date TEXT NOT NULL DEFAULT '';
ALTER TABLE saved_accounts ADD COLUMN bill_amount BIGINT NOT NULL DEFAULT 0;
CREATE INDEX saved_accounts_by_check ON saved_accounts(next_check_at);
CREATE TABLE autopay (
  msisdn     TEXT NOT NULL,
  biller     TEXT NOT NULL,
  account    TEXT NOT NULL,
  max_amount BIGINT NOT NULL CHECK (max_amount > 0),
  currency   TEXT NOT NULL CHECK (length(currency) = 3),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (msisdn, biller, account)
);
CREATE TABLE bill_actions (
  msisdn      TEXT NOT NULL,
  biller      TEXT NOT NULL,
  account     TEXT NOT NULL,
  due_date    TEXT NOT NULL,
  action      TEXT NOT NULL CHECK (action IN ('reminder', 'autopay')),
  outcome     TEXT NOT NULL DEFAULT '',
  payment_ref TEXT NOT NULL DEFAULT '',
  amount      BIGINT NOT NULL DEFAULT 0,
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (msisdn, biller, account, due_date, action)
);
)sql"},
    {6, R"sql(
CREATE TABLE cluster_members (
  node         TEXT PRIMARY KEY CHECK (length(node) BETWEEN 1 AND 64),
  listen       TEXT NOT NULL DEFAULT '',
  started_at   BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
CREATE TABLE leases (
  name       TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
  holder     TEXT NOT NULL,
  epoch      BIGINT NOT NULL CHECK (epoch > 0),
  expires_at BIGINT NOT NULL
);
)sql"},
    {7, R"sql(
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claim_until BIGINT NOT NULL DEFAULT 0;
)sql"},
}};
static_assert(all_postgresql.size() == all.size(), "both backends are at the same version");

// Every instance of a cluster migrates at start; the first one does the work and the others,
// waiting on this lock (held to the end of its transaction only), find nothing left to do.
constexpr std::string_view migration_lock = "SELECT pg_advisory_xact_lock(7251804)";

int postgresql_version(db& d) {
  stmt s(d, "SELECT version FROM ussdpay_schema");
  return s.step() ? static_cast<int>(s.int64(0)) : 0;
}

std::optional<db_error> migrate_postgresql(db& d) {
  auto fail = [&](db_error e) {
    d.exec("ROLLBACK");
    return std::optional<db_error>(std::move(e));
  };
  if (auto e = d.exec("BEGIN")) return e;
  if (auto e = d.exec(migration_lock)) return fail(*e);
  if (auto e = d.exec("CREATE TABLE IF NOT EXISTS ussdpay_schema (version BIGINT NOT NULL); "
                      "INSERT INTO ussdpay_schema SELECT 0 WHERE NOT EXISTS "
                      "(SELECT 1 FROM ussdpay_schema)"))
    return fail(*e);
  const int current = postgresql_version(d);
  const int newest = all_postgresql.back().version;
  if (current > newest)
    return fail({0, "the database is at schema version " + std::to_string(current) +
                        ", newer than this build knows (" + std::to_string(newest) +
                        "); refusing to touch it"});
  for (const auto& m : all_postgresql) {
    if (m.version <= current) continue;
    auto e = d.exec(m.sql);
    if (!e) e = d.exec("UPDATE ussdpay_schema SET version = " + std::to_string(m.version));
    if (e) {
      e->message = "migration " + std::to_string(m.version) + ": " + e->message;
      return fail(*e);
    }
  }
  return d.exec("COMMIT");
}

}  // namespace

std::span<const migration> migrations() {
  return all;
}

int schema_version(db& d) {
  if (d.kind() == backend::postgresql) {
    stmt exists(d, "SELECT to_regclass('ussdpay_schema') IS NOT NULL");
    return exists.step() && exists.int64(0) == 1 ? postgresql_version(d) : 0;
  }
  auto v = d.pragma("user_version");
  return v ? std::stoi(*v) : 0;
}

std::optional<db_error> migrate(db& d) {
  if (d.kind() == backend::postgresql) return migrate_postgresql(d);
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

std::optional<db> open_writer(const location& where, std::string& why) {
  if (where.kind == backend::sqlite) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(where.target).parent_path(), ec);
  }
  db_error err;
  auto d = db::open(where, open_mode::writer, err);
  if (!d) {
    why = "cannot open " + where.describe() + ": " + err.message;
    return std::nullopt;
  }
  if (auto e = migrate(*d)) {
    why = where.describe() + ": " + e->message;
    return std::nullopt;
  }
  return d;
}

}  // namespace ussdpay::store
