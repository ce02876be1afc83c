// libFuzzer target: HTTP biller answers as a biller (or anything between) could send them.
// The first byte picks the call and the HTTP status, the second the Content-Type; the rest is
// the body. Every answer must map to a typed outcome within the adapter's bounds and never
// crash, and nothing outside the contract may come out as accepted.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/http_biller_json.hpp"

using namespace ussdpay::adapters;
using namespace ussdpay::adapters::http_json;

namespace {

constexpr unsigned statuses[] = {200, 201, 400, 401, 404, 409, 422, 429, 500, 503, 302, 100};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned status = statuses[data[0] % std::size(statuses)];
  const auto kind = static_cast<call_kind>((data[0] >> 4) % 4);
  const char* content_types[] = {"application/json", "application/json; charset=utf-8", "text/html",
                                 ""};
  wire_response r{status, content_types[data[1] % 4],
                  std::string(reinterpret_cast<const char*>(data + 2), size - 2)};

  if (kind == call_kind::inquire) {
    const auto m = map_inquiry(r, "04123456789012");
    if (m.result.status == inquiry_status::found ||
        m.result.status == inquiry_status::already_paid) {
      const auto& b = m.result.found;
      check(status == 200 && b.account == "04123456789012");
      check(!b.customer_name.empty() && b.customer_name.size() <= max_name);
      check(b.amount_due >= 0 && b.amount_due <= b.amount_after_due &&
            b.amount_after_due <= max_amount);
      check(b.currency.size() == 3 && b.bill_reference.size() <= max_reference);
    }
    check(m.result.code.size() <= max_code);
    check(!m.fault || m.result.status == inquiry_status::unavailable);
  } else {
    const auto m = map_payment(kind, r, "pay-0001");
    if (m.result.status == pay_status::accepted) {
      check(status == 200 || status == 201);
      check(!m.result.biller_reference.empty() &&
            m.result.biller_reference.size() <= max_reference);
    }
    check(m.result.code.size() <= max_code);
    check(!m.fault || m.result.status == pay_status::unknown);
    // A status query never turns into a definitive answer without a 2xx.
    check(kind != call_kind::status || status == 200 || m.result.status == pay_status::unknown);
  }
  return 0;
}
