#include "gateway/actions/subscribers.hpp"

#include <algorithm>

#include "gateway/ussd/dialogs.hpp"

namespace ussdpay::actions {

std::optional<subscriber_directory::entry> subscriber_directory::entry_of(
    std::string_view msisdn, std::string_view language) {
  const auto k = ussd::msisdn_key(msisdn);
  if (!k) return std::nullopt;
  std::array<char, 2> code{};
  if (language.size() == 2) code = {language[0], language[1]};
  return entry{*k, code};
}

std::string subscriber_directory::language(std::string_view msisdn) const {
  const auto k = ussd::msisdn_key(msisdn);
  if (!k) return {};
  const auto it = by_key_.find(*k);
  if (it == by_key_.end() || it->second[0] == 0) return {};
  return std::string(it->second.data(), 2);
}

bool subscriber_directory::known(std::string_view msisdn) const {
  const auto k = ussd::msisdn_key(msisdn);
  return k && by_key_.contains(*k);
}

void subscriber_directory::remember(std::string_view msisdn, std::string_view language) {
  const auto e = entry_of(msisdn, language);
  if (e && (by_key_.size() < max_remembered || by_key_.contains(e->first)))
    by_key_[e->first] = e->second;
}

void subscriber_directory::reserve(std::size_t n) {
  by_key_.reserve(std::min(n, max_remembered));
}

}  // namespace ussdpay::actions
