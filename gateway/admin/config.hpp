// [admin]: the admin API's settings, loaded by gateway/config/ (no Beast, no Asio here).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ussdpay::admin {

/// [admin]: the HTTP admin API and metrics.
struct admin_config {
  /// "HOST:PORT" to listen on; "" turns the API off. Loopback by default: serve TLS
  /// (tls_cert_file) before exposing it.
  std::string listen = "127.0.0.1:8780";
  /// Client addresses served: CIDR prefixes or single addresses, comma-separated
  /// ("10.1.0.0/16, 192.0.2.7, ::1"); "0.0.0.0/0, ::/0" serves anyone. A connection from any
  /// other address is closed at once, unanswered, and logged (warn) with that address.
  /// Loopback only by default; an empty list is a configuration error.
  std::string allow = "127.0.0.0/8, ::1/128";
  /// The bearer token every request but /health and /ready must carry
  /// ("Authorization: Bearer <token>"), from token_file's first line or USSDPAY_ADMIN_TOKEN. At
  /// least 16 characters. Without one, only /health and /ready answer.
  std::string token_file;
  std::string token;
  /// One request (headers and body) must arrive within this; an idle keep-alive connection is
  /// closed after it too.
  std::chrono::milliseconds request_timeout{10'000};
  std::uint32_t max_connections = 64;
  /// Serve HTTPS with this certificate (PEM, the chain after it) and its private key (PEM).
  /// Both empty: plain HTTP. One without the other is a configuration error.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// For the `ussdpay` CLI when TLS is on: the CA (PEM) that signed the admin certificate;
  /// empty: the system CAs. The certificate must also name the host connected to (an IP SAN
  /// for an address such as 127.0.0.1).
  std::string tls_ca_file;

  bool tls() const { return !tls_cert_file.empty(); }
};

}  // namespace ussdpay::admin
