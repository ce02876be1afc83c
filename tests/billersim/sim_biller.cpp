#include "tests/billersim/sim_biller.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ussdpay::billersim {

namespace json = boost::json;
using adapters::minor_units;

namespace {

constexpr std::size_t max_id = 64;
constexpr std::size_t max_account = 24;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool valid_id(std::string_view s) {
  return !s.empty() && s.size() <= max_id && std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '-';
  });
}
bool valid_account(std::string_view s) {
  return !s.empty() && s.size() <= max_account &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-'; });
}
bool valid_biller(std::string_view s) {
  return !s.empty() && s.size() <= 40 && std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || c == '-' || c == '_' || c == '.';
  });
}

std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 14695981039346656037u) {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211u;
  }
  return h;
}

std::chrono::year_month_day utc_today() {
  return std::chrono::year_month_day{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}
std::string format_month(std::chrono::year_month_day d) {
  return fmt::format("{:04}-{:02}", static_cast<int>(d.year()), static_cast<unsigned>(d.month()));
}
std::string today_text() {
  const auto d = utc_today();
  return fmt::format("{}-{:02}", format_month(d), static_cast<unsigned>(d.day()));
}

sim_response error(unsigned status, std::string_view code, std::string_view description) {
  json::object o;
  o["errorCategory"] = status >= 500 ? "internal" : "businessRule";
  o["errorCode"] = json::string_view(code.data(), code.size());
  o["errorDescription"] = json::string_view(description.data(), description.size());
  return {status, json::serialize(o), "application/json", false, true};
}

json::object amount_json(minor_units value, std::string_view currency) {
  json::object a;
  a["value"] = value;
  a["currency"] = json::string_view(currency.data(), currency.size());
  return a;
}

// Splits "/a/b/c" into {"a","b","c"} (a query string is ignored); percent-escapes are not
// decoded: the contract's segments never need them, and anything escaped is simply unknown.
std::vector<std::string> segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < target.size() && out.size() <= 8) {
    if (target[i] == '/') {
      ++i;
      continue;
    }
    const auto end = std::min(target.find('/', i), target.size());
    out.emplace_back(target.substr(i, end - i));
    i = end;
  }
  return out;
}

constexpr std::array<const char*, 8> names = {"M ASLAM",      "NASREEN BIBI",  "GHULAM RASOOL",
                                              "SHAHID KHAN",  "ZAINAB AKHTAR", "WANJIKU KAMAU",
                                              "RAMESH KUMAR", "SUNITA DEVI"};

// A deterministic unpaid bill for (biller, account), due the 25th of this month.
adapters::book_entry synthesize(const std::string& biller, const std::string& account) {
  const auto h = fnv1a(account, fnv1a(biller));
  const auto units = static_cast<minor_units>(500 + h % 24'501);
  const auto month = format_month(utc_today());
  adapters::book_entry e;
  e.due = adapters::bill{.account = account,
                         .customer_name = names[(h >> 32) % names.size()],
                         .period = month,
                         .due_date = month + "-25",
                         .amount_due = units * 100,
                         .amount_after_due = (units * 110 + 50) / 100 * 100,
                         .currency = "PKR",
                         .bill_reference = {},
                         .paid_on = {}};
  return e;
}

}  // namespace

sim_biller::sim_biller(sim_config cfg, std::shared_ptr<const adapters::bill_book> book)
    : cfg_(std::move(cfg)), book_(std::move(book)), rng_(cfg_.seed) {}

sim_biller::~sim_biller() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

double sim_biller::draw() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

// ---- The journal: "P\tid\tbiller\taccount\tamount\tcurrency\treference\tdate" per acceptance,
// "R\tid\tdate" per reversal. Every field is from a bounded character set without tabs.

std::vector<std::string> sim_biller::open_journal(std::vector<std::string>& warnings) {
  std::vector<std::string> errors;
  if (cfg_.journal.empty()) return errors;
  std::ifstream in(cfg_.journal, std::ios::binary);
  std::string text;
  if (in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    ++line_no;
    const auto nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      warnings.push_back(fmt::format("{}:{}: torn last line skipped", cfg_.journal, line_no));
      break;
    }
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::vector<std::string> f;
    std::size_t i = 0;
    while (f.size() < 9) {
      const auto tab = line.find('\t', i);
      f.push_back(line.substr(i, tab == std::string::npos ? std::string::npos : tab - i));
      if (tab == std::string::npos) break;
      i = tab + 1;
    }
    const auto bad = [&](const char* what) {
      errors.push_back(fmt::format("{}:{}: {}", cfg_.journal, line_no, what));
    };
    if (f.size() == 8 && f[0] == "P") {
      const auto amount = adapters::parse_amount(f[4]);
      if (!valid_id(f[1]) || !valid_biller(f[2]) || !valid_account(f[3]) || !amount ||
          f[5].size() != 3 || f[6].empty()) {
        bad("malformed posting");
        continue;
      }
      payment p;
      p.biller = f[2];
      p.account = f[3];
      p.amount = *amount;  // written as a decimal in major units, like the bill book
      p.currency = f[5];
      p.reference = f[6];
      p.paid_on = f[7];
      p.accepted = true;
      p.code = "00";
      p.answer = payment_json(f[1], p);
      paid_[{p.biller, p.account}] = f[1];
      ++stats_.postings;
      stats_.amount_total += p.amount;
      payments_[f[1]] = std::move(p);
    } else if (f.size() == 3 && f[0] == "R") {
      const auto it = payments_.find(f[1]);
      if (it == payments_.end() || !it->second.accepted) {
        bad("reversal of an unknown payment");
        continue;
      }
      auto& p = it->second;
      if (!p.reversed) {
        p.reversed = true;
        ++stats_.reversals;
        stats_.amount_total -= p.amount;
        if (const auto m = paid_.find({p.biller, p.account}); m != paid_.end() && m->second == f[1])
          paid_.erase(m);
      }
    } else {
      bad("neither a P nor an R line");
    }
    ++stats_.journal_loaded;
    if (errors.size() >= 20) break;
  }
  if (!errors.empty()) return errors;
  journal_fd_ = ::open(cfg_.journal.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (journal_fd_ < 0)
    errors.push_back(
        fmt::format("{}: cannot open for appending: {}", cfg_.journal, std::strerror(errno)));
  return errors;
}

// Appends and fsyncs one line; false when the disk refused (the answer is then a 503: nothing
// is acknowledged that is not durable).
bool sim_biller::append_journal(const std::string& line) {
  if (journal_fd_ < 0) return true;
  std::size_t done = 0;
  while (done < line.size()) {
    const auto n = ::write(journal_fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return ::fsync(journal_fd_) == 0;
}

// ---- Requests -------------------------------------------------------------------------------

sim_response sim_biller::handle(const sim_request& req) {
  const auto parts = segments(req.target);
  const bool control = !parts.empty() && parts[0].starts_with('_');
  if (control) return route(req);

  ++stats_.requests;
  if (!cfg_.api_key.empty() && req.authorization != "Bearer " + cfg_.api_key)
    return error(401, "AUTH", "missing or wrong API key");

  // Faults: decide first, then whether the request still takes effect.
  const auto& f = cfg_.faults;
  const double d = draw();
  enum { none, timeout, fail, garbage } fault = none;
  if (d < f.timeout_rate)
    fault = timeout;
  else if (d < f.timeout_rate + f.fail_5xx_rate)
    fault = fail;
  else if (d < f.timeout_rate + f.fail_5xx_rate + f.garbage_rate)
    fault = garbage;
  if (fault == none) return route(req);
  if (f.accept_after_timeout || draw() < 0.5) route(req);  // processed; the answer is lost
  sim_response r;
  r.api = true;
  switch (fault) {
    case timeout:
      ++stats_.faults_timeout;
      r.drop = true;
      break;
    case fail:
      ++stats_.faults_5xx;
      r = error(503, "UNAVAILABLE", "try again later");
      break;
    default: {
      ++stats_.faults_garbage;
      static constexpr std::array<const char*, 3> junk = {
          "{\"paymentId\": \"", "<html><body>502 Bad Gateway</body></html>", "\x01\x02\xff"};
      r.status = 200;
      r.body = junk[rng_() % junk.size()];
      break;
    }
  }
  return r;
}

sim_response sim_biller::route(const sim_request& req) {
  const auto p = segments(req.target);
  const bool get = req.method == "GET", post = req.method == "POST";
  if (p.size() == 1 && p[0] == "_stats" && get) return {200, stats_json(), "application/json"};
  if (p.size() == 1 && p[0] == "_faults" && post) return set_faults(req.body);
  if (p.size() >= 2 && valid_biller(p[0])) {
    if (p.size() == 3 && p[1] == "bills" && get) return inquiry(p[0], p[2]);
    if (p.size() == 2 && p[1] == "payments" && post) return pay(p[0], req);
    if (p.size() == 3 && p[1] == "payments" && get) return status(p[0], p[2]);
    if (p.size() == 4 && p[1] == "payments" && p[3] == "reversal" && post)
      return reverse(p[0], p[2]);
  }
  return error(405, "NOPATH", "no such method and path");
}

sim_response sim_biller::inquiry(const std::string& biller, const std::string& account) {
  ++stats_.inquiries;
  if (!valid_account(account)) return error(400, "02", "malformed consumer number");
  std::optional<adapters::book_entry> entry;
  if (const auto* e = book_ ? book_->find(biller, account) : nullptr)
    entry = *e;
  else if (cfg_.synthesize && account.size() >= 6 &&
           std::all_of(account.begin(), account.end(), is_digit))
    entry = synthesize(biller, account);
  if (!entry) return error(404, "01", "no such consumer number");
  auto& b = entry->due;
  bool paid = entry->paid;
  if (const auto m = paid_.find({biller, account}); m != paid_.end()) {
    paid = true;
    b.paid_on = payments_.at(m->second).paid_on;
  }
  json::object o;
  o["consumerNumber"] = account;
  o["customerName"] = b.customer_name;
  o["billStatus"] = paid ? "P" : "U";
  o["billingMonth"] = b.period;
  o["dueDate"] = b.due_date;
  o["amountWithinDueDate"] = amount_json(b.amount_due, b.currency);
  o["amountAfterDueDate"] = amount_json(b.amount_after_due, b.currency);
  o["billReference"] = biller + "-" + account + "-" + b.period;
  if (paid) o["datePaid"] = b.paid_on;
  o["responseCode"] = paid ? "03" : "00";
  return {200, json::serialize(o), "application/json", false, true};
}

std::string sim_biller::payment_json(const std::string& id, const payment& p) const {
  json::object o;
  o["paymentId"] = id;
  o["status"] = p.reversed ? "reversed" : p.accepted ? "accepted" : "rejected";
  if (!p.reference.empty()) o["billerReference"] = p.reference;
  o["responseCode"] = p.reversed ? "RV" : p.code;
  o["consumerNumber"] = p.account;
  o["amount"] = amount_json(p.amount, p.currency);
  if (!p.paid_on.empty()) o["postedAt"] = p.paid_on;
  return json::serialize(o);
}

sim_response sim_biller::pay(const std::string& biller, const sim_request& req) {
  // The request: {"paymentId", "consumerNumber", "amount": {"value", "currency"}}.
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 8;
  const auto v = json::parse(req.body, ec, {}, opts);
  const auto* o = ec ? nullptr : v.if_object();
  const auto str = [&](const json::object* obj, const char* key) -> std::string {
    const auto* s = obj ? obj->if_contains(key) : nullptr;
    return s && s->is_string() ? std::string(s->get_string()) : std::string();
  };
  const std::string id = str(o, "paymentId"), account = str(o, "consumerNumber");
  const auto* amount_v = o ? o->if_contains("amount") : nullptr;
  const auto* amount = amount_v ? amount_v->if_object() : nullptr;
  const std::string currency = str(amount, "currency");
  const auto* value = amount ? amount->if_contains("value") : nullptr;
  if (!valid_id(id) || id != req.idempotency_key || value == nullptr || !value->is_int64() ||
      value->get_int64() <= 0 || currency.size() != 3)
    return error(400, "30", "want paymentId = Idempotency-Key, consumerNumber, amount");
  const minor_units paid_amount = value->get_int64();

  if (const auto it = payments_.find(id); it != payments_.end()) {
    auto& known = it->second;
    if (known.biller != biller || known.account != account || known.amount != paid_amount ||
        known.currency != currency) {
      ++stats_.conflicts;
      return error(409, "IDEMPOTENCY_CONFLICT", "payment id already used for another payment");
    }
    ++stats_.duplicates;
    if (known.reversed) return {200, payment_json(id, known), "application/json", false, true};
    return {known.http_status, known.answer, "application/json", false, true};
  }
  if (payments_.size() >= cfg_.max_payments) return error(503, "FULL", "payment book full");

  payment p;
  p.biller = biller;
  p.account = account;
  p.amount = paid_amount;
  p.currency = currency;
  const auto reject = [&](unsigned status, const char* code, std::string why) {
    ++stats_.rejections;
    auto r = error(status, code, why);
    p.code = code;
    p.http_status = r.status;
    p.answer = r.body;
    payments_.emplace(id, std::move(p));
    return r;
  };
  if (!valid_account(account)) return reject(400, "02", "malformed consumer number");
  const auto inq = inquiry(biller, account);
  --stats_.inquiries;  // an internal look-up, not a request
  if (inq.status == 404) return reject(404, "01", "no such consumer number");
  const auto bill = json::parse(inq.body).as_object();
  if (bill.at("billStatus").as_string() == "P") return reject(422, "03", "bill already paid");
  const auto& due_date = bill.at("dueDate").get_string();
  const bool late = today_text() > std::string_view(due_date);
  const auto& owed_v = bill.at(late ? "amountAfterDueDate" : "amountWithinDueDate").as_object();
  const minor_units owed = owed_v.at("value").to_number<minor_units>();
  if (currency != std::string_view(owed_v.at("currency").get_string()))
    return reject(422, "04", "wrong currency");
  if (paid_amount != owed)
    return reject(422, "04", fmt::format("amount {} against {} due", paid_amount, owed));

  p.accepted = true;
  p.code = "00";
  p.paid_on = today_text();
  p.reference =
      fmt::format("BS{:010}", fnv1a(id, fnv1a(std::to_string(cfg_.seed))) % 10'000'000'000u);
  if (!append_journal(fmt::format("P\t{}\t{}\t{}\t{}.{:02}\t{}\t{}\t{}\n", id, biller, account,
                                  paid_amount / 100, paid_amount % 100, currency, p.reference,
                                  p.paid_on)))
    return error(503, "JOURNAL", "could not make the posting durable; nothing posted");
  p.answer = payment_json(id, p);
  p.http_status = 200;
  ++stats_.postings;
  stats_.amount_total += paid_amount;
  paid_[{biller, account}] = id;
  auto answer = p.answer;
  payments_.emplace(id, std::move(p));
  return {200, std::move(answer), "application/json", false, true};
}

sim_response sim_biller::status(const std::string& biller, const std::string& id) {
  const auto it = payments_.find(id);
  if (it == payments_.end() || it->second.biller != biller)
    return error(404, "NOTFOUND", "no record of this payment id");
  return {200, payment_json(id, it->second), "application/json", false, true};
}

sim_response sim_biller::reverse(const std::string& biller, const std::string& id) {
  const auto it = payments_.find(id);
  if (it == payments_.end() || it->second.biller != biller)
    return error(404, "NOTFOUND", "no record of this payment id");
  auto& p = it->second;
  if (!p.accepted) return error(422, "NOTPAID", "payment was not accepted; nothing to reverse");
  if (!p.reversed) {
    if (!append_journal(fmt::format("R\t{}\t{}\n", id, today_text())))
      return error(503, "JOURNAL", "could not make the reversal durable; not reversed");
    p.reversed = true;
    ++stats_.reversals;
    stats_.amount_total -= p.amount;
    if (const auto m = paid_.find({p.biller, p.account}); m != paid_.end() && m->second == id)
      paid_.erase(m);
  }
  return {200, payment_json(id, p), "application/json", false, true};
}

// POST /_faults {"fail_5xx_rate", "garbage_rate", "timeout_rate", "latency_ms",
// "accept_after_timeout"}: any subset; answers the faults now in force.
sim_response sim_biller::set_faults(const std::string& body) {
  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return error(400, "30", "want a JSON object");
  auto f = cfg_.faults;
  const auto rate = [&](const char* key, double& out) {
    if (const auto* x = o->if_contains(key)) {
      boost::system::error_code nec;
      const auto d = x->to_number<double>(nec);
      if (nec || !(d >= 0 && d <= 1)) return false;
      out = d;
    }
    return true;
  };
  if (!rate("fail_5xx_rate", f.fail_5xx_rate) || !rate("garbage_rate", f.garbage_rate) ||
      !rate("timeout_rate", f.timeout_rate))
    return error(400, "30", "rates must be numbers within 0..1");
  if (const auto* x = o->if_contains("latency_ms")) {
    if (!x->is_int64() || x->get_int64() < 0 || x->get_int64() > 600'000)
      return error(400, "30", "latency_ms must be 0..600000");
    f.latency = std::chrono::milliseconds(x->get_int64());
  }
  if (const auto* x = o->if_contains("accept_after_timeout")) {
    if (!x->is_bool()) return error(400, "30", "accept_after_timeout must be true or false");
    f.accept_after_timeout = x->get_bool();
  }
  cfg_.faults = f;
  json::object out;
  out["fail_5xx_rate"] = f.fail_5xx_rate;
  out["garbage_rate"] = f.garbage_rate;
  out["timeout_rate"] = f.timeout_rate;
  out["latency_ms"] = f.latency.count();
  out["accept_after_timeout"] = f.accept_after_timeout;
  return {200, json::serialize(out), "application/json"};
}

std::string sim_biller::stats_json() const {
  json::object o;
  o["connections"] = stats_.connections;
  o["api_connections"] = stats_.api_connections;
  o["requests"] = stats_.requests;
  o["inquiries"] = stats_.inquiries;
  o["postings"] = stats_.postings;
  o["duplicates"] = stats_.duplicates;
  o["conflicts"] = stats_.conflicts;
  o["rejections"] = stats_.rejections;
  o["reversals"] = stats_.reversals;
  o["amount_total"] = stats_.amount_total;
  o["faults_5xx"] = stats_.faults_5xx;
  o["faults_garbage"] = stats_.faults_garbage;
  o["faults_timeout"] = stats_.faults_timeout;
  o["journal_loaded"] = stats_.journal_loaded;
  o["payments"] = payments_.size();
  return json::serialize(o);
}

}  // namespace ussdpay::billersim
