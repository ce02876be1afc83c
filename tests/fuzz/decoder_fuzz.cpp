// libFuzzer target for the SMPP codec: framer -> decode -> encode -> decode.
//
// Input layout: byte 0 selects how the rest is chunked into the framer and which limits apply;
// bytes 1.. are the stream as a peer would send it (the seed corpus holds one PDU per file,
// after its selector byte). Invariants checked (abort on violation):
//   * the framer yields the same frames and the same framing error whatever the chunking;
//   * decode never crashes, and a decode_error keeps the frame's header;
//   * a decoded pdu that encodes re-decodes to an equal pdu, and encodes to the same bytes;
//   * a failed encode leaves its output untouched.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "gateway/smpp/codec.hpp"

namespace smpp = ussdpay::smpp;

namespace {

[[noreturn]] void fail(const char* what, std::span<const std::uint8_t> frame) {
  std::fprintf(stderr, "decoder_fuzz: %s\nframe (%zu bytes):", what, frame.size());
  for (std::uint8_t b : frame) std::fprintf(stderr, " %02x", b);
  std::fputc('\n', stderr);
  std::abort();
}

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct framed {
  std::vector<std::string> frames;
  bool error = false;  // the stream ended in a framing error
  smpp::header error_hdr;
};

// Feeds `stream` into a framer `chunk(i)` bytes at a time, taking frames as they complete.
template <class Chunk>
framed split(std::span<const std::uint8_t> stream, const smpp::codec_limits& limits, Chunk chunk) {
  framed out;
  smpp::framer f(limits);
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < stream.size(); ++i) {
    const std::size_t n = std::min(chunk(i), stream.size() - pos);
    if (i % 2 == 0) {
      f.feed(stream.subspan(pos, n));
    } else {
      auto room = f.prepare(n);
      if (room.size() < n) fail("prepare gave less room than asked", stream.subspan(pos, n));
      std::copy_n(stream.data() + pos, n, room.data());
      f.commit(n);
    }
    pos += n;
    for (;;) {
      auto r = f.next();
      if (std::holds_alternative<smpp::framer::need_more>(r)) break;
      if (auto* e = std::get_if<smpp::framer::framing_error>(&r)) {
        out.error = true;
        out.error_hdr = e->hdr;
        return out;  // the link would be dropped here
      }
      const auto frame = std::get<std::span<const std::uint8_t>>(r);
      out.frames.emplace_back(reinterpret_cast<const char*>(frame.data()), frame.size());
    }
  }
  return out;
}

bool same_header(const smpp::header& a, const smpp::header& b) {
  return a.command_length == b.command_length && a.command_id == b.command_id &&
         a.command_status == b.command_status && a.sequence_number == b.sequence_number;
}

void check_frame(const std::string& frame_bytes, const smpp::codec_limits& limits) {
  const auto frame = bytes_of(frame_bytes);
  const auto hdr = smpp::peek_header(frame);
  if (!hdr || hdr->command_length != frame.size()) fail("framer gave a bad frame", frame);

  auto r = smpp::decode(frame, limits);
  if (auto* e = std::get_if<smpp::decode_error>(&r)) {
    if (!same_header(e->hdr, *hdr)) fail("decode_error lost the header", frame);
    if (e->status == smpp::status::ok) fail("decode_error with status 0", frame);
    return;
  }
  const smpp::pdu& p = std::get<smpp::pdu>(r);
  if (p.command_id != hdr->command_id || p.command_status != hdr->command_status ||
      p.sequence_number != hdr->sequence_number)
    fail("decoded pdu disagrees with the header", frame);

  const std::string prefix = "prefix";
  std::string out = prefix;
  if (auto err = smpp::encode(p, out)) {
    if (out != prefix) fail("failed encode changed its output", frame);
    return;  // not every decodable value is encodable (e.g. 254-octet short_message)
  }
  const std::string encoded = out.substr(prefix.size());
  auto r2 = smpp::decode(bytes_of(encoded), limits);
  if (auto* e = std::get_if<smpp::decode_error>(&r2)) {
    std::fprintf(stderr, "re-decode error 0x%X: %s\nre-encoded:", e->status, e->reason.c_str());
    for (char c : encoded) std::fprintf(stderr, " %02x", static_cast<std::uint8_t>(c));
    std::fputc('\n', stderr);
    fail("re-encoded pdu does not decode", frame);
  }
  if (!(std::get<smpp::pdu>(r2) == p)) {
    std::fputs("re-encoded:", stderr);
    for (char c : encoded) std::fprintf(stderr, " %02x", static_cast<std::uint8_t>(c));
    std::fputc('\n', stderr);
    fail("decode(encode(decode(frame))) != decode(frame)", frame);
  }
  std::string again;
  if (smpp::encode(std::get<smpp::pdu>(r2), again) || again != encoded)
    fail("encoding is not deterministic", frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t sel = data[0];
  const std::span<const std::uint8_t> stream(data + 1, size - 1);

  smpp::codec_limits limits;
  if (sel & 0x80) {  // the most a peer could be allowed: many TLVs, the spec's largest PDU
    limits.max_tlvs = 100;
    limits.max_command_length = smpp::absolute_max_command_length;
  }

  // Reference: the whole stream at once. Then the chunking chosen by the selector: a fixed
  // small size, or sizes cycling through a short pattern.
  const framed whole = split(stream, limits, [&](std::size_t) { return stream.size(); });
  const std::size_t fixed = 1 + (sel & 0x0F);
  const std::size_t pattern[] = {1, 3, 16, 5, 300, 2, 64};
  const std::size_t phase = (sel >> 4) & 0x07;
  const framed chunked =
      (sel & 0x40) ? split(stream, limits, [&](std::size_t i) { return pattern[(i + phase) % 7]; })
                   : split(stream, limits, [&](std::size_t) { return fixed; });
  if (whole.frames != chunked.frames || whole.error != chunked.error ||
      (whole.error && !same_header(whole.error_hdr, chunked.error_hdr)))
    fail("framer output depends on chunking", stream);

  for (const std::string& f : whole.frames) check_frame(f, limits);
  return 0;
}
