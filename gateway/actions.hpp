// What the menus' actions do in this daemon: biller lists from configuration, inquiries through
// the biller adapters, quotes with our fees, the subscriber's language. Actions that need the
// payments store (pay, saved accounts, payment history, PIN change) report `error` until that
// store exists: the subscriber sees "Service unavailable. Nothing was paid." and nothing is
// half-done (see the payments issue).
//
// run() never completes inline: results are posted to the executor, as menus expect.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "adapters/biller.hpp"
#include "gateway/config.hpp"
#include "gateway/ussd/dialogs.hpp"

namespace ussdpay {

struct biller_entry {
  biller_config cfg;
  std::unique_ptr<adapters::biller> adapter;
};

/// Our fee on `amount` for a biller: flat plus percent, capped.
adapters::minor_units fee_for(const biller_config& b, adapters::minor_units amount);

class menu_actions {
 public:
  using done_fn = std::function<void(ussd::action_result)>;

  menu_actions(boost::asio::any_io_executor ex, std::vector<biller_entry>& billers);

  void run(const ussd::action_call& call, done_fn done);

  /// The subscriber's chosen language ("" = not chosen). Kept in memory until the subscriber
  /// store exists; bounded by max_languages_remembered.
  std::string language(std::string_view msisdn) const;

  static constexpr std::size_t max_languages_remembered = 1'000'000;

 private:
  void finish(done_fn& done, ussd::action_result r);
  biller_entry* find(const menus::dialog_state& s);

  boost::asio::any_io_executor ex_;
  std::vector<biller_entry>& billers_;
  std::unordered_map<std::string, std::string> languages_;
};

}  // namespace ussdpay
