// The wallet interface: what the payment saga asks of whoever holds the subscriber's money (our
// embedded ledger, or an external mobile-money core). PIN checks belong to the wallet, because
// a mobile-money core owns its subscribers' PINs.
//
// Every async call completes exactly once on the executor the wallet was built with. Every
// money movement is keyed by the payment id, so a step retried after a crash never moves money
// twice: hold, commit, release (void) and refund are idempotent per payment id.
//
// A wallet that keeps its ledger in our own store also offers `in_store()`: the same steps as
// plain functions over the store's writer connection, so the saga can put a ledger step and the
// payment's state change in one transaction (one fsync) instead of two.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/any_completion_handler.hpp>

#include "adapters/biller.hpp"

namespace ussdpay::store {
class db;
}

namespace ussdpay::adapters {

enum class auth_status : std::uint8_t {
  ok,
  wrong_pin,      ///< tries_left more before the PIN locks
  locked,         ///< locked_minutes until it unlocks
  no_subscriber,  ///< no wallet (or no PIN set) for this MSISDN
  exists,         ///< registration: this MSISDN already has a wallet (nothing was changed)
  error,          ///< the wallet could not check (store or network failure)
};

struct auth_result {
  auth_status status = auth_status::error;
  std::uint32_t tries_left = 0;
  std::uint32_t locked_minutes = 0;
  bool just_locked = false;  ///< this wrong PIN locked it (the subscriber is told by SMS)
};

enum class wallet_status : std::uint8_t {
  ok,            ///< done now, or done before under the same payment id
  insufficient,  ///< the wallet holds less than the amount
  no_wallet,     ///< no such wallet
  conflict,      ///< this payment id was used for a different movement
  error,
};

struct hold_request {
  std::string payment_id;
  std::string msisdn;
  std::string currency = "PKR";
  minor_units amount = 0;  ///< what the subscriber pays: bill amount plus our fee
};

struct settle_request {
  std::string payment_id;
  std::string msisdn;
  std::string currency = "PKR";
  std::string biller;      ///< the biller's settlement account receives `amount`
  minor_units amount = 0;  ///< to the biller
  minor_units fee = 0;     ///< to our fee income
};

struct balance_result {
  wallet_status status = wallet_status::error;
  minor_units balance = 0;
};

/// The steps of a wallet whose ledger is in our store, inside the caller's transaction.
class ledger_steps {
 public:
  virtual ~ledger_steps() = default;
  /// Moves the amount from the wallet to its hold; insufficient leaves everything as it was.
  virtual wallet_status hold(store::db& d, const hold_request& r, std::int64_t now_ms) = 0;
  /// Moves the hold to the biller's settlement and our fees.
  virtual wallet_status commit(store::db& d, const settle_request& r, std::int64_t now_ms) = 0;
  /// Returns the hold to the wallet (a definitive rejection). ok when there was no hold.
  virtual wallet_status release(store::db& d, const hold_request& r, std::int64_t now_ms) = 0;
  /// Returns a committed payment's money (amount and fee) to the wallet (an approved reversal).
  virtual wallet_status refund(store::db& d, const settle_request& r, std::int64_t now_ms) = 0;
  virtual balance_result balance(store::db& d, std::string_view msisdn,
                                 std::string_view currency) = 0;
};

class wallet {
 public:
  template <class Signature>
  using handler = boost::asio::any_completion_handler<Signature>;

  virtual ~wallet() = default;

  /// Checks a PIN, counting wrong ones toward the lockout. The PIN is wiped after use.
  virtual void async_authorize(std::string msisdn, std::string pin,
                               handler<void(auth_result)> done) = 0;
  /// Checks `old_pin`, then sets `new_pin` (the caller has already refused weak ones). Both are
  /// wiped after use.
  virtual void async_change_pin(std::string msisdn, std::string old_pin, std::string new_pin,
                                handler<void(auth_result)> done) = 0;
  /// Sets a PIN without the old one, for a subscriber the caller verified another way (a
  /// one-time code sent by SMS to the MSISDN), and lifts any lockout. With `create`, this is
  /// self-registration: an empty wallet is opened for a new MSISDN (status exists, and nothing
  /// changed, if it already has one); without, the MSISDN must exist (no_subscriber otherwise).
  /// The PIN is wiped after use.
  virtual void async_set_pin(std::string msisdn, std::string pin, std::string language, bool create,
                             handler<void(auth_result)> done) = 0;
  virtual void async_balance(std::string msisdn, std::string currency,
                             handler<void(balance_result)> done) = 0;
  virtual void async_hold(hold_request r, handler<void(wallet_status)> done) = 0;
  virtual void async_commit(settle_request r, handler<void(wallet_status)> done) = 0;
  virtual void async_release(hold_request r, handler<void(wallet_status)> done) = 0;
  virtual void async_refund(settle_request r, handler<void(wallet_status)> done) = 0;

  /// Non-null when the ledger lives in our store (see the header comment).
  virtual ledger_steps* in_store() { return nullptr; }
};

}  // namespace ussdpay::adapters
