#include "tests/sim/smsc.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "tests/sim/wire.hpp"

namespace ussdpay::sim {

using asio::awaitable;
using tcp = asio::ip::tcp;
using namespace smpp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct smsc::connection : pdu_connection {
  connection(tcp::socket s, asio::ssl::context* ctx, const codec_limits& limits)
      : pdu_connection(std::move(s), ctx, limits) {}
  bool bound = false;
  std::chrono::steady_clock::time_point bound_at{};
  bool silent = false;  ///< took the bind, answers nothing more (smsc_options::silent*)
  bind_mode mode = bind_mode::transceiver;
  std::uint32_t seq = 0;
  std::unordered_map<std::uint32_t, sm_body> receipts_out;  ///< sent, not answered, by sequence

  bool can_receive() const { return bound && !silent && mode != bind_mode::transmitter; }
  std::uint32_t next_seq() { return seq = seq >= 0x7FFFFFFF ? 1 : seq + 1; }
};

smsc::smsc(asio::any_io_executor ex, smsc_options opt)
    : ex_(ex),
      opt_(std::move(opt)),
      ussd_(opt_.profile, opt_.service_address),
      deliver_(make_deliver(0, {})),
      alive_(std::make_shared<bool>(true)) {
  if (!opt_.tls_cert_file.empty() && !opt_.tls_key_file.empty()) {
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls_->use_certificate_chain_file(opt_.tls_cert_file);
    tls_->use_private_key_file(opt_.tls_key_file, asio::ssl::context::pem);
  }
}

smsc::~smsc() {
  *alive_ = false;
  stop(true);
  if (sms_log_ != nullptr) std::fclose(sms_log_);
}

void smsc::start() {
  if (!opt_.sms_log.empty() && sms_log_ == nullptr) {
    sms_log_ = std::fopen(opt_.sms_log.c_str(), "a");
    if (sms_log_ == nullptr) throw std::runtime_error("cannot open the SMS log " + opt_.sms_log);
  }
  tcp::endpoint ep(asio::ip::make_address(opt_.host), opt_.port);
  acceptor_ = std::make_unique<tcp::acceptor>(ex_);
  acceptor_->open(ep.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(ep);
  acceptor_->listen();
  port_ = acceptor_->local_endpoint().port();
  asio::co_spawn(ex_, accept_loop(), asio::detached);
  if (opt_.drop_interval.count() > 0) asio::co_spawn(ex_, drop_loop(), asio::detached);
}

awaitable<void> smsc::drop_loop() {
  auto alive = alive_;
  asio::steady_timer t(ex_);
  while (*alive && acceptor_ && acceptor_->is_open()) {
    t.expires_after(opt_.drop_interval);
    auto [ec] = co_await t.async_wait(nothrow);
    if (!*alive || ec || !acceptor_ || !acceptor_->is_open()) co_return;
    if (conns_.empty()) continue;
    ++stats_.drops;
    drop_connections();
  }
}

void smsc::stop(bool abrupt) {
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  for (auto& c : conns_) {
    if (!abrupt && c->bound) {
      send(c, make_empty(command::unbind, c->next_seq()));
      c->close_after_flush();
    } else {
      c->close();
    }
  }
  if (abrupt) conns_.clear();
  stats_.bound_now = 0;
}

void smsc::drop_connections() {
  for (auto& c : conns_) c->close();
  conns_.clear();
  stats_.bound_now = 0;
}

awaitable<void> smsc::accept_loop() {
  auto alive = alive_;
  while (acceptor_ && acceptor_->is_open()) {
    auto [ec, sock] = co_await acceptor_->async_accept(nothrow);
    if (!*alive) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
      continue;
    }
    boost::system::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    auto c = std::make_shared<connection>(std::move(sock), tls_.get(), opt_.limits);
    conns_.insert(c);
    ++stats_.connections;
    asio::co_spawn(ex_, serve(c), asio::detached);
  }
}

awaitable<void> smsc::serve(std::shared_ptr<connection> c) {
  auto alive = alive_;
  if (c->tls()) {
    auto [ec] = co_await c->tls_stream().async_handshake(asio::ssl::stream_base::server, nothrow);
    if (!*alive) co_return;
    if (ec) {
      c->close();
      conns_.erase(c);
      co_return;
    }
  }
  asio::co_spawn(ex_, writer(c), asio::detached);
  while (!c->closed() && !c->closing()) {
    const auto ec = co_await c->read_some();
    if (!*alive) co_return;
    if (ec) break;
    std::uint32_t handled = 0;
    for (;;) {
      auto next = c->frames().next();
      if (auto* f = std::get_if<std::span<const std::uint8_t>>(&next)) {
        handle(c, *f);
        if (opt_.flush_every > 0 && ++handled % opt_.flush_every == 0 && !c->outbox().empty()) {
          // Let the writer send what is answered so far before handling the rest of the read.
          co_await asio::post(ex_, asio::use_awaitable);
          if (!*alive) co_return;
          if (c->closed()) break;
        }
        continue;
      }
      if (auto* e = std::get_if<framer::framing_error>(&next)) {
        ++stats_.decode_errors;
        send(c, make_empty(command::generic_nack, e->hdr.sequence_number,
                           status::invalid_command_length));
        c->close_after_flush();
      }
      break;
    }
  }
  if (c->bound && stats_.bound_now > 0) --stats_.bound_now;
  c->bound = false;
  c->close_after_flush();
  conns_.erase(c);
  // Receipts it never answered are kept for the next bind, as an SMSC keeps them.
  if (!c->receipts_out.empty()) {
    for (auto& [seq, body] : c->receipts_out) receipts_waiting_.push_back(std::move(body));
    c->receipts_out.clear();
    resend_receipts(milliseconds(200));
  }
}

// Holds the connection for as long as its writer runs.
awaitable<void> smsc::writer(std::shared_ptr<connection> c) {
  co_await c->write_loop();
}

void smsc::send(const std::shared_ptr<connection>& c, const pdu& p) {
  if (c->closed()) return;
  if (encode(p, c->outbox())) return;
  c->flush();
}

std::string smsc::next_message_id() {
  const auto id = next_message_id_++;
  return opt_.decimal_message_ids ? fmt::format("{}", id) : fmt::format("{:X}", id);
}

void smsc::handle(const std::shared_ptr<connection>& c, std::span<const std::uint8_t> frame) {
  // The usual deliver_sm_resp (an empty message_id, or no body with an error status) needs no
  // decoding: there is one per hop, and the codec would cost more than the rest of the hop.
  if (const auto h = peek_header(frame);
      h && h->command_id == static_cast<std::uint32_t>(command::deliver_sm_resp) && !c->silent &&
      (frame.size() == header_size + 1
           ? frame[header_size] == 0
           : frame.size() == header_size && h->command_status != status::ok)) {
    on_deliver_resp(c, h->sequence_number, h->command_status);
    return;
  }
  auto r = decode(frame, opt_.limits);
  if (auto* e = std::get_if<decode_error>(&r)) {
    ++stats_.decode_errors;
    if (c->silent) return;
    if (!is_response(e->hdr.command_id)) {
      if (e->status == status::invalid_command_id)
        send(c, make_empty(command::generic_nack, e->hdr.sequence_number, e->status));
      else
        send(c, make_empty(static_cast<command>(response_id(e->hdr.command_id)),
                           e->hdr.sequence_number, e->status));
    }
    return;
  }
  pdu p = std::move(std::get<pdu>(r));
  if (c->silent) return;  // "accepts binds but never answers"

  switch (static_cast<command>(p.command_id)) {
    case command::bind_transceiver:
    case command::bind_transmitter:
    case command::bind_receiver: {
      const auto& b = std::get<bind_body>(p.body);
      pdu resp = p.make_response();
      std::get<bind_resp_body>(resp.body).system_id = "ussdpay-sim";
      if (c->bound)
        resp.command_status = status::already_bound;
      else if (b.system_id != opt_.system_id)
        resp.command_status = status::invalid_system_id;
      else if (b.password != opt_.password)
        resp.command_status = status::invalid_password;
      if (resp.command_status != status::ok) {
        ++stats_.binds_rejected;
        resp.body = bind_resp_body{};
        send(c, resp);
        return;
      }
      c->bound = true;
      c->bound_at = last_bind_at_ = std::chrono::steady_clock::now();
      c->mode = p.command_id == static_cast<std::uint32_t>(command::bind_transmitter)
                    ? bind_mode::transmitter
                : p.command_id == static_cast<std::uint32_t>(command::bind_receiver)
                    ? bind_mode::receiver
                    : bind_mode::transceiver;
      ++stats_.binds_ok;
      ++stats_.bound_now;
      send(c, resp);
      if (c->mode != bind_mode::transmitter) resend_receipts(milliseconds(50));
      if (opt_.silent ||
          (opt_.silent_bind_every > 0 && stats_.binds_ok % opt_.silent_bind_every == 0)) {
        c->silent = true;
        ++stats_.silent_binds;
      }
      return;
    }
    case command::enquire_link:
      ++stats_.enquire_links;
      send(c, p.make_response());
      return;
    case command::unbind:
      ++stats_.unbinds;
      send(c, p.make_response());
      if (c->bound && stats_.bound_now > 0) --stats_.bound_now;
      c->bound = false;
      c->close_after_flush();
      return;
    case command::submit_sm:
      if (!c->bound || c->mode == bind_mode::receiver) {
        send(c, p.make_response(status::invalid_bind_status));
        return;
      }
      handle_submit(c, std::move(p));
      return;
    case command::data_sm: {
      if (!c->bound || c->mode == bind_mode::receiver) {
        send(c, p.make_response(status::invalid_bind_status));
        return;
      }
      ++stats_.data_sms;
      pdu resp = p.make_response();
      std::get<message_id_body>(resp.body).message_id = next_message_id();
      send(c, resp);
      return;
    }
    case command::deliver_sm:
      send(c, p.make_response(status::invalid_bind_status));
      return;
    case command::deliver_sm_resp:
      on_deliver_resp(c, p.sequence_number, p.command_status);
      return;
    case command::generic_nack:
      ++stats_.generic_nacks_received;
      return;
    case command::unbind_resp:
      c->close_after_flush();
      return;
    default:
      if (!is_response(p.command_id))
        send(c, make_empty(command::generic_nack, p.sequence_number, status::invalid_command_id));
      return;
  }
}

void smsc::handle_submit(const std::shared_ptr<connection>& c, pdu p) {
  const std::uint64_t n = ++stats_.submits;
  if (opt_.drop_every > 0 && n % opt_.drop_every == 0) {
    ++stats_.drops;
    drop_connections();
    return;
  }
  auto& body = std::get<sm_body>(p.body);
  const bool throttles = !opt_.throttle_sms_only || !find_tlv(body.tlvs, tag::ussd_service_op);
  if (throttles &&
      (n <= opt_.throttle_first || (opt_.throttle_every > 0 && n % opt_.throttle_every == 0) ||
       std::chrono::steady_clock::now() - c->bound_at < opt_.throttle_for)) {
    ++stats_.submits_throttled;
    send(c, p.make_response(status::throttled));
    return;
  }
  if (opt_.queue_full_every > 0 && n % opt_.queue_full_every == 0) {
    ++stats_.submits_queue_full;
    send(c, p.make_response(status::message_queue_full));
    return;
  }
  const std::string id = next_message_id();
  ++stats_.submits_acked;

  mt_message m;
  m.msisdn = body.destination.addr;
  m.message_id = id;
  mt_verdict v = ussd_.on_submit(body);
  m.ussd = v.ussd;
  m.ussd_op = v.op;
  m.ends_dialog = v.ends_dialog;
  m.continues = v.continues;
  m.protocol_error = std::move(v.protocol_error);
  if (m.ussd) ++stats_.ussd_screens;
  if (!m.protocol_error.empty()) ++stats_.ussd_protocol_errors;
  bool whole = true;  // false: a segment of a concatenated SMS still waiting for the others
  // SMS are always joined and counted (duplicates on the wire); screens only when decoded.
  if (opt_.decode_mt || !m.ussd) {
    const tlv* payload =
        body.short_message.empty() ? find_tlv(body.tlvs, tag::message_payload) : nullptr;
    std::string_view octets = payload ? std::string_view(payload->value) : body.short_message;
    if (auto joined = reassemble(body, m.msisdn, octets)) {
      if (!m.ussd) count_sms(m.msisdn, *joined, id);
      if (opt_.decode_mt) m.text = decode_text(*joined, body.data_coding, ussd_.profile());
    } else {
      whole = false;
    }
  }
  if ((body.registered_delivery & 0x03) != 0 && opt_.receipts) schedule_receipt(body, id);
  if (opt_.decode_mt) m.raw = std::move(body);

  auto response = [&] {
    pdu resp = p.make_response();
    std::get<message_id_body>(resp.body).message_id = id;
    return resp;
  };
  if (opt_.respond_delay.count() == 0) {
    if (c->closed() || !write_submit_sm_resp(p.sequence_number, id, c->outbox()))
      send(c, response());  // the codec reports what the direct writer would not take
    else
      c->flush();
  } else {
    pdu resp = response();
    stats_.peak_pending_submits = std::max(stats_.peak_pending_submits, ++stats_.pending_submits);
    auto t = std::make_shared<asio::steady_timer>(ex_, opt_.respond_delay);
    auto alive = alive_;
    t->async_wait([this, alive, c, t, resp](boost::system::error_code) {
      if (!*alive) return;
      --stats_.pending_submits;
      send(c, resp);
    });
  }
  if (on_mt && whole) on_mt(m);
}

std::optional<std::string> smsc::reassemble(const sm_body& body, const std::string& msisdn,
                                            std::string_view octets) {
  // The concatenation header (UDHI with IEI 0x00) or the sar_* TLVs; anything else is whole.
  unsigned ref = 0, total = 0, seq = 0;
  if ((body.esm_class & 0x40) != 0 && octets.size() >= 6 && octets[0] == '\x05' &&
      octets[1] == '\x00' && octets[2] == '\x03') {
    ref = static_cast<std::uint8_t>(octets[3]);
    total = static_cast<std::uint8_t>(octets[4]);
    seq = static_cast<std::uint8_t>(octets[5]);
    octets.remove_prefix(6);
  } else if (auto t = tlv_u8(body.tlvs, tag::sar_total_segments)) {
    ref = tlv_u16(body.tlvs, tag::sar_msg_ref_num).value_or(0);
    total = *t;
    seq = tlv_u8(body.tlvs, tag::sar_segment_seqnum).value_or(0);
  } else {
    return std::string(octets);
  }
  if (total <= 1 || seq == 0 || seq > total) return std::string(octets);
  const std::string key = fmt::format("{}/{}", msisdn, ref);
  if (!concat_.contains(key) && concat_.size() >= 10'000) concat_.clear();  // bounded
  auto& parts = concat_[key];
  parts.resize(total);
  parts[seq - 1] = std::string(octets);
  for (const auto& part : parts)
    if (part.empty()) return std::nullopt;
  std::string out;
  for (const auto& part : parts) out += part;
  concat_.erase(key);
  return out;
}

void smsc::count_sms(const std::string& msisdn, std::string_view octets, const std::string& id) {
  ++stats_.sms_acked;
  if (sms_log_ != nullptr) {
    fmt::print(sms_log_, "sms\t{}\t{}\t", msisdn, id);
    for (const char ch : octets) fmt::print(sms_log_, "{:02x}", static_cast<std::uint8_t>(ch));
    fmt::print(sms_log_, "\n");
    std::fflush(sms_log_);
  }
  auto& per_number = sms_per_number_[msisdn];
  if (per_number++ == 0) ++stats_.sms_numbers;
  stats_.sms_most_per_number = std::max<std::uint64_t>(stats_.sms_most_per_number, per_number);
  // FNV-1a over number, a separator no number has, and the octets.
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::string_view s) {
    for (const char ch : s) h = (h ^ static_cast<std::uint8_t>(ch)) * 0x100000001b3ull;
  };
  mix(msisdn);
  mix(std::string_view("\0", 1));
  mix(octets);
  auto [it, first] = sms_seen_.try_emplace(h, id);
  if (first) return;
  ++stats_.sms_duplicates;
  if (duplicates_.size() < max_reported_duplicates)
    duplicates_.push_back({msisdn, std::string(octets), it->second, id});
}

void smsc::schedule_receipt(const sm_body& submitted, const std::string& message_id) {
  sm_body r;
  r.source = submitted.destination;
  r.destination = submitted.source;
  r.esm_class = 0x04;  // SMSC delivery receipt
  char when[16];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%y%m%d%H%M", &tm);
  // The id as this SMSC writes it in receipts (see smsc_options::receipt_ids).
  std::string id = message_id;
  const int base = opt_.decimal_message_ids ? 10 : 16;
  const auto number = std::stoull(message_id, nullptr, base);
  if (opt_.receipt_ids == "other-base")
    id = base == 16 ? fmt::format("{}", number) : fmt::format("{:X}", number);
  else if (opt_.receipt_ids == "padded")
    id = base == 16 ? fmt::format("{:020x}", number) : fmt::format("{:020}", number);
  static constexpr std::pair<std::string_view, std::uint8_t> states[] = {
      {"ENROUTE", 1}, {"DELIVRD", 2}, {"EXPIRED", 3}, {"DELETED", 4},
      {"UNDELIV", 5}, {"ACCEPTD", 6}, {"UNKNOWN", 7}, {"REJECTD", 8}};
  std::uint8_t state = 2;
  for (const auto& [word, value] : states)
    if (word == opt_.receipt_stat) state = value;
  const bool text = opt_.receipt_form != "tlv", tlvs = opt_.receipt_form != "text";
  auto make = [&](const std::string& rid) {
    sm_body b = r;
    if (text) {
      b.short_message =
          fmt::format("id:{} sub:001 dlvrd:{} submit date:{} done date:{} stat:{} err:{} text:{}",
                      rid, state == 2 ? "001" : "000", when, when, opt_.receipt_stat,
                      state == 2 ? "000" : "001", submitted.short_message.substr(0, 20));
      if (b.short_message.size() > 253) b.short_message.resize(253);
    }
    if (tlvs) {
      b.tlvs.push_back(tlv::octets(tag::receipted_message_id, rid + '\0'));
      b.tlvs.push_back(tlv::u8(tag::message_state, state));
    }
    return b;
  };
  std::vector<sm_body> out{make(id)};
  for (std::uint32_t i = 0; i < opt_.stray_receipts; ++i)
    out.push_back(make(
        fmt::format("{}{}", opt_.decimal_message_ids ? "99999999" : "FFFFFFFF", next_stray_++)));
  auto t = std::make_shared<asio::steady_timer>(ex_, opt_.receipt_delay);
  auto alive = alive_;
  t->async_wait([this, alive, t, out = std::move(out)](boost::system::error_code) mutable {
    if (!*alive) return;
    for (auto& b : out) send_receipt(std::move(b));
  });
}

void smsc::on_deliver_resp(const std::shared_ptr<connection>& c, std::uint32_t seq,
                           std::uint32_t st) {
  if (st == status::ok)
    ++stats_.deliver_resp_ok;
  else
    ++stats_.deliver_resp_error;
  if (c->receipts_out.empty()) return;  // the usual case: a USSD hop's answer
  auto it = c->receipts_out.find(seq);
  if (it == c->receipts_out.end()) return;
  if (st == status::ok) {
    ++stats_.receipts_answered;
  } else {  // "try later": it goes again
    receipts_waiting_.push_back(std::move(it->second));
    resend_receipts(milliseconds(200));
  }
  c->receipts_out.erase(it);
}

void smsc::send_receipt(sm_body b) {
  auto c = receiver(true);
  if (!c) {
    if (receipts_waiting_.size() < 200'000) receipts_waiting_.push_back(std::move(b));
    return;  // sent when a bind takes them
  }
  ++stats_.deliver_sent;
  const auto seq = c->next_seq();
  send(c, make_deliver(seq, b));
  c->receipts_out.emplace(seq, std::move(b));
}

void smsc::resend_receipts(milliseconds after) {
  if (resend_armed_ || receipts_waiting_.empty()) return;
  resend_armed_ = true;
  auto t = std::make_shared<asio::steady_timer>(ex_, after);
  t->async_wait([this, alive = alive_, t](boost::system::error_code) {
    if (!*alive) return;
    resend_armed_ = false;
    if (!receiver()) return;  // the next bind sends them
    auto again = std::exchange(receipts_waiting_, {});
    stats_.receipts_resent += again.size();
    for (auto& b : again) send_receipt(std::move(b));
  });
}

std::size_t smsc::receipts_unanswered() const {
  std::size_t n = receipts_waiting_.size();
  for (const auto& c : conns_) n += c->receipts_out.size();
  return n;
}

std::shared_ptr<smsc::connection> smsc::receiver(bool receipt) {
  auto usable = [](const std::shared_ptr<connection>& c) {
    return c->can_receive() && !c->closing() && !c->closed();
  };
  const bool spread = opt_.spread == "all" || (receipt && opt_.spread == "receipts");
  if (!spread) {
    for (auto& c : conns_)
      if (usable(c)) return c;
    return nullptr;
  }
  const auto n = static_cast<std::uint64_t>(std::count_if(conns_.begin(), conns_.end(), usable));
  if (n == 0) return nullptr;
  auto k = next_receiver_++ % n;
  for (auto& c : conns_)
    if (usable(c) && k-- == 0) return c;
  return nullptr;
}

bool smsc::deliver(sm_body body) {
  auto c = receiver();
  if (!c) return false;
  ++stats_.deliver_sent;
  send(c, make_deliver(c->next_seq(), std::move(body)));
  return true;
}

void smsc::send_deliver(const std::shared_ptr<connection>& c) {
  ++stats_.deliver_sent;
  deliver_.sequence_number = c->next_seq();
  if (c->closed()) return;
  if (write_deliver_sm(deliver_.sequence_number, std::get<sm_body>(deliver_.body), c->outbox()))
    c->flush();
  else
    send(c, deliver_);
}

bool smsc::dial(std::string_view msisdn, std::string_view text) {
  auto c = receiver();
  if (!c) return false;
  ussd_.dial(msisdn, text, std::get<sm_body>(deliver_.body));  // replaces any open dialog
  send_deliver(c);
  return true;
}

bool smsc::reply(std::string_view msisdn, std::string_view text) {
  auto c = receiver();
  if (!c || !ussd_.reply(msisdn, text, std::get<sm_body>(deliver_.body))) return false;
  send_deliver(c);
  return true;
}

bool smsc::abort(std::string_view msisdn) {
  auto c = receiver();
  if (!c || !ussd_.abort(msisdn, std::get<sm_body>(deliver_.body))) return false;
  ++stats_.aborts_sent;
  send_deliver(c);
  return true;
}

}  // namespace ussdpay::sim
