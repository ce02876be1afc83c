// sim::ussd_centre_fsm: the USSD centre's half of USSD-over-SMPP dialogs in one operator
// profile (gateway/ussd/profile.hpp), with no I/O. The simulator's smsc sends what it builds and
// feeds it every submit_sm; unit tests walk it step by step without sockets.
//
// State: one dialog per subscriber (MSISDN), open from a dial until an ending screen, an abort
// or the next dial (a new dial replaces the old dialog, as on a phone). A reply after the end is
// a late input in the ended dialog, which reopens it until the gateway answers. A dialog holds
// only its id: the its_session_info session number and sequence (even while open), or a 16-bit
// user_message_reference, or nothing (profile without a session id). No timers: the USSD
// centre's own session timeout is not simulated.
//
// What it builds (deliver_sm from the subscriber):
//   dial   ussd_service_op = begin_ops.front(), a new id
//   reply  continue_ops.front(), same id (its_session_info sequence + 2)
//   abort  abort_ops.front(), same id (its_session_info with the end bit set); closes the dialog
// What it checks (submit_sm to the subscriber, carrying ussd_service_op): the op is the
// profile's continue_op or end_op, the subscriber has an open dialog, the id the profile puts in
// is echoed and matches, and service_type is the profile's. A screen ends the dialog when
// op == end_op or (echo_session_info and the its_session_info end bit is set).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "gateway/smpp/pdu.hpp"
#include "gateway/ussd/profile.hpp"

namespace ussdpay::sim {

/// What a submit_sm meant to the subscriber.
struct mt_verdict {
  bool ussd = false;         ///< it carries ussd_service_op (else an SMS)
  std::uint8_t op = 0;       ///< ussd_service_op
  bool ends_dialog = false;  ///< op == end_op, or the echoed end bit
  bool continues = false;    ///< op == continue_op and not ending: the phone waits for input
  /// Why the screen does not fit the profile; empty when it does.
  std::string protocol_error;
};

class ussd_centre_fsm {
 public:
  explicit ussd_centre_fsm(ussd::profile p = {}, std::string service_address = "123");

  const ussd::profile& profile() const { return profile_; }
  bool can_abort() const { return !profile_.abort_ops.empty(); }

  /// The subscriber dials `text`: fills `out` (reusing its storage) with a deliver_sm body
  /// opening a new dialog, which replaces any open one.
  void dial(std::string_view msisdn, std::string_view text, smpp::sm_body& out);
  /// The subscriber answers the current screen, in the same dialog. After the dialog ended this
  /// is a late input in it (reopened: the gateway must answer it, typically with an ending
  /// screen). False (out untouched) if the subscriber never dialed.
  bool reply(std::string_view msisdn, std::string_view text, smpp::sm_body& out);
  /// The subscriber aborts the dialog, which closes. False (out untouched) when the profile has
  /// no abort op or there is no open dialog.
  bool abort(std::string_view msisdn, smpp::sm_body& out);

  /// A submit_sm from the ESME: what it means, and whether it fits the profile. A fitting screen
  /// that ends the dialog closes it.
  mt_verdict on_submit(const smpp::sm_body& b);

  bool is_open(std::string_view msisdn) const {
    const dialog* d = find(msisdn);
    return d != nullptr && d->open;
  }
  std::size_t open_dialogs() const { return open_count_; }
  /// Closes every dialog (the USSD centre restarted).
  void clear();

 private:
  struct dialog {
    std::uint16_t id = 0;  // its_session_info session number, or user_message_reference
    std::uint8_t seq = 0;  // its_session_info sequence octet (even while open)
    bool open = false;     // an ended dialog keeps its id for a late input (reply)
  };
  dialog* find(std::string_view msisdn);
  const dialog* find(std::string_view msisdn) const;
  dialog& open(std::string_view msisdn);
  void close(dialog& d);
  void build(std::string_view msisdn, std::string_view text, std::uint8_t op,
             std::uint16_t session_info, const dialog& d, smpp::sm_body& out) const;

  ussd::profile profile_;
  std::string service_address_;
  std::uint8_t next_session_ = 0;  // its_session_info: 1..255
  std::uint16_t next_ref_ = 0;     // user_message_reference: 1..65535
  // Dialogs keyed by MSISDN: all-digit numbers of up to 15 digits (E.164) as one integer, which
  // keeps a million held dialogs in about 40 MB; anything else by its text.
  std::unordered_map<std::uint64_t, dialog> numeric_;  // open and ended, one per subscriber
  std::map<std::string, dialog, std::less<>> other_;
  std::size_t open_count_ = 0;
};

/// An all-digit MSISDN of 1..15 digits as one integer that keeps its length ("0300" and "300"
/// differ); nullopt for anything else.
std::optional<std::uint64_t> msisdn_key(std::string_view msisdn);

/// short_message octets as UTF-8 for display, by data_coding as the profile defines it
/// (data_coding_ucs2: UCS-2 BE; data_coding_gsm: the profile's default alphabet; others as
/// SMPP defines them). Octets that do not decode are shown as "[hex 0a1b...]".
std::string decode_text(std::string_view octets, std::uint8_t data_coding, const ussd::profile& p);

}  // namespace ussdpay::sim
