#include "gateway/ussd/profile.hpp"

namespace ussdpay::ussd {

std::optional<profile> builtin_profile(std::string_view name) {
  profile p;
  p.name = std::string(name);
  if (name == "default") return p;
  if (name == "sixdee") {
    // 6D: 0x12 continue, 0x81 user abort; we close with 0x17 plus the end bit.
    p.continue_ops = {0x12};
    p.abort_ops = {0x81};
    p.end_op = 0x17;
    return p;
  }
  if (name == "mica") {
    // Mica: session id in user_message_reference; 0x17 closes either way, anything else
    // after the dial continues.
    p.continue_ops = {0x02, 0x12};
    p.end_ops = {0x17};
    p.end_op = 0x17;
    p.session_id = session_id_source::user_message_reference;
    p.echo_session_info = false;
    return p;
  }
  if (name == "huawei") {
    // No dialog id over SMPP: one dialog per (MSISDN, service code).
    p.continue_ops = {0x12, 0x02};
    p.session_id = session_id_source::none;
    p.echo_session_info = false;
    return p;
  }
  return std::nullopt;
}

std::vector<std::string> builtin_profile_names() {
  return {"default", "sixdee", "mica", "huawei"};
}

}  // namespace ussdpay::ussd
