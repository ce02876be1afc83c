#include "adapters/http_biller_json.hpp"

#include <algorithm>
#include <chrono>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ussdpay::adapters::http_json {

namespace json = boost::json;

namespace {

constexpr std::size_t max_url = 2048;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}
// RFC 3986 unreserved characters.
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int digits_value(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Printable ASCII without spaces: codes and references end up in logs, receipts and SMS.
bool valid_token(std::string_view s, std::size_t max) {
  return !s.empty() && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c <= '~'; });
}

// Free text (UTF-8, already validated by the JSON parser): no control characters, bounded in
// bytes. `allow_empty` for optional messages.
bool valid_text(std::string_view s, std::size_t max, bool allow_empty) {
  if (s.size() > max || (!allow_empty && s.empty())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7f;
  });
}

bool valid_currency(std::string_view s) {
  return s.size() == 3 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Percent-encodes everything but unreserved characters (one path segment).
std::string encode_segment(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0xf];
    }
  }
  return out;
}

// ---- Reading a parsed body: every accessor checks type and bounds ---------------------------

// A JSON body that parsed as an object, or null. Bounded depth; invalid UTF-8, comments and
// trailing commas are refused. The monotonic resource keeps the parse to one allocation run.
struct parsed_body {
  json::monotonic_resource mr;
  json::value v;
  const json::object* obj = nullptr;
};

bool parse_object(std::string_view body, parsed_body& out) {
  json::parse_options opts;
  opts.max_depth = max_json_depth;
  boost::system::error_code ec;
  out.v = json::parse(json::string_view(body.data(), body.size()), ec, &out.mr, opts);
  if (ec) return false;
  out.obj = out.v.if_object();
  return out.obj != nullptr;
}

// A string member, nullptr when absent or not a string.
const json::string* get_string(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(json::string_view(key.data(), key.size()));
  return v != nullptr ? v->if_string() : nullptr;
}

std::string_view view(const json::string& s) {
  return {s.data(), s.size()};
}

// An optional string member: true when absent (out untouched) or a string within `check`;
// false when present but of the wrong type or out of bounds.
template <class Check>
bool optional_string(const json::object& o, std::string_view key, std::string& out, Check check) {
  const auto* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr || v->is_null()) return true;
  const auto* s = v->if_string();
  if (s == nullptr || !check(view(*s))) return false;
  out.assign(s->data(), s->size());
  return true;
}

// A required string member within `check`.
template <class Check>
bool required_string(const json::object& o, std::string_view key, std::string& out, Check check) {
  const auto* s = get_string(o, key);
  if (s == nullptr || !check(view(*s))) return false;
  out.assign(s->data(), s->size());
  return true;
}

// {"value": <integer minor units 0..max_amount>, "currency": "PKR"}.
bool get_amount(const json::object& o, std::string_view key, minor_units& value,
                std::string& currency) {
  const auto* v = o.if_contains(json::string_view(key.data(), key.size()));
  const auto* a = v != nullptr ? v->if_object() : nullptr;
  if (a == nullptr) return false;
  const auto* n = a->if_contains("value");
  if (n == nullptr) return false;
  if (const auto* i = n->if_int64(); i != nullptr && *i >= 0 && *i <= max_amount) {
    value = *i;
  } else if (const auto* u = n->if_uint64();
             u != nullptr && *u <= static_cast<std::uint64_t>(max_amount)) {
    value = static_cast<minor_units>(*u);
  } else {
    return false;  // negative, too large, fractional or not a number
  }
  return required_string(*a, "currency", currency, valid_currency);
}

const auto token_code = [](std::string_view s) { return valid_token(s, max_code); };
const auto token_reference = [](std::string_view s) { return valid_token(s, max_reference); };
const auto message_text = [](std::string_view s) { return valid_text(s, max_message, true); };

// The error object of a 4xx answer (GSMA Mobile Money API names): errorCode is required,
// errorCategory and errorDescription optional. False when the body is not one.
struct error_body {
  std::string code;
  std::string category;
  std::string description;
};

bool parse_error(const wire_response& r, error_body& out) {
  if (!is_json_content_type(r.content_type)) return false;
  parsed_body b;
  if (!parse_object(r.body, b)) return false;
  return required_string(*b.obj, "errorCode", out.code, token_code) &&
         optional_string(*b.obj, "errorCategory", out.category, token_code) &&
         optional_string(*b.obj, "errorDescription", out.description, message_text);
}

std::string http_detail(const wire_response& r, std::string_view what) {
  return "HTTP " + std::to_string(r.status) + ": " + std::string(what);
}

// A 4xx status the contract gives a business meaning (with an error body).
bool is_business_4xx(unsigned status) {
  return status == 400 || status == 404 || status == 422;
}

// The answers that are neither a contract answer nor a business 4xx.
template <class Result>
mapped<Result> other_status(const wire_response& r, Result failed) {
  if (r.status >= 400 && r.status < 500 && !is_business_4xx(r.status)) {
    // 401, 403, 409, 429...: the biller answered, on purpose; no fault, no retry.
    failed.detail = http_detail(r, "refused");
    error_body e;
    if (parse_error(r, e)) {
      failed.code = e.code;
      if (!e.description.empty()) failed.detail += ": " + e.description;
    }
    return {std::move(failed), false};
  }
  failed.detail = http_detail(r, r.status >= 500 ? "biller error" : "unexpected status");
  return {std::move(failed), true};
}

}  // namespace

bool valid_payment_id(std::string_view id) {
  return !id.empty() && id.size() <= max_reference && std::all_of(id.begin(), id.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
  });
}

bool is_json_content_type(std::string_view ct) {
  const auto semi = ct.find(';');
  auto media = ct.substr(0, semi);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  return iequals(media, "application/json");
}

// ---- The base URL -----------------------------------------------------------------------------

std::optional<base_url> parse_base_url(std::string_view text, std::string* why) {
  const auto fail = [&](const char* reason) -> std::optional<base_url> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  if (text.size() > max_url) return fail("longer than 2048 characters");
  constexpr std::string_view scheme = "https://";
  if (text.size() < scheme.size() || !iequals(text.substr(0, scheme.size()), scheme))
    return fail("must start with https://");
  text.remove_prefix(scheme.size());
  if (text.find_first_of("?#") != std::string_view::npos)
    return fail("no query or fragment allowed");
  const auto slash = text.find('/');
  const auto authority = text.substr(0, slash);
  auto path = slash == std::string_view::npos ? std::string_view{} : text.substr(slash);
  if (authority.find('@') != std::string_view::npos) return fail("no user info allowed");

  base_url u;
  std::string_view port_text;
  if (authority.starts_with('[')) {  // [IPv6]
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close < 3) return fail("malformed IPv6 address");
    const auto addr = authority.substr(1, close - 1);
    if (!std::all_of(addr.begin(), addr.end(),
                     [](char c) { return is_hex(c) || c == ':' || c == '.'; }))
      return fail("malformed IPv6 address");
    u.host.assign(addr);
    u.host_is_ip = true;
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return fail("text after the IPv6 address");
      port_text = rest.substr(1);
      if (port_text.empty()) return fail("empty port");
    }
  } else {
    const auto colon = authority.find(':');
    u.host.assign(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return fail("empty port");
    }
    // A DNS name or dotted IPv4: letters, digits, '-', '.', labels 1-63, at most 253.
    if (u.host.empty() || u.host.size() > 253) return fail("empty or over-long host");
    std::size_t label = 0;
    for (const char c : u.host) {
      if (c == '.') {
        if (label == 0) return fail("empty label in host");
        label = 0;
      } else if (is_alpha(c) || is_digit(c) || c == '-') {
        if (++label > 63) return fail("host label longer than 63 characters");
      } else {
        return fail("host may hold only letters, digits, '-' and '.'");
      }
    }
    if (label == 0) return fail("host ends with '.'");
    u.host_is_ip =
        std::all_of(u.host.begin(), u.host.end(), [](char c) { return is_digit(c) || c == '.'; });
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !all_digits(port_text)) return fail("port must be 1-65535");
    const int p = digits_value(port_text);
    if (p < 1 || p > 65535) return fail("port must be 1-65535");
    u.port = static_cast<std::uint16_t>(p);
  }
  const std::string bracketed = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  u.host_header = u.port == 443 ? bracketed : bracketed + ":" + std::to_string(u.port);

  while (path.ends_with('/')) path.remove_suffix(1);
  for (std::size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '%') {
      if (i + 2 >= path.size() || !is_hex(path[i + 1]) || !is_hex(path[i + 2]))
        return fail("malformed %-escape in path");
      i += 2;
    } else if (!is_unreserved(c) && c != '/') {
      return fail("path may hold only unreserved characters, '/' and %-escapes");
    }
  }
  u.prefix.assign(path);
  return u;
}

// ---- Requests ---------------------------------------------------------------------------------

wire_request inquiry_request(const base_url& url, std::string_view account) {
  return {false, url.prefix + "/bills/" + encode_segment(account), {}, {}};
}

wire_request pay_wire_request(const base_url& url, const pay_request& req) {
  json::object amount;
  amount["value"] = req.amount;
  amount["currency"] = req.currency;
  json::object body;
  body["paymentId"] = req.payment_id;
  body["consumerNumber"] = req.account;
  body["amount"] = std::move(amount);
  if (!req.bill_reference.empty()) body["billReference"] = req.bill_reference;
  return {true, url.prefix + "/payments", json::serialize(body), req.payment_id};
}

wire_request status_request(const base_url& url, std::string_view payment_id) {
  return {
      false, url.prefix + "/payments/" + encode_segment(payment_id), {}, std::string(payment_id)};
}

wire_request reverse_request(const base_url& url, std::string_view payment_id) {
  json::object body;
  body["paymentId"] = json::string_view(payment_id.data(), payment_id.size());
  return {true, url.prefix + "/payments/" + encode_segment(payment_id) + "/reversal",
          json::serialize(body), std::string(payment_id)};
}

// ---- Answers ----------------------------------------------------------------------------------

mapped<inquiry_result> map_inquiry(const wire_response& r, std::string_view account) {
  const inquiry_result unavailable{inquiry_status::unavailable, {}, {}, {}};
  const auto malformed = [&](const char* what) -> mapped<inquiry_result> {
    auto out = unavailable;
    out.detail = http_detail(r, std::string("malformed answer: ") + what);
    return {std::move(out), true};
  };

  if (r.status == 200) {
    if (!is_json_content_type(r.content_type)) return malformed("not application/json");
    parsed_body b;
    if (!parse_object(r.body, b)) return malformed("not a JSON object");
    const auto& o = *b.obj;
    inquiry_result out{inquiry_status::unavailable, {}, {}, {}};
    std::string consumer, status;
    if (!required_string(o, "consumerNumber", consumer, token_reference) || consumer != account)
      return malformed("consumerNumber missing or not the number asked for");
    if (!required_string(o, "billStatus", status,
                         [](std::string_view s) { return s == "U" || s == "P" || s == "B"; }))
      return malformed("billStatus must be U, P or B");
    if (!optional_string(o, "responseCode", out.code, token_code) ||
        !optional_string(o, "message", out.detail, message_text))
      return malformed("responseCode or message out of bounds");
    if (status == "B") {  // 1LINK "blocked": the number exists but cannot be paid
      out.status = inquiry_status::not_found;
      if (out.detail.empty()) out.detail = "bill blocked or expired";
      return {std::move(out), false};
    }
    bill& due = out.found;
    due.account = consumer;
    std::string after_currency;
    if (!required_string(o, "customerName", due.customer_name,
                         [](std::string_view s) { return valid_text(s, max_name, false); }))
      return malformed("customerName missing, empty or over 80 bytes");
    if (!required_string(o, "billingMonth", due.period, valid_period))
      return malformed("billingMonth must be YYYY-MM");
    if (!required_string(o, "dueDate", due.due_date, valid_date))
      return malformed("dueDate must be a real YYYY-MM-DD");
    if (!get_amount(o, "amountWithinDueDate", due.amount_due, due.currency))
      return malformed("amountWithinDueDate must be {value: 0..10^15, currency: XXX}");
    if (o.contains("amountAfterDueDate")) {
      if (!get_amount(o, "amountAfterDueDate", due.amount_after_due, after_currency) ||
          after_currency != due.currency || due.amount_after_due < due.amount_due)
        return malformed("amountAfterDueDate: same currency, at least amountWithinDueDate");
    } else {
      due.amount_after_due = due.amount_due;
    }
    if (!optional_string(o, "billReference", due.bill_reference, token_reference))
      return malformed("billReference out of bounds");
    if (status == "P") {
      if (!required_string(o, "datePaid", due.paid_on, valid_date))
        return malformed("a paid bill needs datePaid as YYYY-MM-DD");
      out.status = inquiry_status::already_paid;
    } else {
      if (!optional_string(o, "datePaid", due.paid_on, valid_date) || !due.paid_on.empty())
        return malformed("an unpaid bill has no datePaid");
      out.status = inquiry_status::found;
    }
    return {std::move(out), false};
  }

  if (is_business_4xx(r.status)) {
    error_body e;
    if (!parse_error(r, e)) return malformed("4xx without an error object");
    const auto status = r.status == 404 ? inquiry_status::not_found : inquiry_status::invalid;
    return {{status, {}, e.code, http_detail(r, e.description)}, false};
  }
  return other_status(r, unavailable);
}

mapped<pay_result> map_payment(call_kind kind, const wire_response& r,
                               std::string_view payment_id) {
  const pay_result unknown{pay_status::unknown, {}, {}, {}};
  const auto malformed = [&](const char* what) -> mapped<pay_result> {
    auto out = unknown;
    out.detail = http_detail(r, std::string("malformed answer: ") + what);
    return {std::move(out), true};
  };

  // 200 for every call; 201 also for a payment just created.
  if (r.status == 200 || (r.status == 201 && kind == call_kind::pay)) {
    if (!is_json_content_type(r.content_type)) return malformed("not application/json");
    parsed_body b;
    if (!parse_object(r.body, b)) return malformed("not a JSON object");
    const auto& o = *b.obj;
    pay_result out = unknown;
    std::string id, status;
    if (!required_string(o, "paymentId", id, token_reference) || id != payment_id)
      return malformed("paymentId missing or not the payment asked about");
    if (!required_string(o, "status", status, [](std::string_view s) {
          return s == "accepted" || s == "rejected" || s == "pending" || s == "reversed";
        }))
      return malformed("status must be accepted, rejected, pending or reversed");
    if (!optional_string(o, "billerReference", out.biller_reference, token_reference) ||
        !optional_string(o, "responseCode", out.code, token_code) ||
        !optional_string(o, "message", out.detail, message_text))
      return malformed("billerReference, responseCode or message out of bounds");
    const bool has_reference = !out.biller_reference.empty();

    if (status == "pending") {  // received, not decided: the same as no answer yet
      if (out.detail.empty()) out.detail = "pending at the biller";
      return {std::move(out), false};
    }
    if (status == "rejected") {
      if (out.code.empty()) return malformed("a rejection needs its responseCode");
      out.status = pay_status::rejected;
      return {std::move(out), false};
    }
    if (!has_reference) return malformed("accepted or reversed needs its billerReference");
    if (kind == call_kind::reverse) {
      // The reversal endpoint answers the payment after the reversal: only "reversed" means it
      // happened; a payment still "accepted" was not reversed (yet), so unknown.
      if (status == "reversed") {
        out.status = pay_status::accepted;
      } else if (out.detail.empty()) {
        out.detail = "payment still accepted after the reversal request";
      }
      return {std::move(out), false};
    }
    if (status == "accepted") {
      out.status = pay_status::accepted;
    } else {  // reversed: the payment no longer stands (as the demo biller's "RV")
      out.status = pay_status::rejected;
      if (out.code.empty()) out.code = "RV";
    }
    return {std::move(out), false};
  }

  if (is_business_4xx(r.status)) {
    error_body e;
    if (!parse_error(r, e)) return malformed("4xx without an error object");
    // A status query for a payment the biller has no record of proves nothing: it may still be
    // on its way, or lost. Pay and reverse 4xx are definitive.
    pay_result out{kind == call_kind::status ? pay_status::unknown : pay_status::rejected,
                   {},
                   e.code,
                   http_detail(r, e.description)};
    // 404 on a payment path: the biller has no record of this payment id.
    out.no_record = r.status == 404 && kind != call_kind::pay;
    return {std::move(out), false};
  }
  return other_status(r, unknown);
}

}  // namespace ussdpay::adapters::http_json
