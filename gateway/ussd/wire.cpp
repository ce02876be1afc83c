#include "gateway/ussd/wire.hpp"

namespace ussdpay::ussd {

using namespace smpp;

std::variant<event, not_ussd> parse(const sm_body& in, const profile& p) {
  if ((in.esm_class & 0x3C) != 0) return not_ussd{status::ok, "delivery receipt"};
  const auto op = tlv_u8(in.tlvs, tag::ussd_service_op);
  if (!op) {
    if (find_tlv(in.tlvs, tag::ussd_service_op) != nullptr)
      return not_ussd{status::invalid_optional_param_value, "ussd_service_op is not 1 octet"};
    return not_ussd{status::ok, "not USSD"};
  }
  event e;
  e.subscriber = in.source;
  e.service = in.destination;
  e.its_session_info = tlv_u16(in.tlvs, tag::its_session_info);
  e.user_message_reference = tlv_u16(in.tlvs, tag::user_message_reference);
  const bool end_bit = e.its_session_info && (*e.its_session_info & 1u) != 0;
  if (p.is_begin(*op))
    e.kind = event::kind_t::begin;
  else if (p.is_abort(*op))
    e.kind = event::kind_t::abort;
  else if (p.is_end(*op) || (p.end_bit_closes && end_bit && p.is_continue(*op)))
    e.kind = event::kind_t::end;
  else if (p.is_continue(*op))
    e.kind = event::kind_t::next;
  else
    return not_ussd{status::invalid_optional_param_value,
                    "ussd_service_op " + std::to_string(*op) + " is not in profile " + p.name};
  switch (p.session_id) {
    case session_id_source::its_session_info:
      if (e.its_session_info) e.session_id = static_cast<std::uint16_t>(*e.its_session_info >> 8);
      break;
    case session_id_source::user_message_reference:
      e.session_id = e.user_message_reference;
      break;
    case session_id_source::none:
      break;
  }
  // message_payload carries the text when short_message is empty.
  std::string_view octets = in.short_message;
  if (octets.empty())
    if (const tlv* mp = find_tlv(in.tlvs, tag::message_payload))
      octets = std::string_view(reinterpret_cast<const char*>(mp->value.data()), mp->value.size());
  const std::uint8_t dc = in.data_coding == p.data_coding_ucs2  ? std::uint8_t{8}
                          : in.data_coding == p.data_coding_gsm ? std::uint8_t{0}
                                                                : in.data_coding;
  auto text = menus::decode_input(octets, dc, p.alphabet);
  if (!text)
    return not_ussd{status::perm_app_error,
                    "text cannot be decoded with data_coding " + std::to_string(in.data_coding)};
  e.text = std::move(*text);
  return e;
}

std::optional<sm_body> screen(const reply_to& to, std::string_view text, bool end,
                              const profile& p) {
  sm_body out;
  out.service_type = p.service_type;
  out.source = to.service;
  out.destination = to.subscriber;
  const auto m = menus::measure(text);
  std::optional<std::string> octets;
  if (m.enc == menus::encoding::gsm7) {
    octets = menus::to_default_alphabet(text, p.alphabet);
    out.data_coding = p.data_coding_gsm;
  }
  if (!octets) {  // not GSM, or not representable in the operator's default alphabet
    octets = menus::to_ucs2be(text);
    out.data_coding = p.data_coding_ucs2;
  }
  if (!octets || octets->size() > 254) return std::nullopt;
  out.short_message = std::move(*octets);
  out.tlvs.push_back(tlv::u8(tag::ussd_service_op, end ? p.end_op : p.continue_op));
  if (p.echo_session_info && to.its_session_info)
    out.tlvs.push_back(tlv::u16(tag::its_session_info,
                                static_cast<std::uint16_t>(end ? (*to.its_session_info | 1u)
                                                               : (*to.its_session_info & ~1u))));
  // The centre's reference goes back with every answer, whatever the profile keys on.
  if (to.user_message_reference)
    out.tlvs.push_back(tlv::u16(tag::user_message_reference, *to.user_message_reference));
  return out;
}

}  // namespace ussdpay::ussd
