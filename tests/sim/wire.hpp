// Direct writers for the two PDUs the simulator sends on every USSD hop: a deliver_sm from the
// subscriber and an ESME_ROK submit_sm_resp. They write the bytes the codec
// (gateway/smpp/codec.hpp) would write, without libsmpp34's cost (about 2.5 us a hop, most of the
// simulator's CPU; see docs/benchmarks.md), so the simulator is not the bottleneck of a load run.
// Anything outside the simple case (a field too long, a NUL in a C-string, time fields in a
// deliver_sm) returns false and the caller falls back to the codec, which reports it. Decoding
// stays with the codec: what the gateway sends is always checked by the gateway's own rules.
// tests/unit/sim/wire_test.cpp checks the bytes are identical to the codec's.
#pragma once

#include <cstdint>
#include <string>

#include "gateway/smpp/pdu.hpp"

namespace ussdpay::sim {

/// Appends deliver_sm(seq, b) to out; false (out unchanged) when the codec must do it.
bool write_deliver_sm(std::uint32_t seq, const smpp::sm_body& b, std::string& out);
/// Appends an ESME_ROK submit_sm_resp(seq, message_id) to out; false (out unchanged) when the
/// codec must do it.
bool write_submit_sm_resp(std::uint32_t seq, const std::string& message_id, std::string& out);

}  // namespace ussdpay::sim
