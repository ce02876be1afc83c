// Registered subscribers and their chosen languages, kept in memory so the first screen of a dial
// needs no store read: loaded at start-up, added to on registration and language changes. A
// number not here is looked up in the store (the CLI may have added it) before it is called
// unregistered. MSISDN digits as a number (ussd::msisdn_key) and a two-letter code: 16 bytes a
// subscriber plus the table, where strings would cost about 100. Network thread only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace ussdpay::actions {

class subscriber_directory {
 public:
  static constexpr std::size_t max_remembered = 2'000'000;

  /// The subscriber's chosen language ("" = not chosen or not known).
  std::string language(std::string_view msisdn) const;
  bool known(std::string_view msisdn) const;
  /// Registered (again), with `language` ("" = none chosen). Beyond max_remembered numbers new
  /// ones are not kept (they are then read from the store when they dial).
  void remember(std::string_view msisdn, std::string_view language);
  std::size_t size() const { return by_key_.size(); }
  void reserve(std::size_t n);

 private:
  using entry = std::pair<std::uint64_t, std::array<char, 2>>;
  static std::optional<entry> entry_of(std::string_view msisdn, std::string_view language);

  // MSISDN key -> language code ("\0\0" when none chosen).
  std::unordered_map<std::uint64_t, std::array<char, 2>> by_key_;
};

}  // namespace ussdpay::actions
