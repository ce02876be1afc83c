// The menu engine over the shipped bill-pay menus (etc/menus), with actions answered by hand:
// each test reads like a subscriber's dialog.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "menus/engine.hpp"

using namespace ussdpay::menus;

namespace {

std::shared_ptr<const catalog> shipped() {
  static auto r = load_catalog(USSDPAY_SOURCE_DIR "/etc/menus");
  INFO(format_errors(r.errors));
  REQUIRE(r.cat);
  return r.cat;
}

std::uint16_t v(std::string_view name) {
  return *find_var(name);
}
std::uint16_t f(std::string_view name) {
  return *find_item_field(name);
}
std::string_view action_name(const step& s) {
  return actions()[s.action].name;
}

list_item biller(std::string id, std::string name, std::string min, std::string max,
                 std::string check = "none", std::string exact = "any") {
  list_item i;
  i.set(f("item.id"), std::move(id));
  i.set(f("item.name"), std::move(name));
  i.set(f("item.account_min"), std::move(min));
  i.set(f("item.account_max"), std::move(max));
  i.set(f("item.account_check"), std::move(check));
  i.set(f("item.exactness"), std::move(exact));
  return i;
}

/// Answers the billers action with LESCO and K-Electric.
step give_billers(dialog_state& s) {
  s.items = {biller("lesco", "LESCO", "14", "14"),
             biller("kelectric", "K-Electric", "13", "14", "none", "at_least")};
  return resume(s, outcome::ok);
}

/// Answers an inquiry with M ASLAM's bill of Rs4,520.
step give_bill(dialog_state& s) {
  s.set(v("bill.name"), "M ASLAM");
  s.set(v("bill.due_date"), "2026-12-25");
  s.set(v("bill.amount"), "452000");
  s.set(v("bill.after_due"), "497200");
  return resume(s, outcome::ok);
}

struct dialog {
  dialog_state s;
  step last;
  explicit dialog(std::string_view shortcut = {}) {
    last = begin(s, shipped(), 0, shortcut);
    s.set(v("currency"), "PKR");
    s.set(v("service.code"), "*123#");
    s.set(v("support.phone"), "111");
    admit();
  }
  step& in(std::string_view text) {
    last = input(s, text);
    admit();
    return last;
  }
  /// The welcome gate asks whether the number is registered: yes, as for most dials.
  void admit() {
    if (last.kind == step::kind_t::action && action_name(last) == "subscriber")
      last = resume(s, outcome::ok);
  }
};

}  // namespace

TEST_CASE("the shipped menus load in every language", "[menus]") {
  auto c = shipped();
  CHECK(c->languages == std::vector<std::string>{"en", "ur", "hi", "sw"});
  CHECK(c->screens.size() > 40);
}

TEST_CASE("a subscriber walks from dial to the PIN screen of a bill", "[menus]") {
  dialog d;
  // Dial: the main menu, numbered, without Back on the start screen.
  REQUIRE(d.last.kind == step::kind_t::show);
  CHECK(d.last.text ==
        "Bill Pay\n1. Pay bill\n2. Saved accounts\n3. My payments\n4. PIN\n5. "
        "Language\n6. Help");
  // Pay bill -> categories, with Back and Home.
  CHECK(d.in("1").text ==
        "Pay bill\n1. Electricity\n2. Water\n3. Gas\n4. Fuel card (PSO)\n0. Back\n00. Home");
  // Electricity -> the billers list is fetched for that category.
  REQUIRE(d.in("1").kind == step::kind_t::action);
  CHECK(action_name(d.last) == "billers");
  CHECK(*d.s.get(v("category")) == "electricity");
  d.last = give_billers(d.s);
  CHECK(d.last.text == "Choose company\n1. LESCO\n2. K-Electric\n0. Back\n00. Home");
  // LESCO -> its saved accounts are fetched (none), then the consumer-number prompt.
  REQUIRE(d.in("1").kind == step::kind_t::action);
  CHECK(action_name(d.last) == "saved_for_biller");
  CHECK(*d.s.get(v("biller.id")) == "lesco");
  d.last = resume(d.s, outcome::empty);
  CHECK(d.last.text == "Enter LESCO consumer number\n0. Back\n00. Home");
  // A 14-digit number runs the inquiry.
  REQUIRE(d.in("04123456789012").kind == step::kind_t::action);
  CHECK(action_name(d.last) == "inquire");
  d.last = give_bill(d.s);
  CHECK(d.last.text ==
        "LESCO 04123456789012\nM ASLAM\nDue 25/12/2026: Rs4,520\nLate: Rs4,972\n1. Pay "
        "Rs4,520\n2. Other amount\n0. Back\n00. Home");
  // Pay the full amount: a quote with the fee, then the PIN screen.
  REQUIRE(d.in("1").kind == step::kind_t::action);
  CHECK(action_name(d.last) == "quote");
  CHECK(*d.s.get(v("amount")) == "452000");
  d.s.set(v("quote.fee"), "0");
  d.s.set(v("quote.total"), "452000");
  d.last = resume(d.s, outcome::ok);
  CHECK(d.last.text ==
        "Pay Rs4,520 to LESCO\nRef 04123456789012 M ASLAM\nFee Rs0. Total Rs4,520\nEnter 4-digit "
        "PIN\n0. Back");
  CHECK(d.s.expects_secret());
  // The PIN runs the payment and is wiped once the payment has answered.
  REQUIRE(d.in("4821").kind == step::kind_t::action);
  CHECK(action_name(d.last) == "pay");
  CHECK(*d.s.get(v("pin")) == "4821");
  d.s.set(v("payment.ref"), "QFT7H2K9LM");
  d.s.set(v("balance"), "123000");
  d.last = resume(d.s, outcome::ok);
  CHECK(d.s.get(v("pin")) == nullptr);
  CHECK(d.last.text ==
        "Paid Rs4,520 to LESCO. ID QFT7H2K9LM. SMS receipt follows. Bal Rs1,230\n1. Save this "
        "account\n00. Home");
}

TEST_CASE("bad input re-shows the screen with a one-line error", "[menus]") {
  dialog d;
  // An option that does not exist.
  CHECK(d.in("9").text.starts_with("Invalid choice.\nBill Pay\n1. Pay bill"));
  CHECK(d.in("").text.starts_with("Invalid choice.\nBill Pay"));
  CHECK(d.in("abc").text.starts_with("Invalid choice.\nBill Pay"));
  CHECK(d.in(std::string(500, '7')).text.starts_with("Too long.\nBill Pay"));
  // The dialog is still usable afterwards.
  CHECK(d.in("1").text.starts_with("Pay bill\n1. Electricity"));
  d.in("1");
  give_billers(d.s);
  d.in("1");
  d.last = resume(d.s, outcome::empty);
  // Consumer numbers: digits only, the biller's length.
  CHECK(d.in("0412345678901X").text.starts_with("Enter digits only.\nEnter LESCO"));
  CHECK(d.in("0412").text.starts_with("Too short.\nEnter LESCO"));
  CHECK(d.in("041234567890123").text.starts_with("Too long.\nEnter LESCO"));
  // Nothing ran: no action was asked for.
  CHECK(d.last.kind == step::kind_t::show);
}

TEST_CASE("amounts follow the biller's exactness rule", "[menus]") {
  auto to_amount = [](std::string exactness) {
    auto d = std::make_unique<dialog>();
    d->in("1");
    d->in("1");
    d->s.items = {biller("x", "XCO", "4", "4", "none", exactness)};
    resume(d->s, outcome::ok);
    d->in("1");
    resume(d->s, outcome::empty);
    d->in("1234");
    give_bill(d->s);
    return d;
  };
  SECTION("exact: no Other amount option") {
    auto d = to_amount("exact");
    CHECK(d->last.text.find("Other amount") == std::string::npos);
    CHECK(d->in("2").text.starts_with("Invalid choice."));
  }
  SECTION("at_least: less than due is refused, more is fine") {
    auto d = to_amount("at_least");
    CHECK(d->in("2").text.starts_with("Enter amount (due Rs4,520)"));
    CHECK(d->in("4000").text.starts_with("Amount too low."));
    CHECK(d->in("4,600").kind == step::kind_t::action);
    CHECK(*d->s.get(v("amount")) == "460000");
  }
  SECTION("at_most: more than due is refused") {
    auto d = to_amount("at_most");
    d->in("2");
    CHECK(d->in("5000").text.starts_with("Amount too high."));
    CHECK(d->in("100.50").kind == step::kind_t::action);
    CHECK(*d->s.get(v("amount")) == "10050");
  }
  SECTION("any: but never zero, garbage or three decimals") {
    auto d = to_amount("any");
    d->in("2");
    CHECK(d->in("0.00").text.starts_with("Invalid amount."));
    CHECK(d->in("12,34").text.starts_with("Invalid amount."));
    CHECK(d->in("1.005").text.starts_with("Invalid amount."));
    CHECK(d->in("9999").kind == step::kind_t::action);
  }
}

TEST_CASE("0 goes back, 00 goes home, 98 shows more of a long list", "[menus]") {
  dialog d;
  d.in("1");
  d.in("1");
  // Twelve billers do not fit one screen: the list is paged with 98 More.
  for (int i = 0; i < 12; ++i)
    d.s.items.push_back(
        biller("b" + std::to_string(i), "Electric Co " + std::to_string(i), "4", "4"));
  d.last = resume(d.s, outcome::ok);
  const std::string page1 = d.last.text;
  CHECK(page1.find("98. More") != std::string::npos);
  CHECK(page1.find("12. Electric Co 11") == std::string::npos);
  CHECK(page1.size() <= 182);
  const std::string page2 = d.in("98").text;
  CHECK(page2.find("1. Electric Co 0") == std::string::npos);
  CHECK(page2.find("12. Electric Co 11") != std::string::npos);
  // Numbers continue across pages: item 12 is selectable from page 2.
  REQUIRE(d.in("12").kind == step::kind_t::action);
  CHECK(*d.s.get(v("biller.id")) == "b11");
  d.last = resume(d.s, outcome::empty);
  // Back to the list (refetched), then back to the categories, then home.
  REQUIRE(d.in("0").kind == step::kind_t::action);
  CHECK(action_name(d.last) == "billers");
  d.last = give_billers(d.s);
  CHECK(d.in("0").text.starts_with("Pay bill\n1. Electricity"));
  d.in("2");
  give_billers(d.s);
  CHECK(d.in("00").text.starts_with("Bill Pay\n1. Pay bill"));
}

TEST_CASE("a shortcut dial enters the menus at its path but never at a PIN", "[menus]") {
  // *123*1*1# -> Pay bill -> Electricity: the billers list is fetched right away.
  dialog d("1*1");
  REQUIRE(d.last.kind == step::kind_t::action);
  CHECK(action_name(d.last) == "billers");
  // *123*1*1*1# continues after the list arrives.
  dialog e("1*1*1");
  e.last = give_billers(e.s);
  REQUIRE(e.last.kind == step::kind_t::action);
  CHECK(action_name(e.last) == "saved_for_biller");
  // *123*4*1*1234# would put a PIN in the dial string: it stops at the PIN screen instead.
  dialog p("4*1*1234");
  CHECK(p.last.text.starts_with("Enter your current PIN"));
  CHECK(p.s.get(v("pin")) == nullptr);
  // A wrong step stops the shortcut at the screen that refused it, with its error.
  dialog w("7*1");
  CHECK(w.last.text.starts_with("Invalid choice.\nBill Pay"));
}

TEST_CASE("a slow or failed action ends the dialog with a clear screen", "[menus]") {
  dialog d;
  d.in("1");
  d.in("1");
  give_billers(d.s);
  d.in("1");
  resume(d.s, outcome::empty);
  d.in("04123456789012");
  d.s.set(v("biller.name"), "LESCO");
  d.last = resume(d.s, outcome::timeout);
  CHECK(d.last.kind == step::kind_t::end);
  CHECK(d.last.text ==
        "LESCO is slow to reply. Nothing was paid. Dial *123# again in a few minutes.");
}

TEST_CASE("a reply while an action runs is ignored and the screen follows", "[menus]") {
  dialog d;
  d.in("1");
  d.in("1");
  REQUIRE(d.s.waiting_for_action());
  // The subscriber presses a key before the list arrives: nothing changes.
  d.in("3");
  CHECK(d.s.waiting_for_action());
  CHECK(give_billers(d.s).text.starts_with("Choose company"));
}

TEST_CASE("the language option switches the screens' language", "[menus]") {
  dialog d;
  d.in("5");
  REQUIRE(d.in("2").kind == step::kind_t::action);
  CHECK(action_name(d.last) == "set_language");
  d.last = resume(d.s, outcome::ok);
  CHECK(d.s.lang == *shipped()->language("ur"));
  // Urdu text: not GSM, within the UCS-2 screen limit.
  auto m = measure(d.last.text);
  CHECK(m.enc == encoding::ucs2);
  CHECK(m.length <= 80);
}

TEST_CASE("PIN change keeps the old PIN only while the new one is retried", "[menus]") {
  dialog d;
  d.in("4");
  d.in("1");
  d.in("1357");
  d.in("1234");
  REQUIRE(d.in("1234").kind == step::kind_t::action);
  CHECK(action_name(d.last) == "change_pin");
  // Weak new PIN: asked again; the current PIN is still there for the next try.
  d.last = resume(d.s, outcome::weak);
  CHECK(d.last.text.starts_with("That PIN is too easy to guess"));
  CHECK(d.s.get(v("pin")) != nullptr);
  d.in("8642");
  d.in("8642");
  d.last = resume(d.s, outcome::ok);
  CHECK(d.last.kind == step::kind_t::end);
  CHECK(d.s.get(v("pin")) == nullptr);
  CHECK(d.s.get(v("pin.new")) == nullptr);
  CHECK(d.s.get(v("pin.confirm")) == nullptr);
}

TEST_CASE("the loader reports bad menus with file, screen and language", "[menus]") {
  const std::string menu = R"([menu]
start = "main"
languages = ["en", "ur"]

[screens.main]
options = [{ key = "a", goto = "nowhere" }, { key = "b", action = "inquire", on = { ok = "end", sunny = "end" } }]

[screens.end]
kind = "end"

[screens.orphan]
kind = "end"
)";
  const std::string en = R"([main]
text = "Main {bill.amount} {no.such}"
a = "A"
b = "B {pin}"
[end]
text = "Bye"
[orphan]
text = "Never shown"
[typo]
text = "x"
)";
  auto r = load_catalog_from(menu, {{"en", en}}, {}, "m");
  const std::string report = format_errors(r.errors);
  INFO(report);
  CHECK_FALSE(r.cat);
  CHECK(report.find("m/menu.toml:6: screen 'main' no screen 'nowhere'") != std::string::npos);
  CHECK(report.find("action 'inquire' has no outcome 'sunny'") != std::string::npos);
  // Texts are only checked once the structure is sound; fix it and look again.
}

TEST_CASE("the loader checks texts, variables, lengths and reachability", "[menus]") {
  const std::string menu = R"([menu]
start = "main"
languages = ["en", "ur"]

[screens.main]
options = [{ key = "a", goto = "end" }]

[screens.end]
kind = "end"

[screens.orphan]
kind = "end"
)";
  std::string en = R"([main]
text = "Main {bill.amount} {no.such}"
a = "A {pin}"
[end]
text = "Bye"
[orphan]
text = "Never shown"
[typo]
text = "x"
)";
  auto r = load_catalog_from(menu, {{"en", en}}, {}, "m");
  std::string report = format_errors(r.errors);
  INFO(report);
  CHECK(report.find("m/text.ur.toml: [ur] missing text file") != std::string::npos);
  CHECK(report.find("unknown variable '{no.such}'") != std::string::npos);
  CHECK(report.find("'pin' is secret and is never shown") != std::string::npos);
  CHECK(report.find("'typo.text' is not used by any screen") != std::string::npos);
  CHECK(report.find("missing text 'nav.back'") != std::string::npos);
}

TEST_CASE("the welcome gate: registered numbers reach the main menu, others the offer", "[menus]") {
  dialog_state s;
  auto st = begin(s, shipped(), 0);
  REQUIRE(st.kind == step::kind_t::action);
  CHECK(action_name(st) == "subscriber");
  // Unknown, self-registration open: the offer, with no Back to the gate.
  st = resume(s, outcome::not_found);
  CHECK(st.text.starts_with("Welcome to Bill Pay"));
  CHECK(st.text.find("1. Register") != std::string::npos);
  CHECK(st.text.find("Back") == std::string::npos);
  // Register: a code is sent, then asked for; the code is a secret input.
  st = input(s, "1");
  REQUIRE(st.kind == step::kind_t::action);
  CHECK(action_name(st) == "send_code");
  CHECK(*s.get(v("code.purpose")) == "register");
  s.set(v("code.minutes"), "5");
  st = resume(s, outcome::ok);
  CHECK(st.text.starts_with("Enter the code we sent you by SMS. It is valid for 5 min."));
  CHECK(s.expects_secret());
  st = input(s, "12a456");
  CHECK(st.text.starts_with("Enter digits only."));
  CHECK(s.get(v("code")) == nullptr);
  st = input(s, "123456");
  REQUIRE(st.kind == step::kind_t::action);
  CHECK(action_name(st) == "verify_code");
  st = resume(s, outcome::ok);
  // The code served its action and is gone; the new PIN comes next.
  CHECK(s.get(v("code")) == nullptr);
  CHECK(st.text.starts_with("Choose a 4-digit PIN"));

  // Registration closed: a clear end screen.
  dialog_state c;
  begin(c, shipped(), 0);
  c.set(v("support.phone"), "111");
  st = resume(c, outcome::closed);
  CHECK(st.kind == step::kind_t::end);
  CHECK(st.text.starts_with("This number is not registered for Bill Pay. Call 111"));

  // Registered: the main menu, and "00" from deep inside goes back through the gate.
  dialog_state r;
  begin(r, shipped(), 0, "1");
  st = resume(r, outcome::ok);
  CHECK(st.text.starts_with("Pay bill"));
  st = input(r, "00");
  REQUIRE(st.kind == step::kind_t::action);
  CHECK(action_name(st) == "subscriber");
  st = resume(r, outcome::ok);
  CHECK(st.text.starts_with("Bill Pay\n1. Pay bill"));
}

namespace {

std::string read_shipped(const std::string& name) {
  std::ifstream in(USSDPAY_SOURCE_DIR "/etc/menus/" + name);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_once(std::string& text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  INFO(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("two options on opposite conditions count once toward the screen's length", "[menus]") {
  // The shipped menus in English only, with the settings screen's texts stretched so that one
  // reminder label fits 182 characters and both would not: 1 + (4 + 150) + (4 + 1) + "\n0. Back"
  // (8) + "\n00. Home" (9) = 177.
  std::string menu = read_shipped("menu.toml");
  replace_once(menu, R"(languages = ["en", "ur", "hi", "sw"])", R"(languages = ["en"])");
  std::string en = read_shipped("text.en.toml");
  replace_once(en, R"(text = "{account.label}: bill reminders and auto-pay")", R"(text = "S")");
  const std::string label(150, 'r');
  replace_once(en, R"(remind_off = "Stop bill reminders")", "remind_off = \"" + label + "\"");
  replace_once(en, R"(remind_on = "Bill reminders by SMS")", "remind_on = \"" + label + "\"");
  replace_once(en, R"(autopay_on = "Turn on auto-pay")", R"(autopay_on = "A")");
  replace_once(en, R"x(autopay_off = "Stop auto-pay ({autopay.max})")x", R"(autopay_off = "A")");
  auto ok = load_catalog_from(menu, {{"en", en}});
  INFO(format_errors(ok.errors));
  CHECK(ok.errors.empty());

  // Conditions on different variables can hold together: both lines count, and it is too long.
  replace_once(menu, R"(when = "account.remind!=on")", R"(when = "account.autopay!=on")");
  auto too_long = load_catalog_from(menu, {{"en", en}});
  const auto report = format_errors(too_long.errors);
  INFO(report);
  CHECK(report.find("screen 'saved_settings' [en] up to 331 GSM characters") != std::string::npos);
}

TEST_CASE(
    "a saved account's settings: one step per switch, auto-pay takes any amount, then the PIN",
    "[menus]") {
  dialog d("2");
  REQUIRE(d.last.kind == step::kind_t::action);
  REQUIRE(action_name(d.last) == "saved_accounts");
  list_item home = biller("lesco", "LESCO", "14", "14", "none", "exact");
  home.set(f("item.label"), "Home");
  home.set(f("item.account"), "04123456789012");
  home.set(f("item.remind"), "on");
  home.set(f("item.autopay"), "off");
  d.s.items = {home};
  d.last = resume(d.s, outcome::ok);
  d.in("1");
  auto& settings = d.in("3");
  CHECK(settings.text.find("1. Stop bill reminders\n2. Turn on auto-pay") != std::string::npos);
  CHECK(settings.text.find("Bill reminders by SMS") == std::string::npos);

  // An exact biller's bill amount does not bind the auto-pay maximum (the money rule).
  d.s.set(v("bill.amount"), "452000");
  d.in("2");
  CHECK(d.in("12.345").text.find("Invalid amount") != std::string::npos);
  auto& pin = d.in("5000");
  CHECK(pin.text.find("bills up to Rs5,000") != std::string::npos);
  auto& run = d.in("4826");
  REQUIRE(run.kind == step::kind_t::action);
  CHECK(action_name(run) == "autopay_on");
  CHECK(*d.s.get(v("autopay.max")) == "500000");

  // Turning reminders off is the first option and one step.
  dialog off("2");
  home.set(f("item.autopay"), "on");
  home.set(f("item.autopay_max"), "500000");
  off.s.items = {home};
  off.last = resume(off.s, outcome::ok);
  off.in("1");
  auto& on_screen = off.in("3");
  CHECK(on_screen.text.find("2. Stop auto-pay (Rs5,000)") != std::string::npos);
  auto& stop = off.in("1");
  REQUIRE(stop.kind == step::kind_t::action);
  CHECK(action_name(stop) == "set_reminders");
  CHECK(*off.s.get(v("account.remind")) == "off");
}
