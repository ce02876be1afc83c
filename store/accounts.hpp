// Saved accounts and what is done about their bills: the accounts a subscriber keeps, which of
// them the scheduler watches and when it looks next, the auto-pay consents (never a PIN), and
// what was done about each bill (gateway/schedule/ decides; this remembers). Functions over a
// connection: writes run as group_writer jobs, reads on a reader connection.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/db.hpp"

namespace ussdpay::store {

// ---- saved accounts -------------------------------------------------------------------------

struct saved_account {
  std::string biller, account, label;
  bool reminders = true;         ///< bill reminders by SMS (set_reminders, below)
  std::int64_t autopay_max = 0;  ///< the auto-pay consent's maximum; 0: auto-pay off
};
enum class save_status : std::uint8_t { saved, exists, full, failed };
save_status save_account(db& d, std::string_view msisdn, const saved_account& a,
                         std::size_t max_saved, std::int64_t now);
/// Newest first; `biller` "" = every biller.
std::vector<saved_account> saved_accounts(db& d, std::string_view msisdn, std::string_view biller);
/// Removes a saved account and its auto-pay consent.
bool remove_saved_account(db& d, std::string_view msisdn, std::string_view biller,
                          std::string_view account);

// ---- reminders and auto-pay ----------------------------------------------------------------

/// next_check_at of an account nobody watches (reminders off and no auto-pay).
inline constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

/// A saved account the scheduler looks at: its subscriber's language, its reminder switch and
/// auto-pay consent, and the last unpaid bill the biller reported for it.
struct watched_account {
  std::string msisdn, biller, account, label, language;
  bool reminders = true;
  std::int64_t autopay_max = 0;  ///< minor units; 0: auto-pay off
  std::string due_date;          ///< YYYY-MM-DD of the last unpaid bill seen, "" before one
  std::int64_t bill_amount = 0;
  std::int64_t next_check_at = 0;
};

/// Watched accounts whose next check is due by `now`, the longest waiting first, at most `limit`.
std::vector<watched_account> due_accounts(db& d, std::int64_t now, std::size_t limit);

/// Every saved account of a subscriber as the scheduler sees it (watched or not), for operators.
std::vector<watched_account> accounts_of(db& d, std::string_view msisdn);

/// After a check: when to look again and the bill seen ("" and 0 when there is none unpaid).
/// An account that nobody watches any more (reminders turned off meanwhile) stays at `never`.
std::optional<db_error> record_check(db& d, std::string_view msisdn, std::string_view biller,
                                     std::string_view account, std::int64_t next_check_at,
                                     std::string_view due_date, std::int64_t bill_amount);

/// Turns reminders for one saved account on or off. false: no such saved account (or error).
bool set_reminders(db& d, std::string_view msisdn, std::string_view biller,
                   std::string_view account, bool on);

/// Records the auto-pay consent for a saved account (replacing an earlier one): the account is
/// checked again at once. false: no such saved account (or error).
bool set_autopay(db& d, std::string_view msisdn, std::string_view biller, std::string_view account,
                 std::int64_t max_amount, std::string_view currency, std::int64_t now);
/// Withdraws the consent. false: there was none (or error).
bool clear_autopay(db& d, std::string_view msisdn, std::string_view biller,
                   std::string_view account);
/// The consented maximum (minor units), or nullopt when auto-pay is off for that account.
std::optional<std::int64_t> autopay_max(db& d, std::string_view msisdn, std::string_view biller,
                                        std::string_view account);

/// One bill a scheduled action was about.
struct bill_key {
  std::string msisdn, biller, account, due_date;
};
/// Claims `action` ("reminder" or "autopay") for a bill: true when it had not been claimed
/// before (the caller goes on in the same transaction), false when it had (or on error).
bool claim_bill_action(db& d, const bill_key& k, std::string_view action, std::string_view outcome,
                       std::int64_t amount, std::int64_t now);
/// Sets what came of a claimed action (the payment made, or why none was).
bool set_bill_action(db& d, const bill_key& k, std::string_view action, std::string_view outcome,
                     std::string_view payment_ref);
struct bill_action {
  std::string due_date, action, outcome, payment_ref;
  std::int64_t amount = 0, created_at = 0;
};
/// The actions taken about one saved account's bills, newest first, at most `limit`.
std::vector<bill_action> bill_actions(db& d, std::string_view msisdn, std::string_view biller,
                                      std::string_view account, std::size_t limit);

/// Whether the subscriber has a payment to this account whose outcome is still open (created,
/// unknown or in review): it may be paying the very bill the scheduler is looking at.
bool open_payment_to(db& d, std::string_view msisdn, std::string_view biller,
                     std::string_view account);

}  // namespace ussdpay::store
