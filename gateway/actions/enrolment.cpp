// Who is dialing, self-registration, forgotten-PIN reset and the language: the menu actions
// subscriber, send_code, verify_code, set_pin and set_language (menus: welcome, register_offer,
// pin_menu, code_*, new_pin*, language).
//
//   dial ──subscriber──> known: main menu | unknown: register_offer (or not_registered)
//   send_code:   digest of a fresh code stored (bounded per window), then the code by SMS
//   verify_code: the code checked against the digest (bounded tries)
//   set_pin:     the verification used up, then the wallet sets the PIN (and, to register,
//                opens an empty wallet)
//
// The code itself lives only in this process, on its way to the SMS; the store keeps an HMAC of
// it under the PIN pepper (adapters/pin.hpp, store/codes.hpp).
#include <spdlog/spdlog.h>

#include "adapters/pin.hpp"
#include "gateway/actions/handlers.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/sms/texts.hpp"
#include "store/codes.hpp"
#include "store/subscribers.hpp"

namespace ussdpay::actions {

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

bool known_purpose(std::string_view purpose) {
  return purpose == "register" || purpose == "reset";
}

}  // namespace

void subscriber(context& c, const ussd::action_call& call, done_fn done) {
  const std::string msisdn(call.msisdn);
  if (c.subscribers.known(msisdn)) return finish(c, done, only(outcome::ok));
  // Not in memory: the store decides (the operator's CLI may have added the number).
  auto language = std::make_shared<std::string>();
  read(
      c,
      [&c, done = std::move(done), msisdn, language](ussd::action_result r) {
        if (r.result == outcome::ok) c.subscribers.remember(msisdn, *language);
        done(std::move(r));
      },
      [msisdn, language, open = c.cfg.registration.self_register](store::db& d) {
        const auto rec = store::find_subscriber(d, msisdn);
        if (rec && !rec->pin_hash.empty()) {
          *language = rec->language;
          return only(outcome::ok);
        }
        return only(open ? outcome::not_found : outcome::closed);
      });
}

void send_code(context& c, const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  const auto& reg = c.cfg.registration;
  const std::string purpose = text_of(s, var_id::code_purpose);
  if (!known_purpose(purpose) || (purpose == "register" && !reg.self_register))
    return finish(c, done, only(outcome::error));
  std::string code;
  try {
    code = adapters::new_code(reg.code_digits);
  } catch (const std::exception& e) {
    spdlog::error("enrolment: no one-time code: {}", e.what());
    return finish(c, done, only(outcome::error));
  }
  const auto digest = adapters::code_digest(code, c.cfg.pepper, msisdn, purpose);
  const auto minutes = std::to_string((reg.code_ttl.count() + 59'999) / 60'000);
  auto text = std::make_shared<std::string>(sms::render_code(s.cat, s.lang, code, minutes));
  adapters::wipe(code);
  // The digest is durable first; only then does the code leave, by SMS.
  auto sent = [&c, done = std::move(done), msisdn, text](ussd::action_result r) mutable {
    if (r.result != outcome::ok || !c.b.send_now) {
      adapters::wipe(*text);
      if (r.result == outcome::ok) r = only(outcome::error);
      return done(std::move(r));
    }
    std::string body = std::move(*text);
    adapters::wipe(*text);
    c.b.send_now(msisdn, std::move(body), [done = std::move(done), r](bool accepted) mutable {
      if (!accepted) {
        spdlog::warn("enrolment: the SMSC did not accept a one-time code SMS");
        r = only(outcome::error);
      }
      done(std::move(r));
    });
  };
  write(c, std::move(sent),
        [msisdn, purpose, digest, policy = policy_of(reg), minutes](store::db& d) {
          const bool is_registered = registered(d, msisdn);
          if (purpose == "register" && is_registered) return only(outcome::exists);
          if (purpose == "reset" && !is_registered) return only(outcome::not_found);
          switch (store::issue_code(d, msisdn, purpose, digest, policy, clock::now_ms())) {
            case store::issue_status::issued:
              return ussd::action_result{outcome::ok, {var(var_id::code_minutes, minutes)}, {}};
            case store::issue_status::too_many:
              return only(outcome::limit);
            case store::issue_status::failed:
              break;
          }
          return only(outcome::error);
        });
}

void verify_code(context& c, const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  const std::string purpose = text_of(s, var_id::code_purpose);
  std::string code = text_of(s, var_id::code);
  if (purpose.empty() || code.empty()) {
    adapters::wipe(code);
    return finish(c, done, only(outcome::error));
  }
  const auto digest = adapters::code_digest(code, c.cfg.pepper, msisdn, purpose);
  adapters::wipe(code);
  write(c, std::move(done),
        [msisdn, purpose, digest, policy = policy_of(c.cfg.registration)](store::db& d) {
          const auto r = store::check_code(d, msisdn, purpose, digest, policy, clock::now_ms());
          using enum store::code_check::status_t;
          switch (r.status) {
            case right:
              return only(outcome::ok);
            case wrong:
              if (r.tries_left <= 0) return only(outcome::expired);
              return ussd::action_result{
                  outcome::wrong_code,
                  {var(var_id::code_tries_left, std::to_string(r.tries_left))},
                  {}};
            case expired:
              return only(outcome::expired);
            case failed:
              break;
          }
          return only(outcome::error);
        });
}

void set_pin(context& c, const ussd::action_call& call, done_fn done) {
  const auto& s = *call.state;
  const std::string msisdn(call.msisdn);
  const std::string purpose = text_of(s, var_id::code_purpose);
  const std::string language = text_of(s, var_id::language);
  auto pin = std::make_shared<std::string>(text_of(s, var_id::pin_new));
  std::string confirm = text_of(s, var_id::pin_confirm);
  outcome refuse = outcome::ok;
  if (!known_purpose(purpose))
    refuse = outcome::error;
  else if (*pin != confirm)
    refuse = outcome::mismatch;
  else if (!adapters::pin_format_ok(*pin) || adapters::weak_pin(*pin))
    refuse = outcome::weak;
  adapters::wipe(confirm);
  if (refuse != outcome::ok) {
    adapters::wipe(*pin);
    return finish(c, done, only(refuse));
  }
  // The verification is used up first (durably), then the wallet sets the PIN: a failure in
  // between costs the subscriber a new code, never a PIN set without one.
  const bool create = purpose == "register";
  auto then = [&c, done = std::move(done), msisdn, language, pin,
               create](ussd::action_result used) mutable {
    if (used.result != outcome::ok) {
      adapters::wipe(*pin);
      return done(std::move(used));
    }
    std::string secret = std::move(*pin);
    adapters::wipe(*pin);
    c.b.wallet.async_set_pin(
        msisdn, std::move(secret), language, create,
        [&c, done = std::move(done), msisdn, language, create](adapters::auth_result a) mutable {
          switch (a.status) {
            case adapters::auth_status::ok:
              c.subscribers.remember(msisdn, language);
              spdlog::info("enrolment: {} {}", msisdn, create ? "registered" : "reset its PIN");
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
  write(c, std::move(then),
        [msisdn, purpose, policy = policy_of(c.cfg.registration)](store::db& d) {
          return only(store::consume_code(d, msisdn, purpose, policy, clock::now_ms())
                          ? outcome::ok
                          : outcome::expired);
        });
}

void set_language(context& c, const ussd::action_call& call, done_fn done) {
  const std::string msisdn(call.msisdn);
  const std::string code = text_of(*call.state, var_id::language);
  if (code.empty()) return finish(c, done, only(outcome::error));
  c.subscribers.remember(msisdn, code);
  write(c, std::move(done), [msisdn, code](store::db& d) {
    return only(store::set_language(d, msisdn, code) ? outcome::error : outcome::ok);
  });
}

}  // namespace ussdpay::actions
