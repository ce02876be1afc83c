// The menu engine: (dialog state, subscriber input) -> (screen | action request), over a loaded
// catalog. No I/O and no clocks: the gateway runs the actions (biller inquiry, payment...) and
// feeds their outcome back with resume(); it also owns every timeout.
//
//   begin ──> [arrive at screen] ──> show / end
//                  │ screen needs data (list, enter action)
//                  v
//               action ──resume(outcome)──> show / end / next action
//   input ──> nav key (0 back, 00 home, 98 more) | choice | validated input ──> transition
//
// A transition assigns variables, then either goes to a screen or runs an action and branches on
// its outcome. Invalid input re-shows the same screen with a one-line error on top.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "menus/catalog.hpp"

namespace ussdpay::menus {

/// One row of a dynamic list (a biller, a saved account, a payment): item fields by id.
struct list_item {
  std::vector<std::pair<std::uint16_t, std::string>> fields;
  const std::string* get(std::uint16_t field) const;
  void set(std::uint16_t field, std::string value);
  const std::string* get(item_field f) const { return get(index(f)); }
  void set(item_field f, std::string value) { set(index(f), std::move(value)); }
};

/// Everything the engine remembers about one dialog. Kept small: a live session costs this plus
/// the gateway's bookkeeping, and a gateway holds up to a million of them.
struct dialog_state {
  static constexpr std::size_t max_depth = 12;
  static constexpr std::size_t max_items = 90;

  std::shared_ptr<const catalog> cat;
  std::uint16_t screen = no_screen;
  std::uint8_t lang = 0;
  std::uint8_t page = 0;
  std::uint8_t depth = 0;
  std::uint8_t error = 0xFF;  ///< sys_msg shown on top of the next screen
  enum class wait_t : std::uint8_t { none, transition, list, enter } waiting = wait_t::none;
  std::array<std::uint16_t, max_depth> stack{};
  const transition* pending = nullptr;  ///< the transition whose action is running
  std::vector<std::pair<std::uint16_t, std::string>> vars;
  std::vector<list_item> items;  ///< the current screen's list
  std::string shortcut;          ///< inputs from a shortcut dial not yet applied ("1*2")

  dialog_state() = default;
  dialog_state(const dialog_state&) = delete;
  dialog_state& operator=(const dialog_state&) = delete;
  dialog_state(dialog_state&&) = default;
  dialog_state& operator=(dialog_state&&) = default;
  ~dialog_state() { wipe_secrets(); }

  const std::string* get(std::uint16_t var) const;
  void set(std::uint16_t var, std::string value);
  void erase(std::uint16_t var);
  const std::string* get(var_id v) const { return get(index(v)); }
  void set(var_id v, std::string value) { set(index(v), std::move(value)); }
  void erase(var_id v) { erase(index(v)); }
  /// Overwrites and removes every secret variable (PINs).
  void wipe_secrets();
  /// Whether the screen on show takes a secret (its input must not be logged).
  bool expects_secret() const;
  bool waiting_for_action() const { return waiting != wait_t::none; }
};

struct step {
  enum class kind_t : std::uint8_t { show, end, action } kind = kind_t::show;
  std::string text;                 ///< UTF-8, for show and end
  std::uint8_t action = no_action;  ///< for action: vocabulary index
};

/// Starts a dialog at the catalog's start screen in language `lang`, then applies a shortcut's
/// inputs ("1*2" from "*123*1*2#") as if typed, stopping at a PIN screen or on the first error.
step begin(dialog_state& s, std::shared_ptr<const catalog> cat, std::uint8_t lang,
           std::string_view shortcut = {});

/// The subscriber's answer to the screen on show (UTF-8, already decoded).
step input(dialog_state& s, std::string_view text);

/// The outcome of the action the last step asked for. Variables and items the action produced
/// must be set on `s` (set(), items) before calling.
step resume(dialog_state& s, outcome o);

/// The same screen again (after a lost submit, or to answer a repeated reply).
step redisplay(const dialog_state& s);

/// Renders a [system] message (busy, unknown_code, ended, expired, unavailable, slow) in the
/// state's language with its variables, for screens the gateway produces outside the menus.
std::string system_text(const dialog_state& s, std::string_view key);

/// An [sms] text ("confirmed", "code", ...) in language `lang`, with `vars` (variable, value;
/// money in minor units with a var_id::currency). Empty if the catalog has no such text.
std::string sms_text(const std::shared_ptr<const catalog>& cat, std::uint8_t lang,
                     std::string_view key, std::span<const std::pair<var_id, std::string>> vars);

}  // namespace ussdpay::menus
