// Who is dialing, registration and PIN reset by a one-time code, and the language
// (gateway/actions/enrolment.cpp). The code reaches the test only as the SMS text the send_now
// callback received, as it reaches the subscriber.
#include <catch2/catch.hpp>

#include "store/subscribers.hpp"
#include "tests/unit/actions/rig.hpp"

using namespace ussdpay;
using namespace ussdpay::test::actions_rig;
using Catch::Matchers::Contains;

namespace {

menus::dialog_state with_purpose(const rig& r, const std::string& purpose) {
  auto s = r.state();
  s.set(var_id::code_purpose, purpose);
  return s;
}

/// Asks for a code for `msisdn`; the code, read from the SMS sent.
std::string code_sent(rig& r, const std::string& msisdn, const std::string& purpose) {
  const auto before = r.sent_now.size();
  const auto out = r.run(action_id::send_code, with_purpose(r, purpose), msisdn);
  REQUIRE(out.result == outcome::ok);
  REQUIRE(r.sent_now.size() == before + 1);
  CHECK(r.sent_now.back().msisdn == msisdn);
  auto code = first_code(r.sent_now.back().text, 6);
  REQUIRE(code.size() == 6);
  return code;
}

ussd::action_result verify(rig& r, const std::string& msisdn, const std::string& purpose,
                           const std::string& code) {
  auto s = with_purpose(r, purpose);
  s.set(var_id::code, code);
  return r.run(action_id::verify_code, s, msisdn);
}

/// A code that is surely not `code`: its first digit changed.
std::string other_than(const std::string& code) {
  std::string wrong = code;
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  return wrong;
}

ussd::action_result set_pin(rig& r, const std::string& msisdn, const std::string& purpose,
                            const std::string& pin, const std::string& confirm,
                            const std::string& language = "") {
  auto s = with_purpose(r, purpose);
  s.set(var_id::pin_new, pin);
  s.set(var_id::pin_confirm, confirm);
  if (!language.empty()) s.set(var_id::language, language);
  return r.run(action_id::set_pin, s, msisdn);
}

}  // namespace

TEST_CASE("actions: subscriber knows a registered number, from memory or from the store",
          "[actions]") {
  SECTION("in the directory") {
    rig r;
    CHECK(r.run(action_id::subscriber, r.state()).result == outcome::ok);
  }
  SECTION("only in the store (added by the CLI since start-up): remembered from now on") {
    options o;
    o.directory_knows_subscriber = false;
    rig r(o);
    REQUIRE_FALSE(r.directory.known(subscriber));
    CHECK(r.run(action_id::subscriber, r.state()).result == outcome::ok);
    CHECK(r.directory.known(subscriber));
    CHECK(r.directory.language(subscriber) == "en");
  }
}

TEST_CASE(
    "actions: subscriber of an unknown number: not_found, or closed without self-registration",
    "[actions]") {
  {
    rig r;
    CHECK(r.run(action_id::subscriber, r.state(), stranger).result == outcome::not_found);
    CHECK_FALSE(r.directory.known(stranger));
  }
  {
    options o;
    o.self_register = false;
    rig r(o);
    CHECK(r.run(action_id::subscriber, r.state(), stranger).result == outcome::closed);
    // A registered number is still welcome.
    CHECK(r.run(action_id::subscriber, r.state()).result == outcome::ok);
  }
}

TEST_CASE("actions: send_code sends the code by SMS, after its digest is stored", "[actions]") {
  rig r;
  const auto out = r.run(action_id::send_code, with_purpose(r, "register"), stranger);
  CHECK(out.result == outcome::ok);
  CHECK(var_of(out, var_id::code_minutes) == "5");
  REQUIRE(r.sent_now.size() == 1);
  CHECK(r.sent_now[0].msisdn == stranger);
  const auto code = first_code(r.sent_now[0].text, 6);
  CHECK(code.size() == 6);
  CHECK_THAT(r.sent_now[0].text, Contains("5 min"));
  // Never through the outbox: a code is not stored anywhere in clear.
  r.barrier();
  CHECK(r.outbox_size() == 0);
  store::stmt s(*r.look, "SELECT digest FROM one_time_codes WHERE msisdn = ?");
  s.bind(1, std::string_view(stranger));
  REQUIRE(s.step());
  CHECK(s.blob(0).find(code) == std::string::npos);
}

TEST_CASE("actions: send_code to register a registered number, or reset an unknown one",
          "[actions]") {
  rig r;
  CHECK(r.run(action_id::send_code, with_purpose(r, "register")).result == outcome::exists);
  CHECK(r.run(action_id::send_code, with_purpose(r, "reset"), stranger).result ==
        outcome::not_found);
  CHECK(r.sent_now.empty());
  // An unknown purpose never reaches the store.
  CHECK(r.run(action_id::send_code, with_purpose(r, "unlock")).result == outcome::error);
  CHECK(r.sent_now.empty());
}

TEST_CASE("actions: send_code stops at codes_per_window", "[actions]") {
  options o;
  o.codes_per_window = 2;
  rig r(o);
  code_sent(r, stranger, "register");
  code_sent(r, stranger, "register");
  const auto third = r.run(action_id::send_code, with_purpose(r, "register"), stranger);
  CHECK(third.result == outcome::limit);
  CHECK(r.sent_now.size() == 2);
  // The window is per number: another number still gets its code.
  code_sent(r, "923007777777", "register");
}

TEST_CASE("actions: send_code is an error when the SMSC refuses the SMS", "[actions]") {
  rig r;
  r.smsc_accepts = false;
  CHECK(r.run(action_id::send_code, with_purpose(r, "register"), stranger).result ==
        outcome::error);
  CHECK(r.sent_now.size() == 1);
}

TEST_CASE("actions: verify_code counts wrong codes and accepts the right one", "[actions]") {
  rig r;
  const auto code = code_sent(r, stranger, "register");
  const auto wrong = verify(r, stranger, "register", other_than(code));
  CHECK(wrong.result == outcome::wrong_code);
  CHECK(var_of(wrong, var_id::code_tries_left) == "2");
  CHECK(var_of(verify(r, stranger, "register", other_than(code)), var_id::code_tries_left) == "1");
  CHECK(verify(r, stranger, "register", code).result == outcome::ok);
  // A code sent to register is no code for a reset.
  CHECK(verify(r, stranger, "reset", code).result == outcome::expired);
}

TEST_CASE("actions: verify_code voids the code after the last wrong try", "[actions]") {
  rig r;
  const auto code = code_sent(r, stranger, "register");
  verify(r, stranger, "register", other_than(code));
  verify(r, stranger, "register", other_than(code));
  CHECK(verify(r, stranger, "register", other_than(code)).result == outcome::expired);
  CHECK(verify(r, stranger, "register", code).result == outcome::expired);
}

TEST_CASE("actions: set_pin after a verified code registers the number", "[actions]") {
  rig r;
  const auto code = code_sent(r, stranger, "register");
  REQUIRE(verify(r, stranger, "register", code).result == outcome::ok);
  CHECK(set_pin(r, stranger, "register", "5931", "5931", "ur").result == outcome::ok);

  // The directory knows the number (the next dial goes to the main menu) and its language.
  CHECK(r.directory.known(stranger));
  CHECK(r.directory.language(stranger) == "ur");
  CHECK(r.run(action_id::subscriber, r.state(), stranger).result == outcome::ok);
  const auto rec = store::find_subscriber(*r.look, stranger);
  REQUIRE(rec);
  CHECK_FALSE(rec->pin_hash.empty());
  CHECK(rec->language == "ur");
  // The PIN works, and the wallet is open (empty).
  CHECK(r.authorize("5931", stranger).status == adapters::auth_status::ok);
  CHECK(r.balance_of(stranger) == 0);

  // The verification was used up: a second set_pin needs a new code.
  CHECK(set_pin(r, stranger, "register", "5931", "5931").result == outcome::expired);
}

TEST_CASE("actions: set_pin refuses a mismatch or a weak PIN, and without a code", "[actions]") {
  rig r;
  const auto code = code_sent(r, stranger, "register");
  REQUIRE(verify(r, stranger, "register", code).result == outcome::ok);
  CHECK(set_pin(r, stranger, "register", "5931", "5932").result == outcome::mismatch);
  CHECK(set_pin(r, stranger, "register", "1234", "1234").result == outcome::weak);
  CHECK_FALSE(r.directory.known(stranger));
  CHECK_FALSE(store::find_subscriber(*r.look, stranger));
  // The refusals did not use up the verification.
  CHECK(set_pin(r, stranger, "register", "5931", "5931").result == outcome::ok);

  // Never verified: expired, nothing set.
  CHECK(set_pin(r, "923007777777", "register", "5931", "5931").result == outcome::expired);
  CHECK_FALSE(store::find_subscriber(*r.look, "923007777777"));
}

TEST_CASE("actions: set_pin to register a number registered meanwhile is exists", "[actions]") {
  rig r;
  const auto code = code_sent(r, stranger, "register");
  REQUIRE(verify(r, stranger, "register", code).result == outcome::ok);
  // Between the code and the PIN, an operator adds the number with the CLI.
  const auto h = adapters::hash_pin("7391", pepper, 1'000);
  REQUIRE(r.writer->submit(
      [h](store::db& d) {
        return !store::upsert_subscriber(d, {stranger, "sw", h.hash, h.salt, h.kdf, 0, 0, 1});
      },
      [](bool, std::optional<store::db_error>) {}));
  r.barrier();
  CHECK(set_pin(r, stranger, "register", "5931", "5931").result == outcome::exists);
  // The operator's PIN stands; the dialog's did not replace it.
  CHECK(r.authorize("7391", stranger).status == adapters::auth_status::ok);
  CHECK_FALSE(r.directory.known(stranger));
}

TEST_CASE("actions: a forgotten PIN is reset through a code", "[actions]") {
  rig r;
  const auto code = code_sent(r, subscriber, "reset");
  REQUIRE(verify(r, subscriber, "reset", code).result == outcome::ok);
  CHECK(set_pin(r, subscriber, "reset", "5931", "5931").result == outcome::ok);
  CHECK(r.authorize("5931").status == adapters::auth_status::ok);
  CHECK(r.authorize(right_pin).status == adapters::auth_status::wrong_pin);
  // The wallet keeps its money.
  CHECK(r.balance_of() == opening_balance);
}

TEST_CASE("actions: set_language changes the directory and the store", "[actions]") {
  rig r;
  auto s = r.state();
  s.set(var_id::language, "ur");
  CHECK(r.run(action_id::set_language, s).result == outcome::ok);
  CHECK(r.directory.language(subscriber) == "ur");
  const auto rec = store::find_subscriber(*r.look, subscriber);
  REQUIRE(rec);
  CHECK(rec->language == "ur");
  // No language chosen: an error, nothing changes.
  CHECK(r.run(action_id::set_language, r.state()).result == outcome::error);
  CHECK(r.directory.language(subscriber) == "ur");
  CHECK(store::find_subscriber(*r.look, subscriber)->language == "ur");
}
