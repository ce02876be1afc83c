// The contract between the menus and the gateway: the variables a menu may use and the actions
// it may ask for, with the outcomes each action can report. The loader rejects menus that use
// anything else, so a typo in etc/menus/ is caught by `ussdpay check-menus`, not by a subscriber.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ussdpay::menus {

enum class var_type : std::uint8_t {
  text,    ///< shown as is
  money,   ///< integer minor units, shown with the session's currency ("Rs4,520")
  date,    ///< YYYY-MM-DD, shown DD/MM/YYYY
  secret,  ///< a PIN: never shown, never logged, wiped when the dialog ends
};

struct var_def {
  std::string_view name;
  var_type type;
  std::uint8_t max_length;  ///< longest value as shown, for the screen-length check
};

/// Every variable a menu may read or write. Names with a dot group by source.
std::span<const var_def> variables();
std::optional<std::uint16_t> find_var(std::string_view name);
const var_def& var(std::uint16_t id);

/// Fields a dynamic list item may carry (`{item.name}` in an item template).
std::span<const var_def> item_fields();
std::optional<std::uint16_t> find_item_field(std::string_view name);

/// Every action ends with one of these outcomes. `error` and `timeout` are possible for every
/// action (the gateway's bounded wait produces `timeout`).
enum class outcome : std::uint8_t {
  ok,
  empty,
  paid,
  not_found,
  invalid,
  too_low,
  too_high,
  limit,
  duplicate,
  insufficient,
  pending,
  rejected,
  wrong_pin,
  locked,
  exists,
  full,
  weak,
  mismatch,
  error,
  timeout,
  closed,      ///< not registered, and self-registration is off
  wrong_code,  ///< a one-time code did not match
  expired,     ///< no valid one-time code (expired, used, or void after wrong tries)
  count_
};
std::string_view to_string(outcome o);
std::optional<outcome> parse_outcome(std::string_view s);

struct action_def {
  std::string_view name;
  bool list;               ///< produces list items
  std::uint32_t outcomes;  ///< bit per outcome it may report, besides error and timeout
};
std::span<const action_def> actions();
std::optional<std::uint8_t> find_action(std::string_view name);
bool action_may(std::uint8_t action, outcome o);

}  // namespace ussdpay::menus
