// The embedded wallet: subscribers' money in our own double-entry ledger (store/ledger.hpp).
//
//   hold:    wallet     -> hold        amount + fee   transfer "<payment>/hold"
//   commit:  hold       -> settlement  amount         transfer "<payment>/settle"
//            hold       -> fees        fee            transfer "<payment>/fee"
//   release: hold       -> wallet      what was held  transfer "<payment>/void"
//   refund:  settlement -> wallet      amount         transfer "<payment>/refund"
//            fees       -> wallet      fee            transfer "<payment>/refund-fee"
//
// Transfers are idempotent per id and check the balance in the same statement that debits it,
// so a wallet never goes negative and a retried step never moves money twice. PIN checks read on
// the reader pool (the slow hash runs there too, off the network thread); wrong PINs are counted
// by writer jobs. Every async completion is posted to the executor given at construction.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/wallet.hpp"

namespace ussdpay::store {
class group_writer;
class reader_pool;
}  // namespace ussdpay::store

namespace ussdpay::adapters {

/// The ledger steps as plain functions over a connection, inside the caller's transaction: what
/// store_ledger does.
namespace ledger {
wallet_status hold(store::db& d, const hold_request& r, std::int64_t now_ms);
wallet_status commit(store::db& d, const settle_request& r, std::int64_t now_ms);
wallet_status release(store::db& d, const hold_request& r, std::int64_t now_ms);
wallet_status refund(store::db& d, const settle_request& r, std::int64_t now_ms);
balance_result balance(store::db& d, std::string_view msisdn, std::string_view currency);
}  // namespace ledger

struct embedded_wallet_config {
  std::string pepper;            ///< the PIN pepper (a server secret)
  std::uint32_t iterations = 0;  ///< PBKDF2 iterations for PINs set here (change PIN)
  std::uint32_t max_wrong = 3;   ///< wrong PINs in a row before the PIN locks
  std::chrono::milliseconds lockout{30 * 60'000};
  std::string currency = "PKR";  ///< of the wallets opened by self-registration
};

/// The ledger in our store as ledger_steps: the embedded wallet's, and the operator's CLI's when
/// it settles a payment with the daemon down.
class store_ledger final : public ledger_steps {
 public:
  wallet_status hold(store::db& d, const hold_request& r, std::int64_t now_ms) override {
    return ledger::hold(d, r, now_ms);
  }
  wallet_status commit(store::db& d, const settle_request& r, std::int64_t now_ms) override {
    return ledger::commit(d, r, now_ms);
  }
  wallet_status release(store::db& d, const hold_request& r, std::int64_t now_ms) override {
    return ledger::release(d, r, now_ms);
  }
  wallet_status refund(store::db& d, const settle_request& r, std::int64_t now_ms) override {
    return ledger::refund(d, r, now_ms);
  }
  balance_result balance(store::db& d, std::string_view msisdn,
                         std::string_view currency) override {
    return ledger::balance(d, msisdn, currency);
  }
};

class embedded_wallet final : public wallet {
 public:
  embedded_wallet(boost::asio::any_io_executor ex, store::group_writer& writer,
                  store::reader_pool& readers, embedded_wallet_config cfg);

  void async_authorize(std::string msisdn, std::string pin,
                       handler<void(auth_result)> done) override;
  void async_change_pin(std::string msisdn, std::string old_pin, std::string new_pin,
                        handler<void(auth_result)> done) override;
  void async_set_pin(std::string msisdn, std::string pin, std::string language, bool create,
                     handler<void(auth_result)> done) override;
  void async_balance(std::string msisdn, std::string currency,
                     handler<void(balance_result)> done) override;
  void async_hold(hold_request r, handler<void(wallet_status)> done) override;
  void async_commit(settle_request r, handler<void(wallet_status)> done) override;
  void async_release(hold_request r, handler<void(wallet_status)> done) override;
  void async_refund(settle_request r, handler<void(wallet_status)> done) override;
  ledger_steps* in_store() override { return &ledger_; }

 private:
  template <class Result, class Fn>
  void write(handler<void(Result)> done, Result on_failure, Fn step);
  /// Checks `pin` on the reader pool, counts a wrong one on the writer, then calls `then` on
  /// the executor. On a right PIN, `on_right` (if set) runs on the reader thread and returns
  /// a write that joins the writer job restarting the wrong-PIN count (change PIN).
  using write_step = std::function<bool(store::db&)>;
  void check_pin(std::string msisdn, std::shared_ptr<std::string> pin,
                 std::function<write_step()> on_right, std::function<void(auth_result)> then);

  boost::asio::any_io_executor ex_;
  store::group_writer& writer_;
  store::reader_pool& readers_;
  embedded_wallet_config cfg_;
  store_ledger ledger_;
};

}  // namespace ussdpay::adapters
