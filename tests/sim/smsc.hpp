// sim::smsc: the SMSC / USSD-centre side of SMPP 3.4, built from the gateway's own codec, for
// ussdpay-sim (interactive, scripted and load modes), integration tests and benchmarks.
//
// It accepts binds (checking system_id and password), answers every request, acknowledges
// submit_sm with message ids (hex or decimal), sends delivery receipts, plays USSD dialogs in
// the default dialect (design.md section 5), and has fault knobs: throttling, delayed answers,
// silence after bind, forced drops.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "gateway/smpp/codec.hpp"
#include "gateway/smpp/connection.hpp"
#include "gateway/smpp/link_fsm.hpp"
#include "gateway/smpp/pdu.hpp"

namespace ussdpay::sim {

namespace asio = boost::asio;
using std::chrono::milliseconds;

struct smsc_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  ///< 0 = any free port (see smsc::port())
  std::string system_id = "ussdpay";
  std::string password = "secret";
  std::string tls_cert_file;  ///< PEM; TLS is on when both cert and key are given
  std::string tls_key_file;
  bool decimal_message_ids = false;  ///< message ids as decimal instead of hex
  std::uint32_t throttle_first = 0;  ///< answer the first N submit_sm with ESME_RTHROTTLED
  std::uint32_t throttle_every = 0;  ///< answer every Nth submit_sm with ESME_RTHROTTLED
  milliseconds respond_delay{0};     ///< delay before answering submit_sm
  bool silent = false;               ///< accept binds, then never answer anything
  bool receipts = true;              ///< send a delivery receipt when registered_delivery asks
  milliseconds receipt_delay{20};
  std::string service_address = "123";  ///< destination_addr of dials (the short code)
  /// Answers go out after at most this many requests from one read (0 = after the whole read),
  /// as an SMSC answers each request on its own; it keeps an ESME's window from moving in one
  /// lock-step batch.
  std::uint32_t flush_every = 16;
  smpp::codec_limits limits;
};

struct smsc_stats {
  std::uint64_t connections = 0, binds_ok = 0, binds_rejected = 0, unbinds = 0;
  std::uint64_t submits = 0, submits_throttled = 0, data_sms = 0, enquire_links = 0;
  std::uint64_t deliver_sent = 0, deliver_resp_ok = 0, deliver_resp_error = 0;
  std::uint64_t generic_nacks_received = 0, decode_errors = 0;
  std::uint64_t pending_submits = 0, peak_pending_submits = 0;
  std::uint32_t bound_now = 0;
};

/// A message the ESME sent to a subscriber: a USSD screen or an SMS.
struct mt_message {
  std::string msisdn;
  std::string text;  // decoded: GSM/Latin-1 as is, UCS-2 converted to UTF-8
  bool ussd = false;
  std::uint8_t ussd_op = 0;
  bool ends_dialog = false;  // op 17 or the end bit of its_session_info
  std::string message_id;
  smpp::sm_body raw;
};

class smsc {
 public:
  smsc(asio::any_io_executor ex, smsc_options opt);
  ~smsc();
  smsc(const smsc&) = delete;
  smsc& operator=(const smsc&) = delete;

  /// Binds the listening socket (throws on failure) and starts accepting.
  void start();
  /// Closes the listener and every connection (like an SMSC crash when abrupt is true;
  /// otherwise each bound ESME gets an unbind first).
  void stop(bool abrupt = true);
  std::uint16_t port() const { return port_; }

  const smsc_stats& stats() const { return stats_; }
  smsc_options& options() { return opt_; }

  /// Every MT message (USSD screen or SMS) the ESME submits.
  std::function<void(const mt_message&)> on_mt;

  /// The subscriber dials `text` (e.g. "*123#"): a deliver_sm with ussd_service_op 1 and a new
  /// its_session_info. False if no receiver-capable bind is up.
  bool dial(const std::string& msisdn, const std::string& text);
  /// The subscriber answers the current screen: ussd_service_op 18, same session.
  bool reply(const std::string& msisdn, const std::string& text);
  /// Sends any deliver_sm (interop and fault tests).
  bool deliver(smpp::sm_body body);
  /// Drops every connection without unbinding (link failure).
  void drop_connections();

 private:
  struct connection;
  struct dialog {
    std::uint8_t session = 0;
    std::uint8_t seq = 0;  // even while open
  };
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<connection> c);
  asio::awaitable<void> writer(std::shared_ptr<connection> c);
  void handle(const std::shared_ptr<connection>& c, std::span<const std::uint8_t> frame);
  void handle_submit(const std::shared_ptr<connection>& c, smpp::pdu p);
  void send(const std::shared_ptr<connection>& c, const smpp::pdu& p);
  void schedule_receipt(const smpp::sm_body& submitted, const std::string& message_id);
  std::shared_ptr<connection> receiver();
  /// A USSD deliver_sm from the subscriber in the default dialect.
  smpp::sm_body ussd_from(const std::string& msisdn, const std::string& text, std::uint8_t op,
                          const dialog& d) const;
  std::string next_message_id();

  asio::any_io_executor ex_;
  smsc_options opt_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::uint16_t port_ = 0;
  std::set<std::shared_ptr<connection>> conns_;
  std::map<std::string, dialog> dialogs_;
  std::uint8_t next_session_ = 0;
  std::uint64_t next_message_id_ = 0x5A000000;
  smsc_stats stats_;
  std::shared_ptr<bool> alive_;
};

/// Text of a short_message for display: UCS-2 (data_coding 8) as UTF-8, others as they are.
std::string decode_text(const std::string& octets, std::uint8_t data_coding);

}  // namespace ussdpay::sim
