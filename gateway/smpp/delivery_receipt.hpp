// Delivery receipts (SMPP 3.4 section 5.2.12 and Appendix B): what a deliver_sm with an SMSC
// receipt says about one of our messages, and the keys that match it to the message whatever
// form the SMSC writes its message ids in. Pure: no I/O, safe on any thread.
//
// A receipt names the message by the id the SMSC gave in submit_sm_resp, but SMSCs are not
// consistent about its form (Kannel's and Jasmin's most frequent complaint,
// ../shared/research/gateways.md section 4): the response may say "1A2B3C" and the receipt
// "1715004" (the same number in decimal), or "01a2b3c", or "1a2b3c". We store each message's id
// in one canonical form (message_key) and look a receipt up by its candidate keys, the exact
// form first (receipt_keys). The outbox (gateway/sms/outbox.cpp) records what they say.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/smpp/pdu.hpp"

namespace ussdpay::smpp {

/// What happened to a message, as far as the receipt says. Only the final ones are recorded.
enum class delivery : std::uint8_t {
  delivered,      ///< DELIVRD, message_state 2
  undeliverable,  ///< UNDELIV 5, REJECTD 8, DELETED 4: it will not arrive
  expired,        ///< EXPIRED 3: validity ran out
  pending,        ///< ENROUTE 1, ACCEPTD 6, UNKNOWN 7 and intermediate notifications
};

/// The store's word for a final state ("delivered", "undeliverable", "expired"); "" for pending.
std::string_view to_string(delivery d);

struct delivery_receipt {
  std::string message_id;  ///< as the SMSC wrote it (at most 65 octets)
  delivery state = delivery::pending;
  std::string stat;   ///< the SMSC's own word: DELIVRD, UNDELIV, ... or message_state=N
  std::string error;  ///< err: field or network_error_code (hex), "" if none
};

/// Why a receipt could not be read (for the log; the deliver_sm is still answered ok, since a
/// refused receipt would only be sent again).
struct receipt_error {
  std::string reason;
};

/// True if the deliver_sm is a receipt or an intermediate notification (esm_class bits 2-5).
bool is_receipt(const sm_body& in);

/// Reads a receipt: receipted_message_id and message_state TLVs where present, otherwise the
/// classic text "id:... sub:... dlvrd:... submit date:... done date:... stat:... err:..." from
/// short_message or message_payload. Every field is bounded.
std::variant<delivery_receipt, receipt_error> parse_receipt(const sm_body& in);

/// One canonical form of a message id: trimmed, lower case, and for an id of hex digits only,
/// leading zeros dropped ("0" stays).
/// Empty for an id that is empty or has characters outside [0-9A-Za-z-_.:] or is too long.
std::string message_key(std::string_view id);

/// The keys a receipt's id may match, best first: its own canonical form, then, if it reads as
/// a decimal number, that number in hex, then, if it reads as hex, that number in decimal.
std::vector<std::string> receipt_keys(std::string_view id);

}  // namespace ussdpay::smpp
