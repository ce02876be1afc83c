// The double-entry ledger, as functions over a connection: accounts with their balances,
// transfers (one per id, the balance checked in the debiting statement) and their entries.
// Writes run as group_writer jobs (inside its transaction), reads on a reader connection. This
// is the SQLite implementation; a PostgreSQL one would keep these signatures.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.hpp"

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

/// Sum of every account's balance: 0 while the ledger balances (funding holds the negative).
std::optional<std::int64_t> ledger_sum(db& d);

/// The amount a transfer id moved, if it happened.
std::optional<std::int64_t> moved_amount(db& d, std::string_view transfer_id);

/// One entry with the kind and owner of both its accounts, for operators.
struct ledger_entry {
  std::string transfer_id;
  std::int64_t amount = 0;
  std::string debit_kind, debit_owner, credit_kind, credit_owner;
  std::int64_t created_at = 0;
};
/// The entries of payment `ref`: every transfer id that starts with "<ref>/" ("<ref>/hold",
/// "<ref>/settle"...), in the order they were written.
std::vector<ledger_entry> entries_of_payment(db& d, std::string_view ref);

}  // namespace ussdpay::store
