// libFuzzer target for USSD from the network: deliver_sm bodies as an operator's USSD centre
// sends them, mapped through an operator profile into dialog events (gateway/ussd/wire.hpp:
// ussd_service_op, session ids, GSM 03.38 / Latin-1 / IA5 / UCS-2 text) and driven through the
// live dialog table (gateway/ussd/dialogs.hpp) over the shipped menus.
//
// Input layout: byte 0 picks the profile (bits 0-1: default, sixdee, mica, huawei; bit 2:
// data_coding 0 is Latin-1; bit 3: no session id; bit 4: the end bit does not close; bit 5:
// other data_coding values for GSM and UCS-2). Then up to 32 records, each a 10-byte header and
// its text: flags (bits 0-1: the sender, one of them not an MSISDN; bit 2: a ussd_service_op
// TLV, bit 3: of 2 octets; bit 4: its_session_info; bit 5: user_message_reference; bit 6: the
// text in message_payload; bit 7: the clock passes session_timeout first), esm_class,
// data_coding, the op, its_session_info (2), user_message_reference (2), the outcome of the
// actions the record starts, and the text's length. Invariants checked (abort on violation):
//   * parse never crashes; an event has well-formed UTF-8 text, the kind its op says in the
//     profile and the session id where the profile keeps it; anything else has a reason;
//   * the event's text sent back as a screen decodes to the same text;
//   * on_deliver answers what parse decided (or ESME_RINVSRCADR for a sender that is not an
//     MSISDN); every screen it sends fits one PDU, carries the profile's op and decodes;
//   * live and parked dialogs stay within max_sessions; close_all ends every live dialog.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/ussd/dialogs.hpp"
#include "gateway/ussd/wire.hpp"
#include "menus/catalog.hpp"
#include "menus/text.hpp"

namespace ussd = ussdpay::ussd;
namespace smpp = ussdpay::smpp;
namespace menus = ussdpay::menus;

namespace {

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "ussd_deliver_fuzz: %s\ntext (%zu bytes):", what, text.size());
  for (char c : text) std::fprintf(stderr, " %02x", static_cast<unsigned char>(c));
  std::fputc('\n', stderr);
  std::abort();
}

// The shipped menus, loaded once (the same files for every input).
std::shared_ptr<const menus::catalog> shipped_menus() {
  static const auto cat = [] {
    auto r = menus::load_catalog(USSDPAY_SOURCE_DIR "/etc/menus");
    if (!r.cat) {
      std::fprintf(stderr, "ussd_deliver_fuzz: the shipped menus do not load:\n%s",
                   menus::format_errors(r.errors).c_str());
      std::abort();
    }
    return r.cat;
  }();
  return cat;
}

ussd::profile make_profile(std::uint8_t sel) {
  static const char* names[] = {"default", "sixdee", "mica", "huawei"};
  ussd::profile p = *ussd::builtin_profile(names[sel & 3]);
  if ((sel & 0x04) != 0) p.alphabet = menus::default_alphabet::latin1;
  if ((sel & 0x08) != 0) p.session_id = ussd::session_id_source::none;
  if ((sel & 0x10) != 0) p.end_bit_closes = false;
  if ((sel & 0x20) != 0) {
    p.data_coding_gsm = 0x03;  // an SMSC that labels its default alphabet as Latin-1
    p.data_coding_ucs2 = 0x19;
  }
  return p;
}

// What the profile's data_coding means, as wire.cpp maps it.
std::uint8_t read_coding(std::uint8_t dc, const ussd::profile& p) {
  return dc == p.data_coding_ucs2  ? std::uint8_t{8}
         : dc == p.data_coding_gsm ? std::uint8_t{0}
                                   : dc;
}

void check_screen(const smpp::sm_body& b, const ussd::profile& p, std::string_view why) {
  if (b.short_message.size() > 254) fail("a screen longer than one PDU", why);
  const auto op = smpp::tlv_u8(b.tlvs, smpp::tag::ussd_service_op);
  if (!op || (*op != p.continue_op && *op != p.end_op)) fail("a screen without the op", why);
  const auto text = menus::decode_input(b.short_message, read_coding(b.data_coding, p), p.alphabet);
  if (!text || !menus::valid_utf8(*text)) fail("a screen that does not decode", why);
}

void check_event(const smpp::sm_body& in, const ussd::profile& p,
                 const std::variant<ussd::event, ussd::not_ussd>& r, std::string_view raw) {
  const auto op = smpp::tlv_u8(in.tlvs, smpp::tag::ussd_service_op);
  if (const auto* nu = std::get_if<ussd::not_ussd>(&r)) {
    if (nu->reason.empty()) fail("not USSD without a reason", raw);
    if (nu->status == smpp::status::ok && (in.esm_class & 0x3C) == 0 && op)
      fail("a USSD op accepted as not USSD", raw);
    return;
  }
  const auto& e = std::get<ussd::event>(r);
  if (!op) fail("an event without an op", raw);
  if (!menus::valid_utf8(e.text)) fail("event text is not UTF-8", raw);
  using k = ussd::event::kind_t;
  if ((e.kind == k::begin) != p.is_begin(*op)) fail("begin without a begin op", raw);
  if (e.kind == k::abort && !p.is_abort(*op)) fail("abort without an abort op", raw);
  if (e.kind == k::next && !p.is_continue(*op)) fail("a reply without a continue op", raw);
  switch (p.session_id) {
    case ussd::session_id_source::its_session_info:
      if (e.session_id !=
          (e.its_session_info
               ? std::optional<std::uint16_t>(static_cast<std::uint16_t>(*e.its_session_info >> 8))
               : std::nullopt))
        fail("session id not from its_session_info", raw);
      break;
    case ussd::session_id_source::user_message_reference:
      if (e.session_id != e.user_message_reference) fail("session id not the reference", raw);
      break;
    case ussd::session_id_source::none:
      if (e.session_id) fail("a session id the profile does not have", raw);
      break;
  }
  // The subscriber's text, shown back, reads the same.
  const ussd::reply_to to{e.subscriber, e.service, e.its_session_info, e.user_message_reference};
  if (const auto back = ussd::screen(to, e.text, false, p)) {
    check_screen(*back, p, raw);
    if (menus::decode_input(back->short_message, read_coding(back->data_coding, p), p.alphabet) !=
        e.text)
      fail("the text sent back does not read the same", raw);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto cat = shipped_menus();
  const ussd::profile prof = make_profile(data[0]);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

  ussd::dialog_config cfg;
  cfg.max_sessions = 2;  // the third subscriber gets "busy"
  std::vector<smpp::sm_body> sent;
  struct pending {
    ussd::action_token token;
  };
  std::vector<pending> actions;
  ussd::dialogs::callbacks cb{
      [&sent](smpp::sm_body b) { sent.push_back(std::move(b)); },
      [&actions](const ussd::action_call& c) { actions.push_back({c.token}); },
      [](std::string_view) { return std::string(); },
      nullptr,
  };
  ussd::dialogs table(cfg, prof, cat, std::move(cb));
  auto now = ussd::clock_type::time_point() + std::chrono::hours(1);

  static const char* senders[] = {"923001234567", "+923001234568", "254712345678", "92300x"};
  for (int n = 0; n < 32 && rest.size() >= 10; ++n) {
    const auto h = [&](std::size_t i) { return static_cast<std::uint8_t>(rest[i]); };
    const std::uint8_t flags = h(0);
    smpp::sm_body in;
    in.service_type = "USSD";
    in.source = {1, 1, senders[flags & 3]};
    in.destination = {0, 1, "123"};
    in.esm_class = h(1);
    in.data_coding = h(2);
    const std::uint8_t op = h(3);
    const auto its = static_cast<std::uint16_t>(h(4) << 8 | h(5));
    const auto umr = static_cast<std::uint16_t>(h(6) << 8 | h(7));
    const auto outcome =
        static_cast<menus::outcome>(h(8) % static_cast<unsigned>(menus::outcome::count_));
    const std::size_t len = std::min<std::size_t>(h(9), rest.size() - 10);
    const std::string text(rest.substr(10, len));
    rest.remove_prefix(10 + len);

    if ((flags & 0x04) != 0)
      in.tlvs.push_back((flags & 0x08) != 0 ? smpp::tlv::u16(smpp::tag::ussd_service_op, op)
                                            : smpp::tlv::u8(smpp::tag::ussd_service_op, op));
    if ((flags & 0x10) != 0) in.tlvs.push_back(smpp::tlv::u16(smpp::tag::its_session_info, its));
    if ((flags & 0x20) != 0)
      in.tlvs.push_back(smpp::tlv::u16(smpp::tag::user_message_reference, umr));
    if ((flags & 0x40) != 0)
      in.tlvs.push_back(smpp::tlv::octets(smpp::tag::message_payload, text));
    else
      in.short_message = text;

    const auto parsed = ussd::parse(in, prof);
    check_event(in, prof, parsed, text);

    if ((flags & 0x80) != 0) {
      now += cfg.session_timeout;
      table.expire(now);
    }
    now += std::chrono::seconds(1);
    const std::uint32_t status = table.on_deliver(in, now);
    std::uint32_t want = smpp::status::ok;
    if (const auto* nu = std::get_if<ussd::not_ussd>(&parsed))
      want = nu->status;
    else if (!ussd::msisdn_key(in.source.addr))
      want = smpp::status::invalid_source_addr;
    if (status != want) fail("on_deliver disagrees with parse", text);

    // The actions this record started finish with its outcome (and no data); an action may
    // start another.
    for (int rounds = 0; rounds < 8 && !actions.empty(); ++rounds) {
      auto started = std::move(actions);
      actions.clear();
      for (const auto& a : started) table.complete(a.token, {outcome, {}, {}}, now);
    }
    for (const auto& b : sent) check_screen(b, prof, text);
    sent.clear();
    if (table.live() > cfg.max_sessions || table.parked() > cfg.max_sessions)
      fail("more dialogs than max_sessions", text);
  }
  const std::size_t live = table.live();
  if (table.close_all() != live || table.live() != 0) fail("close_all left dialogs", {});
  for (const auto& b : sent) check_screen(b, prof, {});
  return 0;
}
