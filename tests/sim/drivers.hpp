// The subscribers of ussdpay-sim's load and hold modes, as state machines with no I/O: they act
// through a `phones` interface (the smsc in the program, a fake in tests), are told of every
// screen, and take the time as an argument, so a test walks them step by step.
//
// load_driver: closed loop. Each of N subscribers (MSISDNs first..first+N-1) plays one dialog
// of steps over and over: the dial, then each reply once the previous screen arrived. After
// the last step's screen it aborts the dialog when the profile can and it is still open, then
// dials again (a new dial replaces the old dialog). A screen that ends the dialog before the
// last step ends that iteration early; a hop with no screen within hop_timeout is a timeout
// and the subscriber starts over. The run stops starting dialogs at the deadline or after
// max_dialogs, lets the hops in flight finish (or time out), and is done.
//
//   subscriber:  idle --dial--> waiting --screen--> waiting (next step) ... --last screen--> dial
//                  ^               |  hop_timeout: start over         send failed: retry after
//                  +-- retry <-----+                                  retry_pause
//
// hold_driver: dials N subscribers, at most C dials outstanding, waits for each first screen and
// leaves the dialog open. Per subscriber it keeps one octet, so a million cost a megabyte.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ussdpay::sim {

using sim_clock = std::chrono::steady_clock;

/// What the drivers do to the network (ussd_centre_fsm semantics). False: not sent.
class phones {
 public:
  virtual bool dial(std::string_view msisdn, std::string_view text) = 0;
  virtual bool reply(std::string_view msisdn, std::string_view text) = 0;
  virtual bool abort(std::string_view msisdn) = 0;
  virtual bool can_abort() const = 0;
  virtual ~phones() = default;
};

/// Latencies in microseconds: exact below 256 us, then 128 buckets per power of two (within
/// 0.8%), in fixed memory however many are recorded.
class latency_histogram {
 public:
  latency_histogram();
  void record(std::uint64_t us);
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  /// The smallest recorded value v such that at least p percent are <= v (to bucket
  /// precision); 0 when empty.
  std::uint64_t percentile(double p) const;

 private:
  static std::size_t bucket(std::uint64_t us);
  static std::uint64_t upper(std::size_t b);
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

/// A subscriber's input with "{account}" expanded: a 14-digit account number, "04" and a
/// 12-digit counter, unique per dialog.
class input_template {
 public:
  explicit input_template(std::string_view text);
  /// The text for dialog number n, written into `out` (reusing its storage).
  void expand(std::uint64_t n, std::string& out) const;

 private:
  std::vector<std::string> parts_;  // text between the placeholders: placeholders + 1 parts
};

/// "*123#,1,{account},1" -> its steps; empty steps are kept (an empty reply).
std::vector<std::string> split_steps(std::string_view list);

/// MSISDN number `first + index` as text, in `buf`; the view points into buf.
std::string_view msisdn_text(std::uint64_t first, std::uint64_t index, char (&buf)[24]);
/// The index of an MSISDN in first..first+count-1; count when it is not one of them.
std::uint64_t msisdn_index(std::string_view msisdn, std::uint64_t first, std::uint64_t count);

struct load_options {
  /// The dial, then the replies; "{account}" expands per dialog.
  std::vector<std::string> steps = {"*123#"};
  std::uint32_t sessions = 10;                ///< concurrent subscribers
  std::uint64_t first_msisdn = 923001234567;  ///< subscribers are first..first+sessions-1
  sim_clock::duration duration = std::chrono::seconds(10);
  std::uint64_t max_dialogs = std::numeric_limits<std::uint64_t>::max();
  sim_clock::duration hop_timeout = std::chrono::seconds(10);
  /// Wait after a dial or reply that could not be sent (no bind) before starting over.
  sim_clock::duration retry_pause = std::chrono::milliseconds(10);
  /// The subscriber's reading time: each reply goes out about this long after its screen
  /// arrived, drawn uniformly from 0.5x..1.5x so subscribers do not move in step (0 = at once,
  /// a saturation test). Checked on every tick, so it is rounded up to a tick.
  sim_clock::duration think = sim_clock::duration::zero();
};

struct load_totals {
  std::uint64_t dials = 0;            ///< dialogs started
  std::uint64_t completed = 0;        ///< the last step's screen arrived
  std::uint64_t ended_early = 0;      ///< a screen before the last step ended the dialog
  std::uint64_t aborts = 0;           ///< aborts sent after the last step
  std::uint64_t hops = 0;             ///< screens that answered a dial or reply
  std::uint64_t timeouts = 0;         ///< hops without a screen within hop_timeout
  std::uint64_t protocol_errors = 0;  ///< screens that did not fit the profile (iteration ends)
  std::uint64_t failures = 0;         ///< dials or replies that could not be sent
  std::uint64_t stray = 0;            ///< screens nobody waited for (late, or not ours)
};

class load_driver {
 public:
  load_driver(phones& p, load_options o);
  /// Every subscriber dials.
  void start(sim_clock::time_point now);
  /// A USSD screen arrived for msisdn.
  void on_screen(std::string_view msisdn, bool ends_dialog, bool protocol_error,
                 sim_clock::time_point now);
  /// Hop timeouts, retries, the end of the run. Call every few milliseconds.
  void on_tick(sim_clock::time_point now);
  /// No more dialogs will start and none is in flight.
  bool done() const { return stopping_ && active_ == 0; }
  /// Ends the run early: no new dialogs; those in flight finish (or time out).
  void stop_starting() { stopping_ = true; }

  const load_totals& totals() const { return totals_; }
  const latency_histogram& latencies() const { return latencies_; }
  /// The last step's hops only (for a payment dialog: PIN to the final screen).
  const latency_histogram& last_hop_latencies() const { return last_hop_; }
  const load_options& options() const { return opt_; }

 private:
  enum class state : std::uint8_t { stopped, waiting, retry, thinking };
  struct subscriber {
    sim_clock::time_point
        at;  // waiting: when the last deliver_sm went out; retry, thinking: when to
    std::uint64_t dialog = 0;  // the dialog number ({account})
    std::uint32_t step = 0;    // the step whose screen is awaited
    state st = state::stopped;
  };
  void next_dialog(std::uint32_t i, sim_clock::time_point now);
  void send_step(std::uint32_t i, sim_clock::time_point now);
  void set_state(subscriber& s, state st);
  bool should_stop(sim_clock::time_point now);

  phones& phones_;
  load_options opt_;
  std::vector<input_template> steps_;
  std::vector<subscriber> subs_;
  sim_clock::time_point deadline_;
  std::uint32_t active_ = 0;  // subscribers waiting or retrying
  bool stopping_ = false;
  load_totals totals_;
  latency_histogram latencies_;
  latency_histogram last_hop_;
  std::string text_;                           // scratch for expanded inputs
  std::uint64_t rng_ = 0x9E3779B97F4A7C15ull;  // reading-time jitter (splitmix64)
};

struct hold_options {
  std::uint64_t sessions = 1000;
  std::uint32_t concurrency = 100;  ///< dials outstanding at most
  std::uint64_t first_msisdn = 923000000000;
  std::string code = "*123#";
  sim_clock::duration hop_timeout = std::chrono::seconds(10);
};

struct hold_totals {
  std::uint64_t dialed = 0;
  std::uint64_t held = 0;             ///< first screen arrived and continues the dialog
  std::uint64_t timeouts = 0;         ///< no first screen within hop_timeout
  std::uint64_t ended = 0;            ///< the first screen ended the dialog
  std::uint64_t protocol_errors = 0;  ///< the first screen did not fit the profile
  std::uint64_t failures = 0;         ///< the dial could not be sent
  std::uint64_t released = 0;         ///< held dialogs the gateway ended later
  std::uint64_t stray = 0;            ///< other screens (late, repeated, not ours)
  std::uint64_t failed() const { return timeouts + ended + protocol_errors + failures; }
};

class hold_driver {
 public:
  explicit hold_driver(phones& p, hold_options o);
  void start(sim_clock::time_point now);
  void on_screen(std::string_view msisdn, bool ends_dialog, bool protocol_error,
                 sim_clock::time_point now);
  void on_tick(sim_clock::time_point now);
  /// Every subscriber dialed and each first screen arrived or timed out.
  bool done() const { return next_ == opt_.sessions && in_flight_ == 0; }

  const hold_totals& totals() const { return totals_; }
  const latency_histogram& latencies() const { return latencies_; }

 private:
  enum class state : std::uint8_t { idle, outstanding, held, failed, released };
  void fill(sim_clock::time_point now);

  phones& phones_;
  hold_options opt_;
  std::vector<state> state_;  // per subscriber
  struct pending {
    std::uint64_t index;
    sim_clock::time_point sent;
  };
  std::deque<pending> outstanding_;  // in dial order, so timeouts are at the front
  std::uint64_t in_flight_ = 0;      // outstanding_ entries still outstanding
  std::uint64_t next_ = 0;
  hold_totals totals_;
  latency_histogram latencies_;
};

}  // namespace ussdpay::sim
