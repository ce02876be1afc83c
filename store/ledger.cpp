#include "store/ledger.hpp"
#include "gateway/common/assert.hpp"

namespace ussdpay::store {

std::string_view to_string(account_kind k) {
  switch (k) {
    case account_kind::wallet:
      return "wallet";
    case account_kind::hold:
      return "hold";
    case account_kind::settlement:
      return "settlement";
    case account_kind::fees:
      return "fees";
    case account_kind::funding:
      return "funding";
  }
  return "wallet";
}

std::optional<std::int64_t> account_id(db& d, account_kind kind, std::string_view owner,
                                       std::string_view currency, bool create) {
  stmt find(d, "SELECT id FROM accounts WHERE kind = ? AND owner = ? AND currency = ?");
  find.bind(1, to_string(kind)).bind(2, owner).bind(3, currency);
  if (find.step()) return find.int64(0);
  if (!create) return std::nullopt;
  stmt add(d, "INSERT INTO accounts(kind, owner, currency) VALUES (?, ?, ?) RETURNING id");
  add.bind(1, to_string(kind)).bind(2, owner).bind(3, currency);
  if (!add.step()) return std::nullopt;
  return add.int64(0);
}

std::optional<std::int64_t> balance(db& d, std::int64_t account) {
  stmt s(d, "SELECT balance FROM accounts WHERE id = ?");
  s.bind(1, account);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

transfer_status transfer(db& d, std::string_view transfer_id, std::int64_t debit,
                         std::int64_t credit, std::int64_t amount, std::int64_t now_ms) {
  if (amount <= 0 || debit == credit) return transfer_status::failed;
  {
    stmt seen(d, "SELECT debit, credit, amount FROM entries WHERE transfer_id = ?");
    seen.bind(1, transfer_id);
    if (seen.step())
      return seen.int64(0) == debit && seen.int64(1) == credit && seen.int64(2) == amount
                 ? transfer_status::already_done
                 : transfer_status::conflict;
  }
  // The balance check and the debit are one statement: only funding may go below zero.
  stmt take(d,
            "UPDATE accounts SET balance = balance - ?1 WHERE id = ?2 AND "
            "(kind = 'funding' OR balance >= ?1)");
  if (take.bind(1, amount).bind(2, debit).run()) return transfer_status::failed;
  if (d.changes() != 1) return transfer_status::insufficient;
  stmt give(d, "UPDATE accounts SET balance = balance + ? WHERE id = ?");
  // A failing statement (a full disk) fails the transfer and the caller's savepoint takes the
  // debit back; a credited account that does not exist is a bug: the money would vanish.
  if (give.bind(1, amount).bind(2, credit).run()) return transfer_status::failed;
  USSDPAY_ASSERT(d.changes() == 1, "a transfer credits exactly what it debited, to one account");
  stmt entry(d,
             "INSERT INTO entries(transfer_id, debit, credit, amount, created_at) "
             "VALUES (?, ?, ?, ?, ?)");
  if (entry.bind(1, transfer_id)
          .bind(2, debit)
          .bind(3, credit)
          .bind(4, amount)
          .bind(5, now_ms)
          .run())
    return transfer_status::failed;
  return transfer_status::done;
}

std::optional<std::int64_t> ledger_sum(db& d) {
  stmt s(d, "SELECT coalesce(sum(balance), 0) FROM accounts");
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

std::optional<std::int64_t> moved_amount(db& d, std::string_view transfer_id) {
  stmt s(d, "SELECT amount FROM entries WHERE transfer_id = ?");
  s.bind(1, transfer_id);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

std::vector<ledger_entry> entries_of_payment(db& d, std::string_view ref) {
  // A prefix test by substr rather than LIKE: a '%' or '_' in `ref` matches only itself.
  stmt s(d,
         "SELECT e.transfer_id, e.amount, a.kind, a.owner, b.kind, b.owner, e.created_at "
         "FROM entries e JOIN accounts a ON a.id = e.debit JOIN accounts b ON b.id = "
         "e.credit WHERE substr(e.transfer_id, 1, length(?1)) = ?1 ORDER BY e.id");
  s.bind(1, std::string(ref) + "/");
  std::vector<ledger_entry> out;
  while (s.step())
    out.push_back({s.text(0), s.int64(1), s.text(2), s.text(3), s.text(4), s.text(5), s.int64(6)});
  return out;
}

}  // namespace ussdpay::store
