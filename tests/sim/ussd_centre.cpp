#include "tests/sim/ussd_centre.hpp"

#include <fmt/format.h>

#include "menus/text.hpp"

namespace ussdpay::sim {

using namespace smpp;

namespace {

// Characters that are the same octet in ASCII, Latin-1 and unpacked GSM 03.38: what subscribers
// type almost always ("*123#", "1", account numbers), sent without conversion.
bool same_in_every_alphabet(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool same = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= 0x25 && c <= 0x3F) || (c >= 0x20 && c <= 0x23) || c == '\n' ||
                      c == '\r';
    if (!same) return false;
  }
  return true;
}

std::string hex(std::string_view octets) {
  std::string s = "[hex ";
  for (char c : octets)
    fmt::format_to(std::back_inserter(s), "{:02x}", static_cast<unsigned char>(c));
  s += ']';
  return s;
}

}  // namespace

std::optional<std::uint64_t> msisdn_key(std::string_view msisdn) {
  if (msisdn.empty() || msisdn.size() > 15) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : msisdn) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return (static_cast<std::uint64_t>(msisdn.size()) << 56) | v;  // 10^15 < 2^50
}

std::string decode_text(std::string_view octets, std::uint8_t data_coding, const ussd::profile& p) {
  std::uint8_t dc = data_coding;
  if (data_coding == p.data_coding_ucs2)
    dc = 8;
  else if (data_coding == p.data_coding_gsm)
    dc = 0;
  if (auto s = menus::decode_input(octets, dc, p.alphabet)) return std::move(*s);
  return hex(octets);
}

ussd_centre_fsm::ussd_centre_fsm(ussd::profile p, std::string service_address)
    : profile_(std::move(p)), service_address_(std::move(service_address)) {}

ussd_centre_fsm::dialog* ussd_centre_fsm::find(std::string_view msisdn) {
  if (auto k = msisdn_key(msisdn)) {
    auto it = numeric_.find(*k);
    return it == numeric_.end() ? nullptr : &it->second;
  }
  auto it = other_.find(msisdn);
  return it == other_.end() ? nullptr : &it->second;
}

const ussd_centre_fsm::dialog* ussd_centre_fsm::find(std::string_view msisdn) const {
  return const_cast<ussd_centre_fsm*>(this)->find(msisdn);
}

ussd_centre_fsm::dialog& ussd_centre_fsm::open(std::string_view msisdn) {
  dialog* d;
  if (auto k = msisdn_key(msisdn)) {
    d = &numeric_[*k];
  } else {
    auto it = other_.find(msisdn);
    if (it == other_.end()) it = other_.emplace(std::string(msisdn), dialog{}).first;
    d = &it->second;
  }
  if (!d->open) ++open_count_;
  *d = dialog{};
  d->open = true;
  switch (profile_.session_id) {
    case ussd::session_id_source::its_session_info:
      next_session_ = static_cast<std::uint8_t>(next_session_ == 255 ? 1 : next_session_ + 1);
      d->id = next_session_;
      break;
    case ussd::session_id_source::user_message_reference:
      next_ref_ = static_cast<std::uint16_t>(next_ref_ == 0xFFFF ? 1 : next_ref_ + 1);
      d->id = next_ref_;
      break;
    case ussd::session_id_source::none:
      break;
  }
  return *d;
}

void ussd_centre_fsm::close(dialog& d) {
  if (!d.open) return;
  d.open = false;
  --open_count_;
}

void ussd_centre_fsm::clear() {
  numeric_.clear();
  other_.clear();
  open_count_ = 0;
}

void ussd_centre_fsm::build(std::string_view msisdn, std::string_view text, std::uint8_t op,
                            std::uint16_t session_info, const dialog& d, sm_body& out) const {
  out.service_type = "USSD";
  out.source.ton = 1;
  out.source.npi = 1;
  out.source.addr = msisdn;
  out.destination.ton = 0;
  out.destination.npi = 0;
  out.destination.addr = service_address_;
  out.esm_class = 0;
  out.registered_delivery = 0;
  // Text in the operator's coding: as typed when it means the same in every alphabet, else
  // converted to the default alphabet, else UCS-2.
  out.data_coding = profile_.data_coding_gsm;
  if (same_in_every_alphabet(text)) {
    out.short_message = text;
  } else if (auto gsm = menus::to_default_alphabet(text, profile_.alphabet)) {
    out.short_message = std::move(*gsm);
  } else if (auto ucs2 = menus::to_ucs2be(text)) {
    out.short_message = std::move(*ucs2);
    out.data_coding = profile_.data_coding_ucs2;
  } else {
    out.short_message = text;  // malformed UTF-8 typed by a test: sent as it is
  }
  out.tlvs.clear();
  out.tlvs.push_back(tlv::u8(tag::ussd_service_op, op));
  switch (profile_.session_id) {
    case ussd::session_id_source::its_session_info:
      out.tlvs.push_back(tlv::u16(tag::its_session_info, session_info));
      break;
    case ussd::session_id_source::user_message_reference:
      out.tlvs.push_back(tlv::u16(tag::user_message_reference, d.id));
      break;
    case ussd::session_id_source::none:
      break;
  }
}

namespace {
std::uint16_t session_info(std::uint16_t session, std::uint8_t seq) {
  return static_cast<std::uint16_t>(((session & 0xFFu) << 8) | seq);
}
}  // namespace

void ussd_centre_fsm::dial(std::string_view msisdn, std::string_view text, sm_body& out) {
  const dialog& d = open(msisdn);
  build(msisdn, text, profile_.begin_ops.front(), session_info(d.id, d.seq), d, out);
}

bool ussd_centre_fsm::reply(std::string_view msisdn, std::string_view text, sm_body& out) {
  dialog* d = find(msisdn);
  if (d == nullptr) return false;
  if (!d->open) {  // a late input in the ended dialog: the gateway owes it an answer
    d->open = true;
    ++open_count_;
  }
  d->seq = static_cast<std::uint8_t>((d->seq + 2) & 0xFE);
  build(msisdn, text, profile_.continue_ops.front(), session_info(d->id, d->seq), *d, out);
  return true;
}

bool ussd_centre_fsm::abort(std::string_view msisdn, sm_body& out) {
  if (!can_abort()) return false;
  dialog* d = find(msisdn);
  if (d == nullptr || !d->open) return false;
  // The next dialogue unit, with the end-of-session indicator active (an odd sequence octet).
  const auto seq = static_cast<std::uint8_t>(((d->seq + 2) & 0xFE) | 1);
  build(msisdn, {}, profile_.abort_ops.front(), session_info(d->id, seq), *d, out);
  close(*d);
  return true;
}

mt_verdict ussd_centre_fsm::on_submit(const sm_body& b) {
  mt_verdict v;
  const auto op = tlv_u8(b.tlvs, tag::ussd_service_op);
  if (!op) {
    if (find_tlv(b.tlvs, tag::ussd_service_op) != nullptr) {
      v.ussd = true;
      v.protocol_error = "ussd_service_op is not one octet";
    }
    return v;  // an SMS
  }
  v.ussd = true;
  v.op = *op;
  const std::string_view msisdn = b.destination.addr;
  const auto info = tlv_u16(b.tlvs, tag::its_session_info);
  v.ends_dialog = *op == profile_.end_op || (profile_.echo_session_info && info && (*info & 1u));
  v.continues = *op == profile_.continue_op && !v.ends_dialog;

  auto error = [&](std::string why) {
    if (v.protocol_error.empty()) v.protocol_error = std::move(why);
  };
  if (*op != profile_.continue_op && *op != profile_.end_op)
    error(
        fmt::format("ussd_service_op 0x{:02x} is neither continue (0x{:02x}) nor end (0x{:02x}) "
                    "in profile {}",
                    *op, profile_.continue_op, profile_.end_op, profile_.name));
  if (b.service_type != profile_.service_type)
    error(fmt::format("service_type '{}', profile {} uses '{}'", b.service_type, profile_.name,
                      profile_.service_type));

  // Is it for the subscriber's open dialog?
  dialog* d = find(msisdn);
  bool same_dialog = d != nullptr && d->open;
  if (d == nullptr)
    error("a screen for a subscriber who never dialed");
  else if (!d->open)
    error("a screen after the dialog ended (no input to answer)");
  switch (profile_.session_id) {
    case ussd::session_id_source::its_session_info:
      if (!info) {
        if (profile_.echo_session_info) {
          error("its_session_info missing (the profile echoes it)");
          same_dialog = false;
        }
      } else if (d != nullptr && (*info >> 8) != d->id) {
        error(fmt::format("its_session_info 0x{:04x} is session {}, the dialog's is {}", *info,
                          *info >> 8, d->id));
        same_dialog = false;
      }
      break;
    case ussd::session_id_source::user_message_reference:
      if (auto ref = tlv_u16(b.tlvs, tag::user_message_reference); !ref) {
        error("user_message_reference missing (the profile's dialog id)");
        same_dialog = false;
      } else if (d != nullptr && *ref != d->id) {
        error(fmt::format("user_message_reference {}, the dialog's is {}", *ref, d->id));
        same_dialog = false;
      }
      break;
    case ussd::session_id_source::none:
      break;
  }
  // A screen for another (older) dialog, or for no telling which, must not close this one.
  if (v.ends_dialog && same_dialog) close(*d);
  return v;
}

}  // namespace ussdpay::sim
