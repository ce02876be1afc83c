// The biller interface: what the gateway asks of any biller (electricity, water, gas, fuel
// invoices), whatever protocol is behind it. Outcomes are typed values, never exceptions; the
// payment id is the idempotency key for pay, status and reverse.
//
// Every call completes exactly once, on the executor the adapter was built with (the network
// thread). Callers bound their wait themselves (a USSD screen cannot wait for a slow biller):
// a late completion must still be safe to receive and is simply ignored by a caller that gave up.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/any_completion_handler.hpp>

namespace ussdpay::adapters {

/// Money in integer minor units of `currency` (paisa, cents). Never floating point.
using minor_units = std::int64_t;

/// How the amount paid must relate to the amount due (1LINK 1Bill, BBPS "exactness").
enum class exactness : std::uint8_t { exact, at_least, at_most, any };

/// The check digit a consumer number carries, if any.
enum class check_digit : std::uint8_t { none, luhn, mod11 };

/// What a valid consumer number looks like for one biller.
struct account_rule {
  std::uint8_t min_length = 1;
  std::uint8_t max_length = 24;
  bool digits_only = true;
  check_digit check = check_digit::none;
};

/// Static facts about a biller, from configuration.
struct biller_info {
  std::string id;        ///< stable short id, e.g. "lesco"
  std::string name;      ///< shown to subscribers, e.g. "LESCO"
  std::string category;  ///< electricity, water, gas, fuel
  std::string currency = "PKR";
  account_rule account;
  exactness amount_rule = exactness::exact;
};

/// A bill as the biller reports it.
struct bill {
  std::string account;        ///< consumer number as entered
  std::string customer_name;  ///< e.g. "M ASLAM"
  std::string period;         ///< billing month, e.g. "2026-11"
  std::string due_date;       ///< YYYY-MM-DD
  minor_units amount_due = 0;
  minor_units amount_after_due = 0;  ///< payable after due_date
  std::string currency = "PKR";
  std::string bill_reference;  ///< the biller's id for this bill, if any
  std::string paid_on;         ///< YYYY-MM-DD when already paid
};

/// What a bill asks for on `date` (YYYY-MM-DD, from local_date): past its due date the amount
/// after due (when the biller gives one), else the amount due. The one lateness rule, for the
/// screen, the demo biller's check and auto-pay alike.
minor_units amount_due_on(const bill& b, std::string_view date);

enum class inquiry_status : std::uint8_t {
  found,         ///< an unpaid bill
  already_paid,  ///< the bill exists and is paid (nothing due)
  not_found,     ///< no such consumer number
  invalid,       ///< the biller rejected the number's format
  unavailable,   ///< the biller failed or did not answer in its own timeout
};

struct inquiry_result {
  inquiry_status status = inquiry_status::unavailable;
  bill found;          ///< for found and already_paid
  std::string code;    ///< the biller's own status code, if any
  std::string detail;  ///< for logs; never shown to subscribers
};

struct pay_request {
  std::string payment_id;  ///< idempotency key: the same id never pays twice
  std::string account;
  minor_units amount = 0;
  std::string currency = "PKR";
  std::string bill_reference;
};

enum class pay_status : std::uint8_t {
  accepted,  ///< definitively paid; biller_reference set
  rejected,  ///< definitively not paid; code says why
  unknown,   ///< timeout, 5xx, lost answer: resolve by status query, never assume either way
};

/// pay_result::code of a pay the adapter could not send at all (no connection, open circuit):
/// definitive for this call, since nothing of it reached the biller.
inline constexpr std::string_view code_not_sent = "UNAVAILABLE";

struct pay_result {
  pay_status status = pay_status::unknown;
  std::string biller_reference;
  std::string code;
  std::string detail;
  /// status (and reverse): the biller has no record of this payment id. The payment never
  /// arrived (or not yet): posting it again under the same id is safe, since pay is idempotent.
  bool no_record = false;
};

class biller {
 public:
  template <class Signature>
  using handler = boost::asio::any_completion_handler<Signature>;

  virtual ~biller() = default;
  virtual const biller_info& info() const = 0;

  virtual void async_inquire(std::string account, handler<void(inquiry_result)> done) = 0;
  virtual void async_pay(pay_request req, handler<void(pay_result)> done) = 0;
  /// The outcome of an earlier pay with this payment id (unknown with no_record set if the
  /// biller has no record of it).
  virtual void async_status(std::string payment_id, handler<void(pay_result)> done) = 0;
  /// Undo an accepted payment (accepted = reversed; rejected = cannot be reversed).
  virtual void async_reverse(std::string payment_id, handler<void(pay_result)> done) = 0;
};

/// "YYYY-MM" with a real month (a billing period).
bool valid_period(std::string_view text);
/// "YYYY-MM-DD" naming a real calendar day.
bool valid_date(std::string_view text);

/// Whether `account` satisfies `rule`, including the check digit.
bool valid_account(const account_rule& rule, std::string_view account);

}  // namespace ussdpay::adapters
