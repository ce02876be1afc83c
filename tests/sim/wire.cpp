#include "tests/sim/wire.hpp"

#include <cstddef>
#include <cstring>
#include <string_view>

#include "gateway/smpp/codec.hpp"

namespace ussdpay::sim {

using namespace smpp;

namespace {

// A C-Octet String of at most cap octets with its NUL (libsmpp34's field sizes).
bool fits_cstr(std::string_view v, std::size_t cap) {
  return v.size() + 1 <= cap && v.find('\0') == std::string_view::npos;
}

// Writes big-endian integers and strings into space reserved beforehand.
struct writer {
  char* p;
  void u8(std::uint8_t v) { *p++ = static_cast<char>(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void octets(std::string_view v) {
    if (!v.empty()) std::memcpy(p, v.data(), v.size());
    p += v.size();
  }
  void cstr(std::string_view v) {
    octets(v);
    u8(0);
  }
};

// Grows out by n bytes and returns a writer at the first new one.
writer append(std::string& out, std::size_t n) {
  const std::size_t at = out.size();
  out.resize(at + n);
  return writer{out.data() + at};
}

}  // namespace

bool write_deliver_sm(std::uint32_t seq, const sm_body& b, std::string& out) {
  std::size_t tlv_bytes = 0;
  for (const tlv& t : b.tlvs) {
    if (t.value.size() > 0xFFFF) return false;
    tlv_bytes += 4 + t.value.size();
  }
  if (!fits_cstr(b.service_type, 6) || !fits_cstr(b.source.addr, 21) ||
      !fits_cstr(b.destination.addr, 21) || !b.schedule_delivery_time.empty() ||
      !b.validity_period.empty() || b.short_message.size() > 253 || tlv_bytes > 4096)
    return false;
  const std::size_t len = header_size + (b.service_type.size() + 1) + 2 +
                          (b.source.addr.size() + 1) + 2 + (b.destination.addr.size() + 1) + 3 + 2 +
                          4 + 1 + b.short_message.size() + tlv_bytes;
  writer w = append(out, len);
  w.u32(static_cast<std::uint32_t>(len));
  w.u32(static_cast<std::uint32_t>(command::deliver_sm));
  w.u32(status::ok);
  w.u32(seq);
  w.cstr(b.service_type);
  w.u8(b.source.ton);
  w.u8(b.source.npi);
  w.cstr(b.source.addr);
  w.u8(b.destination.ton);
  w.u8(b.destination.npi);
  w.cstr(b.destination.addr);
  w.u8(b.esm_class);
  w.u8(b.protocol_id);
  w.u8(b.priority_flag);
  w.u8(0);  // schedule_delivery_time: NULL in deliver_sm
  w.u8(0);  // validity_period: NULL in deliver_sm
  w.u8(b.registered_delivery);
  w.u8(b.replace_if_present_flag);
  w.u8(b.data_coding);
  w.u8(b.sm_default_msg_id);
  w.u8(static_cast<std::uint8_t>(b.short_message.size()));
  w.octets(b.short_message);
  for (const tlv& t : b.tlvs) {
    w.u16(t.tag);
    w.u16(static_cast<std::uint16_t>(t.value.size()));
    w.octets(t.value);
  }
  return true;
}

bool write_submit_sm_resp(std::uint32_t seq, const std::string& message_id, std::string& out) {
  if (!fits_cstr(message_id, 65)) return false;
  const std::size_t len = header_size + message_id.size() + 1;
  writer w = append(out, len);
  w.u32(static_cast<std::uint32_t>(len));
  w.u32(static_cast<std::uint32_t>(command::submit_sm_resp));
  w.u32(status::ok);
  w.u32(seq);
  w.cstr(message_id);
  return true;
}

}  // namespace ussdpay::sim
