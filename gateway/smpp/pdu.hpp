// SMPP 3.4 PDUs as plain C++ values. Nothing here knows about libsmpp34 or sockets: the codec
// (codec.hpp) turns bytes into these values and back, the link (link_fsm.hpp) moves them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ussdpay::smpp {

/// Command ids (SMPP 3.4 section 5.1.2.1). Only the ones we speak are named; any other id is
/// carried as a number and answered with generic_nack.
enum class command : std::uint32_t {
  generic_nack = 0x80000000,
  bind_receiver = 0x00000001,
  bind_receiver_resp = 0x80000001,
  bind_transmitter = 0x00000002,
  bind_transmitter_resp = 0x80000002,
  submit_sm = 0x00000004,
  submit_sm_resp = 0x80000004,
  deliver_sm = 0x00000005,
  deliver_sm_resp = 0x80000005,
  unbind = 0x00000006,
  unbind_resp = 0x80000006,
  bind_transceiver = 0x00000009,
  bind_transceiver_resp = 0x80000009,
  enquire_link = 0x00000015,
  enquire_link_resp = 0x80000015,
  data_sm = 0x00000103,
  data_sm_resp = 0x80000103,
};

constexpr bool is_response(std::uint32_t command_id) {
  return (command_id & 0x80000000u) != 0;
}
constexpr std::uint32_t response_id(std::uint32_t command_id) {
  return command_id | 0x80000000u;
}
std::string_view command_name(std::uint32_t command_id);

/// command_status values we produce or react to (SMPP 3.4 section 5.1.3). Peers may send any
/// 32-bit value (vendor codes such as 0x400-0x4FF); those are kept as numbers.
namespace status {
constexpr std::uint32_t ok = 0x00;
constexpr std::uint32_t invalid_message_length = 0x01;         // ESME_RINVMSGLEN
constexpr std::uint32_t invalid_command_length = 0x02;         // ESME_RINVCMDLEN
constexpr std::uint32_t invalid_command_id = 0x03;             // ESME_RINVCMDID
constexpr std::uint32_t invalid_bind_status = 0x04;            // ESME_RINVBNDSTS
constexpr std::uint32_t already_bound = 0x05;                  // ESME_RALYBND
constexpr std::uint32_t system_error = 0x08;                   // ESME_RSYSERR
constexpr std::uint32_t invalid_source_addr = 0x0A;            // ESME_RINVSRCADR
constexpr std::uint32_t invalid_dest_addr = 0x0B;              // ESME_RINVDSTADR
constexpr std::uint32_t bind_failed = 0x0D;                    // ESME_RBINDFAIL
constexpr std::uint32_t invalid_password = 0x0E;               // ESME_RINVPASWD
constexpr std::uint32_t invalid_system_id = 0x0F;              // ESME_RINVSYSID
constexpr std::uint32_t message_queue_full = 0x14;             // ESME_RMSGQFUL
constexpr std::uint32_t submit_failed = 0x45;                  // ESME_RSUBMITFAIL
constexpr std::uint32_t throttled = 0x58;                      // ESME_RTHROTTLED
constexpr std::uint32_t temp_app_error = 0x64;                 // ESME_RX_T_APPN
constexpr std::uint32_t perm_app_error = 0x65;                 // ESME_RX_P_APPN
constexpr std::uint32_t invalid_optional_param_stream = 0xC0;  // ESME_RINVOPTPARSTREAM
constexpr std::uint32_t optional_param_not_allowed = 0xC1;     // ESME_ROPTPARNOTALLWD
constexpr std::uint32_t invalid_param_length = 0xC2;           // ESME_RINVPARLEN
constexpr std::uint32_t missing_optional_param = 0xC3;         // ESME_RMISSINGOPTPARM
constexpr std::uint32_t invalid_optional_param_value = 0xC4;   // ESME_RINVOPTPARAMVAL
constexpr std::uint32_t unknown_error = 0xFF;                  // ESME_RUNKNOWNERR
}  // namespace status
std::string status_name(std::uint32_t command_status);

/// Optional parameter tags (SMPP 3.4 section 5.3.2) that ussdpay reads or writes.
namespace tag {
constexpr std::uint16_t user_message_reference = 0x0204;
constexpr std::uint16_t sar_msg_ref_num = 0x020C;
constexpr std::uint16_t sar_total_segments = 0x020E;
constexpr std::uint16_t sar_segment_seqnum = 0x020F;
constexpr std::uint16_t sc_interface_version = 0x0210;
constexpr std::uint16_t network_error_code = 0x0423;
constexpr std::uint16_t message_payload = 0x0424;
constexpr std::uint16_t message_state = 0x0427;
constexpr std::uint16_t receipted_message_id = 0x001E;
constexpr std::uint16_t ussd_service_op = 0x0501;
constexpr std::uint16_t its_reply_type = 0x1380;
constexpr std::uint16_t its_session_info = 0x1383;
}  // namespace tag

/// One optional parameter, exactly as on the wire: the value is raw big-endian octets, so
/// known, vendor and unknown tags are all passed through untouched.
struct tlv {
  std::uint16_t tag = 0;
  std::string value;  // raw octets

  static tlv u8(std::uint16_t t, std::uint8_t v);
  static tlv u16(std::uint16_t t, std::uint16_t v);
  static tlv octets(std::uint16_t t, std::string_view v);
  friend bool operator==(const tlv&, const tlv&) = default;
};
using tlv_list = std::vector<tlv>;

/// Lookup helpers. They return nullopt when the tag is absent or its length is not the one the
/// spec gives (a lenient reader skips such a TLV instead of rejecting the whole PDU).
const tlv* find_tlv(const tlv_list& tlvs, std::uint16_t t);
std::optional<std::uint8_t> tlv_u8(const tlv_list& tlvs, std::uint16_t t);
std::optional<std::uint16_t> tlv_u16(const tlv_list& tlvs, std::uint16_t t);
std::optional<std::string_view> tlv_octets(const tlv_list& tlvs, std::uint16_t t);
/// Replaces the value of tag t, or appends it.
void set_tlv(tlv_list& tlvs, tlv value);

struct address {
  std::uint8_t ton = 0;
  std::uint8_t npi = 0;
  std::string addr;
  friend bool operator==(const address&, const address&) = default;
};

/// bind_transmitter, bind_receiver and bind_transceiver share one body.
struct bind_body {
  std::string system_id;
  std::string password;
  std::string system_type;
  std::uint8_t interface_version = 0x34;
  address address_range;
  friend bool operator==(const bind_body&, const bind_body&) = default;
};

struct bind_resp_body {
  std::string system_id;
  tlv_list tlvs;  // sc_interface_version
  friend bool operator==(const bind_resp_body&, const bind_resp_body&) = default;
};

/// submit_sm and deliver_sm share one body (deliver_sm leaves the two time fields empty).
struct sm_body {
  std::string service_type;
  address source;
  address destination;
  std::uint8_t esm_class = 0;
  std::uint8_t protocol_id = 0;
  std::uint8_t priority_flag = 0;
  std::string schedule_delivery_time;
  std::string validity_period;
  std::uint8_t registered_delivery = 0;
  std::uint8_t replace_if_present_flag = 0;
  std::uint8_t data_coding = 0;
  std::uint8_t sm_default_msg_id = 0;
  std::string short_message;  // raw octets in data_coding
  tlv_list tlvs;
  friend bool operator==(const sm_body&, const sm_body&) = default;
};

struct data_sm_body {
  std::string service_type;
  address source;
  address destination;
  std::uint8_t esm_class = 0;
  std::uint8_t registered_delivery = 0;
  std::uint8_t data_coding = 0;
  tlv_list tlvs;
  friend bool operator==(const data_sm_body&, const data_sm_body&) = default;
};

/// submit_sm_resp, deliver_sm_resp and data_sm_resp: an optional message_id.
struct message_id_body {
  std::string message_id;
  tlv_list tlvs;  // data_sm_resp may carry some
  friend bool operator==(const message_id_body&, const message_id_body&) = default;
};

/// unbind, unbind_resp, enquire_link, enquire_link_resp, generic_nack, and any command we do not
/// know (its body is kept raw so it can be logged).
struct empty_body {
  friend bool operator==(const empty_body&, const empty_body&) = default;
};

using body =
    std::variant<empty_body, bind_body, bind_resp_body, sm_body, data_sm_body, message_id_body>;

struct pdu {
  std::uint32_t command_id = 0;
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
  smpp::body body;

  /// The response to this request: same sequence number, the given status, empty body.
  [[nodiscard]] pdu make_response(std::uint32_t status = status::ok) const;
  friend bool operator==(const pdu&, const pdu&) = default;
};

/// Convenience constructors used by the link and the simulator.
pdu make_bind(command kind, std::uint32_t seq, bind_body b);
pdu make_submit(std::uint32_t seq, sm_body b);
pdu make_deliver(std::uint32_t seq, sm_body b);
pdu make_empty(command kind, std::uint32_t seq, std::uint32_t status = status::ok);

}  // namespace ussdpay::smpp
