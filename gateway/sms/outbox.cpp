#include "gateway/sms/outbox.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "gateway/smpp/receipt.hpp"
#include "gateway/store_async.hpp"
#include "store/payments.hpp"

namespace ussdpay::sms {

namespace asio = boost::asio;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::uint16_t tag_message_payload = 0x0424;

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

smpp::sm_body sms_body(std::string_view source, std::string_view msisdn, std::string_view text,
                       menus::default_alphabet alphabet) {
  smpp::sm_body b;
  const bool digits = !source.empty() && std::all_of(source.begin(), source.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
  b.source = {static_cast<std::uint8_t>(digits ? 0 : 5), 0, std::string(source)};
  b.destination = {1, 1, std::string(msisdn)};  // international, E.164
  b.registered_delivery = 1;
  std::size_t segment = 160;
  if (auto gsm = menus::to_default_alphabet(text, alphabet)) {
    b.data_coding = 0;
    b.short_message = std::move(*gsm);
  } else {
    b.data_coding = 8;
    b.short_message = menus::to_ucs2be(text).value_or(std::string());
    segment = 140;
  }
  if (b.short_message.size() > segment) {
    b.tlvs.push_back({tag_message_payload, std::move(b.short_message)});
    b.short_message.clear();
  }
  return b;
}

outbox_sender::outbox_sender(asio::any_io_executor ex, outbox_config cfg,
                             menus::default_alphabet alphabet, store::group_writer& writer,
                             store::reader_pool& readers, submit_fn submit)
    : ex_(ex),
      cfg_(std::move(cfg)),
      alphabet_(alphabet),
      writer_(writer),
      readers_(readers),
      submit_(std::move(submit)),
      wake_(ex) {}

outbox_sender::~outbox_sender() {
  *alive_ = false;
}

void outbox_sender::start() {
  asio::co_spawn(ex_, run(), asio::detached);
}

void outbox_sender::stop() {
  *alive_ = false;
  wake_.cancel();
}

void outbox_sender::poke() {
  poked_ = true;
  wake_.cancel();
}

asio::awaitable<void> outbox_sender::run() {
  const auto alive = alive_;
  while (*alive) {
    poked_ = false;
    const std::size_t room =
        cfg_.max_in_flight > in_flight_.size() ? cfg_.max_in_flight - in_flight_.size() : 0;
    if (room > 0) {
      auto due = std::make_shared<std::vector<store::outbox_message>>();
      const auto limit = room + in_flight_.size();  // rows in flight are still 'queued'
      std::function<void(store::db&)> job = [due, limit](store::db& d) {
        *due = store::due_messages(d, now_ms(), limit);
      };
      const bool read = co_await on_reader(readers_, ex_, std::move(job));
      if (!*alive) co_return;
      if (read)
        for (auto& m : *due)
          if (in_flight_.size() < cfg_.max_in_flight && !in_flight_.contains(m.id))
            submit_one(m.id, m.msisdn, m.body, m.attempts);
    }
    if (poked_) continue;
    wake_.expires_after(cfg_.poll_interval);
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void outbox_sender::submit_one(std::int64_t id, std::string msisdn, const std::string& body,
                               std::int64_t attempts) {
  in_flight_.insert(id);
  stats_.in_flight = in_flight_.size();
  ++stats_.submitted;
  auto pdu = smpp::make_submit(0, sms_body(cfg_.source, msisdn, body, alphabet_));
  submit_(std::move(pdu), [this, id, attempts, alive = alive_](smpp::submit_result r) {
    if (!*alive) return;
    const auto now = now_ms();
    std::string state = "sent";
    std::int64_t next_at = 0;
    const auto tries = attempts + 1;
    if (r.result != smpp::outcome::accepted) {
      const bool again = r.result != smpp::outcome::rejected || temporary(r.status);
      if (again && tries < static_cast<std::int64_t>(cfg_.max_attempts)) {
        state = "queued";
        auto wait = cfg_.retry_initial;
        for (std::int64_t i = 1; i < tries && wait < cfg_.retry_max; ++i) wait *= 2;
        next_at = now + std::min(wait, cfg_.retry_max).count();
        ++stats_.retried;
      } else {
        state = "failed";
        ++stats_.failed;
      }
      spdlog::warn("sms: message {} {} ({} {}), try {}: {}", id, smpp::to_string(r.result),
                   r.status, r.detail, tries, state == "queued" ? "will retry" : "gave up");
    } else {
      ++stats_.sent;
    }
    // The row stays "in flight" until its new state is written, so it is not read again.
    auto release = [this, id, alive](bool, std::optional<store::db_error> e) {
      if (e) spdlog::error("sms: could not record message {}: {}", id, e->message);
      asio::post(ex_, [this, id, alive] {
        if (!*alive) return;
        in_flight_.erase(id);
        stats_.in_flight = in_flight_.size();
      });
    };
    const auto message_id = r.message_id;
    const auto key = smpp::message_key(message_id);
    if (!message_id.empty() && key.empty())
      spdlog::warn("sms: message {}: the SMSC's id is not one we can match receipts to", id);
    if (!writer_.submit(
            [id, state, message_id, key, tries, next_at, now](store::db& d) {
              return !store::update_message(d, id, state, message_id, key, tries, next_at, now);
            },
            release))
      release(false, store::db_error{0, "writer queue full"});
  });
}

std::uint32_t outbox_sender::on_receipt(const smpp::sm_body& in) {
  ++stats_.receipts;
  auto parsed = smpp::parse_receipt(in);
  if (auto* e = std::get_if<smpp::receipt_error>(&parsed)) {
    ++stats_.receipts_unreadable;
    spdlog::warn("sms: unreadable delivery receipt from {}: {}", in.source.addr.substr(0, 21),
                 e->reason);
    return smpp::status::ok;  // refused, the SMSC would only send it again
  }
  auto r = std::get<smpp::delivery_receipt>(std::move(parsed));
  const auto state = smpp::to_string(r.state);
  if (state.empty()) {
    ++stats_.receipts_pending;  // ENROUTE, ACCEPTD: the final one follows
    return smpp::status::ok;
  }
  auto keys = smpp::receipt_keys(r.message_id);
  auto match = std::make_shared<std::optional<store::delivery_match>>();
  auto job = [keys = std::move(keys), state = std::string(state), stat = r.stat, err = r.error,
              match](store::db& d) {
    *match = store::record_delivery(d, keys, state, stat, err, now_ms());
    return true;
  };
  auto done = [this, match, id = std::move(r.message_id), state = std::string(state),
               alive = alive_](bool, std::optional<store::db_error> e) {
    asio::post(ex_, [this, match, id, state, e, alive] {
      if (!*alive) return;
      if (e) {
        spdlog::error("sms: could not record the receipt for {}: {}", id, e->message);
      } else if (!*match) {
        ++stats_.receipts_unknown;
        spdlog::info("sms: delivery receipt for an unknown message id {} ({})", id, state);
      } else if ((*match)->repeated) {
        ++stats_.receipts_repeated;
      } else {
        ++stats_.receipts_matched;
        spdlog::debug("sms: {} {} {} (message id {})", (*match)->ref, (*match)->kind, state, id);
      }
    });
  };
  if (!writer_.submit(std::move(job), done)) done(false, store::db_error{0, "writer queue full"});
  return smpp::status::ok;
}

}  // namespace ussdpay::sms
