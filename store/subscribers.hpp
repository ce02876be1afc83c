// The subscribers: their records (language, PIN only as a salted, peppered slow hash), MSISDN
// normalisation, wrong-PIN counts and lockout, and the registered subscribers read at start-up.
// Functions over a connection: writes run as group_writer jobs, reads on a reader connection.
// A PostgreSQL backend would keep these signatures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "store/db.hpp"

namespace ussdpay::store {

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

/// The subscriber's menu language (a code such as "ur"). Not an error when there is no such
/// subscriber: nothing changes.
std::optional<db_error> set_language(db& d, std::string_view msisdn, std::string_view language);

/// Calls `each` with the MSISDN and language of every subscriber with a PIN, at most `limit` of
/// them, in no particular order. The views are valid only during the call: nothing is kept, so
/// a million subscribers pass through without a string each.
void for_each_registered(
    db& d, std::size_t limit,
    const std::function<void(std::string_view msisdn, std::string_view language)>& each);

}  // namespace ussdpay::store
