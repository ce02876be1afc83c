// Self-registration and forgotten-PIN reset: the menu actions subscriber, send_code,
// verify_code and set_pin (menus: welcome, register_offer, pin_menu, code_*, new_pin*).
//
//   dial ──subscriber──> known: main menu | unknown: register_offer (or not_registered)
//   send_code:   digest of a fresh code stored (bounded per window), then the code by SMS
//   verify_code: the code checked against the digest (bounded tries)
//   set_pin:     the verification used up, then the wallet sets the PIN (and, to register,
//                opens an empty wallet)
//
// The code itself lives only in this process, on its way to the SMS; the store keeps an HMAC of
// it under the PIN pepper (adapters/pin.hpp, store/codes.hpp).
#include <chrono>

#include <spdlog/spdlog.h>

#include "adapters/pin.hpp"
#include "gateway/actions.hpp"
#include "gateway/sms/receipts.hpp"
#include "menus/vocabulary.hpp"
#include "store/codes.hpp"
#include "store/ledger.hpp"

namespace ussdpay {

using menus::outcome;
using namespace action_helpers;

namespace {

store::code_policy policy_of(const registration_config& c) {
  store::code_policy p;
  p.ttl_ms = c.code_ttl.count();
  p.verified_ttl_ms = c.code_ttl.count();
  p.max_attempts = c.code_attempts;
  p.max_sends = c.codes_per_window;
  p.window_ms = c.code_window.count();
  return p;
}

bool registered(store::db& d, std::string_view msisdn) {
  const auto rec = store::find_subscriber(d, msisdn);
  return rec && !rec->pin_hash.empty();
}

}  // namespace

bool menu_actions::run_enrolment(std::string_view name, const ussd::action_call& call,
                                 done_fn& done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  const auto policy = policy_of(registration_);

  if (name == "subscriber") {
    if (known(msisdn)) {
      finish(done, only(outcome::ok));
      return true;
    }
    // Not in memory: the store decides (the operator's CLI may have added the number).
    auto language = std::make_shared<std::string>();
    const bool open = registration_.self_register;
    read(
        [this, done = std::move(done), msisdn, language](ussd::action_result r) {
          if (r.result == outcome::ok) remember_subscriber(msisdn, *language);
          done(std::move(r));
        },
        [msisdn, language, open](store::db& d) {
          const auto rec = store::find_subscriber(d, msisdn);
          if (rec && !rec->pin_hash.empty()) {
            *language = rec->language;
            return only(outcome::ok);
          }
          return only(open ? outcome::not_found : outcome::closed);
        });
    return true;
  }

  if (name == "send_code") {
    const std::string purpose = text_of(s, "code.purpose");
    if ((purpose != "register" && purpose != "reset") ||
        (purpose == "register" && !registration_.self_register)) {
      finish(done, only(outcome::error));
      return true;
    }
    std::string code;
    try {
      code = adapters::new_code(registration_.code_digits);
    } catch (const std::exception& e) {
      spdlog::error("enrolment: no one-time code: {}", e.what());
      finish(done, only(outcome::error));
      return true;
    }
    const auto digest = adapters::code_digest(code, pepper_, msisdn, purpose);
    const auto minutes = std::to_string((registration_.code_ttl.count() + 59'999) / 60'000);
    auto text = std::make_shared<std::string>(sms::render_code(s.cat, s.lang, code, minutes));
    adapters::wipe(code);
    // The digest is durable first; only then does the code leave, by SMS.
    auto sent = [this, done = std::move(done), msisdn, text](ussd::action_result r) mutable {
      if (r.result != outcome::ok || !b_.send_now) {
        adapters::wipe(*text);
        if (r.result == outcome::ok) r = only(outcome::error);
        return done(std::move(r));
      }
      std::string body = std::move(*text);
      adapters::wipe(*text);
      b_.send_now(msisdn, std::move(body), [done = std::move(done), r](bool accepted) mutable {
        if (!accepted) {
          spdlog::warn("enrolment: the SMSC did not accept a one-time code SMS");
          r = only(outcome::error);
        }
        done(std::move(r));
      });
    };
    write(std::move(sent), [msisdn, purpose, digest, policy, minutes](store::db& d) {
      const bool is_registered = registered(d, msisdn);
      if (purpose == "register" && is_registered) return only(outcome::exists);
      if (purpose == "reset" && !is_registered) return only(outcome::not_found);
      switch (store::issue_code(d, msisdn, purpose, digest, policy, now_ms())) {
        case store::issue_status::issued:
          return ussd::action_result{outcome::ok, {{var("code.minutes"), minutes}}, {}};
        case store::issue_status::too_many:
          return only(outcome::limit);
        case store::issue_status::failed:
          break;
      }
      return only(outcome::error);
    });
    return true;
  }

  if (name == "verify_code") {
    const std::string purpose = text_of(s, "code.purpose");
    std::string code = text_of(s, "code");
    if (purpose.empty() || code.empty()) {
      adapters::wipe(code);
      finish(done, only(outcome::error));
      return true;
    }
    const auto digest = adapters::code_digest(code, pepper_, msisdn, purpose);
    adapters::wipe(code);
    write(std::move(done), [msisdn, purpose, digest, policy](store::db& d) {
      const auto c = store::check_code(d, msisdn, purpose, digest, policy, now_ms());
      using enum store::code_check::status_t;
      switch (c.status) {
        case right:
          return only(outcome::ok);
        case wrong:
          if (c.tries_left <= 0) return only(outcome::expired);
          return ussd::action_result{
              outcome::wrong_code, {{var("code.tries_left"), std::to_string(c.tries_left)}}, {}};
        case expired:
          return only(outcome::expired);
        case failed:
          break;
      }
      return only(outcome::error);
    });
    return true;
  }

  if (name == "set_pin") {
    const std::string purpose = text_of(s, "code.purpose");
    const std::string language = text_of(s, "language");
    auto pin = std::make_shared<std::string>(text_of(s, "pin.new"));
    std::string confirm = text_of(s, "pin.confirm");
    outcome refuse = outcome::ok;
    if (purpose != "register" && purpose != "reset")
      refuse = outcome::error;
    else if (*pin != confirm)
      refuse = outcome::mismatch;
    else if (!adapters::pin_format_ok(*pin) || adapters::weak_pin(*pin))
      refuse = outcome::weak;
    adapters::wipe(confirm);
    if (refuse != outcome::ok) {
      adapters::wipe(*pin);
      finish(done, only(refuse));
      return true;
    }
    // The verification is used up first (durably), then the wallet sets the PIN: a failure in
    // between costs the subscriber a new code, never a PIN set without one.
    const bool create = purpose == "register";
    auto then = [this, done = std::move(done), msisdn, language, pin,
                 create](ussd::action_result used) mutable {
      if (used.result != outcome::ok) {
        adapters::wipe(*pin);
        return done(std::move(used));
      }
      std::string secret = std::move(*pin);
      adapters::wipe(*pin);
      b_.wallet.async_set_pin(msisdn, std::move(secret), language, create,
                              [this, done = std::move(done), msisdn, language,
                               create](adapters::auth_result a) mutable {
                                switch (a.status) {
                                  case adapters::auth_status::ok:
                                    remember_subscriber(msisdn, language);
                                    spdlog::info("enrolment: {} {}", msisdn,
                                                 create ? "registered" : "reset its PIN");
                                    return done(only(outcome::ok));
                                  case adapters::auth_status::exists:
                                    return done(only(outcome::exists));
                                  case adapters::auth_status::no_subscriber:
                                    return done(only(outcome::not_found));
                                  default:
                                    return done(only(outcome::error));
                                }
                              });
    };
    write(std::move(then), [msisdn, purpose, policy](store::db& d) {
      return only(store::consume_code(d, msisdn, purpose, policy, now_ms()) ? outcome::ok
                                                                            : outcome::expired);
    });
    return true;
  }

  return false;
}

}  // namespace ussdpay
