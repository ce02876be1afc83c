#include "gateway/sms/outbox.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/common/assert.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/common/on_store.hpp"
#include "gateway/smpp/delivery_receipt.hpp"
#include "store/outbox.hpp"
#include "store/payments.hpp"

namespace ussdpay::sms {

namespace asio = boost::asio;

namespace {

// Statuses after which the same message may succeed later (SMPP 3.4 section 5.1.3).
bool temporary(std::uint32_t status) {
  switch (status) {
    case 0x08:  // ESME_RSYSERR
    case 0x14:  // ESME_RMSGQFUL
    case 0x58:  // ESME_RTHROTTLED
    case 0x64:  // ESME_RX_T_APPN
      return true;
    default:
      return false;
  }
}

}  // namespace

outbox_sender::outbox_sender(asio::any_io_executor ex, outbox_config cfg,
                             menus::default_alphabet alphabet, store::group_writer& writer,
                             store::reader_pool& readers, submit_fn submit)
    : ex_(ex),
      cfg_(std::move(cfg)),
      alphabet_(alphabet),
      writer_(writer),
      readers_(readers),
      submit_(std::move(submit)),
      wake_(ex),
      mode_(parse_long_messages(cfg_.long_messages).value_or(long_messages::payload)) {}

outbox_sender::~outbox_sender() {
  *alive_ = false;
}

bool outbox_sender::retry_unmatched(const std::string& message_id) {
  if (unmatched_tries_.size() >= max_unmatched_tracked) unmatched_tries_.clear();
  return ++unmatched_tries_[message_id] <= unmatched_receipt_tries;
}

void outbox_sender::claim_as(std::string node, std::chrono::milliseconds ttl) {
  claim_node_ = std::move(node);
  claim_ttl_ = ttl;
}

void outbox_sender::start() {
  asio::co_spawn(ex_, run(), asio::detached);
}

void outbox_sender::stop() {
  *alive_ = false;
  wake_.cancel();
}

void outbox_sender::pause() {
  paused_ = true;
}

void outbox_sender::drain(std::function<void()> done, std::chrono::milliseconds bound) {
  paused_ = true;
  asio::co_spawn(ex_, drain_flow(std::move(done), bound), asio::detached);
}

// A member coroutine, not a lambda one: its parameters live in its own frame.
asio::awaitable<void> outbox_sender::drain_flow(std::function<void()> done,
                                                std::chrono::milliseconds bound) {
  const auto alive = alive_;
  asio::steady_timer t(ex_);
  const auto until = std::chrono::steady_clock::now() + bound;
  while (*alive && std::chrono::steady_clock::now() < until &&
         (writing_ || unacked_ > 0 || !outcomes_.empty() || !receipts_.empty())) {
    if (!writing_) flush();
    t.expires_after(std::chrono::milliseconds(10));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (*alive && (writing_ || !outcomes_.empty()))
    spdlog::warn("sms: stopping with {} outcomes not written: those messages go again",
                 outcomes_.size());
  done();
}

void outbox_sender::poke() {
  rescan_ = true;
  wake();
}

void outbox_sender::wake() {
  poked_ = true;
  wake_.cancel();
}

bool outbox_sender::take_token() {
  if (cfg_.max_per_second == 0) return true;
  const auto now = std::chrono::steady_clock::now();
  const double rate = cfg_.max_per_second;
  const double burst = std::max(1.0, rate / 20);  // at most 50 ms worth at once
  tokens_ =
      std::min(burst, tokens_ + rate * std::chrono::duration<double>(now - refilled_).count());
  refilled_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

asio::awaitable<void> outbox_sender::run() {
  const auto alive = alive_;
  // A page is a few windows' worth: enough to keep the window full while the next is read.
  const std::size_t page = std::clamp<std::size_t>(cfg_.max_in_flight * 4, 64, 2'000);
  while (*alive) {
    poked_ = false;
    if (rescan_) {
      rescan_ = false;
      pass_done_ = false;
    }
    // 1. Read the next page once the local queue runs short.
    if (!paused_ && queue_.size() < cfg_.max_in_flight && !pass_done_) {
      auto due = std::make_shared<std::vector<store::outbox_message>>();
      const auto after = cursor_;
      const auto limit = page;
      const std::int64_t longest = cfg_.retry_max.count();
      bool read = false;
      reading_ = true;
      if (claim_node_.empty()) {
        std::function<void(store::db&)> job = [due, after, limit, longest](store::db& d) {
          const auto now = clock::now_ms();  // wall clock: next_at is durable, across restarts
          *due = store::due_messages(d, now, after, limit, now + longest);
        };
        read = co_await on_reader(readers_, ex_, std::move(job));
      } else {
        // A cluster: what this instance sends is what it claimed, on the writer (serial with
        // the outcome writes, so no snapshot can be older than an outcome).
        store::group_writer::job job = [due, after, limit, longest, node = claim_node_,
                                        ttl = claim_ttl_.count()](store::db& d) {
          const auto now = clock::now_ms();
          *due = store::claim_due_messages(d, node, now, now + ttl, after, limit, now + longest);
          return true;
        };
        read = co_await on_writer(writer_, ex_, std::move(job));
      }
      if (!*alive) co_return;
      reading_ = false;
      ++stats_.pages;
      if (!read) {
        pass_done_ = true;  // the readers are saturated: try again at the next poll
      } else {
        for (auto& m : *due) {
          cursor_ = m.id;
          if (released_in_read_.contains(m.id)) {
            ++stats_.stale_skipped;  // written meanwhile; the next pass sees its new state
            continue;
          }
          if (held_.insert(m.id).second) queue_.push_back(std::move(m));
        }
        if (due->size() < limit) {  // the end of the queue: the next pass starts from the top
          pass_done_ = true;
          cursor_ = 0;
        }
      }
      released_in_read_.clear();
    }
    // 2. Submit what the window and the rate allow.
    bool limited = false;
    while (!paused_ && !queue_.empty() && unacked_ < cfg_.max_in_flight) {
      if (!take_token()) {
        limited = true;
        break;
      }
      auto m = std::move(queue_.front());
      queue_.pop_front();
      submit_one(std::move(m));
    }
    if (poked_) continue;
    if (!paused_ && queue_.size() < cfg_.max_in_flight && !pass_done_) continue;  // read on
    // 3. Wait: for an answer, a new message, the rate limit, or the next poll.
    wake_.expires_after(limited ? std::chrono::milliseconds(5) : cfg_.poll_interval);
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && !poked_) pass_done_ = false;  // the poll interval passed: look again (retries)
    if (!writing_) flush();                  // outcomes a failed write left behind
  }
}

void outbox_sender::submit_one(store::outbox_message m) {
  ++stats_.submitted;
  auto parts = sms_segments(
      {cfg_.source, m.msisdn, m.body, alphabet_, mode_, static_cast<std::uint16_t>(m.id), true});
  if (parts.empty()) {  // not UTF-8, or too long: no SMSC will ever take it
    smpp::submit_result r;
    r.result = smpp::outcome::rejected;
    r.status = smpp::status::invalid_message_length;
    r.detail = "cannot be encoded in " + std::to_string(max_segments) + " segments";
    answered(m, r);
    return;
  }
  ++unacked_;
  USSDPAY_ASSERT(unacked_ <= cfg_.max_in_flight, "at most max_in_flight SMS unanswered");
  stats_.in_flight = unacked_;
  submit_segments(std::move(parts), submit_,
                  [this, m, alive = alive_](const smpp::submit_result& r) {
                    if (!*alive) return;
                    USSDPAY_ASSERT(unacked_ > 0, "an answer belongs to a submit in flight");
                    --unacked_;
                    stats_.in_flight = unacked_;
                    answered(m, r);
                    wake();  // room in the window
                  });
}

void submit_segments(std::vector<smpp::sm_body> parts, const submit_fn& submit,
                     std::function<void(smpp::submit_result)> done) {
  struct progress {
    std::size_t left;
    smpp::submit_result result;
    std::function<void(smpp::submit_result)> done;
  };
  auto p = std::make_shared<progress>(progress{parts.size(), {}, std::move(done)});
  p->result.result = smpp::outcome::accepted;
  const std::size_t last = parts.size() - 1;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    submit(smpp::make_submit(0, std::move(parts[i])), [p, i, last](smpp::submit_result r) {
      if (r.result != smpp::outcome::accepted && p->result.result == smpp::outcome::accepted)
        p->result = r;
      else if (i == last && p->result.result == smpp::outcome::accepted)
        p->result.message_id = r.message_id;
      if (--p->left == 0) p->done(p->result);
    });
  }
}

void outbox_sender::answered(const store::outbox_message& m, const smpp::submit_result& r) {
  store::message_update u;
  u.id = m.id;
  u.attempts = m.attempts + 1;
  u.state = "sent";
  if (r.result != smpp::outcome::accepted) {
    const bool again = r.result != smpp::outcome::rejected || temporary(r.status);
    if (r.result == smpp::outcome::timeout || r.result == smpp::outcome::link_lost)
      ++stats_.unknown;
    if (again && u.attempts < static_cast<std::int64_t>(cfg_.max_attempts)) {
      u.state = "queued";
      auto wait = cfg_.retry_initial;
      for (std::int64_t i = 1; i < u.attempts && wait < cfg_.retry_max; ++i) wait *= 2;
      u.next_at = clock::now_ms() + std::min(wait, cfg_.retry_max).count();
      ++stats_.retried;
    } else {
      u.state = "failed";
      ++stats_.failed;
    }
    spdlog::warn("sms: message {} ({} {}) {} ({} {}), try {}: {}", m.id, m.ref, m.kind,
                 smpp::to_string(r.result), r.status, r.detail, u.attempts,
                 u.state == "queued" ? "will retry" : "gave up");
  } else {
    ++stats_.sent;
    u.message_id = r.message_id;
    u.message_key = smpp::message_key(r.message_id);
    if (!r.message_id.empty() && u.message_key.empty())
      spdlog::warn("sms: message {}: the SMSC's id is not one we can match receipts to", m.id);
  }
  outcomes_.push_back(std::move(u));
  if (!writing_) flush();
}

void outbox_sender::flush() {
  if (writing_ || (outcomes_.empty() && receipts_.empty())) return;
  writing_ = true;
  auto outcomes = std::make_shared<std::vector<store::message_update>>(std::move(outcomes_));
  auto receipts = std::make_shared<std::vector<receipt_work>>(std::move(receipts_));
  outcomes_.clear();
  receipts_.clear();
  auto matches =
      std::make_shared<std::vector<std::optional<store::delivery_match>>>(receipts->size());
  ++stats_.writes;
  // Until its outcome is written, a message stays held, so no read takes it again.
  auto release = [this, outcomes, receipts, matches, alive = alive_](
                     bool ok, std::optional<store::db_error> e) {
    asio::post(ex_, [this, outcomes, receipts, matches, ok, e, alive] {
      if (!*alive) return;
      writing_ = false;
      if (!ok || e) {
        // Not written: the messages stay held (a read would send them again); outcomes and
        // receipts go with the next write, which run() retries at its next poll if need be.
        spdlog::error(
            "sms: could not record {} outcomes ({}; will retry) and {} receipts (answered 'try "
            "later': the SMSC sends them again)",
            outcomes->size(), e ? e->message : "rolled back", receipts->size());
        outcomes_.insert(outcomes_.begin(), outcomes->begin(), outcomes->end());
        // Receipts are the SMSC's to keep: "try later", and it sends them again.
        for (auto& r : *receipts) r.answer(smpp::status::temp_app_error);
        return;
      }
      for (const auto& u : *outcomes) {
        held_.erase(u.id);
        if (reading_) released_in_read_.insert(u.id);
      }
      for (std::size_t i = 0; i < receipts->size(); ++i) {
        auto& r = (*receipts)[i];
        const auto& m = (*matches)[i];
        if (!m && !r.retried) {
          r.retried = true;
          receipts_.push_back(std::move(r));
          continue;  // answered after its second look
        }
        // In a cluster the message may be another instance's whose outcome (with the message
        // id) is not written yet: the SMSC spreads receipts over every bind, whichever
        // submitted. "Try later" then, a few times per id, and the SMSC sends it again.
        if (!m && !claim_node_.empty() && retry_unmatched(r.message_id)) {
          ++stats_.receipts_deferred;
          r.answer(smpp::status::temp_app_error);
          continue;
        }
        r.answer(smpp::status::ok);
        if (!m) {
          ++stats_.receipts_unknown;
          spdlog::info("sms: delivery receipt for an unknown message id {} ({})", r.message_id,
                       r.state);
        } else if (m->repeated) {
          ++stats_.receipts_repeated;
        } else {
          ++stats_.receipts_matched;
          spdlog::debug("sms: {} {} {} (message id {})", m->ref, m->kind, r.state, r.message_id);
        }
      }
      flush();
      wake();
    });
  };
  if (!writer_.submit(
          [outcomes, receipts, matches](store::db& d) {
            const auto now = clock::now_ms();
            for (const auto& u : *outcomes)
              if (store::update_message(d, u.id, u.state, u.message_id, u.message_key, u.attempts,
                                        u.next_at, now))
                return false;
            for (std::size_t i = 0; i < receipts->size(); ++i) {
              const auto& r = (*receipts)[i];
              auto& m = (*matches)[i];
              m = store::record_delivery(d, r.keys, r.state, r.stat, r.error, now);
              // The receipt of a paid bill reached the phone: the payment is complete.
              if (m && !m->repeated && r.state == "delivered" && m->kind.starts_with("confirmed"))
                store::complete_payment(d, m->ref, now);
            }
            return true;
          },
          release))
    release(false, store::db_error{0, "writer queue full"});
}

void outbox_sender::on_receipt(const smpp::sm_body& in, answer_fn answer) {
  if (!answer) answer = [](std::uint32_t) {};
  // Bounded: past this many receipts waiting for the store, the SMSC is asked to try later
  // (ESME_RX_T_APPN, a temporary error: it keeps the receipt and sends it again).
  constexpr std::size_t max_waiting_receipts = 50'000;
  if (receipts_.size() >= max_waiting_receipts) {
    ++stats_.receipts_deferred;
    return answer(smpp::status::temp_app_error);
  }
  ++stats_.receipts;
  auto parsed = smpp::parse_receipt(in);
  if (auto* e = std::get_if<smpp::receipt_error>(&parsed)) {
    ++stats_.receipts_unreadable;
    spdlog::warn("sms: unreadable delivery receipt from {}: {}", in.source.addr.substr(0, 21),
                 e->reason);
    return answer(smpp::status::ok);  // refused, the SMSC would only send it again
  }
  auto r = std::get<smpp::delivery_receipt>(std::move(parsed));
  ++stats_.receipt_states[std::min<std::size_t>(static_cast<std::size_t>(r.state), 3)];
  const auto state = smpp::to_string(r.state);
  if (state.empty()) {
    ++stats_.receipts_pending;  // ENROUTE, ACCEPTD: the final one follows
    return answer(smpp::status::ok);
  }
  auto keys = smpp::receipt_keys(r.message_id);
  receipts_.push_back({std::move(r.message_id), std::move(keys), std::string(state),
                       std::move(r.stat), std::move(r.error), false, std::move(answer)});
  flush();
}

void outbox_sender::write_metrics(metrics::prometheus_text& m) const {
  const auto& os = stats_;
  m.counters("ussdpay_sms_total", "SMS outcomes since start", "result",
             {{"sent", os.sent}, {"failed", os.failed}, {"retried", os.retried}});
  m.family("ussdpay_sms_unknown_outcomes_total", "counter",
           "SMS submits with no answer (timeout or link lost): the only ones sent again after "
           "the SMSC may have taken them");
  m.sample("ussdpay_sms_unknown_outcomes_total", static_cast<std::int64_t>(os.unknown));
  m.family("ussdpay_sms_in_flight", "gauge", "SMS submitted and not yet answered");
  m.sample("ussdpay_sms_in_flight", static_cast<std::int64_t>(os.in_flight));
  m.counters("ussdpay_receipts_total", "delivery receipts since start", "result",
             {{"matched", os.receipts_matched},
              {"unknown_id", os.receipts_unknown},
              {"repeated", os.receipts_repeated},
              {"not_final", os.receipts_pending},
              {"unreadable", os.receipts_unreadable},
              {"deferred", os.receipts_deferred}});
  m.family("ussdpay_receipts_by_state_total", "counter",
           "readable delivery receipts, by the state they report");
  for (std::size_t i = 0; i < os.receipt_states.size(); ++i)
    m.sample("ussdpay_receipts_by_state_total", {{"state", receipt_state_names[i]}},
             static_cast<std::int64_t>(os.receipt_states[i]));
}

}  // namespace ussdpay::sms
