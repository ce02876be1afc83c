// SMPP 3.4 codec facade: bytes <-> smpp::pdu.
//
// libsmpp34 is the mandated codec for mandatory PDU bodies, but a peer can crash it, it rejects
// PDUs real operators send, and its TLV parsing is type-driven (gateways.md section 7). So the
// facade never lets it see raw network bytes:
//
//   frame --> header (ours) --> bounds --> layout pre-scan (ours) --> TLV scan (ours)
//         --> normalised copy of the mandatory part --> smpp34_unpack --> smpp::pdu
//
// * The 16-byte header is decoded first, so a response is matched to its request even when its
//   body is rejected, and a rejected request still gets a response with its sequence number.
// * command_length is bounded before anything is buffered; TLVs are counted and bounded before
//   anything is unpacked. TLVs are decoded here as raw (tag, octets) and never given to
//   libsmpp34: unknown and vendor tags pass through, a TLV of unexpected length is kept raw.
// * libsmpp34 sees a zeroed struct and a copy of the mandatory part with the values it is too
//   strict about (vendor command_status, sequence 0, unlisted TON/NPI, interface_version other
//   than 0x34, time fields in deliver_sm) normalised; the originals are restored afterwards.
// * Everything runs on the calling thread; libsmpp34's error state is global, so the codec must
//   only be used from one thread (the network thread). This is checked in debug builds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "gateway/smpp/pdu.hpp"

namespace ussdpay::smpp {

constexpr std::size_t header_size = 16;
/// The spec's hard ceiling; codec_limits::max_command_length is the practical one.
constexpr std::uint32_t absolute_max_command_length = 65535;

/// Bounds on what a peer may send. Defaults fit every real operator PDU we know of.
struct codec_limits {
  /// Largest PDU accepted, header included (bytes). Larger frames drop the link.
  std::uint32_t max_command_length = 4096;
  /// Most optional parameters in one PDU. libsmpp34 overflows its error buffer at ~29.
  std::size_t max_tlvs = 16;
};

struct header {
  std::uint32_t command_length = 0;
  std::uint32_t command_id = 0;
  std::uint32_t command_status = 0;
  std::uint32_t sequence_number = 0;
};

/// Reads the header from the first 16 bytes; nullopt if fewer are given.
std::optional<header> peek_header(std::span<const std::uint8_t> bytes);

/// Why a frame could not become a pdu. `status` is what to answer a request with (as the
/// response's command_status, or in a generic_nack when the command id is unknown).
struct decode_error {
  header hdr;
  std::uint32_t status = status::system_error;
  std::string reason;
};

using decode_result = std::variant<pdu, decode_error>;

/// Decodes one whole frame (exactly command_length bytes).
decode_result decode(std::span<const std::uint8_t> frame, const codec_limits& limits = {});

/// Appends the encoding of p to out. On failure (a field too long for SMPP) out is unchanged
/// and the reason is returned.
std::optional<std::string> encode(const pdu& p, std::string& out);

/// Splits a byte stream into frames. Feed it whatever the socket gave; take frames until it
/// says it needs more. A frame whose command_length is out of bounds is a framing error: the
/// stream cannot be resynchronised and the link must be dropped.
class framer {
 public:
  explicit framer(const codec_limits& limits = {}) : limits_(limits) {}

  /// Space to read into (at least min_space bytes); call commit(n) after the read.
  std::span<std::uint8_t> prepare(std::size_t min_space = 16 * 1024);
  void commit(std::size_t n);
  /// Copies bytes in (tests, fuzzing).
  void feed(std::span<const std::uint8_t> bytes);

  struct need_more {};
  struct framing_error {
    header hdr;
    std::string reason;
  };
  using next_result = std::variant<need_more, std::span<const std::uint8_t>, framing_error>;
  /// The next whole frame. The span stays valid until the next call to any member.
  next_result next();

  std::size_t buffered() const { return end_ - begin_; }

 private:
  codec_limits limits_;
  std::vector<std::uint8_t> buf_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace ussdpay::smpp
