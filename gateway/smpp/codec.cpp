// The only translation unit that includes libsmpp34 (its headers lack extern "C" and <cstdint>,
// define bare macros such as Reserved and ESME_ROK, and its error state is global).
#include "gateway/smpp/codec.hpp"

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

// Order matters: smpp34_params.h uses the types declared in smpp34_structs.h.
// clang-format off
extern "C" {
#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
}
// clang-format on

namespace ussdpay::smpp {
namespace {

// ---------------------------------------------------------------------------------------------
// Byte helpers.

std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
std::uint16_t get16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
void append16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
void append32(std::string& out, std::uint32_t v) {
  std::uint8_t b[4];
  put32(b, v);
  out.append(reinterpret_cast<const char*>(b), 4);
}

// libsmpp34's globals are not thread-safe; two threads in the codec at once is a bug in the
// caller, caught here rather than as silent corruption of smpp34_strerror.
class single_thread_guard {
 public:
  single_thread_guard() {
    if (in_use_.exchange(true, std::memory_order_acquire)) {
      std::fputs("ussdpay: smpp codec used from two threads at once\n", stderr);
      std::abort();
    }
  }
  ~single_thread_guard() { in_use_.store(false, std::memory_order_release); }
  single_thread_guard(const single_thread_guard&) = delete;
  single_thread_guard& operator=(const single_thread_guard&) = delete;

 private:
  static inline std::atomic<bool> in_use_{false};
};

// ---------------------------------------------------------------------------------------------
// Layout pre-scan: where each mandatory field lies, checked against its SMPP maximum, before
// libsmpp34 sees a byte. Offsets are from the start of the frame.

enum class kind : std::uint8_t { cstr, u8, sm };  // sm = sm_length octet + that many octets
enum class role : std::uint8_t { plain, ton, npi, interface_version, empty_in_deliver };

struct field_spec {
  kind k;
  std::uint16_t max;  // cstr: bytes including the NUL; sm: octets
  role r;
  std::uint32_t error;  // status when the field is malformed
};

constexpr field_spec u8f(role r = role::plain) {
  return {kind::u8, 1, r, status::invalid_command_length};
}
constexpr field_spec cstr(std::uint16_t max, std::uint32_t err, role r = role::plain) {
  return {kind::cstr, max, r, err};
}

constexpr std::uint32_t e_sertyp = 0x15, e_srcadr = 0x0A, e_dstadr = status::invalid_dest_addr,
                        e_sysid = status::invalid_system_id, e_paswd = status::invalid_password,
                        e_systyp = 0x53, e_sched = 0x61, e_expiry = 0x62, e_msgid = 0x0C;

constexpr std::array bind_fields{
    cstr(16, e_sysid), cstr(9, e_paswd), cstr(13, e_systyp), u8f(role::interface_version),
    u8f(role::ton),    u8f(role::npi),   cstr(41, e_srcadr)};
constexpr std::array bind_resp_fields{cstr(16, e_sysid)};
constexpr std::array sm_fields{
    cstr(6, e_sertyp),
    u8f(role::ton),
    u8f(role::npi),
    cstr(21, e_srcadr),
    u8f(role::ton),
    u8f(role::npi),
    cstr(21, e_dstadr),
    u8f(),
    u8f(),
    u8f(),
    cstr(17, e_sched, role::empty_in_deliver),
    cstr(17, e_expiry, role::empty_in_deliver),
    u8f(),
    u8f(),
    u8f(),
    u8f(),
    field_spec{kind::sm, 254, role::plain, status::invalid_message_length}};
constexpr std::array data_sm_fields{cstr(6, e_sertyp),
                                    u8f(role::ton),
                                    u8f(role::npi),
                                    cstr(21, e_srcadr),
                                    u8f(role::ton),
                                    u8f(role::npi),
                                    cstr(65, e_dstadr),
                                    u8f(),
                                    u8f(),
                                    u8f()};
constexpr std::array message_id_fields{cstr(65, e_msgid)};

constexpr std::size_t max_fields = sm_fields.size();

struct field_at {
  std::uint16_t offset = 0;  // first byte of the value (after sm_length for kind::sm)
  std::uint16_t length = 0;  // value bytes, without NUL
};

struct layout {
  std::span<const field_spec> specs;
  std::array<field_at, max_fields> at{};
  std::size_t mandatory_end = header_size;
  bool body_present = true;
};

std::span<const field_spec> specs_for(std::uint32_t id) {
  switch (static_cast<command>(id)) {
    case command::bind_receiver:
    case command::bind_transmitter:
    case command::bind_transceiver:
      return bind_fields;
    case command::bind_receiver_resp:
    case command::bind_transmitter_resp:
    case command::bind_transceiver_resp:
      return bind_resp_fields;
    case command::submit_sm:
    case command::deliver_sm:
      return sm_fields;
    case command::data_sm:
      return data_sm_fields;
    case command::submit_sm_resp:
    case command::deliver_sm_resp:
    case command::data_sm_resp:
      return message_id_fields;
    default:
      return {};
  }
}

// Responses whose whole body may be missing (error responses, and sloppy OK ones).
bool body_optional(std::uint32_t id) {
  return is_response(id);
}

struct scan_error {
  std::uint32_t status;
  std::string reason;
};

std::variant<layout, scan_error> scan_layout(std::span<const std::uint8_t> f, std::uint32_t id) {
  layout l;
  l.specs = specs_for(id);
  std::size_t pos = header_size;
  if (f.size() == header_size && body_optional(id)) {
    l.body_present = false;
    return l;
  }
  for (std::size_t i = 0; i < l.specs.size(); ++i) {
    const field_spec& s = l.specs[i];
    switch (s.k) {
      case kind::u8:
        if (pos >= f.size())
          return scan_error{status::invalid_command_length, "body ends inside a mandatory field"};
        l.at[i] = {static_cast<std::uint16_t>(pos), 1};
        pos += 1;
        break;
      case kind::cstr: {
        const std::size_t window = std::min<std::size_t>(s.max, f.size() - pos);
        const void* nul = std::memchr(f.data() + pos, 0, window);
        if (nul == nullptr) {
          if (window < s.max)
            return scan_error{status::invalid_command_length,
                              fmt::format("unterminated string field {} at offset {}", i, pos)};
          return scan_error{s.error,
                            fmt::format("string field {} longer than {} bytes", i, s.max - 1)};
        }
        const auto len =
            static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - (f.data() + pos));
        l.at[i] = {static_cast<std::uint16_t>(pos), static_cast<std::uint16_t>(len)};
        pos += len + 1;
        break;
      }
      case kind::sm: {
        if (pos >= f.size())
          return scan_error{status::invalid_command_length, "body ends before sm_length"};
        const std::size_t n = f[pos];
        if (n > s.max || pos + 1 + n > f.size())
          return scan_error{s.error, fmt::format("sm_length {} exceeds the body", n)};
        l.at[i] = {static_cast<std::uint16_t>(pos + 1), static_cast<std::uint16_t>(n)};
        pos += 1 + n;
        break;
      }
    }
  }
  l.mandatory_end = pos;
  return l;
}

std::optional<scan_error> scan_tlvs(std::span<const std::uint8_t> f, std::size_t pos,
                                    std::size_t max_tlvs, tlv_list& out) {
  while (pos < f.size()) {
    if (f.size() - pos < 4)
      return scan_error{status::invalid_optional_param_stream, "truncated TLV header"};
    const std::uint16_t t = get16(&f[pos]);
    const std::uint16_t len = get16(&f[pos + 2]);
    pos += 4;
    if (len > f.size() - pos)
      return scan_error{status::invalid_optional_param_stream,
                        fmt::format("TLV 0x{:04X} length {} runs past the PDU", t, len)};
    if (out.size() >= max_tlvs)
      return scan_error{status::invalid_optional_param_stream,
                        fmt::format("more than {} TLVs", max_tlvs)};
    out.push_back(tlv{t, std::string(reinterpret_cast<const char*>(f.data() + pos), len)});
    pos += len;
  }
  return std::nullopt;
}

// Values libsmpp34 accepts (def_list/addr_ton.list, addr_npi.list); others are normalised for
// it and restored afterwards.
bool lib_accepts_ton(std::uint8_t v) {
  return v <= 6;
}
bool lib_accepts_npi(std::uint8_t v) {
  switch (v) {
    case 0:
    case 1:
    case 3:
    case 4:
    case 6:
    case 8:
    case 9:
    case 10:
    case 14:
    case 18:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// libsmpp34 structs: zeroed on construction, TLV list destroyed on every path (RAII).

template <class T>
struct lib_struct {
  T s;
  lib_struct() { std::memset(&s, 0, sizeof s); }
  ~lib_struct() {
    if constexpr (requires { s.tlv; }) {
      if (s.tlv != nullptr) destroy_tlv(s.tlv);
    }
  }
  lib_struct(const lib_struct&) = delete;
  lib_struct& operator=(const lib_struct&) = delete;
};

std::string cstr_of(const std::uint8_t* p, std::size_t max) {
  const void* nul = std::memchr(p, 0, max);
  return std::string(
      reinterpret_cast<const char*>(p),
      nul ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - p) : max);
}

std::string lib_error() {
  std::string e(smpp34_strerror, strnlen(smpp34_strerror, sizeof smpp34_strerror));
  if (e.size() > 300) e.resize(300);
  return e;
}

// Mandatory part, normalised for libsmpp34: header with status 0 and a valid sequence number,
// strict-valued fields replaced, deliver_sm time fields emptied, one extra zero byte after.
struct scratch {
  std::array<std::uint8_t, 1024> bytes{};
  std::size_t size = 0;
};

void build_scratch(std::span<const std::uint8_t> f, const layout& l, std::uint32_t id, scratch& s) {
  std::size_t o = header_size;
  auto& b = s.bytes;
  for (std::size_t i = 0; i < l.specs.size(); ++i) {
    const field_spec& spec = l.specs[i];
    const field_at a = l.at[i];
    switch (spec.k) {
      case kind::u8: {
        std::uint8_t v = f[a.offset];
        if (spec.r == role::ton && !lib_accepts_ton(v)) v = 0;
        if (spec.r == role::npi && !lib_accepts_npi(v)) v = 0;
        if (spec.r == role::interface_version) v = 0x34;
        b[o++] = v;
        break;
      }
      case kind::cstr:
        if (!(spec.r == role::empty_in_deliver &&
              id == static_cast<std::uint32_t>(command::deliver_sm))) {
          std::memcpy(&b[o], f.data() + a.offset, a.length);
          o += a.length;
        }
        b[o++] = 0;
        break;
      case kind::sm:
        b[o++] = static_cast<std::uint8_t>(a.length);
        std::memcpy(&b[o], f.data() + a.offset, a.length);
        o += a.length;
        break;
    }
  }
  put32(&b[0], static_cast<std::uint32_t>(o));
  put32(&b[4], id);
  put32(&b[8], 0);
  put32(&b[12], 1);
  b[o] = 0;  // defence in depth against C-string over-reads
  s.size = o;
}

template <class T>
bool lib_unpack(std::uint32_t id, lib_struct<T>& ls, const scratch& s, std::string& err) {
  if (smpp34_unpack(id, &ls.s, const_cast<std::uint8_t*>(s.bytes.data()),
                    static_cast<int>(s.size)) != 0) {
    err = lib_error();
    return false;
  }
  return true;
}

std::string raw_field(std::span<const std::uint8_t> f, const field_at& a) {
  return std::string(reinterpret_cast<const char*>(f.data() + a.offset), a.length);
}

template <class T>
bind_body bind_from(const T& s, std::span<const std::uint8_t> f, const layout& l) {
  bind_body b;
  b.system_id = cstr_of(s.system_id, sizeof s.system_id);
  b.password = cstr_of(s.password, sizeof s.password);
  b.system_type = cstr_of(s.system_type, sizeof s.system_type);
  b.interface_version = f[l.at[3].offset];
  b.address_range = {f[l.at[4].offset], f[l.at[5].offset],
                     cstr_of(s.address_range, sizeof s.address_range)};
  return b;
}

template <class T>
sm_body sm_from(const T& s, std::span<const std::uint8_t> f, const layout& l) {
  sm_body b;
  b.service_type = cstr_of(s.service_type, sizeof s.service_type);
  b.source = {f[l.at[1].offset], f[l.at[2].offset], cstr_of(s.source_addr, sizeof s.source_addr)};
  b.destination = {f[l.at[4].offset], f[l.at[5].offset],
                   cstr_of(s.destination_addr, sizeof s.destination_addr)};
  b.esm_class = s.esm_class;
  b.protocol_id = s.protocol_id;
  b.priority_flag = s.priority_flag;
  b.schedule_delivery_time = raw_field(f, l.at[10]);
  b.validity_period = raw_field(f, l.at[11]);
  b.registered_delivery = s.registered_delivery;
  b.replace_if_present_flag = s.replace_if_present_flag;
  b.data_coding = s.data_coding;
  b.sm_default_msg_id = s.sm_default_msg_id;
  b.short_message.assign(reinterpret_cast<const char*>(s.short_message), s.sm_length);
  return b;
}

template <class T>
bool decode_bind(std::uint32_t id, std::span<const std::uint8_t> f, const layout& l,
                 const scratch& sc, body& out, std::string& err) {
  lib_struct<T> ls;
  if (!lib_unpack(id, ls, sc, err)) return false;
  out = bind_from(ls.s, f, l);
  return true;
}

template <class T>
bool decode_bind_resp(std::uint32_t id, const layout& l, const scratch& sc, body& out,
                      std::string& err) {
  bind_resp_body b;
  if (l.body_present) {
    lib_struct<T> ls;
    if (!lib_unpack(id, ls, sc, err)) return false;
    b.system_id = cstr_of(ls.s.system_id, sizeof ls.s.system_id);
  }
  out = std::move(b);
  return true;
}

template <class T>
bool decode_message_id(std::uint32_t id, const layout& l, const scratch& sc, body& out,
                       std::string& err) {
  message_id_body b;
  if (l.body_present) {
    lib_struct<T> ls;
    if (!lib_unpack(id, ls, sc, err)) return false;
    b.message_id = cstr_of(ls.s.message_id, sizeof ls.s.message_id);
  }
  out = std::move(b);
  return true;
}

std::optional<header> header_of(std::span<const std::uint8_t> b) {
  if (b.size() < header_size) return std::nullopt;
  return header{get32(&b[0]), get32(&b[4]), get32(&b[8]), get32(&b[12])};
}

}  // namespace

std::optional<header> peek_header(std::span<const std::uint8_t> bytes) {
  return header_of(bytes);
}

decode_result decode(std::span<const std::uint8_t> f, const codec_limits& limits) {
  const auto h = header_of(f);
  if (!h) return decode_error{{}, status::invalid_command_length, "shorter than a header"};
  if (h->command_length != f.size() || h->command_length < header_size ||
      h->command_length > std::min(limits.max_command_length, absolute_max_command_length))
    return decode_error{*h, status::invalid_command_length,
                        fmt::format("command_length {} out of bounds", h->command_length)};

  const std::uint32_t id = h->command_id;
  pdu p{id, h->command_status, h->sequence_number, empty_body{}};
  const auto specs = specs_for(id);
  const bool known = !specs.empty() || id == static_cast<std::uint32_t>(command::generic_nack) ||
                     id == static_cast<std::uint32_t>(command::unbind) ||
                     id == static_cast<std::uint32_t>(command::unbind_resp) ||
                     id == static_cast<std::uint32_t>(command::enquire_link) ||
                     id == static_cast<std::uint32_t>(command::enquire_link_resp);
  if (!known)
    return decode_error{*h, status::invalid_command_id,
                        fmt::format("unknown command_id 0x{:08X}", id)};
  // A request with sequence 0 is answered with an error; a response with sequence 0 matches
  // nothing and is dropped by the link.
  if (h->sequence_number == 0 && !is_response(id))
    return decode_error{*h, status::system_error, "sequence_number 0"};
  if (specs.empty()) return p;  // header-only PDUs; a stray body is ignored

  // An error response carries no information beyond its header; accept any body (some SMSCs
  // send a message_id with an error status, funbox/smppex#6) and ignore it, as encode() writes
  // none: keeping a body that parsed would make decode(encode(p)) != p.
  if (is_response(id) && h->command_status != status::ok)
    return pdu{id, h->command_status, h->sequence_number, p.make_response().body};

  auto scanned = scan_layout(f, id);
  if (auto* e = std::get_if<scan_error>(&scanned))
    return decode_error{*h, e->status, std::move(e->reason)};
  const layout& l = std::get<layout>(scanned);
  tlv_list tlvs;
  if (l.body_present) {
    if (auto e = scan_tlvs(f, l.mandatory_end, limits.max_tlvs, tlvs))
      return decode_error{*h, e->status, std::move(e->reason)};
  }

  single_thread_guard guard;
  scratch sc;
  if (l.body_present) build_scratch(f, l, id, sc);
  std::string err;
  bool ok = false;
  switch (static_cast<command>(id)) {
    case command::bind_receiver:
      ok = decode_bind<bind_receiver_t>(id, f, l, sc, p.body, err);
      break;
    case command::bind_transmitter:
      ok = decode_bind<bind_transmitter_t>(id, f, l, sc, p.body, err);
      break;
    case command::bind_transceiver:
      ok = decode_bind<bind_transceiver_t>(id, f, l, sc, p.body, err);
      break;
    case command::bind_receiver_resp:
      ok = decode_bind_resp<bind_receiver_resp_t>(id, l, sc, p.body, err);
      break;
    case command::bind_transmitter_resp:
      ok = decode_bind_resp<bind_transmitter_resp_t>(id, l, sc, p.body, err);
      break;
    case command::bind_transceiver_resp:
      ok = decode_bind_resp<bind_transceiver_resp_t>(id, l, sc, p.body, err);
      break;
    case command::submit_sm: {
      lib_struct<submit_sm_t> ls;
      if ((ok = lib_unpack(id, ls, sc, err))) p.body = sm_from(ls.s, f, l);
      break;
    }
    case command::deliver_sm: {
      lib_struct<deliver_sm_t> ls;
      if ((ok = lib_unpack(id, ls, sc, err))) p.body = sm_from(ls.s, f, l);
      break;
    }
    case command::data_sm: {
      lib_struct<data_sm_t> ls;
      if ((ok = lib_unpack(id, ls, sc, err))) {
        data_sm_body b;
        b.service_type = cstr_of(ls.s.service_type, sizeof ls.s.service_type);
        b.source = {f[l.at[1].offset], f[l.at[2].offset],
                    cstr_of(ls.s.source_addr, sizeof ls.s.source_addr)};
        b.destination = {f[l.at[4].offset], f[l.at[5].offset],
                         cstr_of(ls.s.destination_addr, sizeof ls.s.destination_addr)};
        b.esm_class = ls.s.esm_class;
        b.registered_delivery = ls.s.registered_delivery;
        b.data_coding = ls.s.data_coding;
        p.body = std::move(b);
      }
      break;
    }
    case command::submit_sm_resp:
      ok = decode_message_id<submit_sm_resp_t>(id, l, sc, p.body, err);
      break;
    case command::deliver_sm_resp:
      ok = decode_message_id<deliver_sm_resp_t>(id, l, sc, p.body, err);
      break;
    case command::data_sm_resp:
      ok = decode_message_id<data_sm_resp_t>(id, l, sc, p.body, err);
      break;
    default:
      break;
  }
  if (!ok) return decode_error{*h, status::system_error, "libsmpp34: " + err};
  std::visit(
      [&](auto& b) {
        if constexpr (requires { b.tlvs; }) b.tlvs = std::move(tlvs);
      },
      p.body);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Encoding.

namespace {

std::optional<std::string> put_cstr(std::uint8_t* dst, std::size_t cap, const std::string& v,
                                    const char* name) {
  if (v.size() + 1 > cap) return fmt::format("{} longer than {} bytes", name, cap - 1);
  if (v.find('\0') != std::string::npos) return fmt::format("{} contains a NUL", name);
  std::memcpy(dst, v.data(), v.size());
  dst[v.size()] = 0;
  return std::nullopt;
}

#define USSDPAY_PUT(field, value) \
  if (auto e = put_cstr(ls.s.field, sizeof ls.s.field, (value), #field)) return e;

std::uint8_t lib_ton(std::uint8_t v) {
  return lib_accepts_ton(v) ? v : 0;
}
std::uint8_t lib_npi(std::uint8_t v) {
  return lib_accepts_npi(v) ? v : 0;
}

template <class T>
std::optional<std::string> fill_bind(lib_struct<T>& ls, const bind_body& b) {
  USSDPAY_PUT(system_id, b.system_id);
  USSDPAY_PUT(password, b.password);
  USSDPAY_PUT(system_type, b.system_type);
  USSDPAY_PUT(address_range, b.address_range.addr);
  ls.s.interface_version = 0x34;
  ls.s.addr_ton = lib_ton(b.address_range.ton);
  ls.s.addr_npi = lib_npi(b.address_range.npi);
  return std::nullopt;
}

template <class T>
std::optional<std::string> fill_sm(lib_struct<T>& ls, const sm_body& b, bool deliver) {
  USSDPAY_PUT(service_type, b.service_type);
  USSDPAY_PUT(source_addr, b.source.addr);
  USSDPAY_PUT(destination_addr, b.destination.addr);
  if (deliver) {
    if (!b.schedule_delivery_time.empty() || !b.validity_period.empty())
      return std::string("deliver_sm time fields must be empty");
  } else {
    USSDPAY_PUT(schedule_delivery_time, b.schedule_delivery_time);
    USSDPAY_PUT(validity_period, b.validity_period);
  }
  // libsmpp34 packs at most 253 octets (its bound check uses >=); longer text belongs in
  // message_payload.
  if (b.short_message.size() > 253)
    return fmt::format("short_message of {} octets; use message_payload above 253",
                       b.short_message.size());
  ls.s.source_addr_ton = lib_ton(b.source.ton);
  ls.s.source_addr_npi = lib_npi(b.source.npi);
  ls.s.dest_addr_ton = lib_ton(b.destination.ton);
  ls.s.dest_addr_npi = lib_npi(b.destination.npi);
  ls.s.esm_class = b.esm_class;
  ls.s.protocol_id = b.protocol_id;
  ls.s.priority_flag = b.priority_flag;
  ls.s.registered_delivery = b.registered_delivery;
  ls.s.replace_if_present_flag = b.replace_if_present_flag;
  ls.s.data_coding = b.data_coding;
  ls.s.sm_default_msg_id = b.sm_default_msg_id;
  ls.s.sm_length = static_cast<std::uint8_t>(b.short_message.size());
  std::memcpy(ls.s.short_message, b.short_message.data(), b.short_message.size());
  return std::nullopt;
}

#undef USSDPAY_PUT

template <class T>
std::optional<std::string> lib_pack(std::uint32_t id, lib_struct<T>& ls, scratch& sc) {
  ls.s.command_id = id;
  ls.s.command_status = 0;
  ls.s.sequence_number = 1;
  int len = 0;
  if (smpp34_pack(id, sc.bytes.data(), static_cast<int>(sc.bytes.size()), &len, &ls.s) != 0)
    return "libsmpp34: " + lib_error();
  sc.size = static_cast<std::size_t>(len);
  return std::nullopt;
}

// Writes the values libsmpp34 could not take (TON/NPI/interface_version) into its output.
void restore_strict_fields(scratch& sc, std::uint32_t id, const body& b) {
  auto scanned = scan_layout(std::span<const std::uint8_t>(sc.bytes.data(), sc.size), id);
  auto* l = std::get_if<layout>(&scanned);
  if (l == nullptr) return;  // cannot happen: we just packed it
  std::array<std::uint8_t, max_fields> values{};
  bool have = false;
  if (auto* bb = std::get_if<bind_body>(&b)) {
    values[3] = bb->interface_version;
    values[4] = bb->address_range.ton;
    values[5] = bb->address_range.npi;
    have = true;
  } else if (auto* sm = std::get_if<sm_body>(&b)) {
    values[1] = sm->source.ton, values[2] = sm->source.npi;
    values[4] = sm->destination.ton, values[5] = sm->destination.npi;
    have = true;
  } else if (auto* ds = std::get_if<data_sm_body>(&b)) {
    values[1] = ds->source.ton, values[2] = ds->source.npi;
    values[4] = ds->destination.ton, values[5] = ds->destination.npi;
    have = true;
  }
  if (!have) return;
  for (std::size_t i = 0; i < l->specs.size(); ++i)
    if (l->specs[i].r == role::ton || l->specs[i].r == role::npi ||
        l->specs[i].r == role::interface_version)
      sc.bytes[l->at[i].offset] = values[i];
}

template <class T>
std::optional<std::string> pack_bind(std::uint32_t id, const bind_body& b, scratch& sc) {
  lib_struct<T> ls;
  if (auto e = fill_bind(ls, b)) return e;
  return lib_pack(id, ls, sc);
}

template <class T>
std::optional<std::string> pack_bind_resp(std::uint32_t id, const bind_resp_body& b, scratch& sc) {
  lib_struct<T> ls;
  if (auto e = put_cstr(ls.s.system_id, sizeof ls.s.system_id, b.system_id, "system_id")) return e;
  return lib_pack(id, ls, sc);
}

template <class T>
std::optional<std::string> pack_message_id(std::uint32_t id, const message_id_body& b,
                                           scratch& sc) {
  lib_struct<T> ls;
  if (auto e = put_cstr(ls.s.message_id, sizeof ls.s.message_id, b.message_id, "message_id"))
    return e;
  return lib_pack(id, ls, sc);
}

template <class T, std::size_t I = 0>
constexpr std::size_t body_index() {
  if constexpr (std::is_same_v<std::variant_alternative_t<I, body>, T>)
    return I;
  else
    return body_index<T, I + 1>();
}

// Whether b is the body type of command id (empty_body for header-only and unknown commands).
// An error response is header-only on the wire, so it may also be given an empty_body.
bool body_fits(std::uint32_t id, std::uint32_t command_status, const body& b) {
  std::size_t want = body_index<empty_body>();
  switch (static_cast<command>(id)) {
    case command::bind_receiver:
    case command::bind_transmitter:
    case command::bind_transceiver:
      want = body_index<bind_body>();
      break;
    case command::bind_receiver_resp:
    case command::bind_transmitter_resp:
    case command::bind_transceiver_resp:
      want = body_index<bind_resp_body>();
      break;
    case command::submit_sm:
    case command::deliver_sm:
      want = body_index<sm_body>();
      break;
    case command::data_sm:
      want = body_index<data_sm_body>();
      break;
    case command::submit_sm_resp:
    case command::deliver_sm_resp:
    case command::data_sm_resp:
      want = body_index<message_id_body>();
      break;
    default:
      break;
  }
  return b.index() == want ||
         (std::holds_alternative<empty_body>(b) && is_response(id) && command_status != status::ok);
}

}  // namespace

std::optional<std::string> encode(const pdu& p, std::string& out) {
  const std::uint32_t id = p.command_id;
  if (!body_fits(id, p.command_status, p.body))
    return fmt::format("{} with the wrong body", command_name(id));
  const tlv_list* tlvs = nullptr;
  std::visit(
      [&](const auto& b) {
        if constexpr (requires { b.tlvs; }) tlvs = &b.tlvs;
      },
      p.body);

  scratch sc;
  sc.size = header_size;  // header-only unless a body is packed below
  // An error response has no body (SMPP 3.4 section 4.4.2).
  const bool with_body =
      !(is_response(id) && p.command_status != status::ok) && !specs_for(id).empty();
  if (with_body) {
    single_thread_guard guard;
    std::optional<std::string> e;
    auto mismatch = [&] { return fmt::format("{} with the wrong body", command_name(id)); };
    switch (static_cast<command>(id)) {
      case command::bind_receiver:
        e = pack_bind<bind_receiver_t>(id, std::get<bind_body>(p.body), sc);
        break;
      case command::bind_transmitter:
        e = pack_bind<bind_transmitter_t>(id, std::get<bind_body>(p.body), sc);
        break;
      case command::bind_transceiver:
        e = pack_bind<bind_transceiver_t>(id, std::get<bind_body>(p.body), sc);
        break;
      case command::bind_receiver_resp:
        e = pack_bind_resp<bind_receiver_resp_t>(id, std::get<bind_resp_body>(p.body), sc);
        break;
      case command::bind_transmitter_resp:
        e = pack_bind_resp<bind_transmitter_resp_t>(id, std::get<bind_resp_body>(p.body), sc);
        break;
      case command::bind_transceiver_resp:
        e = pack_bind_resp<bind_transceiver_resp_t>(id, std::get<bind_resp_body>(p.body), sc);
        break;
      case command::submit_sm:
      case command::deliver_sm: {
        auto* b = std::get_if<sm_body>(&p.body);
        if (b == nullptr) return mismatch();
        if (id == static_cast<std::uint32_t>(command::submit_sm)) {
          lib_struct<submit_sm_t> ls;
          if (!(e = fill_sm(ls, *b, false))) e = lib_pack(id, ls, sc);
        } else {
          lib_struct<deliver_sm_t> ls;
          if (!(e = fill_sm(ls, *b, true))) e = lib_pack(id, ls, sc);
        }
        break;
      }
      case command::data_sm: {
        auto* b = std::get_if<data_sm_body>(&p.body);
        if (b == nullptr) return mismatch();
        lib_struct<data_sm_t> ls;
        auto& s = ls.s;
        if (!(e = put_cstr(s.service_type, sizeof s.service_type, b->service_type,
                           "service_type")) &&
            !(e = put_cstr(s.source_addr, sizeof s.source_addr, b->source.addr, "source_addr")) &&
            !(e = put_cstr(s.destination_addr, sizeof s.destination_addr, b->destination.addr,
                           "destination_addr"))) {
          s.source_addr_ton = lib_ton(b->source.ton);
          s.source_addr_npi = lib_npi(b->source.npi);
          s.dest_addr_ton = lib_ton(b->destination.ton);
          s.dest_addr_npi = lib_npi(b->destination.npi);
          s.esm_class = b->esm_class;
          s.registered_delivery = b->registered_delivery;
          s.data_coding = b->data_coding;
          e = lib_pack(id, ls, sc);
        }
        break;
      }
      case command::submit_sm_resp:
      case command::deliver_sm_resp:
      case command::data_sm_resp: {
        auto* b = std::get_if<message_id_body>(&p.body);
        if (b == nullptr) return mismatch();
        if (id == static_cast<std::uint32_t>(command::submit_sm_resp))
          e = pack_message_id<submit_sm_resp_t>(id, *b, sc);
        else if (id == static_cast<std::uint32_t>(command::deliver_sm_resp))
          e = pack_message_id<deliver_sm_resp_t>(id, *b, sc);
        else
          e = pack_message_id<data_sm_resp_t>(id, *b, sc);
        break;
      }
      default:
        break;
    }
    if (e) return e;
    restore_strict_fields(sc, id, p.body);
  }

  std::size_t tlv_bytes = 0;
  if (with_body && tlvs != nullptr) {
    for (const tlv& t : *tlvs) {
      if (t.value.size() > 0xFFFF) return fmt::format("TLV 0x{:04X} too long", t.tag);
      tlv_bytes += 4 + t.value.size();
    }
  }
  const std::size_t total = sc.size + tlv_bytes;
  if (total > absolute_max_command_length) return std::string("PDU longer than 65535 bytes");
  put32(&sc.bytes[0], static_cast<std::uint32_t>(total));
  put32(&sc.bytes[4], id);
  put32(&sc.bytes[8], p.command_status);
  put32(&sc.bytes[12], p.sequence_number);
  out.reserve(out.size() + total);
  out.append(reinterpret_cast<const char*>(sc.bytes.data()), sc.size);
  if (with_body && tlvs != nullptr) {
    for (const tlv& t : *tlvs) {
      append16(out, t.tag);
      append16(out, static_cast<std::uint16_t>(t.value.size()));
      out.append(t.value);
    }
  }
  (void)append32;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Framing.

std::span<std::uint8_t> framer::prepare(std::size_t min_space) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buf_.size() - end_ < min_space) {
    // Compact first; grow only if the buffered partial frame needs it.
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < min_space) buf_.resize(end_ + min_space);
  }
  return {buf_.data() + end_, buf_.size() - end_};
}

void framer::commit(std::size_t n) {
  end_ += n;
}

void framer::feed(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;  // memcpy from/to a null pointer is undefined even for 0 bytes
  auto dst = prepare(bytes.size());
  std::memcpy(dst.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

framer::next_result framer::next() {
  const std::span<const std::uint8_t> avail(buf_.data() + begin_, end_ - begin_);
  const auto h = header_of(avail);
  if (!h) {
    // Even before a whole header, the length field alone can be judged.
    return need_more{};
  }
  const std::uint32_t max = std::min(limits_.max_command_length, absolute_max_command_length);
  if (h->command_length < header_size || h->command_length > max)
    return framing_error{
        *h, fmt::format("command_length {} outside {}..{}", h->command_length, header_size, max)};
  if (avail.size() < h->command_length) return need_more{};
  begin_ += h->command_length;
  return avail.first(h->command_length);
}

}  // namespace ussdpay::smpp
