// The outbox sender: drains queued SMS (store table `outbox`) through the SMPP link. A message
// is read, submitted with registered_delivery, and marked sent with the SMSC's message id once
// acknowledged; temporary failures (throttled, queue full, timeout, link lost) are retried with
// back-off, permanent ones are marked failed after max_attempts. A message being submitted is
// never read again until its outcome is written, so one process submits each row once per try.
// Delivery receipts (on_receipt) set the final state: delivered, undeliverable, expired; each is
// answered once that state is durable, so a crash at any moment loses none (the SMSC sends an
// unanswered receipt again). In a cluster (claim_as) messages are claimed on the writer rather
// than read, so no two instances submit the same row.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/common/metrics.hpp"
#include "gateway/smpp/link_fsm.hpp"
#include "gateway/smpp/pdu.hpp"
#include "gateway/sms/config.hpp"
#include "gateway/sms/segments.hpp"
#include "menus/text.hpp"
#include "store/outbox.hpp"

namespace ussdpay::store {
class group_writer;
class reader_pool;
}  // namespace ussdpay::store

namespace ussdpay::sms {

/// The labels of outbox_stats::receipt_states, in smpp::delivery order.
inline constexpr std::array<std::string_view, 4> receipt_state_names{"delivered", "undeliverable",
                                                                     "expired", "pending"};

struct outbox_stats {
  std::uint64_t submitted = 0, sent = 0, retried = 0, failed = 0;
  /// Submits whose outcome is unknown (no answer in time, or the link dropped before it): the
  /// only messages sent again after the SMSC may have taken them. Each is one of `retried`
  /// (or `failed` after max_attempts), so they are bounded per message.
  std::uint64_t unknown = 0;
  /// Rows a page read returned that an outcome write had released while it ran: skipped.
  std::uint64_t stale_skipped = 0;
  std::size_t in_flight = 0;
  /// Reads of the queue, and writes of outcomes (each carries every outcome since the last).
  std::uint64_t pages = 0, writes = 0;
  /// Delivery receipts: all; matched to a message; for an id we never sent; again for a message
  /// that had its final state; not final yet (ENROUTE, ACCEPTD); unreadable.
  std::uint64_t receipts = 0, receipts_matched = 0, receipts_unknown = 0, receipts_repeated = 0,
                receipts_pending = 0, receipts_unreadable = 0;
  /// Receipts answered "try later" because too many were waiting for the store.
  std::uint64_t receipts_deferred = 0;
  /// Readable receipts by the state they report (receipt_state_names).
  std::array<std::uint64_t, 4> receipt_states{};
};

/// Submits one PDU through the SMPP link; `answered` is called once with the SMSC's answer.
using submit_fn = std::function<void(smpp::pdu, std::function<void(smpp::submit_result)> answered)>;

/// Submits the segments of one message (sms_segments, not empty) and calls `done` once with
/// one outcome for the whole message: accepted when every segment was, with the last segment's
/// message id (the one that asked for the receipt); otherwise the first failure.
void submit_segments(std::vector<smpp::sm_body> parts, const submit_fn& submit,
                     std::function<void(smpp::submit_result)> done);

class outbox_sender {
 public:
  using submit_fn = sms::submit_fn;

  outbox_sender(boost::asio::any_io_executor ex, outbox_config cfg,
                menus::default_alphabet alphabet, store::group_writer& writer,
                store::reader_pool& readers, submit_fn submit);
  ~outbox_sender();

  /// In a cluster (before start()): take messages by claiming them for `node` for `ttl` on the
  /// writer (store::claim_due_messages) instead of reading them, so no two instances submit one.
  void claim_as(std::string node, std::chrono::milliseconds ttl);
  void start();
  /// Something was queued: read the outbox now rather than at the next poll.
  void poke();
  /// Hard stop: nothing more is submitted, read or written (answers still to come are dropped).
  void stop();
  /// The first half of a graceful stop (SIGTERM): nothing more is read or submitted; answers
  /// and receipts still coming are kept.
  void pause();
  /// The second half, once the SMPP link has stopped (every submit answered or given up):
  /// writes the outcomes and receipts still in memory, so nothing acknowledged is sent again
  /// after a restart; then `done`. Bounded by `bound` (a store that does not take the write).
  void drain(std::function<void()> done, std::chrono::milliseconds bound);
  /// Answers a deliver_sm (its deliver_sm_resp status), once.
  using answer_fn = std::function<void(std::uint32_t status)>;
  /// A deliver_sm that is a delivery receipt (smpp::is_receipt): records the message's final
  /// state, and answers ok once it is durable (or matched nothing twice, or was unreadable or
  /// not final: nothing to keep); ESME_RX_T_APPN when too many receipts already wait for the
  /// store or the write failed (the SMSC sends it again later).
  void on_receipt(const smpp::sm_body& in, answer_fn answer);
  const outbox_stats& stats() const { return stats_; }
  /// The SMS families of /metrics: outcomes, unknown outcomes, in flight, delivery receipts.
  void write_metrics(metrics::prometheus_text& m) const;

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> drain_flow(std::function<void()> done,
                                          std::chrono::milliseconds bound);
  void submit_one(store::outbox_message m);
  void answered(const store::outbox_message& m, const smpp::submit_result& r);
  /// Writes every outcome and receipt collected since the last write in one writer job,
  /// outcomes first; the next write starts when this one is durable (so a busy sender writes in
  /// ever larger batches, and a receipt never overtakes the outcome of its submit).
  void flush();
  void wake();
  /// false when the rate limit allows no submit now.
  bool take_token();

  boost::asio::any_io_executor ex_;
  outbox_config cfg_;
  menus::default_alphabet alphabet_;
  store::group_writer& writer_;
  store::reader_pool& readers_;
  submit_fn submit_;
  boost::asio::steady_timer wake_;
  /// Set in a cluster: the node name claims are made for, and how long they last.
  std::string claim_node_;
  std::chrono::milliseconds claim_ttl_{0};
  /// In a cluster, a receipt that matched no message is answered "try later" this many times
  /// per message id (its message may be another instance's, not written yet), then ok.
  static constexpr std::uint8_t unmatched_receipt_tries = 5;
  static constexpr std::size_t max_unmatched_tracked = 10'000;
  std::unordered_map<std::string, std::uint8_t> unmatched_tries_;
  /// Counts a try for `message_id`; false once it had its tries.
  bool retry_unmatched(const std::string& message_id);
  /// Read and not yet written back: queued here, submitted, or with its outcome being written.
  /// The store still says "queued" for all of them, so a read skips them.
  std::unordered_set<std::int64_t> held_;
  /// A page read is in flight on a reader thread. Its snapshot may predate an outcome write
  /// that commits meanwhile; the ids such a write releases are kept in released_in_read_ and
  /// skipped when the page comes back (in its snapshot they are still "queued": taking them
  /// would submit messages the SMSC already acknowledged).
  bool reading_ = false;
  std::unordered_set<std::int64_t> released_in_read_;
  std::deque<store::outbox_message> queue_;      ///< read, not yet submitted
  std::size_t unacked_ = 0;                      ///< submitted, not yet answered
  std::vector<store::message_update> outcomes_;  ///< answered, not yet being written
  /// A final delivery receipt waiting to be written; one that matches nothing is tried once
  /// more in the next write (its submit_sm_resp may have come after it).
  struct receipt_work {
    std::string message_id;
    std::vector<std::string> keys;
    std::string state, stat, error;
    bool retried = false;
    answer_fn answer;  ///< called once its fate is durable (or it cannot be written)
  };
  std::vector<receipt_work> receipts_;
  bool writing_ = false;
  std::int64_t cursor_ = 0;  ///< the last id read in this pass over the queue
  bool pass_done_ = false;   ///< the pass reached the end; the next starts on a poke or poll
  bool poked_ = false, rescan_ = false, paused_ = false;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point refilled_{};
  long_messages mode_ = long_messages::payload;
  outbox_stats stats_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ussdpay::sms
