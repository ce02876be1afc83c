// [smpp]: where the SMSC is, how many binds, and each bind's settings (link_config, in the
// I/O-free link_fsm.hpp). Loaded by gateway/config/; no Asio here.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "gateway/smpp/link_fsm.hpp"

namespace ussdpay::smpp {

/// Where the SMSC is and how to reach it.
struct endpoint_config {
  std::string host = "127.0.0.1";          ///< SMSC host name or address
  std::uint16_t port = 2775;               ///< SMSC port
  bool tls = false;                        ///< wrap the TCP connection in TLS (OpenSSL)
  std::string tls_ca_file;                 ///< CA bundle to verify the SMSC; empty = system default
  bool tls_verify = true;                  ///< verify the SMSC certificate and host name
  milliseconds close_flush_timeout{1000};  ///< on close, time allowed to flush pending bytes
};

struct smsc_config {
  endpoint_config endpoint;
  link_config link;         ///< per bind; link.mode is overridden by `pair`
  std::uint32_t binds = 1;  ///< binds (or pairs) opened to this SMSC
  bool pair = false;        ///< a transmitter + a receiver per bind instead of a transceiver
};

}  // namespace ussdpay::smpp
