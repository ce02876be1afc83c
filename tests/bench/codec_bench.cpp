// ussdpay-codecbench: nanoseconds per call of the codec operations on the submit_sm hot path,
// in-process, no sockets, in CPU time of the calling thread. It shows how much of ussdpay-linkbench's CPU per message the codec
// (the facade plus libsmpp34) takes, and what a direct encoder/decoder for the same bytes
// would cost, for comparison only (the gateway does not use these "direct" functions):
//
//   codecbench op=encode_submit_sm iterations=N ns_per_op=...      ESME side, per request
//   codecbench op=decode_submit_sm_resp ...                        ESME side, per response
//   codecbench op=decode_submit_sm ...                             SMSC (simulator) side
//   codecbench op=encode_submit_sm_resp ...                        SMSC (simulator) side
//   codecbench op=direct_encode_submit_sm ...                      same bytes, no libsmpp34
//   codecbench op=direct_decode_submit_sm_resp ...                 same fields, no libsmpp34
//   codecbench op=copy_submit_pdu ...                              copying the request pdu
//
// Exit status 1 if a direct function disagrees with the codec.
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "gateway/smpp/codec.hpp"

namespace {

using namespace ussdpay::smpp;

void put32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}
void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void cstr(std::string& out, const std::string& s) {
  out.append(s);
  out.push_back('\0');
}

/// The submit_sm wire format written directly (no validation: the bench feeds valid values).
void direct_encode_submit(const pdu& p, std::string& out) {
  const auto& b = std::get<sm_body>(p.body);
  const std::size_t start = out.size();
  put32(out, 0);
  put32(out, p.command_id);
  put32(out, p.command_status);
  put32(out, p.sequence_number);
  cstr(out, b.service_type);
  out.push_back(static_cast<char>(b.source.ton));
  out.push_back(static_cast<char>(b.source.npi));
  cstr(out, b.source.addr);
  out.push_back(static_cast<char>(b.destination.ton));
  out.push_back(static_cast<char>(b.destination.npi));
  cstr(out, b.destination.addr);
  out.push_back(static_cast<char>(b.esm_class));
  out.push_back(static_cast<char>(b.protocol_id));
  out.push_back(static_cast<char>(b.priority_flag));
  cstr(out, b.schedule_delivery_time);
  cstr(out, b.validity_period);
  out.push_back(static_cast<char>(b.registered_delivery));
  out.push_back(static_cast<char>(b.replace_if_present_flag));
  out.push_back(static_cast<char>(b.data_coding));
  out.push_back(static_cast<char>(b.sm_default_msg_id));
  out.push_back(static_cast<char>(b.short_message.size()));
  out.append(b.short_message);
  for (const auto& t : b.tlvs) {
    put16(out, t.tag);
    put16(out, static_cast<std::uint16_t>(t.value.size()));
    out.append(t.value);
  }
  const auto len = static_cast<std::uint32_t>(out.size() - start);
  out[start] = static_cast<char>(len >> 24);
  out[start + 1] = static_cast<char>(len >> 16);
  out[start + 2] = static_cast<char>(len >> 8);
  out[start + 3] = static_cast<char>(len);
}

std::uint32_t get32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

/// submit_sm_resp read directly: header, then message_id up to its NUL (bounded at 65 bytes).
pdu direct_decode_resp(std::span<const std::uint8_t> f) {
  pdu p{get32(&f[4]), get32(&f[8]), get32(&f[12]), message_id_body{}};
  if (f.size() > header_size) {
    const std::size_t max = std::min<std::size_t>(65, f.size() - header_size);
    const void* nul = std::memchr(f.data() + header_size, 0, max);
    const std::size_t n =
        nul ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - (f.data() + header_size))
            : max;
    std::get<message_id_body>(p.body).message_id.assign(
        reinterpret_cast<const char*>(f.data() + header_size), n);
  }
  return p;
}

/// This thread's CPU time, so a busy machine (other processes) does not inflate the figures.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

template <class F>
double time_ns(std::uint64_t iterations, F&& f) {
  const double t0 = thread_cpu_ns();
  for (std::uint64_t i = 0; i < iterations; ++i) f(i);
  return (thread_cpu_ns() - t0) / static_cast<double>(iterations);
}

void report(const char* op, std::uint64_t iterations, double ns) {
  fmt::print("codecbench op={} iterations={} ns_per_op={:.0f}\n", op, iterations, ns);
}

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ussdpay-codecbench: codec cost per submit_sm / submit_sm_resp"};
  std::uint64_t iterations = 200'000;
  std::uint32_t payload = 60;
  app.add_option("--iterations", iterations, "calls per operation")
      ->check(CLI::Range(1ULL, 100'000'000ULL));
  app.add_option("--payload-bytes", payload, "short_message octets")->check(CLI::Range(0U, 253U));
  CLI11_PARSE(app, argc, argv);

  // The same request ussdpay-linkbench sends.
  sm_body b;
  b.source = {0, 1, "123"};
  b.destination = {1, 1, "923001234567"};
  b.short_message.assign(payload, 'x');
  const pdu submit = make_submit(12345, b);
  pdu resp = submit.make_response();
  std::get<message_id_body>(resp.body).message_id = "5A01E240";

  std::string submit_bytes, resp_bytes, direct_bytes;
  if (encode(submit, submit_bytes) || encode(resp, resp_bytes)) {
    fmt::print(stderr, "codecbench: cannot encode the sample PDUs\n");
    return 1;
  }
  direct_encode_submit(submit, direct_bytes);
  if (direct_bytes != submit_bytes) {
    fmt::print(stderr, "codecbench: direct submit_sm encoding differs from the codec's\n");
    return 1;
  }
  {
    auto d = decode(bytes(resp_bytes));
    if (!std::holds_alternative<pdu>(d) || std::get<pdu>(d) != direct_decode_resp(bytes(resp_bytes))) {
      fmt::print(stderr, "codecbench: direct submit_sm_resp decoding differs from the codec's\n");
      return 1;
    }
  }

  std::string out;
  std::uint64_t sink = 0;
  report("encode_submit_sm", iterations, time_ns(iterations, [&](std::uint64_t) {
           out.clear();
           (void)encode(submit, out);
           sink += out.size();
         }));
  report("decode_submit_sm_resp", iterations, time_ns(iterations, [&](std::uint64_t) {
           auto d = decode(bytes(resp_bytes));
           sink += d.index();
         }));
  report("decode_submit_sm", iterations, time_ns(iterations, [&](std::uint64_t) {
           auto d = decode(bytes(submit_bytes));
           sink += d.index();
         }));
  report("encode_submit_sm_resp", iterations, time_ns(iterations, [&](std::uint64_t) {
           out.clear();
           (void)encode(resp, out);
           sink += out.size();
         }));
  report("direct_encode_submit_sm", iterations, time_ns(iterations, [&](std::uint64_t) {
           out.clear();
           direct_encode_submit(submit, out);
           sink += out.size();
         }));
  report("direct_decode_submit_sm_resp", iterations, time_ns(iterations, [&](std::uint64_t) {
           auto p = direct_decode_resp(bytes(resp_bytes));
           sink += p.sequence_number;
         }));
  report("copy_submit_pdu", iterations, time_ns(iterations, [&](std::uint64_t) {
           pdu c = submit;
           sink += c.sequence_number;
         }));
  std::fprintf(stderr, "%s", sink == 42 ? " " : "");  // keeps the loops from being optimised away
  return 0;
}
