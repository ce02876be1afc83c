#include "menus/vocabulary.hpp"

#include <array>

namespace ussdpay::menus {
namespace {

using enum var_type;

constexpr std::array<var_def, static_cast<std::size_t>(var_id::count_)> vars{{
#define USSDPAY_MENU_X(id, name, type, max_length) {name, type, max_length},
    USSDPAY_MENU_VARIABLES(USSDPAY_MENU_X)
#undef USSDPAY_MENU_X
}};

constexpr std::array<var_def, static_cast<std::size_t>(item_field::count_)> items{{
#define USSDPAY_MENU_X(id, name, type, max_length) {name, type, max_length},
    USSDPAY_MENU_ITEM_FIELDS(USSDPAY_MENU_X)
#undef USSDPAY_MENU_X
}};

constexpr std::array<std::string_view, static_cast<std::size_t>(outcome::count_)> outcome_names{
    "ok",        "empty",   "paid",      "not_found",    "invalid", "too_low",
    "too_high",  "limit",   "duplicate", "insufficient", "pending", "rejected",
    "wrong_pin", "locked",  "exists",    "full",         "weak",    "mismatch",
    "error",     "timeout", "closed",    "wrong_code",   "expired"};

using enum outcome;
constexpr std::uint32_t mask(std::initializer_list<outcome> os) {
  std::uint32_t m = 0;
  for (auto o : os) m |= 1u << static_cast<unsigned>(o);
  return m;
}
constexpr std::array<action_def, static_cast<std::size_t>(action_id::count_)> action_table{{
#define USSDPAY_MENU_X(id, list, ...) {#id, list, mask({__VA_ARGS__})},
    USSDPAY_MENU_ACTIONS(USSDPAY_MENU_X)
#undef USSDPAY_MENU_X
}};

template <class Table>
std::optional<std::uint16_t> find_in(const Table& t, std::string_view name) {
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t[i].name == name) return static_cast<std::uint16_t>(i);
  return std::nullopt;
}

}  // namespace

std::span<const var_def> variables() {
  return vars;
}
std::optional<std::uint16_t> find_var(std::string_view name) {
  return find_in(vars, name);
}
const var_def& var(std::uint16_t id) {
  return vars.at(id);
}
std::span<const var_def> item_fields() {
  return items;
}
std::optional<std::uint16_t> find_item_field(std::string_view name) {
  return find_in(items, name);
}

std::string_view to_string(outcome o) {
  return outcome_names.at(static_cast<std::size_t>(o));
}
std::optional<outcome> parse_outcome(std::string_view s) {
  for (std::size_t i = 0; i < outcome_names.size(); ++i)
    if (outcome_names[i] == s) return static_cast<outcome>(i);
  return std::nullopt;
}

std::span<const action_def> actions() {
  return action_table;
}
std::optional<std::uint8_t> find_action(std::string_view name) {
  auto i = find_in(action_table, name);
  if (!i) return std::nullopt;
  return static_cast<std::uint8_t>(*i);
}
bool action_may(std::uint8_t action, outcome o) {
  if (o == outcome::error || o == outcome::timeout) return true;
  return (action_table.at(action).outcomes >> static_cast<unsigned>(o)) & 1u;
}

}  // namespace ussdpay::menus
