#include "gateway/reconcile/reconcile.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "menus/format.hpp"

namespace ussdpay::reconcile {

namespace {

constexpr std::size_t max_id = 64;
constexpr std::size_t max_account = 64;
constexpr std::size_t max_paid_at = 32;

constexpr std::array<std::string_view, category_count> category_names{
    "amount_mismatch", "detail_mismatch", "ours_not_theirs", "theirs_not_ours",
    "duplicate",       "pending",         "matched",         "reversed"};

// ---- CSV records ------------------------------------------------------------------------------

/// Reads RFC 4180 records one at a time. Each record is bounded (limits.max_record bytes,
/// limits.max_columns fields); after a malformed record it skips to the next line and goes on,
/// so one bad line is reported with its number and later ones too.
class record_reader {
 public:
  record_reader(std::string_view text, const statement_limits& limits)
      : text_(text), limits_(limits) {}

  enum class outcome : std::uint8_t { record, end, error };

  /// The next non-blank record into `fields`; `line` is where it starts.
  outcome next(std::vector<std::string>& fields, std::size_t& line, std::string& why) {
    for (;;) {
      if (pos_ >= text_.size()) return outcome::end;
      const auto r = read(fields, line, why);
      if (r == outcome::error) skip_line();
      if (r == outcome::record && blank_) continue;
      return r;
    }
  }

 private:
  enum class state : std::uint8_t { field_start, unquoted, quoted, after_quote };

  outcome read(std::vector<std::string>& fields, std::size_t& line, std::string& why) {
    fields.clear();
    line = line_;
    blank_ = true;
    const std::size_t start = pos_;
    std::string field;
    state st = state::field_start;
    const auto end_field = [&]() -> bool {
      if (fields.size() >= limits_.max_columns) {
        why = fmt::format("more than {} fields", limits_.max_columns);
        return false;
      }
      fields.push_back(std::move(field));
      field.clear();
      return true;
    };
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      // End of record: LF or CRLF outside quotes (a CR anywhere else outside quotes is refused).
      if (st != state::quoted && (c == '\n' || c == '\r')) {
        if (c == '\r' && (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '\n')) {
          why = "a carriage return not followed by a line feed";
          return outcome::error;
        }
        if (!blank_ && !end_field()) return outcome::error;  // skip_line() takes this line
        pos_ += c == '\r' ? 2 : 1;
        ++line_;
        return outcome::record;
      }
      if (pos_ - start >= limits_.max_record) {
        why = fmt::format("the record is longer than {} bytes", limits_.max_record);
        return outcome::error;
      }
      blank_ = false;
      ++pos_;
      switch (st) {
        case state::field_start:
          if (c == '"')
            st = state::quoted;
          else if (c == ',') {
            if (!end_field()) return outcome::error;
          } else {
            field += c;
            st = state::unquoted;
          }
          break;
        case state::unquoted:
          if (c == ',') {
            if (!end_field()) return outcome::error;
            st = state::field_start;
          } else if (c == '"') {
            why = "a quote inside an unquoted field (quote the whole field, double the quote)";
            return outcome::error;
          } else
            field += c;
          break;
        case state::quoted:
          if (c == '"') {
            if (pos_ < text_.size() && text_[pos_] == '"') {
              field += '"';
              ++pos_;
            } else
              st = state::after_quote;
          } else {
            if (c == '\n') ++line_;
            field += c;
          }
          break;
        case state::after_quote:
          if (c != ',') {
            why = "text after a closing quote";
            return outcome::error;
          }
          if (!end_field()) return outcome::error;
          st = state::field_start;
          break;
      }
    }
    if (st == state::quoted) {
      why = "a quoted field is not closed";
      return outcome::error;
    }
    return end_field() ? outcome::record : outcome::error;
  }

  // After an error: on to the line after the current one, quotes or not.
  void skip_line() {
    while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    if (pos_ < text_.size()) {
      ++pos_;
      ++line_;
    }
  }

  std::string_view text_;
  const statement_limits& limits_;
  std::size_t pos_ = 0, line_ = 1;
  bool blank_ = true;
};

// ---- fields -----------------------------------------------------------------------------------

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
bool graphic(char c) {
  return c > ' ' && c < 0x7f;
}
bool printable(char c) {
  return c >= ' ' && c < 0x7f;
}

template <class Pred>
bool all_of(std::string_view s, Pred p) {
  return std::all_of(s.begin(), s.end(), p);
}

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// Shown in an error: at most 40 printable characters of what was there.
std::string shown(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 40)) out += printable(c) ? c : '?';
  if (s.size() > 40) out += "...";
  return out;
}

enum column : std::uint8_t {
  col_payment_id,
  col_biller_reference,
  col_account,
  col_amount,
  col_currency,
  col_paid_at,
  col_status,
  column_count
};
constexpr std::array<std::string_view, column_count> column_names{
    "payment_id", "biller_reference", "account", "amount", "currency", "paid_at", "status"};
constexpr std::size_t absent = static_cast<std::size_t>(-1);

/// Where each known column is in the header; "" or the reason the header is refused.
std::string read_header(const std::vector<std::string>& fields,
                        std::array<std::size_t, column_count>& where) {
  where.fill(absent);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto name = lower_trimmed(fields[i]);
    for (std::size_t k = 0; k < column_count; ++k) {
      if (name != column_names[k]) continue;
      if (where[k] != absent) return fmt::format("the column {} is named twice", name);
      where[k] = i;
    }
  }
  std::string missing;
  for (const auto k : {col_payment_id, col_amount, col_currency})
    if (where[k] == absent) missing += (missing.empty() ? "" : ", ") + std::string(column_names[k]);
  if (!missing.empty())
    return "the header row lacks the column(s) " + missing +
           " (expected payment_id,biller_reference,account,amount,currency,paid_at,status)";
  return {};
}

/// One data record as a row; "" or the reason it is refused.
std::string read_row(const std::vector<std::string>& f,
                     const std::array<std::size_t, column_count>& where, statement_row& row) {
  const auto get = [&](column k) -> std::string_view {
    return where[k] == absent ? std::string_view() : std::string_view(f[where[k]]);
  };
  const auto id = get(col_payment_id);
  if (id.empty() || id.size() > max_id || !all_of(id, id_char))
    return fmt::format("payment_id \"{}\" is not 1-64 of A-Z a-z 0-9 . _ -", shown(id));
  row.payment_id = id;
  const auto ref = get(col_biller_reference);
  if (ref.size() > max_id || !all_of(ref, graphic))
    return fmt::format("biller_reference \"{}\" is not 0-64 printable characters without spaces",
                       shown(ref));
  row.biller_reference = ref;
  const auto account = get(col_account);
  if (account.size() > max_account || !all_of(account, graphic))
    return fmt::format("account \"{}\" is not 0-64 printable characters without spaces",
                       shown(account));
  row.account = account;
  const auto currency = get(col_currency);
  if (currency.size() != 3 || !all_of(currency, [](char c) { return c >= 'A' && c <= 'Z'; }))
    return fmt::format("currency \"{}\" is not an ISO 4217 code such as PKR", shown(currency));
  row.currency = currency;
  const auto amount_text = get(col_amount);
  const auto amount = parse_amount(amount_text, currency);
  if (!amount)
    return fmt::format(
        "amount \"{}\" is not a positive amount such as 4520 or 4520.50 (at most {} decimals "
        "for {}, no sign or separators)",
        shown(amount_text), menus::currency(currency).decimals, currency);
  row.amount = *amount;
  const auto paid_at = get(col_paid_at);
  if (paid_at.size() > max_paid_at || !all_of(paid_at, printable))
    return fmt::format("paid_at \"{}\" is not 0-32 printable characters", shown(paid_at));
  row.paid_at = paid_at;
  if (where[col_status] != absent) {
    const auto st = lower_trimmed(get(col_status));
    if (st == "paid")
      row.status = their_status::paid;
    else if (st == "reversed")
      row.status = their_status::reversed;
    else
      return fmt::format("status \"{}\" is not paid or reversed", shown(get(col_status)));
  }
  return {};
}

// ---- matching ---------------------------------------------------------------------------------

enum class kind : std::uint8_t { paid, open, failed, reversed };

kind kind_of(store::payment_state s) {
  switch (s) {
    case store::payment_state::committed:
    case store::payment_state::completed:
      return kind::paid;
    case store::payment_state::failed:
      return kind::failed;
    case store::payment_state::reversed:
      return kind::reversed;
    case store::payment_state::created:
    case store::payment_state::unknown:
    case store::payment_state::manual_review:
      break;
  }
  return kind::open;
}

std::string money(minor_units v, std::string_view currency) {
  return format_amount(v, currency) + " " + std::string(currency);
}

item ours_only(const store::payment_record& p, category what, std::string note) {
  item i;
  i.what = what;
  i.payment_id = p.ref;
  i.biller_reference = p.biller_reference;
  i.account = p.account;
  i.our_amount = p.amount;
  i.our_currency = p.currency;
  i.our_state = store::to_string(p.state);
  i.note = std::move(note);
  return i;
}

void add_theirs(item& i, const statement_row& r) {
  if (!r.biller_reference.empty()) i.biller_reference = r.biller_reference;
  if (i.account.empty()) i.account = r.account;
  i.their_amount = r.amount;
  i.their_currency = r.currency;
  i.their_status = to_string(r.status);
  i.line = r.line;
}

item theirs_only(const statement_row& r, category what, std::string note) {
  item i;
  i.what = what;
  i.payment_id = r.payment_id;
  add_theirs(i, r);
  i.note = std::move(note);
  return i;
}

/// "" when the money agrees, else what differs.
std::string money_difference(const store::payment_record& p, const statement_row& r) {
  if (p.currency != r.currency)
    return fmt::format("currency differs: ours {}, theirs {}", money(p.amount, p.currency),
                       money(r.amount, r.currency));
  if (p.amount != r.amount)
    return fmt::format("amount differs: ours {}, theirs {}", money(p.amount, p.currency),
                       money(r.amount, r.currency));
  return {};
}

/// "" when the numbers agree (or one side does not give them), else what differs.
std::string detail_difference(const store::payment_record& p, const statement_row& r) {
  std::string out;
  if (!p.account.empty() && !r.account.empty() && p.account != r.account)
    out = fmt::format("account differs: ours {}, theirs {}", p.account, r.account);
  if (!p.biller_reference.empty() && !r.biller_reference.empty() &&
      p.biller_reference != r.biller_reference)
    out += fmt::format("{}biller reference differs: ours {}, theirs {}", out.empty() ? "" : "; ",
                       p.biller_reference, r.biller_reference);
  return out;
}

/// A payment of ours with the statement's row for it (or none).
item judge(const store::payment_record& p, const statement_row* r) {
  const auto state = store::to_string(p.state);
  switch (kind_of(p.state)) {
    case kind::open: {
      std::string note = "open here: not settleable until it is final";
      if (r != nullptr && r->status == their_status::paid) {
        const auto diff = money_difference(p, *r);
        note = fmt::format(
            "open here; the statement shows it paid{}{}: if the biller confirms, ussdpay "
            "payments resolve {} --paid {} --note \"statement of <date>, <your name>\"",
            r->biller_reference.empty() ? "" : " (" + r->biller_reference + ")",
            diff.empty() ? "" : ", but " + diff, p.ref,
            r->biller_reference.empty() ? "BILLER_REF" : r->biller_reference);
      } else if (r != nullptr)
        note = fmt::format(
            "open here; the statement shows it reversed: if the biller confirms it is not paid, "
            "ussdpay payments resolve {} --not-paid --note \"statement of <date>, <your name>\"",
            p.ref);
      else
        note += "; not in the statement";
      auto i = ours_only(p, category::pending, std::move(note));
      if (r != nullptr) add_theirs(i, *r);
      return i;
    }
    case kind::paid: {
      if (r == nullptr) return ours_only(p, category::ours_not_theirs, "not in the statement");
      if (r->status == their_status::reversed) {
        auto i = ours_only(p, category::ours_not_theirs,
                           fmt::format("{} here; the statement shows it reversed", state));
        add_theirs(i, *r);
        return i;
      }
      auto i = ours_only(p, category::matched, "");
      add_theirs(i, *r);
      if (auto diff = money_difference(p, *r); !diff.empty()) {
        i.what = category::amount_mismatch;
        i.note = std::move(diff);
      } else if (auto detail = detail_difference(p, *r); !detail.empty()) {
        i.what = category::detail_mismatch;
        i.note = std::move(detail);
      }
      return i;
    }
    case kind::reversed:
    case kind::failed: {
      const bool reversed = kind_of(p.state) == kind::reversed;
      const std::string_view refunded =
          reversed ? "REVERSED here (the subscriber was refunded)" : "FAILED here (nothing taken)";
      if (r != nullptr && r->status == their_status::paid) {
        auto i = ours_only(p, category::theirs_not_ours,
                           fmt::format("{}; the statement shows it paid", refunded));
        add_theirs(i, *r);
        return i;
      }
      auto i = ours_only(p, category::reversed,
                         r != nullptr ? fmt::format("{}; reversed in the statement too", refunded)
                                      : fmt::format("{}; not in the statement", refunded));
      if (r != nullptr) add_theirs(i, *r);
      return i;
    }
  }
  return ours_only(p, category::pending, "");  // can't happen: every kind is handled above
}

settlement_line& line_for(std::vector<settlement_line>& lines, const std::string& currency) {
  for (auto& l : lines)
    if (l.currency == currency) return l;
  lines.push_back({});
  lines.back().currency = currency;
  return lines.back();
}

}  // namespace

std::string_view to_string(their_status s) {
  return s == their_status::paid ? "paid" : "reversed";
}

std::string_view to_string(category c) {
  return category_names.at(static_cast<std::size_t>(c));
}

bool is_difference(category c) {
  return c != category::matched && c != category::reversed;
}

std::optional<minor_units> parse_amount(std::string_view text, std::string_view currency) {
  const unsigned decimals = menus::currency(currency).decimals;
  const auto dot = text.find('.');
  const auto whole = text.substr(0, dot);
  const auto frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  const auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || !digits(whole)) return std::nullopt;
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > decimals || !digits(frac)))
    return std::nullopt;
  minor_units v = 0;
  for (const char c : whole) {
    v = v * 10 + (c - '0');
    if (v > max_amount) return std::nullopt;  // before it could overflow: max_amount * 10 fits
  }
  for (unsigned i = 0; i < decimals; ++i) {
    v = v * 10 + (i < frac.size() ? frac[i] - '0' : 0);
    if (v > max_amount) return std::nullopt;
  }
  if (v <= 0) return std::nullopt;
  return v;
}

std::string format_amount(minor_units v, std::string_view currency) {
  const unsigned decimals = menus::currency(currency).decimals;
  std::string digits = std::to_string(v < 0 ? -static_cast<std::uint64_t>(v)  // never INT64_MIN
                                            : static_cast<std::uint64_t>(v));
  if (digits.size() <= decimals) digits.insert(0, decimals + 1 - digits.size(), '0');
  if (decimals > 0) digits.insert(digits.size() - decimals, 1, '.');
  return (v < 0 ? "-" : "") + digits;
}

namespace {

statement read_statement(std::string_view text, const statement_limits& limits) {
  statement out;
  const auto error = [&](std::size_t line, std::string message) {
    out.errors.push_back({line, std::move(message)});
    if (out.errors.size() < limits.max_errors) return true;
    out.errors.push_back({line, fmt::format("more than {} errors; stopped", limits.max_errors)});
    return false;
  };
  if (text.size() > limits.max_bytes) {
    error(1, fmt::format("the statement is larger than {} bytes", limits.max_bytes));
    return out;
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

  record_reader reader(text, limits);
  std::vector<std::string> fields;
  std::size_t line = 1;
  std::string why;
  std::array<std::size_t, column_count> where{};
  bool have_header = false;
  std::size_t header_fields = 0;
  for (;;) {
    const auto r = reader.next(fields, line, why);
    if (r == record_reader::outcome::end) break;
    if (r == record_reader::outcome::error) {
      if (!error(line, why)) return out;
      if (!have_header) return out;  // without the header no later line can be read
      continue;
    }
    if (!have_header) {
      if (auto bad = read_header(fields, where); !bad.empty()) {
        error(line, std::move(bad));
        return out;
      }
      have_header = true;
      header_fields = fields.size();
      continue;
    }
    if (out.rows.size() >= limits.max_rows) {
      error(line, fmt::format("more than {} rows", limits.max_rows));
      return out;
    }
    if (fields.size() != header_fields) {
      if (!error(line, fmt::format("{} fields, the header has {}", fields.size(), header_fields)))
        return out;
      continue;
    }
    statement_row row;
    row.line = line;
    if (auto bad = read_row(fields, where, row); !bad.empty()) {
      if (!error(line, std::move(bad))) return out;
      continue;
    }
    out.rows.push_back(std::move(row));
  }
  if (!have_header && out.errors.empty())
    error(1, "the statement is empty: it needs a header row naming its columns");
  return out;
}

}  // namespace

statement parse_statement(std::string_view text, const statement_limits& limits) {
  auto st = read_statement(text, limits);
  if (!st.errors.empty()) st.rows.clear();  // all or nothing: a half-read statement misleads
  return st;
}

report match(std::span<const store::payment_record> ours, std::span<const statement_row> rows,
             std::span<const payment_elsewhere> elsewhere) {
  report out;
  out.payments = ours.size();
  out.rows = rows.size();

  // The first row of each payment id is the one matched; later ones are duplicates.
  std::unordered_map<std::string_view, std::size_t> first;
  first.reserve(rows.size());
  std::vector<bool> used(rows.size(), false);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto [it, fresh] = first.try_emplace(rows[i].payment_id, i);
    if (fresh) continue;
    used[i] = true;
    auto dup = theirs_only(rows[i], category::duplicate,
                           fmt::format("payment id already on line {}", rows[it->second].line));
    out.items.push_back(std::move(dup));
  }

  for (const auto& p : ours) {
    const statement_row* r = nullptr;
    if (const auto it = first.find(p.ref); it != first.end() && !used[it->second]) {
      r = &rows[it->second];
      used[it->second] = true;
    }
    auto& s = line_for(out.settlement, p.currency);
    switch (kind_of(p.state)) {
      case kind::paid:
        ++s.count;
        s.amount += p.amount;
        s.fees += p.fee;
        break;
      case kind::open:
        ++s.pending_count;
        s.pending_amount += p.amount;
        break;
      case kind::reversed:
        ++s.reversed_count;
        s.reversed_amount += p.amount;
        break;
      case kind::failed:
        ++s.failed_count;
        if (r == nullptr) continue;  // not paid, not mentioned: nothing to look at
        break;
    }
    out.items.push_back(judge(p, r));
  }

  std::unordered_map<std::string_view, const payment_elsewhere*> known;
  for (const auto& e : elsewhere) known.emplace(e.payment.ref, &e);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (used[i]) continue;
    const auto& r = rows[i];
    std::string note = "no payment of ours with this id";
    if (const auto it = known.find(r.payment_id); it != known.end()) {
      const auto& p = it->second->payment;
      note = fmt::format("our payment to {} made on {}, {}, {}: not of this biller and day",
                         p.biller, it->second->local_day, money(p.amount, p.currency),
                         store::to_string(p.state));
    }
    if (r.status == their_status::reversed) note += "; reversed in the statement";
    out.items.push_back(theirs_only(r, category::theirs_not_ours, std::move(note)));
  }

  std::stable_sort(out.items.begin(), out.items.end(), [](const item& a, const item& b) {
    if (a.what != b.what) return a.what < b.what;
    if (a.payment_id != b.payment_id) return a.payment_id < b.payment_id;
    return a.line < b.line;
  });
  for (const auto& i : out.items) {
    ++out.counts[static_cast<std::size_t>(i.what)];
    if (is_difference(i.what)) ++out.differences;
  }
  std::sort(out.settlement.begin(), out.settlement.end(),
            [](const auto& a, const auto& b) { return a.currency < b.currency; });
  return out;
}

std::string csv_field(std::string_view text) {
  std::string v;
  // A spreadsheet runs a cell that starts with these as a formula (CSV injection): the
  // statement's text reaches this file, so such a cell is made plain text.
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                        text[0] == '\t' || text[0] == '\r'))
    v = "'";
  v += text;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string q = "\"";
  for (const char c : v) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

std::string report_csv(const report& r) {
  std::string out =
      "category,payment_id,biller_reference,account,our_amount,their_amount,currency,our_state,"
      "their_status,statement_line,note\n";
  for (const auto& i : r.items) {
    const auto amount = [](const std::optional<minor_units>& v, const std::string& currency) {
      return v ? format_amount(*v, currency) : std::string();
    };
    const std::string& currency = i.our_currency.empty() ? i.their_currency : i.our_currency;
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{}\n", to_string(i.what), csv_field(i.payment_id),
        csv_field(i.biller_reference), csv_field(i.account), amount(i.our_amount, i.our_currency),
        amount(i.their_amount, i.their_currency), csv_field(currency), i.our_state, i.their_status,
        i.line == 0 ? std::string() : std::to_string(i.line), csv_field(i.note));
  }
  return out;
}

std::string settlement_csv(const report& r, std::string_view biller, std::string_view date) {
  std::string out =
      "biller,date,currency,count,amount,fees,pending_count,pending_amount,reversed_count,"
      "reversed_amount,failed_count\n";
  for (const auto& s : r.settlement)
    out +=
        fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(biller), date, s.currency,
                    s.count, format_amount(s.amount, s.currency), format_amount(s.fees, s.currency),
                    s.pending_count, format_amount(s.pending_amount, s.currency), s.reversed_count,
                    format_amount(s.reversed_amount, s.currency), s.failed_count);
  return out;
}

std::string summary(const report& r, std::string_view biller, std::string_view date) {
  std::string out = fmt::format("reconcile {} {}: {} payment(s) of ours, {} statement row(s)\n",
                                biller, date, r.payments, r.rows);
  for (std::size_t c = 0; c < category_count; ++c) {
    const auto what = static_cast<category>(c);
    out += fmt::format("  {:<16} {:>7}{}\n", to_string(what), r.counts[c],
                       what == category::pending    ? "  (open: not settleable)"
                       : what == category::reversed ? "  (not paid on either side)"
                                                    : "");
  }
  for (const auto& s : r.settlement)
    out += fmt::format(
        "settlement {}: {} payment(s), amount {}, fees {}; pending {} ({}), reversed {} ({}), "
        "failed {}\n",
        s.currency, s.count, format_amount(s.amount, s.currency), format_amount(s.fees, s.currency),
        s.pending_count, format_amount(s.pending_amount, s.currency), s.reversed_count,
        format_amount(s.reversed_amount, s.currency), s.failed_count);
  if (r.settlement.empty()) out += "settlement: no payments\n";
  out += r.differences == 0 ? std::string("everything matches\n")
                            : fmt::format("{} difference(s)\n", r.differences);
  return out;
}

}  // namespace ussdpay::reconcile
