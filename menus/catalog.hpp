// A loaded, checked set of menus: the screens of etc/menus/menu.toml and their texts in every
// language (etc/menus/text.<lang>.toml). Immutable once loaded; dialogs hold a shared_ptr to the
// catalog they started with, so a reload (SIGHUP) swaps in a new one without disturbing them.
//
// menu.toml:
//   [menu]     start, languages, default_language
//   [screens.ID]
//     kind      "menu" (numbered options and/or a dynamic list) | "input" | "end"
//     options   [{ key, goto | action + on, set = { var = "literal" | "$var" }, when }]
//     list      { action, item, select = { goto | action + on, set }, empty }   (kind menu)
//     input     { var, rule, min, max, then = { goto | action + on, set } }     (kind input)
//               rule: digits, account, amount, pin, code (secret digits), text
//     enter     { action, on }   an action run when the screen is entered (results feed its text;
//               on.ok = the screen itself shows it, another screen makes this one a gate)
//     back, home  show "0 Back" / "00 Home" (default true except on the start screen)
// text.<lang>.toml: [ID] text = "...", <option key> = "...", item = "..." for each screen, plus
//   [nav] back home more, [errors] ..., [names] for the |name filter.
// Templates: "{bill.amount}" (money and dates formatted), "{item.category|name}" (translated via
// [names]), "{account|last4}". Variables and actions come from vocabulary.hpp only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "menus/text.hpp"
#include "menus/vocabulary.hpp"

namespace ussdpay::menus {

inline constexpr std::uint16_t no_screen = 0xFFFF;
inline constexpr std::uint8_t no_action = 0xFF;

enum class filter : std::uint8_t { none, name, last4 };

struct template_part {
  std::string literal;         ///< when var == none
  std::uint16_t var = 0xFFFF;  ///< variable id (or item field id when item is true)
  bool item = false;
  filter f = filter::none;
};
using text_template = std::vector<template_part>;

/// A value assigned by `set`: a literal or a copy of another variable ("$bill.amount").
struct assignment {
  std::uint16_t var = 0;
  std::string literal;
  std::uint16_t from = 0xFFFF;  ///< copy from this variable when not 0xFFFF
  bool from_item = false;       ///< `from` is an item field
};

struct transition {
  std::uint16_t target = no_screen;  ///< go here (when no action)
  std::uint8_t action = no_action;   ///< or run this action, then branch on its outcome
  std::array<std::uint16_t, static_cast<std::size_t>(outcome::count_)> on{};  ///< by outcome
  std::vector<assignment> set;
  transition() { on.fill(no_screen); }
};

struct condition {
  std::uint16_t var = 0xFFFF;  ///< 0xFFFF: always true
  enum class op : std::uint8_t { set, unset, eq, ne } test = op::set;
  std::string value;
};

struct option_def {
  std::string key;
  std::uint16_t label = 0;  ///< message id
  condition when;
  transition then;
};

enum class input_rule : std::uint8_t {
  digits,   ///< min..max digits
  account,  ///< the chosen biller's consumer-number rule (biller.account_*)
  amount,   ///< money within bill.min..bill.max and the biller's exactness
  money,    ///< any amount of money above zero (a limit the subscriber sets, such as auto-pay's)
  pin,      ///< exactly 4 digits; secret
  code,     ///< a one-time code sent by SMS: min..max digits; secret
  text,     ///< min..max printable characters, no '*' or '#'
};

/// Rules whose inputs are secrets: never logged, never taken from a dial string, wiped.
constexpr bool secret_rule(input_rule r) {
  return r == input_rule::pin || r == input_rule::code;
}

struct screen_def {
  enum class kind_t : std::uint8_t { menu, input, end } kind = kind_t::menu;
  std::string id;
  std::uint16_t text = 0;  ///< message id of the screen text
  std::vector<option_def> options;
  bool has_list = false;
  std::uint8_t list_action = no_action;
  std::uint16_t item_text = 0;  ///< message id of the item template
  transition select;            ///< when an item is chosen (item fields readable in `set`)
  std::uint16_t on_empty = no_screen;
  bool has_input = false;
  std::uint16_t input_var = 0;
  input_rule rule = input_rule::digits;
  std::uint8_t min_len = 1, max_len = 24;
  transition then;
  bool has_enter = false;
  transition enter;  ///< action on entering; on.ok = this screen shows its text, another screen
                     ///< forwards there (without a Back step to this one: a gate)
  bool back = true, home = true;
};

/// Texts that are not tied to one screen.
enum class sys_msg : std::uint8_t {
  back,
  home,
  more,
  invalid_choice,
  not_digits,
  too_short,
  too_long,
  bad_account,
  bad_amount,
  amount_low,
  amount_high,
  amount_exact,
  pin_format,
  try_again,
  count_
};

/// Screen length limits the texts are checked against (the operator profile's).
struct length_limits {
  std::size_t gsm = 182;
  std::size_t ucs2 = 80;
};

struct catalog {
  std::string source;  ///< directory it was loaded from
  length_limits limits;
  std::vector<std::string> languages;
  std::uint8_t default_language = 0;
  std::uint16_t start = 0;
  std::vector<screen_def> screens;
  std::vector<std::string> message_keys;          ///< "main.text", "main.pay", "nav.back"...
  std::vector<std::vector<text_template>> texts;  ///< [language][message]
  std::array<std::uint16_t, static_cast<std::size_t>(sys_msg::count_)> sys{};
  std::map<std::string, std::uint16_t, std::less<>> system;  ///< [system] key -> message id
  std::map<std::string, std::uint16_t, std::less<>> sms;     ///< [sms] key -> message id
  std::map<std::string, std::uint16_t, std::less<>> names;   ///< [names] key -> message id

  std::optional<std::uint8_t> language(std::string_view code) const;
  std::optional<std::uint16_t> screen(std::string_view id) const;
};

struct load_error {
  std::string file;
  std::uint32_t line = 0;
  std::string screen;
  std::string language;
  std::string message;
};

struct load_result {
  std::shared_ptr<const catalog> cat;  ///< null when errors is not empty
  std::vector<load_error> errors;
};

/// Loads `dir`/menu.toml and `dir`/text.<lang>.toml for each language, and checks everything:
/// targets, actions and outcomes, variables, every message in every language, worst-case screen
/// lengths per encoding, unreachable screens. Files larger than 1 MiB are refused.
load_result load_catalog(const std::string& dir, const length_limits& limits = {});

/// The same from strings (tests, fuzzing): `texts` maps language code to TOML text.
load_result load_catalog_from(std::string_view menu_toml,
                              const std::map<std::string, std::string>& texts,
                              const length_limits& limits = {}, const std::string& dir = "");

/// "file:line: screen 'x' [lang]: message" per error.
std::string format_errors(const std::vector<load_error>& errors);

}  // namespace ussdpay::menus
