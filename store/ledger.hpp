// The double-entry ledger and the subscriber records, as functions over a connection. Writes
// run as group_writer jobs (inside its transaction), reads on a reader connection. This is the
// SQLite implementation; a PostgreSQL one would keep these signatures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/sqlite.hpp"

namespace ussdpay::store {

enum class account_kind : std::uint8_t { wallet, hold, settlement, fees, funding };
std::string_view to_string(account_kind k);

/// The account's id; created (balance 0) when missing and `create` is set.
std::optional<std::int64_t> account_id(db& d, account_kind kind, std::string_view owner,
                                       std::string_view currency, bool create);
std::optional<std::int64_t> balance(db& d, std::int64_t account);

enum class transfer_status : std::uint8_t {
  done,          ///< moved now
  already_done,  ///< this transfer id moved the same money before: nothing moved again
  insufficient,  ///< the debited account would go negative
  conflict,      ///< this transfer id was used for a different transfer
  failed,        ///< a database error
};

/// Moves `amount` (> 0) from `debit` to `credit` once per `transfer_id`: the balance check and
/// the move happen in the caller's transaction, so two transfers can never spend the same money.
transfer_status transfer(db& d, std::string_view transfer_id, std::int64_t debit,
                         std::int64_t credit, std::int64_t amount, std::int64_t now_ms);

struct subscriber_record {
  std::string msisdn;  ///< E.164 digits, no '+'
  std::string language;
  std::string pin_hash, pin_salt, pin_kdf;
  std::int64_t failed_pins = 0;
  std::int64_t locked_until = 0;  ///< Unix ms; 0 = not locked
  std::int64_t created_at = 0;
};

std::optional<subscriber_record> find_subscriber(db& d, std::string_view msisdn);
/// Inserts or, when the MSISDN exists, replaces its PIN (and its language unless the new one is
/// empty), and clears its lockout: an operator's re-import.
std::optional<db_error> upsert_subscriber(db& d, const subscriber_record& s);

/// "+923001234567", "00923001234567" or "923001234567" -> "923001234567"; nullopt for anything
/// that is not 8..15 digits after the prefix (national numbers need their country code).
std::optional<std::string> normalise_msisdn(std::string_view text);

}  // namespace ussdpay::store

namespace ussdpay::store {

/// Counts a wrong PIN; at `max_wrong` in a row the PIN locks until now + lockout_ms (and the
/// count restarts). Returns the record after the change, nullopt when there is no such subscriber.
std::optional<subscriber_record> record_wrong_pin(db& d, std::string_view msisdn,
                                                  std::int64_t max_wrong, std::int64_t lockout_ms,
                                                  std::int64_t now_ms);
/// A right PIN: the count of wrong ones restarts.
std::optional<db_error> reset_wrong_pins(db& d, std::string_view msisdn);
/// Replaces the PIN hash of an existing subscriber and lifts any lockout; false when there is
/// none.
bool set_pin(db& d, std::string_view msisdn, std::string_view hash, std::string_view salt,
             std::string_view kdf);
/// Sum of every account's balance: 0 while the ledger balances (funding holds the negative).
std::optional<std::int64_t> ledger_sum(db& d);

}  // namespace ussdpay::store
