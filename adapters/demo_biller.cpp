#include "adapters/demo_biller.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/common/clock.hpp"

namespace ussdpay::adapters {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// ---- bill_book ------------------------------------------------------------------------------

const book_entry* bill_book::find(std::string_view biller_id, std::string_view account) const {
  const auto b = billers_.find(biller_id);
  if (b == billers_.end()) return nullptr;
  const auto a = b->second.find(account);
  return a == b->second.end() ? nullptr : &a->second;
}

bool bill_book::add(const std::string& biller_id, book_entry entry) {
  auto& accounts_of = billers_[biller_id];
  const auto [it, added] = accounts_of.try_emplace(entry.due.account, std::move(entry));
  if (added) ++size_;
  return added;
}

// ---- parsing --------------------------------------------------------------------------------

namespace {

constexpr std::size_t max_name = 40;        // biller ids and customer names
constexpr std::size_t max_account = 24;     // consumer numbers
constexpr std::size_t max_int_digits = 13;  // 9,999,999,999,999.99 fits minor_units easily
constexpr std::size_t columns = 10;
constexpr std::string_view header_names[columns] = {
    "biller",     "account",          "customer_name", "period", "due_date",
    "amount_due", "amount_after_due", "currency",      "status", "paid_on"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Splits one line (no line break) into fields: a simple RFC 4180 subset. A field is either
// unquoted (no '"' in it) or wholly quoted, with "" for a literal quote; a quoted field may hold
// commas but not line breaks. Returns an error message, or "" when the line is well formed.
std::string split_line(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return "unterminated quoted field (fields cannot span lines)";
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      if (i < line.size() && line[i] != ',') return "text after a closing quote";
    } else {
      const std::size_t end = std::min(line.find(',', i), line.size());
      field.assign(line.substr(i, end - i));
      if (field.find('"') != std::string::npos) return "quote inside an unquoted field";
      i = end;
    }
    fields.push_back(std::move(field));
    if (fields.size() > columns) return fmt::format("more than {} fields", columns);
    if (i >= line.size()) return "";
    ++i;  // the comma
  }
}

std::string joined_header() {
  std::string h;
  for (auto name : header_names) {
    if (!h.empty()) h += ',';
    h += name;
  }
  return h;
}

bool valid_biller_id(std::string_view s) {
  return !s.empty() && s.size() <= max_name && (is_lower(s[0]) || is_digit(s[0])) &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return is_lower(c) || is_digit(c) || c == '-' || c == '_' || c == '.';
         });
}

// Parses one data row; returns an error message or "" with `biller_id` and `entry` filled.
std::string parse_row(const std::vector<std::string>& f, std::string& biller_id,
                      book_entry& entry) {
  if (f.size() != columns) return fmt::format("expected {} fields, got {}", columns, f.size());
  const auto &biller = f[0], &account = f[1], &name = f[2], &period = f[3], &due_date = f[4],
             &amount_due = f[5], &after_due = f[6], &currency = f[7], &status = f[8],
             &paid_on = f[9];
  if (!valid_biller_id(biller)) return "biller: want 1-40 characters of a-z, 0-9, '-', '_', '.'";
  if (account.empty() || account.size() > max_account ||
      !std::all_of(account.begin(), account.end(),
                   [](char c) { return is_digit(c) || is_upper(c) || is_lower(c) || c == '-'; }))
    return "account: want 1-24 characters of A-Z, a-z, 0-9, '-'";
  if (name.empty() || name.size() > max_name ||
      !std::all_of(name.begin(), name.end(), [](char c) { return c >= ' ' && c <= '~'; }))
    return "customer_name: want 1-40 printable ASCII characters";
  if (!valid_period(period)) return "period: want YYYY-MM";
  if (!valid_date(due_date)) return "due_date: want a real date as YYYY-MM-DD";
  const auto due = parse_amount(amount_due);
  if (!due) return "amount_due: want a decimal amount like 4520 or 4520.50";
  auto after = due;
  if (!after_due.empty()) {
    after = parse_amount(after_due);
    if (!after) return "amount_after_due: want a decimal amount like 4972 or 4972.00, or empty";
    if (*after < *due) return "amount_after_due: less than amount_due";
  }
  if (currency.size() != 3 || !std::all_of(currency.begin(), currency.end(), is_upper))
    return "currency: want a 3-letter ISO 4217 code like PKR";
  if (status != "paid" && status != "unpaid") return "status: want paid or unpaid";
  const bool paid = status == "paid";
  if (paid && !valid_date(paid_on)) return "paid_on: a paid bill needs its date as YYYY-MM-DD";
  if (!paid && !paid_on.empty()) return "paid_on: must be empty for an unpaid bill";

  biller_id = biller;
  entry.paid = paid;
  entry.due = bill{.account = account,
                   .customer_name = name,
                   .period = period,
                   .due_date = due_date,
                   .amount_due = *due,
                   .amount_after_due = *after,
                   .currency = currency,
                   .bill_reference = {},
                   .paid_on = paid_on};
  return "";
}

}  // namespace

std::optional<minor_units> parse_amount(std::string_view text) {
  const auto dot = text.find('.');
  const auto whole = text.substr(0, dot);
  const auto frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (!all_digits(whole) || whole.size() > max_int_digits) return std::nullopt;
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2 || !all_digits(frac)))
    return std::nullopt;
  minor_units v = 0;
  for (char c : whole) v = v * 10 + (c - '0');
  minor_units cents = 0;
  for (std::size_t i = 0; i < 2; ++i) cents = cents * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  return v * 100 + cents;
}

bill_book_load parse_bill_book(std::string_view text, std::string_view source,
                               const bill_book_limits& limits) {
  bill_book_load out{std::make_shared<bill_book>(), {}};
  const auto error = [&](std::size_t line, std::string_view message) {
    out.errors.push_back(fmt::format("{}:{}: {}", source, line, message));
  };
  if (text.size() > limits.max_bytes) {
    error(1, fmt::format("larger than {} bytes; nothing loaded", limits.max_bytes));
    return out;
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 BOM from spreadsheets

  std::vector<std::string> fields;
  std::size_t line_no = 0, rows = 0;
  bool header_seen = false;
  std::string biller_id;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);

    if (!header_seen) {
      header_seen = true;
      const auto bad = split_line(line, fields);
      bool ok = bad.empty() && fields.size() == columns;
      for (std::size_t i = 0; ok && i < columns; ++i) ok = fields[i] == header_names[i];
      if (!ok) {
        error(line_no, "the first line must be the header " + joined_header());
        return out;
      }
      continue;
    }
    if (line.empty()) continue;
    if (++rows > limits.max_rows) {
      error(line_no, fmt::format("more than {} bills; the rest is not loaded", limits.max_rows));
      return out;
    }
    book_entry entry;
    auto bad = split_line(line, fields);
    if (bad.empty()) bad = parse_row(fields, biller_id, entry);
    if (bad.empty() && !out.book->add(biller_id, entry))
      bad = fmt::format("a second bill for {} account {}", biller_id, entry.due.account);
    if (!bad.empty()) {
      error(line_no, bad);
      if (out.errors.size() >= limits.max_errors) {
        error(line_no, "too many errors; stopped here");
        return out;
      }
    }
  }
  if (!header_seen) error(1, "empty; the first line must be the header " + joined_header());
  return out;
}

bill_book_load load_bill_book(const std::string& path, const bill_book_limits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return {std::make_shared<bill_book>(), {fmt::format("{}: {}", path, ec.message())}};
  if (size > limits.max_bytes)
    return {std::make_shared<bill_book>(),
            {fmt::format("{}: larger than {} bytes; nothing loaded", path, limits.max_bytes)}};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::make_shared<bill_book>(), {fmt::format("{}: cannot open", path)}};
  // Read one byte more than file_size said, to notice a file that is still being written.
  std::string text(static_cast<std::size_t>(size) + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return {std::make_shared<bill_book>(), {fmt::format("{}: read failed", path)}};
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > size)
    return {std::make_shared<bill_book>(), {fmt::format("{}: changed while being read", path)}};
  return parse_bill_book(text, path, limits);
}

// ---- the adapter ----------------------------------------------------------------------------

namespace detail {

struct payment_record {
  pay_result result;  // as first decided: accepted or rejected
  std::string account;
  bool reversed = false;
  minor_units amount = 0;
  std::string paid_on;
};

struct paid_mark {
  std::string paid_on;
  std::string payment_id;
  std::uint64_t seq = 0;
};

struct demo_biller_state {
  asio::any_io_executor ex;
  biller_info info;
  demo_biller_config config;
  std::shared_ptr<const bill_book> book;
  std::mt19937_64 rng;
  // Payments by id, oldest first in `payment_order`, at most config.remembered_payments.
  std::unordered_map<std::string, payment_record> payments;
  std::deque<std::string> payment_order;
  // Bills this adapter was paid for (account -> mark); `overlay_order` may hold stale
  // (account, seq) pairs of marks since removed by a reversal.
  std::unordered_map<std::string, paid_mark> overlay;
  std::deque<std::pair<std::string, std::uint64_t>> overlay_order;
  std::uint64_t overlay_seq = 0;
  // Timers of calls still pending, so the adapter's destructor can cancel them.
  std::map<std::uint64_t, std::weak_ptr<asio::steady_timer>> pending;
  std::uint64_t next_op = 0;
  bool closed = false;   // the adapter is gone: pending calls complete as unavailable / unknown
  demo_journal journal;  // empty: memory only
};

}  // namespace detail

namespace {

using detail::demo_biller_state;
using detail::payment_record;

constexpr std::size_t max_payment_id = 64;

// The codes of the demo biller; see demo_biller.hpp.
constexpr const char* code_ok = "00";
constexpr const char* code_no_account = "01";
constexpr const char* code_bad_account = "02";
constexpr const char* code_already_paid = "03";
constexpr const char* code_wrong_amount = "04";
constexpr const char* code_declined = "05";
constexpr const char* code_bad_request = "30";
constexpr const char* code_no_record = "NOTFOUND";
constexpr const char* code_not_paid = "NOTPAID";
constexpr const char* code_reversed = "RV";

constexpr std::array<const char*, 16> names = {
    "M ASLAM",       "NASREEN BIBI",    "GHULAM RASOOL",  "SHAHID KHAN",
    "ZAINAB AKHTAR", "ABDUL REHMAN",    "MUHAMMAD IQBAL", "FATIMA NOOR",
    "WANJIKU KAMAU", "OTIENO ODHIAMBO", "AMINA HASSAN",   "JOSEPH MWANGI",
    "RAMESH KUMAR",  "SUNITA DEVI",     "PRIYA SHARMA",   "RAJESH PATEL"};

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15u;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

// FNV-1a: stable across platforms and runs, unlike std::hash.
std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 14695981039346656037u) {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211u;
  }
  return h;
}

// A uniform draw in [0, 1) from the adapter's PRNG (53 bits; no std distribution, whose output
// differs between standard libraries).
double draw(demo_biller_state& s) {
  return static_cast<double>(s.rng() >> 11) * 0x1.0p-53;
}

// Today in the local calendar (clock::local_today), as a date.
std::chrono::year_month_day local_ymd() {
  const std::string d = clock::local_today();
  const auto part = [&d](std::size_t at, std::size_t n) {
    return static_cast<unsigned>(std::stoul(d.substr(at, n)));
  };
  return std::chrono::year_month_day{std::chrono::year{static_cast<int>(part(0, 4))},
                                     std::chrono::month{part(5, 2)}, std::chrono::day{part(8, 2)}};
}

std::string format_month(std::chrono::year_month_day d) {
  return fmt::format("{:04}-{:02}", static_cast<int>(d.year()), static_cast<unsigned>(d.month()));
}

std::string format_date(std::chrono::year_month_day d) {
  return fmt::format("{}-{:02}", format_month(d), static_cast<unsigned>(d.day()));
}

// The bill a synthesizing biller shows for `account` (before any payment): a function of
// (biller id, account) only, the same in every run and with every seed.
bill synthesize(const biller_info& info, const std::string& account,
                std::chrono::year_month_day today) {
  const std::uint64_t h = splitmix(fnv1a(account, fnv1a("\x1f", fnv1a(info.id))));
  const auto units = static_cast<minor_units>(500 + h % 24'501);  // 500..25,000 whole units
  const minor_units after_units = (units * 110 + 50) / 100;       // +10%, half up
  return bill{.account = account,
              .customer_name = names[(h >> 32) % names.size()],
              .period = format_month(today),
              .due_date = format_month(today) + "-25",
              .amount_due = units * 100,
              .amount_after_due = after_units * 100,
              .currency = info.currency,
              .bill_reference = {},
              .paid_on = {}};
}

struct current_bill {
  bill b;
  bool paid = false;
};

// The bill for `account` as this adapter sees it now: book or synthesized, then its overlay.
std::optional<current_bill> lookup(const demo_biller_state& s, const std::string& account,
                                   std::chrono::year_month_day today) {
  std::optional<current_bill> out;
  if (const auto* e = s.book ? s.book->find(s.info.id, account) : nullptr)
    out = current_bill{e->due, e->paid};
  else if (s.config.synthesize)
    out = current_bill{synthesize(s.info, account, today), false};
  if (!out) return out;
  if (const auto mark = s.overlay.find(account); mark != s.overlay.end()) {
    out->paid = true;
    out->b.paid_on = mark->second.paid_on;
  }
  return out;
}

bool amount_ok(exactness rule, minor_units paid, minor_units due) {
  if (paid <= 0) return false;
  switch (rule) {
    case exactness::exact:
      return paid == due;
    case exactness::at_least:
      return paid >= due;
    case exactness::at_most:
      return paid <= due;
    case exactness::any:
      return true;
  }
  return false;
}

std::string biller_reference(const demo_biller_state& s, std::string_view payment_id) {
  return fmt::format("DB{:010}",
                     splitmix(fnv1a(payment_id) ^ splitmix(s.config.seed)) % 10'000'000'000u);
}

pay_result rejected(const char* code, std::string detail) {
  return {pay_status::rejected, {}, code, std::move(detail)};
}

// What a payment id's record answers now.
pay_result view(const payment_record& r) {
  if (!r.reversed) return r.result;
  return {pay_status::rejected, r.result.biller_reference, code_reversed, "payment was reversed"};
}

void mark_paid(demo_biller_state& s, const std::string& account, const std::string& payment_id,
               std::string paid_on) {
  const auto seq = ++s.overlay_seq;
  s.overlay[account] = {std::move(paid_on), payment_id, seq};
  s.overlay_order.emplace_back(account, seq);
  while (s.overlay_order.size() > s.config.remembered_payments) {
    const auto& [old_account, old_seq] = s.overlay_order.front();
    if (const auto it = s.overlay.find(old_account);
        it != s.overlay.end() && it->second.seq == old_seq)
      s.overlay.erase(it);
    s.overlay_order.pop_front();
  }
}

void remember(demo_biller_state& s, const std::string& payment_id, payment_record r) {
  s.payments.emplace(payment_id, std::move(r));
  s.payment_order.push_back(payment_id);
  while (s.payment_order.size() > s.config.remembered_payments) {
    s.payments.erase(s.payment_order.front());
    s.payment_order.pop_front();
  }
}

// A posting the journal could not make durable (the store failed: disk full) is undone, as a
// biller's own failed transaction would be: no record of the payment id, the bill unpaid
// again. A status query then says "no record" and the payment is posted again under the same
// id; otherwise the biller would confirm a payment its book does not hold.
void forget_posting(demo_biller_state& s, const std::string& payment_id) {
  const auto it = s.payments.find(payment_id);
  if (it == s.payments.end()) return;
  if (const auto o = s.overlay.find(it->second.account);
      o != s.overlay.end() && o->second.payment_id == payment_id)
    s.overlay.erase(o);
  s.payments.erase(it);  // its payment_order entry stays, and later erases nothing or a re-post
}

// Decides a payment and records the outcome (the biller side of async_pay).
pay_result apply_pay(demo_biller_state& s, const pay_request& req, bool& fresh) {
  fresh = false;
  if (req.payment_id.empty() || req.payment_id.size() > max_payment_id)
    return rejected(code_bad_request, "payment id empty or longer than 64 characters");
  if (const auto it = s.payments.find(req.payment_id); it != s.payments.end())
    return view(it->second);

  const auto today = local_ymd();
  const auto decide = [&]() -> pay_result {
    if (!valid_account(s.info.account, req.account))
      return rejected(code_bad_account, "malformed consumer number");
    const auto current = lookup(s, req.account, today);
    if (!current) return rejected(code_no_account, "no such consumer number");
    if (current->paid) return rejected(code_already_paid, "bill already paid");
    if (req.currency != current->b.currency)
      return rejected(code_wrong_amount,
                      "currency " + req.currency + ", bill is in " + current->b.currency);
    const minor_units due = amount_due_on(current->b, format_date(today));
    if (!amount_ok(s.info.amount_rule, req.amount, due))
      return rejected(code_wrong_amount, fmt::format("amount {} against {} due", req.amount, due));
    if (draw(s) < s.config.reject_rate) return rejected(code_declined, "declined (reject_rate)");
    return {pay_status::accepted, biller_reference(s, req.payment_id), code_ok, "paid"};
  };
  auto result = decide();
  std::string paid_on;
  if (result.status == pay_status::accepted) {
    paid_on = format_date(today);
    mark_paid(s, req.account, req.payment_id, paid_on);
  }
  remember(s, req.payment_id, {result, req.account, false, req.amount, paid_on});
  fresh = true;
  return result;
}

pay_result apply_reverse(demo_biller_state& s, const std::string& payment_id, bool& fresh) {
  fresh = false;
  const auto it = s.payments.find(payment_id);
  if (it == s.payments.end()) return rejected(code_no_record, "no record of this payment id");
  auto& r = it->second;
  if (r.result.status != pay_status::accepted)
    return rejected(code_not_paid, "payment was not accepted; nothing to reverse");
  pay_result out{pay_status::accepted, r.result.biller_reference, code_ok, "reversed"};
  if (r.reversed) {
    out.detail = "already reversed";
    return out;
  }
  r.reversed = true;
  fresh = true;
  // The bill is unpaid again, unless another payment has paid it since (then it stays paid).
  if (const auto mark = s.overlay.find(r.account);
      mark != s.overlay.end() && mark->second.payment_id == payment_id)
    s.overlay.erase(mark);
  return out;
}

inquiry_result shut_down(inquiry_result) {
  return {inquiry_status::unavailable, {}, {}, "demo biller shut down"};
}
pay_result shut_down(pay_result) {
  return {pay_status::unknown, {}, {}, "demo biller shut down"};
}

// Hands `result` to `done` through the handler's associated executor (by default the adapter's,
// where this already runs), so the caller's own strand or coroutine executor is honoured.
template <class Result>
void deliver(const demo_biller_state& s, biller::handler<void(Result)> done, Result result) {
  if (s.closed) result = shut_down(std::move(result));
  const auto ex = asio::get_associated_executor(done, s.ex);
  asio::dispatch(ex, [done = std::move(done), result = std::move(result)]() mutable {
    std::move(done)(std::move(result));
  });
}

// Completes a call after `delay`: never inline, always exactly once.
template <class Result>
void complete(const std::shared_ptr<demo_biller_state>& s, std::chrono::milliseconds delay,
              biller::handler<void(Result)> done, Result result) {
  if (delay <= 0ms) {
    auto posted = [s, done = std::move(done), result = std::move(result)]() mutable {
      deliver(*s, std::move(done), std::move(result));
    };
    asio::post(s->ex, std::move(posted));
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(s->ex, delay);
  const auto id = s->next_op++;
  s->pending.emplace(id, timer);
  auto fired = [s, timer, id, done = std::move(done),
                result = std::move(result)](const boost::system::error_code&) mutable {
    s->pending.erase(id);
    deliver(*s, std::move(done), std::move(result));  // cancelled only when closed
  };
  timer->async_wait(std::move(fired));
}

}  // namespace

demo_biller::demo_biller(asio::any_io_executor ex, biller_info info, demo_biller_config config,
                         std::shared_ptr<const bill_book> book) {
  const auto rate_ok = [](double r) { return r >= 0 && r <= 1; };  // false for NaN too
  if (!rate_ok(config.reject_rate) || !rate_ok(config.timeout_rate))
    throw std::invalid_argument("demo biller " + info.id + ": rates must be within 0..1");
  if (config.latency < 0ms || config.timeout < 0ms)
    throw std::invalid_argument("demo biller " + info.id + ": negative latency or timeout");
  if (config.remembered_payments == 0)
    throw std::invalid_argument("demo biller " + info.id + ": remembered_payments must be > 0");
  state_ = std::make_shared<detail::demo_biller_state>();
  state_->ex = std::move(ex);
  state_->rng.seed(config.seed);
  state_->info = std::move(info);
  state_->config = std::move(config);
  state_->book = std::move(book);
}

demo_biller::~demo_biller() {
  state_->closed = true;
  for (const auto& [id, weak] : state_->pending)
    if (const auto timer = weak.lock()) timer->cancel();
}

const biller_info& demo_biller::info() const {
  return state_->info;
}

void demo_biller::async_inquire(std::string account, handler<void(inquiry_result)> done) {
  auto& s = *state_;
  if (draw(s) < s.config.timeout_rate) {
    complete(state_, s.config.timeout, std::move(done),
             inquiry_result{inquiry_status::unavailable, {}, {}, "no answer (timeout_rate)"});
    return;
  }
  inquiry_result r;
  if (!valid_account(s.info.account, account)) {
    r = {inquiry_status::invalid, {}, code_bad_account, "malformed consumer number"};
  } else if (auto current = lookup(s, account, local_ymd()); !current) {
    r = {inquiry_status::not_found, {}, code_no_account, "no such consumer number"};
  } else if (current->paid) {
    r = {inquiry_status::already_paid, std::move(current->b), code_already_paid, "paid"};
  } else {
    r = {inquiry_status::found, std::move(current->b), code_ok, "unpaid"};
  }
  complete(state_, s.config.latency, std::move(done), std::move(r));
}

namespace {

demo_posting posting_of(const demo_biller_state& s, const std::string& payment_id) {
  const auto& r = s.payments.at(payment_id);
  return {payment_id, r.account, r.amount, r.result, r.reversed, r.paid_on};
}

// Answers after the journal made the decision durable (or at once without a journal).
void answer_durably(const std::shared_ptr<demo_biller_state>& state, const std::string& payment_id,
                    bool fresh, std::chrono::milliseconds delay,
                    biller::handler<void(pay_result)> done, pay_result result) {
  if (!fresh || !state->journal) return complete(state, delay, std::move(done), std::move(result));
  auto h = std::make_shared<biller::handler<void(pay_result)>>(std::move(done));
  state->journal(posting_of(*state, payment_id), [state, h, delay, payment_id,
                                                  result = std::move(result)](bool ok) mutable {
    auto r = ok ? std::move(result) : pay_result{pay_status::unknown, {}, {}, "could not record"};
    asio::post(state->ex, [state, h, delay, ok, payment_id, r = std::move(r)]() mutable {
      if (!ok) forget_posting(*state, payment_id);
      complete(state, delay, std::move(*h), std::move(r));
    });
  });
}

}  // namespace

namespace {
bool silent(const std::shared_ptr<demo_biller_state>& s, biller::handler<void(pay_result)>& done) {
  if (!s->config.silent_payments) return false;
  complete(s, s->config.timeout, std::move(done),
           pay_result{pay_status::unknown, {}, {}, "no answer (silent_payments)"});
  return true;
}
}  // namespace

void demo_biller::async_pay(pay_request req, handler<void(pay_result)> done) {
  auto& s = *state_;
  if (silent(state_, done)) return;
  bool fresh = false;
  if (draw(s) < s.config.timeout_rate) {
    // The biller does not answer in time; half the time it has processed the payment anyway.
    if (draw(s) < 0.5) {
      apply_pay(s, req, fresh);
      if (fresh && s.journal)
        s.journal(posting_of(s, req.payment_id), [state = state_, id = req.payment_id](bool ok) {
          if (!ok) asio::post(state->ex, [state, id] { forget_posting(*state, id); });
        });
    }
    complete(state_, s.config.timeout, std::move(done),
             pay_result{pay_status::unknown, {}, {}, "no answer (timeout_rate)"});
    return;
  }
  auto r = apply_pay(s, req, fresh);
  answer_durably(state_, req.payment_id, fresh, s.config.latency, std::move(done), std::move(r));
}

void demo_biller::set_journal(demo_journal journal) {
  state_->journal = std::move(journal);
}

void demo_biller::restore(const std::vector<demo_posting>& book) {
  auto& s = *state_;
  for (const auto& p : book) {
    if (s.payments.contains(p.payment_id)) continue;
    if (p.result.status == pay_status::accepted && !p.reversed)
      mark_paid(s, p.account, p.payment_id, p.paid_on);
    remember(s, p.payment_id, {p.result, p.account, p.reversed, p.amount, p.paid_on});
  }
}

void demo_biller::async_status(std::string payment_id, handler<void(pay_result)> done) {
  auto& s = *state_;
  if (silent(state_, done)) return;
  const auto it = s.payments.find(payment_id);
  auto r = it == s.payments.end() ? pay_result{pay_status::unknown,
                                               {},
                                               code_no_record,
                                               "no record of this payment id",
                                               true}
                                  : view(it->second);
  complete(state_, s.config.latency, std::move(done), std::move(r));
}

void demo_biller::async_reverse(std::string payment_id, handler<void(pay_result)> done) {
  if (silent(state_, done)) return;
  bool fresh = false;
  auto r = apply_reverse(*state_, payment_id, fresh);
  answer_durably(state_, payment_id, fresh, state_->config.latency, std::move(done), std::move(r));
}

}  // namespace ussdpay::adapters
