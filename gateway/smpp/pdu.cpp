#include "gateway/smpp/pdu.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ussdpay::smpp {

std::string_view command_name(std::uint32_t command_id) {
  switch (static_cast<command>(command_id)) {
    case command::generic_nack:
      return "generic_nack";
    case command::bind_receiver:
      return "bind_receiver";
    case command::bind_receiver_resp:
      return "bind_receiver_resp";
    case command::bind_transmitter:
      return "bind_transmitter";
    case command::bind_transmitter_resp:
      return "bind_transmitter_resp";
    case command::submit_sm:
      return "submit_sm";
    case command::submit_sm_resp:
      return "submit_sm_resp";
    case command::deliver_sm:
      return "deliver_sm";
    case command::deliver_sm_resp:
      return "deliver_sm_resp";
    case command::unbind:
      return "unbind";
    case command::unbind_resp:
      return "unbind_resp";
    case command::bind_transceiver:
      return "bind_transceiver";
    case command::bind_transceiver_resp:
      return "bind_transceiver_resp";
    case command::enquire_link:
      return "enquire_link";
    case command::enquire_link_resp:
      return "enquire_link_resp";
    case command::data_sm:
      return "data_sm";
    case command::data_sm_resp:
      return "data_sm_resp";
  }
  return "unknown";
}

std::string status_name(std::uint32_t s) {
  switch (s) {
    case status::ok:
      return "ESME_ROK";
    case status::invalid_message_length:
      return "ESME_RINVMSGLEN";
    case status::invalid_command_length:
      return "ESME_RINVCMDLEN";
    case status::invalid_command_id:
      return "ESME_RINVCMDID";
    case status::invalid_bind_status:
      return "ESME_RINVBNDSTS";
    case status::already_bound:
      return "ESME_RALYBND";
    case status::system_error:
      return "ESME_RSYSERR";
    case status::invalid_dest_addr:
      return "ESME_RINVDSTADR";
    case status::bind_failed:
      return "ESME_RBINDFAIL";
    case status::invalid_password:
      return "ESME_RINVPASWD";
    case status::invalid_system_id:
      return "ESME_RINVSYSID";
    case status::message_queue_full:
      return "ESME_RMSGQFUL";
    case status::submit_failed:
      return "ESME_RSUBMITFAIL";
    case status::throttled:
      return "ESME_RTHROTTLED";
    case status::temp_app_error:
      return "ESME_RX_T_APPN";
    case status::invalid_optional_param_stream:
      return "ESME_RINVOPTPARSTREAM";
    case status::optional_param_not_allowed:
      return "ESME_ROPTPARNOTALLWD";
    case status::invalid_param_length:
      return "ESME_RINVPARLEN";
    case status::unknown_error:
      return "ESME_RUNKNOWNERR";
    default:
      return fmt::format("0x{:08X}", s);
  }
}

tlv tlv::u8(std::uint16_t t, std::uint8_t v) {
  return {t, std::string(1, static_cast<char>(v))};
}

tlv tlv::u16(std::uint16_t t, std::uint16_t v) {
  std::string s(2, '\0');
  s[0] = static_cast<char>(v >> 8);
  s[1] = static_cast<char>(v & 0xFF);
  return {t, std::move(s)};
}

tlv tlv::octets(std::uint16_t t, std::string_view v) {
  return {t, std::string(v)};
}

const tlv* find_tlv(const tlv_list& tlvs, std::uint16_t t) {
  auto it = std::find_if(tlvs.begin(), tlvs.end(), [t](const tlv& x) { return x.tag == t; });
  return it == tlvs.end() ? nullptr : &*it;
}

std::optional<std::uint8_t> tlv_u8(const tlv_list& tlvs, std::uint16_t t) {
  const tlv* x = find_tlv(tlvs, t);
  if (x == nullptr || x->value.size() != 1) return std::nullopt;
  return static_cast<std::uint8_t>(x->value[0]);
}

std::optional<std::uint16_t> tlv_u16(const tlv_list& tlvs, std::uint16_t t) {
  const tlv* x = find_tlv(tlvs, t);
  if (x == nullptr || x->value.size() != 2) return std::nullopt;
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(x->value[0]) << 8) |
                                    static_cast<std::uint8_t>(x->value[1]));
}

std::optional<std::string_view> tlv_octets(const tlv_list& tlvs, std::uint16_t t) {
  const tlv* x = find_tlv(tlvs, t);
  if (x == nullptr) return std::nullopt;
  return std::string_view(x->value);
}

void set_tlv(tlv_list& tlvs, tlv value) {
  for (auto& x : tlvs) {
    if (x.tag == value.tag) {
      x.value = std::move(value.value);
      return;
    }
  }
  tlvs.push_back(std::move(value));
}

pdu pdu::make_response(std::uint32_t s) const {
  pdu r;
  r.command_id = response_id(command_id);
  r.command_status = s;
  r.sequence_number = sequence_number;
  switch (static_cast<command>(r.command_id)) {
    case command::bind_receiver_resp:
    case command::bind_transmitter_resp:
    case command::bind_transceiver_resp:
      r.body = bind_resp_body{};
      break;
    case command::submit_sm_resp:
    case command::deliver_sm_resp:
    case command::data_sm_resp:
      r.body = message_id_body{};
      break;
    default:
      r.body = empty_body{};
      break;
  }
  return r;
}

pdu make_bind(command kind, std::uint32_t seq, bind_body b) {
  return pdu{static_cast<std::uint32_t>(kind), status::ok, seq, std::move(b)};
}

pdu make_submit(std::uint32_t seq, sm_body b) {
  return pdu{static_cast<std::uint32_t>(command::submit_sm), status::ok, seq, std::move(b)};
}

pdu make_deliver(std::uint32_t seq, sm_body b) {
  return pdu{static_cast<std::uint32_t>(command::deliver_sm), status::ok, seq, std::move(b)};
}

pdu make_empty(command kind, std::uint32_t seq, std::uint32_t s) {
  return pdu{static_cast<std::uint32_t>(kind), s, seq, empty_body{}};
}

}  // namespace ussdpay::smpp
