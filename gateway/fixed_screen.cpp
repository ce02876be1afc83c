#include "gateway/fixed_screen.hpp"

namespace ussdpay {

std::optional<smpp::pdu> fixed_screen_responder::answer(const smpp::pdu& deliver) const {
  using namespace smpp;
  const auto* in = std::get_if<sm_body>(&deliver.body);
  if (in == nullptr) return std::nullopt;
  if ((in->esm_class & 0x3C) != 0) return std::nullopt;  // delivery receipt or other MC message
  const auto op = tlv_u8(in->tlvs, tag::ussd_service_op);
  if (!op || (*op != ussd_op::pssr_indication && *op != ussd_op::ussr_confirm)) return std::nullopt;

  sm_body out;
  out.service_type = "USSD";
  out.source = in->destination;
  out.destination = in->source;
  // The dialed string must be our service code, or a shortcut under it (*123*1*2#).
  const std::string_view code =
      std::string_view(cfg_.service_code).substr(0, cfg_.service_code.size() - 1);
  const bool ours =
      *op == ussd_op::ussr_confirm || in->short_message == cfg_.service_code ||
      (in->short_message.starts_with(code) && in->short_message.size() > code.size() &&
       (in->short_message[code.size()] == '*' || in->short_message[code.size()] == '#'));
  out.short_message = ours ? cfg_.welcome : "Unknown service code.";
  out.tlvs.push_back(tlv::u8(tag::ussd_service_op, ussd_op::pssr_response));
  // Echo the session info with the end-of-session bit set; echo the reference as it came.
  if (auto s = tlv_u16(in->tlvs, tag::its_session_info))
    out.tlvs.push_back(tlv::u16(tag::its_session_info, static_cast<std::uint16_t>(*s | 1u)));
  if (const tlv* r = find_tlv(in->tlvs, tag::user_message_reference)) out.tlvs.push_back(*r);
  return make_submit(0, std::move(out));
}

}  // namespace ussdpay
