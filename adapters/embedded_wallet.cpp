#include "adapters/embedded_wallet.hpp"

#include <boost/asio/post.hpp>

#include "adapters/pin.hpp"
#include "gateway/common/clock.hpp"
#include "store/ledger.hpp"
#include "store/readers.hpp"
#include "store/subscribers.hpp"
#include "store/writer.hpp"

namespace ussdpay::adapters {

namespace asio = boost::asio;
using store::account_kind;
using store::transfer_status;

namespace {

wallet_status from(transfer_status t) {
  switch (t) {
    case transfer_status::done:
    case transfer_status::already_done:
      return wallet_status::ok;
    case transfer_status::insufficient:
      return wallet_status::insufficient;
    case transfer_status::conflict:
      return wallet_status::conflict;
    case transfer_status::failed:
      return wallet_status::error;
  }
  return wallet_status::error;
}

// Handlers are move-only; the store's callbacks are std::function, so they travel in a
// shared_ptr and are invoked once, on the executor.
template <class Result>
auto shared(wallet::handler<void(Result)> h) {
  return std::make_shared<wallet::handler<void(Result)>>(std::move(h));
}

template <class Result>
void post_result(const asio::any_io_executor& ex, std::shared_ptr<wallet::handler<void(Result)>> h,
                 Result r) {
  asio::post(ex, [h, r]() mutable { std::move (*h)(r); });
}

std::uint32_t minutes_until(std::int64_t until_ms, std::int64_t now) {
  return static_cast<std::uint32_t>((until_ms - now + 59'999) / 60'000);
}

}  // namespace

embedded_wallet::embedded_wallet(asio::any_io_executor ex, store::group_writer& writer,
                                 store::reader_pool& readers, embedded_wallet_config cfg)
    : ex_(std::move(ex)), writer_(writer), readers_(readers), cfg_(std::move(cfg)) {}

// ---- ledger steps (inside the caller's transaction) -------------------------------------------

wallet_status ledger::hold(store::db& d, const hold_request& r, std::int64_t now) {
  if (r.amount <= 0) return wallet_status::error;
  // A released payment can never be held again under the same id.
  if (store::moved_amount(d, r.payment_id + "/void")) return wallet_status::conflict;
  const auto own = store::account_id(d, account_kind::wallet, r.msisdn, r.currency, false);
  if (!own) return wallet_status::no_wallet;
  const auto held = store::account_id(d, account_kind::hold, r.msisdn, r.currency, true);
  if (!held) return wallet_status::error;
  return from(store::transfer(d, r.payment_id + "/hold", *own, *held, r.amount, now));
}

wallet_status ledger::commit(store::db& d, const settle_request& r, std::int64_t now) {
  const auto held_amount = store::moved_amount(d, r.payment_id + "/hold");
  if (!held_amount || *held_amount != r.amount + r.fee || r.amount <= 0 || r.fee < 0)
    return wallet_status::conflict;
  if (store::moved_amount(d, r.payment_id + "/void")) return wallet_status::conflict;
  const auto held = store::account_id(d, account_kind::hold, r.msisdn, r.currency, false);
  const auto settle = store::account_id(d, account_kind::settlement, r.biller, r.currency, true);
  const auto fees = store::account_id(d, account_kind::fees, "", r.currency, true);
  if (!held || !settle || !fees) return wallet_status::error;
  auto st = from(store::transfer(d, r.payment_id + "/settle", *held, *settle, r.amount, now));
  if (st == wallet_status::ok && r.fee > 0)
    st = from(store::transfer(d, r.payment_id + "/fee", *held, *fees, r.fee, now));
  return st;
}

wallet_status ledger::release(store::db& d, const hold_request& r, std::int64_t now) {
  const auto held_amount = store::moved_amount(d, r.payment_id + "/hold");
  if (!held_amount) return wallet_status::ok;  // nothing was held: nothing to give back
  if (store::moved_amount(d, r.payment_id + "/settle")) return wallet_status::conflict;
  const auto own = store::account_id(d, account_kind::wallet, r.msisdn, r.currency, false);
  const auto held = store::account_id(d, account_kind::hold, r.msisdn, r.currency, false);
  if (!own || !held) return wallet_status::error;
  return from(store::transfer(d, r.payment_id + "/void", *held, *own, *held_amount, now));
}

wallet_status ledger::refund(store::db& d, const settle_request& r, std::int64_t now) {
  if (!store::moved_amount(d, r.payment_id + "/settle")) return wallet_status::conflict;
  const auto own = store::account_id(d, account_kind::wallet, r.msisdn, r.currency, false);
  const auto settle = store::account_id(d, account_kind::settlement, r.biller, r.currency, false);
  const auto fees = store::account_id(d, account_kind::fees, "", r.currency, true);
  if (!own || !settle || !fees) return wallet_status::error;
  auto st = from(store::transfer(d, r.payment_id + "/refund", *settle, *own, r.amount, now));
  if (st == wallet_status::ok && r.fee > 0)
    st = from(store::transfer(d, r.payment_id + "/refund-fee", *fees, *own, r.fee, now));
  return st;
}

balance_result ledger::balance(store::db& d, std::string_view msisdn, std::string_view currency) {
  const auto own = store::account_id(d, account_kind::wallet, msisdn, currency, false);
  if (!own) return {wallet_status::no_wallet, 0};
  const auto b = store::balance(d, *own);
  return b ? balance_result{wallet_status::ok, *b} : balance_result{wallet_status::error, 0};
}

// ---- async ------------------------------------------------------------------------------------

template <class Result, class Fn>
void embedded_wallet::write(handler<void(Result)> done, Result on_failure, Fn step) {
  auto h = shared(std::move(done));
  auto out = std::make_shared<Result>(on_failure);
  const bool queued = writer_.submit(
      [out, step = std::move(step)](store::db& d) mutable {
        *out = step(d);
        return true;  // the outcome (even "insufficient") is the answer; nothing to undo
      },
      [this, h, out, on_failure](bool committed, std::optional<store::db_error>) {
        post_result(ex_, h, committed ? *out : on_failure);
      });
  if (!queued) post_result(ex_, h, on_failure);
}

void embedded_wallet::async_hold(hold_request r, handler<void(wallet_status)> done) {
  write(std::move(done), wallet_status::error,
        [r = std::move(r)](store::db& d) { return ledger::hold(d, r, clock::now_ms()); });
}

void embedded_wallet::async_commit(settle_request r, handler<void(wallet_status)> done) {
  write(std::move(done), wallet_status::error,
        [r = std::move(r)](store::db& d) { return ledger::commit(d, r, clock::now_ms()); });
}

void embedded_wallet::async_release(hold_request r, handler<void(wallet_status)> done) {
  write(std::move(done), wallet_status::error,
        [r = std::move(r)](store::db& d) { return ledger::release(d, r, clock::now_ms()); });
}

void embedded_wallet::async_refund(settle_request r, handler<void(wallet_status)> done) {
  write(std::move(done), wallet_status::error,
        [r = std::move(r)](store::db& d) { return ledger::refund(d, r, clock::now_ms()); });
}

void embedded_wallet::async_balance(std::string msisdn, std::string currency,
                                    handler<void(balance_result)> done) {
  auto h = shared(std::move(done));
  if (!readers_.submit(
          [this, h, msisdn = std::move(msisdn), currency = std::move(currency)](store::db& d) {
            post_result(ex_, h, ledger::balance(d, msisdn, currency));
          }))
    post_result(ex_, h, balance_result{});
}

void embedded_wallet::check_pin(std::string msisdn, std::shared_ptr<std::string> pin,
                                std::function<write_step()> on_right,
                                std::function<void(auth_result)> then) {
  auto finish = [this, then](auth_result r) { asio::post(ex_, [then, r] { then(r); }); };
  const bool queued = readers_.submit([this, msisdn, pin, on_right, finish](store::db& d) {
    const auto now = clock::now_ms();
    const auto rec = store::find_subscriber(d, msisdn);
    if (!rec || rec->pin_hash.empty()) {
      wipe(*pin);
      return finish({auth_status::no_subscriber});
    }
    if (rec->locked_until > now) {
      wipe(*pin);
      return finish({auth_status::locked, 0, minutes_until(rec->locked_until, now)});
    }
    const bool right = verify_pin(*pin, cfg_.pepper, {rec->pin_salt, rec->pin_hash, rec->pin_kdf});
    wipe(*pin);
    if (right) {
      // The slow hash of a new PIN runs here too, off the network thread.
      write_step extra = on_right ? on_right() : nullptr;
      if (rec->failed_pins == 0 && !extra) return finish({auth_status::ok});
      // The count restarts (and a new PIN is stored) in one writer job.
      auto out = std::make_shared<auth_result>(auth_result{auth_status::ok});
      if (!writer_.submit(
              [msisdn, out, extra](store::db& w) {
                if (store::reset_wrong_pins(w, msisdn) || (extra && !extra(w))) {
                  *out = {auth_status::error};
                  return false;
                }
                return true;
              },
              [out, finish](bool committed, std::optional<store::db_error>) {
                finish(committed ? *out : auth_result{auth_status::error});
              }))
        finish({auth_status::error});
      return;
    }
    auto out = std::make_shared<auth_result>(auth_result{auth_status::error});
    const std::int64_t max_wrong = cfg_.max_wrong, lockout = cfg_.lockout.count();
    if (!writer_.submit(
            [msisdn, out, max_wrong, lockout, now](store::db& w) {
              const auto after = store::record_wrong_pin(w, msisdn, max_wrong, lockout, now);
              if (!after) return true;
              if (after->locked_until > now)
                *out = {auth_status::locked, 0, minutes_until(after->locked_until, now), true};
              else
                *out = {auth_status::wrong_pin,
                        static_cast<std::uint32_t>(max_wrong - after->failed_pins), 0};
              return true;
            },
            [out, finish](bool committed, std::optional<store::db_error>) {
              finish(committed ? *out : auth_result{auth_status::error});
            }))
      finish({auth_status::error});
  });
  if (!queued) {
    wipe(*pin);
    asio::post(ex_, [then] { then({auth_status::error}); });
  }
}

void embedded_wallet::async_authorize(std::string msisdn, std::string pin,
                                      handler<void(auth_result)> done) {
  auto h = shared(std::move(done));
  auto secret = std::make_shared<std::string>(std::move(pin));
  wipe(pin);
  check_pin(std::move(msisdn), secret, nullptr, [h](auth_result r) { std::move (*h)(r); });
}

void embedded_wallet::async_change_pin(std::string msisdn, std::string old_pin, std::string new_pin,
                                       handler<void(auth_result)> done) {
  auto h = shared(std::move(done));
  auto old_secret = std::make_shared<std::string>(std::move(old_pin));
  auto new_secret = std::make_shared<std::string>(std::move(new_pin));
  wipe(old_pin);
  wipe(new_pin);
  // On a right old PIN: hash the new one (reader thread), store it in the writer job.
  auto on_right = [this, msisdn, new_secret]() -> write_step {
    const auto hashed = hash_pin(*new_secret, cfg_.pepper, cfg_.iterations);
    wipe(*new_secret);
    return [msisdn, hashed](store::db& w) {
      return store::set_pin(w, msisdn, hashed.hash, hashed.salt, hashed.kdf);
    };
  };
  check_pin(std::move(msisdn), old_secret, on_right, [h, new_secret](auth_result r) {
    wipe(*new_secret);
    std::move (*h)(r);
  });
}

void embedded_wallet::async_set_pin(std::string msisdn, std::string pin, std::string language,
                                    bool create, handler<void(auth_result)> done) {
  auto h = shared(std::move(done));
  auto secret = std::make_shared<std::string>(std::move(pin));
  wipe(pin);
  // The slow hash on a reader thread, then one writer job.
  const bool queued = readers_.submit([this, h, msisdn, language, create, secret](store::db&) {
    pin_hash hashed;
    try {
      hashed = hash_pin(*secret, cfg_.pepper, cfg_.iterations);
    } catch (const std::exception&) {
      wipe(*secret);
      return post_result(ex_, h, auth_result{auth_status::error});
    }
    wipe(*secret);
    auto out = std::make_shared<auth_result>(auth_result{auth_status::error});
    const std::string currency = cfg_.currency;
    auto job = [msisdn, language, create, hashed, out, currency](store::db& w) {
      const auto found = store::find_subscriber(w, msisdn);
      if (!create) {
        if (!found || found->pin_hash.empty()) {
          *out = {auth_status::no_subscriber};
          return true;
        }
        if (!store::set_pin(w, msisdn, hashed.hash, hashed.salt, hashed.kdf)) return false;
        *out = {auth_status::ok};
        return true;
      }
      if (found) {
        *out = {auth_status::exists};
        return true;
      }
      const store::subscriber_record r{msisdn,     language, hashed.hash, hashed.salt,
                                       hashed.kdf, 0,        0,           clock::now_ms()};
      if (store::upsert_subscriber(w, r) ||
          !store::account_id(w, account_kind::wallet, msisdn, currency, true) ||
          !store::account_id(w, account_kind::hold, msisdn, currency, true))
        return false;
      *out = {auth_status::ok};
      return true;
    };
    auto answer = [this, h, out](bool committed, std::optional<store::db_error>) {
      post_result(ex_, h, committed ? *out : auth_result{auth_status::error});
    };
    if (!writer_.submit(std::move(job), std::move(answer)))
      post_result(ex_, h, auth_result{auth_status::error});
  });
  if (!queued) {
    wipe(*secret);
    post_result(ex_, h, auth_result{auth_status::error});
  }
}

}  // namespace ussdpay::adapters
