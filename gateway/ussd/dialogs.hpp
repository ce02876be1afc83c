// The live USSD dialogs: one per subscriber, driven by deliver_sm events through the operator
// profile and the menu engine. No I/O and no clocks of its own: the caller passes `now`, sends
// the screens it is handed, runs the actions it is asked for and reports their outcome with
// complete(). dialog_session.* is the Asio driver.
//
// Per subscriber (MSISDN):            dial ──> live ──reply──> live ... ──end screen──> gone
//   a new dial replaces a live dialog;   abort / network end ──> gone
//   no reply for session_timeout ──> "timed out" end screen, gone (expire())
//   older than max_session_length at a reply ──> "timed out" end screen, gone
//   more than max_sessions live ──> a dial gets "busy, try again" and no dialog
//   more than dials_per_msisdn dials from one number (dial_limiter) ──> the same "busy" screen
//     and no dialog; a live dialog of that number is left as it is
//   cut off mid-menu ──> parked for resume_window; the next plain dial offers to continue it
// While an action runs (biller inquiry...) replies are ignored; the screen follows complete().
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "gateway/smpp/pdu.hpp"
#include "gateway/ussd/profile.hpp"
#include "gateway/ussd/wire.hpp"
#include "menus/engine.hpp"

namespace ussdpay::ussd {

using clock_type = std::chrono::steady_clock;

struct dialog_config {
  /// The service code subscribers dial; "*123*1*2#" enters the menus at that path.
  std::string service_code = "*123#";
  /// Directory with menu.toml and text.<lang>.toml (reloaded on SIGHUP); relative to the
  /// configuration file's directory.
  std::string menus = "menus";
  /// Language of subscribers who have not chosen one (a code from menu.toml's languages).
  std::string default_language = "en";
  /// Shown in help and error screens.
  std::string support_phone = "111";
  /// ISO 4217 code of the wallet's money.
  std::string currency = "PKR";
  /// A dialog with no reply for this long is ended with a "timed out" screen.
  std::chrono::milliseconds session_timeout{60'000};
  /// A dialog older than this is ended at its next reply, however active.
  std::chrono::milliseconds max_session_length{180'000};
  /// Live dialogs at most; a dial beyond it gets the "busy, try again" screen.
  std::size_t max_sessions = 200'000;
  /// Dials one number may make: a burst of dials_per_msisdn, the allowance refilled evenly over
  /// dial_window (so at most dials_per_msisdn per dial_window when sustained). A dial beyond it
  /// gets the "busy, try again" screen and no dialog; replies within a dialog are not counted.
  /// 0 = no per-number limit.
  std::uint32_t dials_per_msisdn = 10;
  std::chrono::milliseconds dial_window{60'000};
  /// Numbers the per-number limit remembers at most (about 80 bytes each): past it the number
  /// that dialed least recently is forgotten first. A number is forgotten anyway once its
  /// allowance is full again.
  std::size_t dial_numbers = 100'000;
  /// A dialog cut off mid-menu (timed out, dropped by the network, or abandoned for a new dial)
  /// is offered back for this long: the next dial of the plain service code asks "Continue
  /// where you left off? 1. Continue 2. Start over". PINs are never kept. 0 = off.
  std::chrono::milliseconds resume_window{300'000};
  /// Bounded wait for a biller inquiry before the "slow, try again" screen; shorter than the
  /// operator's screen timeout.
  std::chrono::milliseconds inquiry_timeout{4'000};
  /// Bounded wait for any other action behind a screen (lists, quote, saving).
  std::chrono::milliseconds action_timeout{2'000};
  /// Bounded wait for the payment itself; past it the subscriber sees "processing, you will
  /// receive an SMS" and the payment continues on its own.
  std::chrono::milliseconds payment_timeout{4'000};
  /// At SIGTERM: new dials are refused and screens still waiting for an action (a payment, an
  /// inquiry) get this long to be answered before the dialogs are closed and the link unbinds.
  std::chrono::milliseconds stop_timeout{5'000};
};

/// Identifies one action of one dialog; a late completion for a replaced dialog is dropped.
struct action_token {
  std::uint64_t key = 0;
  std::uint32_t generation = 0;
};

struct action_call {
  action_token token;
  std::uint8_t action = menus::no_action;      ///< vocabulary index (menus::actions())
  const menus::dialog_state* state = nullptr;  ///< the dialog's variables; valid during the call
  std::string_view msisdn;
};

struct action_result {
  menus::outcome result = menus::outcome::error;
  std::vector<std::pair<std::uint16_t, std::string>> vars;
  std::vector<menus::list_item> items;
};

struct dialog_stats {
  std::uint64_t dials = 0, replies = 0, screens = 0, ended = 0, aborted = 0, expired = 0,
                replaced = 0, busy = 0, unknown_code = 0, unknown_session = 0, parked = 0,
                resumed = 0, ignored_while_busy = 0, rejected_pdus = 0, actions = 0,
                stale_results = 0;
  /// Dials refused by the per-number limit (answered "busy"; not counted in `busy`).
  std::uint64_t rate_limited = 0;
};

/// Why a dial got the "busy" screen instead of a dialog.
enum class dial_refusal : std::uint8_t {
  busy,          ///< max_sessions dialogs are live
  rate_limited,  ///< the number dialed more than dials_per_msisdn within dial_window
};

/// The per-number dial allowance, with no I/O: a token bucket per number kept as one time, the
/// "theoretical arrival time" of GCRA. A number may dial `per_window` times at once, then once
/// every window / per_window. A number whose allowance is full again is the same as one never
/// seen, so it is forgotten; at most `max_numbers` are remembered, the one that dialed least
/// recently going first (its allowance starts full again: the bound wins over precision).
///
/// Cost: one hash lookup and a list splice per dial; a new number reuses the node of one it
/// forgets once the table is full, so a flood of new numbers does not allocate.
class dial_limiter {
 public:
  struct verdict {
    bool allowed = true;
    /// Refused, and the first refusal of this number within `window` (say it once).
    bool first_refusal = false;
  };

  dial_limiter(std::uint32_t per_window, std::chrono::milliseconds window, std::size_t max_numbers);
  ~dial_limiter();
  dial_limiter(const dial_limiter&) = delete;
  dial_limiter& operator=(const dial_limiter&) = delete;

  /// New settings; what is remembered stays (trimmed to max_numbers). per_window 0: off, and
  /// everything is forgotten.
  void configure(std::uint32_t per_window, std::chrono::milliseconds window,
                 std::size_t max_numbers);
  /// A dial from `key` (msisdn_key) at `now`.
  verdict dial(std::uint64_t key, clock_type::time_point now);
  /// Numbers remembered now (at most max_numbers).
  std::size_t tracked() const { return numbers_.size(); }
  /// Numbers forgotten while their allowance was not yet full, to stay within max_numbers.
  std::uint64_t evicted() const { return evicted_; }

 private:
  struct entry {
    std::uint64_t key = 0;
    clock_type::time_point tat{};          // allowance full again at this time
    clock_type::time_point quiet_until{};  // refusals before this are not "first"
    entry* prev = nullptr;                 // towards oldest_ (dialed less recently)
    entry* next = nullptr;                 // towards newest_
  };
  void unlink(entry& e);
  void link_newest(entry& e);
  void forget_oldest();

  std::uint32_t per_window_ = 0;
  clock_type::duration interval_{};   // window / per_window: one dial's worth of allowance
  clock_type::duration tolerance_{};  // window - interval_: how far ahead tat may run
  std::chrono::milliseconds window_{};
  std::size_t max_numbers_ = 0;
  std::unordered_map<std::uint64_t, entry> numbers_;
  entry* oldest_ = nullptr;
  entry* newest_ = nullptr;
  std::uint64_t evicted_ = 0;
};

class dialogs {
 public:
  struct callbacks {
    /// A screen to submit. Called synchronously, from inside on_deliver(), complete() and
    /// expire(): it must not call back into the dialogs.
    std::function<void(smpp::sm_body)> send;
    /// Start an action; its outcome comes back through complete(token, ...).
    std::function<void(const action_call&)> act;
    /// The subscriber's language code ("" = the default).
    std::function<std::string(std::string_view msisdn)> language;
    /// One line per dialog hop (PIN inputs arrive here already masked).
    std::function<void(std::string_view msisdn, std::string_view screen, std::string_view input)>
        hop;
    /// A screen answering a dial or reply went out: `input_at` is the `now` that input came
    /// with, so the caller can time the hop with its own clock (optional).
    std::function<void(clock_type::time_point input_at)> answered = {};
    /// A dial got the "busy" screen (optional). `first`: for rate_limited, the first refusal of
    /// this number within dial_window; for busy, always true (the caller paces its own log).
    std::function<void(std::string_view msisdn, dial_refusal why, bool first)> refused = {};
  };

  dialogs(dialog_config cfg, profile prof, std::shared_ptr<const menus::catalog> cat, callbacks cb);
  ~dialogs();
  dialogs(const dialogs&) = delete;
  dialogs& operator=(const dialogs&) = delete;

  /// New dialogs use the new catalog and settings; live ones finish on the catalog they began
  /// with.
  void reload(dialog_config cfg, std::shared_ptr<const menus::catalog> cat);

  /// Handles one deliver_sm; returns the command_status for its deliver_sm_resp.
  std::uint32_t on_deliver(const smpp::sm_body& in, clock_type::time_point now);

  /// The outcome of an action started through callbacks.act.
  void complete(action_token token, action_result r, clock_type::time_point now);
  /// Stopping: every dial from now on is answered "unavailable" and ends at once.
  void refuse_new() { refusing_ = true; }
  bool refusing_new() const { return refusing_; }
  /// Dialogs whose next screen waits for an action's result.
  std::size_t waiting_for_actions() const;
  /// Ends every live dialog with the "unavailable" screen; returns how many.
  std::size_t close_all();

  /// Ends dialogs idle for session_timeout; returns how many.
  std::size_t expire(clock_type::time_point now);
  /// When the next dialog would expire (nullopt when none is live).
  std::optional<clock_type::time_point> next_expiry() const;

  std::size_t live() const { return sessions_.size(); }
  /// Dialogs cut off mid-menu and kept for resuming.
  std::size_t parked() const { return parked_.size(); }
  /// Entries of the queue that forgets parked dialogs in time order (stale ones included; kept
  /// within a small multiple of parked()).
  std::size_t parked_queue() const { return parked_order_.size(); }
  /// Numbers the per-number dial limit remembers now (at most dial_numbers).
  std::size_t rate_tracked() const { return limiter_.tracked(); }
  const dialog_stats& stats() const { return stats_; }
  const dialog_config& config() const { return cfg_; }
  const profile& operator_profile() const { return prof_; }

 private:
  struct session;
  struct parked_dialog {
    menus::dialog_state menu;
    clock_type::time_point until;
  };
  void park(std::uint64_t key, session& s, clock_type::time_point now);
  void start(std::uint64_t key, session& s, std::string_view shortcut,
             std::optional<menus::dialog_state> resume, clock_type::time_point now);
  void touch(session& s, clock_type::time_point now);
  void unlink(session& s);
  void drop(std::uint64_t key);
  void deliver_step(std::uint64_t key, session& s, menus::step st, clock_type::time_point now);
  void answer_outside(const event& e, std::string_view system_key, std::uint8_t lang);
  void refuse_dial(const event& e, dial_refusal why, bool first);
  void init_vars(menus::dialog_state& st, std::string_view msisdn) const;
  std::uint8_t language_of(std::string_view msisdn) const;

  dialog_config cfg_;
  profile prof_;
  std::shared_ptr<const menus::catalog> cat_;
  callbacks cb_;
  std::unordered_map<std::uint64_t, session> sessions_;
  std::unordered_map<std::uint64_t, parked_dialog> parked_;
  std::deque<std::pair<std::uint64_t, clock_type::time_point>> parked_order_;  // oldest first
  dial_limiter limiter_;
  session* oldest_ = nullptr;  // least recently active first
  session* newest_ = nullptr;
  std::uint32_t next_generation_ = 1;
  dialog_stats stats_;
  bool refusing_ = false;
};

/// A subscriber address as a compact key: up to 15 digits plus their count (leading zeros
/// kept). nullopt for anything else, which no handset sends.
std::optional<std::uint64_t> msisdn_key(std::string_view digits);
std::string msisdn_text(std::uint64_t key);

}  // namespace ussdpay::ussd
