// sim::smsc: the SMSC / USSD-centre side of SMPP 3.4, built from the gateway's own codec (the
// deliver_sm and submit_sm_resp of every USSD hop are written directly, byte-identical; see
// wire.hpp), for ussdpay-sim (all its modes), integration tests and benchmarks.
//
// It accepts binds (checking system_id and password), answers every request, acknowledges
// submit_sm with message ids (hex or decimal), sends delivery receipts, plays USSD dialogs in
// one operator's dialect (smsc_options::profile; the rules are in ussd_centre.hpp) and flags
// screens that do not fit it, and has fault knobs: throttling, delayed answers, silence after
// bind, forced drops.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "gateway/smpp/codec.hpp"
#include "gateway/smpp/connection.hpp"
#include "gateway/smpp/link_fsm.hpp"
#include "gateway/smpp/pdu.hpp"
#include "gateway/ussd/profile.hpp"
#include "tests/sim/ussd_centre.hpp"

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
  bool decimal_message_ids = false;    ///< message ids as decimal instead of hex
  std::uint32_t throttle_first = 0;    ///< answer the first N submit_sm with ESME_RTHROTTLED
  std::uint32_t throttle_every = 0;    ///< answer every Nth submit_sm with ESME_RTHROTTLED
  std::uint32_t queue_full_every = 0;  ///< answer every Nth submit_sm with ESME_RMSGQFUL
  /// Answer every submit_sm with ESME_RTHROTTLED for this long after each bind (0 = never): an
  /// SMSC that warms up, or one that sheds load for a while.
  milliseconds throttle_for{0};
  /// throttle_first, throttle_every and throttle_for apply to SMS only (submit_sm without
  /// ussd_service_op); USSD screens pass: an SMSC whose store-and-forward side is the slow one.
  bool throttle_sms_only = false;
  milliseconds respond_delay{0};  ///< delay before answering submit_sm
  bool silent = false;            ///< accept binds, then never answer anything
  /// Every Nth accepted bind (the Nth, 2Nth, ...) goes silent as `silent` does: the SMSC takes
  /// the bind and then never answers or sends anything on that connection.
  std::uint32_t silent_bind_every = 0;
  bool receipts = true;  ///< send a delivery receipt when registered_delivery asks
  milliseconds receipt_delay{20};
  /// How a receipt writes the message id it is about: "same" as submit_sm_resp gave it,
  /// "other-base" (the same number in decimal if the response was hex, and the reverse), or
  /// "padded" (lower case, zero-padded to 20 characters): the forms real SMSCs mix up.
  std::string receipt_ids = "same";
  /// Where a receipt says what happened: "both" (TLVs and text), "tlv", or "text".
  std::string receipt_form = "both";
  /// The state every receipt reports: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, ENROUTE.
  std::string receipt_stat = "DELIVRD";
  /// After each receipt, this many more for message ids the SMSC never gave out.
  std::uint32_t stray_receipts = 0;
  /// Which deliver_sm go round-robin over every receive-capable bind (as SMSCs do over the
  /// binds of one system_id, whichever bind submitted): "none" (the first bind takes them all),
  /// "receipts", or "all" (receipts and the subscribers' USSD too).
  std::string spread = "none";
  /// Drop every connection when the Nth, 2Nth, ... submit_sm arrives (unanswered, with any
  /// answers not yet written): a link that fails mid-drain.
  std::uint32_t drop_every = 0;
  /// Drop every connection this often (0 = never), whatever is in flight: a flapping link.
  milliseconds drop_interval{0};
  std::string service_address = "123";  ///< destination_addr of dials (the short code)
  /// The operator's USSD dialect: ops, dialog id, text coding. Read when the smsc is made.
  ussd::profile profile;
  /// Fill mt_message::text and ::raw. The load and hold modes turn it off: they need only the
  /// verdict, and decoding every screen would cost more than the rest of the hop.
  bool decode_mt = true;
  /// Answers go out after at most this many requests from one read (0 = after the whole read),
  /// as an SMSC answers each request on its own; it keeps an ESME's window from moving in one
  /// lock-step batch.
  std::uint32_t flush_every = 16;
  smpp::codec_limits limits;
  /// When set, every acknowledged whole SMS is appended to this file as a line
  /// "sms<TAB>msisdn<TAB>message id<TAB>text as hex", flushed at once: tests count what reached
  /// the wire across several simulator processes (the SMSC of a run, then the one after a fault).
  std::string sms_log;
};

struct smsc_stats {
  std::uint64_t connections = 0, binds_ok = 0, binds_rejected = 0, unbinds = 0;
  std::uint64_t submits = 0, submits_throttled = 0, submits_queue_full = 0, data_sms = 0,
                enquire_links = 0;
  std::uint64_t silent_binds = 0;   ///< binds accepted and then never answered
  std::uint64_t submits_acked = 0;  ///< answered ESME_ROK (whether or not the answer got out)
  std::uint64_t drops = 0;          ///< connections dropped by drop_every
  std::uint64_t deliver_sent = 0, deliver_resp_ok = 0, deliver_resp_error = 0;
  std::uint64_t generic_nacks_received = 0, decode_errors = 0;
  std::uint64_t pending_submits = 0, peak_pending_submits = 0;
  std::uint64_t ussd_screens = 0, aborts_sent = 0;
  std::uint64_t ussd_protocol_errors = 0;  ///< screens that do not fit the profile
  std::uint32_t bound_now = 0;
  /// SMS (not USSD screens) acknowledged ESME_ROK, whole messages (a concatenated SMS counts
  /// once, when its last segment is in): what reaches handsets.
  std::uint64_t sms_acked = 0;
  /// Of those, the same text again to the same number: a subscriber who gets one receipt twice.
  std::uint64_t sms_duplicates = 0;
  /// Numbers that got at least one SMS, and the most any one number got.
  std::uint64_t sms_numbers = 0, sms_most_per_number = 0;
  /// Delivery receipts, as an SMSC keeps them: sent again when the ESME answered with an error,
  /// or not at all before its connection ended (it holds them until a bind takes them).
  std::uint64_t receipts_answered = 0, receipts_resent = 0;
};

/// One duplicate SMS, as the simulator saw it (the first few of a run are kept for reports).
struct sms_duplicate {
  std::string msisdn, text, first_message_id, again_message_id;
};

/// A message the ESME sent to a subscriber: a USSD screen or an SMS.
struct mt_message {
  std::string msisdn;
  std::string text;  ///< UTF-8 by data_coding and profile (decode_text); empty without decode_mt
  bool ussd = false;
  std::uint8_t ussd_op = 0;
  bool ends_dialog = false;  ///< op == profile.end_op, or the echoed end bit
  bool continues = false;    ///< op == profile.continue_op and not ending
  /// Why the screen does not fit the profile (counted in ussd_protocol_errors); empty if it does.
  std::string protocol_error;
  std::string message_id;
  smpp::sm_body raw;  ///< empty without decode_mt
};

class smsc {
 public:
  smsc(asio::any_io_executor ex, smsc_options opt);
  ~smsc();
  smsc(const smsc&) = delete;
  smsc& operator=(const smsc&) = delete;

  /// Binds the listening socket and opens the SMS log (throws on failure), starts accepting.
  void start();
  /// Closes the listener and every connection (like an SMSC crash when abrupt is true;
  /// otherwise each bound ESME gets an unbind first).
  void stop(bool abrupt = true);
  std::uint16_t port() const { return port_; }

  const smsc_stats& stats() const { return stats_; }
  smsc_options& options() { return opt_; }
  milliseconds throttle_for() const { return opt_.throttle_for; }

  /// Every MT message (USSD screen or SMS) the ESME submits.
  std::function<void(const mt_message&)> on_mt;

  /// The subscriber dials `text` (e.g. "*123#"): a deliver_sm with the profile's begin op and a
  /// new dialog id. False if no receiver-capable bind is up.
  bool dial(std::string_view msisdn, std::string_view text);
  /// The subscriber answers the current screen: the profile's continue op, same dialog (after
  /// the dialog ended: a late input in it, see ussd_centre_fsm::reply). False if the subscriber
  /// never dialed or no receiver bind is up.
  bool reply(std::string_view msisdn, std::string_view text);
  /// The subscriber aborts the open dialog: the profile's abort op, same dialog id; the dialog
  /// closes. False when the profile has no abort op, without an open dialog or a receiver bind.
  bool abort(std::string_view msisdn);
  bool can_abort() const { return ussd_.can_abort(); }
  /// The dialogs as the USSD centre sees them.
  const ussd_centre_fsm& dialogs() const { return ussd_; }
  /// Sends any deliver_sm (interop and fault tests).
  bool deliver(smpp::sm_body body);
  /// Drops every connection without unbinding (link failure).
  void drop_connections();
  /// The first duplicate SMS of the run (at most max_reported_duplicates), in order.
  static constexpr std::size_t max_reported_duplicates = 20;
  const std::vector<sms_duplicate>& duplicates() const { return duplicates_; }
  /// Receipts not yet answered ESME_ROK (sent and waiting, or waiting to be sent again).
  std::size_t receipts_unanswered() const;
  /// When the last bind was accepted (time_point{} before the first).
  std::chrono::steady_clock::time_point last_bind_at() const { return last_bind_at_; }

 private:
  struct connection;
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> drop_loop();
  asio::awaitable<void> serve(std::shared_ptr<connection> c);
  asio::awaitable<void> writer(std::shared_ptr<connection> c);
  void handle(const std::shared_ptr<connection>& c, std::span<const std::uint8_t> frame);
  void handle_submit(const std::shared_ptr<connection>& c, smpp::pdu p);
  void send(const std::shared_ptr<connection>& c, const smpp::pdu& p);
  void schedule_receipt(const smpp::sm_body& submitted, const std::string& message_id);
  /// A concatenated SMS reaches the phone whole: a segment (UDH or sar_* TLVs) is kept until
  /// the last one is in, then the whole text's octets; nullopt until then.
  std::optional<std::string> reassemble(const smpp::sm_body& body, const std::string& msisdn,
                                        std::string_view octets);
  /// The bind a deliver_sm goes out on (`receipt`: a delivery receipt), by opt_.spread.
  std::shared_ptr<connection> receiver(bool receipt = false);
  /// Sends deliver_ (filled by ussd_) on c.
  void send_deliver(const std::shared_ptr<connection>& c);
  std::string next_message_id();
  /// Counts a deliver_sm_resp; one answering a receipt settles it (ESME_ROK) or sends it again.
  void on_deliver_resp(const std::shared_ptr<connection>& c, std::uint32_t seq, std::uint32_t st);
  /// Sends a delivery receipt and keeps it until the ESME answers it ESME_ROK.
  void send_receipt(smpp::sm_body b);
  /// Sends the receipts waiting again after `after` (on a bind, an error answer, a drop).
  void resend_receipts(milliseconds after);
  /// Counts an acknowledged whole SMS per number and per text (sms_acked, sms_duplicates).
  void count_sms(const std::string& msisdn, std::string_view octets, const std::string& id);

  asio::any_io_executor ex_;
  smsc_options opt_;
  std::unique_ptr<asio::ssl::context> tls_;
  std::unique_ptr<asio::ip::tcp::acceptor> acceptor_;
  std::uint16_t port_ = 0;
  std::set<std::shared_ptr<connection>> conns_;
  ussd_centre_fsm ussd_;
  smpp::pdu deliver_;  // reused for every USSD deliver_sm, so a hop allocates nothing here
  std::uint64_t next_message_id_ = 0x5A000000;
  std::uint64_t next_stray_ = 1;  ///< ids for receipts about messages never sent
  /// Segments of concatenated SMS seen so far, by "msisdn/reference" (at most 10,000).
  std::map<std::string, std::vector<std::string>> concat_;
  smsc_stats stats_;
  /// Every acknowledged SMS by a 64-bit digest of (number, text), with the message id it first
  /// went out with; and SMS per number. A digest, not the text, keeps a long run's memory small;
  /// a collision between two different texts is about 1 in 10^9 for a million messages.
  std::unordered_map<std::uint64_t, std::string> sms_seen_;
  std::unordered_map<std::string, std::uint32_t> sms_per_number_;
  std::vector<sms_duplicate> duplicates_;
  std::FILE* sms_log_ = nullptr;
  std::chrono::steady_clock::time_point last_bind_at_{};
  std::deque<smpp::sm_body> receipts_waiting_;  ///< to send again (at most 200,000)
  bool resend_armed_ = false;
  std::uint64_t next_receiver_ = 0;  ///< round-robin position over the receive-capable binds
  std::shared_ptr<bool> alive_;
};

}  // namespace ussdpay::sim
