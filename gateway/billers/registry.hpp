// The billers this daemon serves, by id: each one's configuration (name, currency, fee, rules)
// and its adapter, metered (metered.hpp), in the order subscribers see them. Built once at start;
// SIGHUP swaps settings and HTTP adapters in two steps (prepare may fail and changes nothing,
// apply cannot fail). A call in flight finishes on the adapter it started on: replaced adapters
// are kept until exit. The set of billers (ids, order, kinds) and the demo adapter's knobs change
// only at a restart. Lives on the network thread; only name() may be called from others (the
// writer thread words receipts with it).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include "adapters/demo_biller.hpp"
#include "gateway/billers/config.hpp"
#include "gateway/billers/metered.hpp"
#include "gateway/common/metrics.hpp"
#include "store/writer.hpp"

namespace ussdpay::billers {

/// The demo billers' books as their journals left them, per biller (in configuration order).
using demo_books = std::vector<std::vector<adapters::demo_posting>>;
/// Read at start-up, on the writer connection before the writer thread owns it.
demo_books read_demo_books(store::db& conn, const std::vector<biller_config>& billers);

class registry {
 public:
  struct slot {
    biller_config cfg;
    std::unique_ptr<adapters::biller> adapter;  ///< metered
  };

  /// Builds every adapter: demo billers restored from `books` and journaling their decisions
  /// through `writer` before they answer; HTTP billers with their TLS contexts. Throws
  /// std::runtime_error naming the biller when one cannot be built.
  registry(boost::asio::any_io_executor ex, const std::vector<biller_config>& billers,
           std::shared_ptr<adapters::bill_book> book, demo_books books,
           store::group_writer& writer);
  ~registry();
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// Every biller, in the configured order.
  const std::vector<slot>& all() const { return slots_; }
  const slot* find(std::string_view id) const;
  /// The metered adapter of biller `id`, or nullptr.
  adapters::biller* adapter(std::string_view id) const;
  /// Its display name (`id` itself when there is no such biller: an old payment's). Safe on any
  /// thread.
  std::string name(std::string_view id) const;
  /// Its currency, `fallback` when there is no such biller.
  std::string currency(std::string_view id, std::string_view fallback) const;
  /// Our fee on `amount` (0 when there is no such biller).
  adapters::minor_units fee(std::string_view id, adapters::minor_units amount) const;

  /// SIGHUP, step one: the new HTTP adapters, or why `next` cannot be taken (nothing changed).
  struct staged {
    std::vector<biller_config> cfg;
    std::vector<std::unique_ptr<adapters::biller>> fresh;  ///< null: keep the adapter
  };
  std::string prepare(const std::vector<biller_config>& next, staged& out);
  /// Step two: the settings and adapters of `s` from now on.
  void apply(staged s);

  /// The biller families of /metrics: answers, errors and latency per biller and call.
  void write_metrics(metrics::prometheus_text& m) const;

 private:
  std::unique_ptr<adapters::biller> http(const biller_config& b);
  void publish_names();
  std::unique_ptr<adapters::biller> metered(const biller_config& b,
                                            std::unique_ptr<adapters::biller> a);

  boost::asio::any_io_executor ex_;
  std::vector<slot> slots_;
  std::map<std::string, std::size_t, std::less<>> by_id_;
  using name_map = std::map<std::string, std::string, std::less<>>;
  /// id -> display name, swapped whole by apply() while other threads read it.
  std::atomic<std::shared_ptr<const name_map>> names_;
  /// Per biller id; they outlive a SIGHUP's adapter swap.
  std::map<std::string, std::shared_ptr<biller_metrics>, std::less<>> stats_;
  std::vector<std::unique_ptr<boost::asio::ssl::context>> tls_;
  std::vector<std::unique_ptr<adapters::biller>> retired_;
};

}  // namespace ussdpay::billers
