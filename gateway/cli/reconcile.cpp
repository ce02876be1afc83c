#include "gateway/cli/reconcile.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <unordered_set>

#include "gateway/common/clock.hpp"
#include "gateway/config/config.hpp"
#include "gateway/reconcile/reconcile.hpp"
#include "store/reconcile.hpp"

namespace ussdpay::reconcile {

namespace {

namespace fs = std::filesystem;

/// The statement's bytes, bounded; nullopt (with why) when it cannot be had.
std::optional<std::string> read_statement(const std::string& path, std::size_t max_bytes,
                                          std::string& why) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    why = "not a readable file";
    return std::nullopt;
  }
  const auto size = fs::file_size(path, ec);
  if (ec) {
    why = ec.message();
    return std::nullopt;
  }
  if (size > max_bytes) {
    why = "larger than " + std::to_string(max_bytes) + " bytes";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(text.data(), static_cast<std::streamsize>(text.size()))) {
    why = "cannot read it";
    return std::nullopt;
  }
  return text;
}

/// Writes `text` to `path` through a temporary file and a rename: a reader never sees half.
bool write_file(const fs::path& path, const std::string& text, std::string& why) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(text.data(), static_cast<std::streamsize>(text.size())) ||
        !out.flush()) {
      why = "cannot write " + tmp.string();
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    why = "cannot rename " + tmp.string() + ": " + ec.message();
    return false;
  }
  return true;
}

}  // namespace

int run_command(const config& cfg, const command_options& o, std::ostream& out, std::ostream& err) {
  const auto bad = [&](const std::string& why) {
    err << "ussdpay reconcile: " << why << "\n";
    return exit_bad_input;
  };
  if (o.biller.empty() || o.date.empty() || o.statement.empty())
    return bad("give --biller ID, --date YYYY-MM-DD and --statement FILE.csv");
  // Only configured ids (a-z 0-9 - _, checked when the configuration loads): a typo is refused
  // rather than reported as "every row theirs, not ours", and the id is safe in a file name.
  bool known = false;
  for (const auto& b : cfg.billers) known = known || b.info.id == o.biller;
  if (!known) return bad("--biller " + o.biller + " is not a configured biller");
  const auto day = clock::day_number(o.date);
  if (!day) return bad("--date " + o.date + " is not a date such as 2026-12-01");
  const auto start = clock::local_midnight_ms(*day), end = clock::local_midnight_ms(*day + 1);
  if (!start || !end || *end <= *start) return bad("--date " + o.date + " has no local midnight");

  const statement_limits limits;
  std::string why;
  const auto text = read_statement(o.statement, limits.max_bytes, why);
  if (!text) return bad(o.statement + ": " + why);
  const auto st = parse_statement(*text, limits);
  if (!st.errors.empty()) {
    for (const auto& e : st.errors)
      err << o.statement << ":" << e.line << ": " << e.message << "\n";
    err << "ussdpay reconcile: " << o.statement << " was not used (nothing written)\n";
    return exit_bad_input;
  }

  store::db_error open_error;
  auto d = store::db::open(cfg.store.where(), store::open_mode::reader, open_error);
  if (!d) {
    err << "ussdpay reconcile: cannot open " << cfg.store.where().describe() << ": " << open_error.message
        << "\n";
    return exit_failed;
  }
  // One read transaction: the day's payments and the lookups below see the same moment.
  store::transaction snapshot(*d, false);
  if (const auto& e = snapshot.begin_error()) {
    err << "ussdpay reconcile: " << e->message << "\n";
    return exit_failed;
  }
  auto ours = store::payments_of_biller(*d, o.biller, *start, *end);
  if (ours.error) {
    err << "ussdpay reconcile: reading the payments failed: " << ours.error->message << "\n";
    return exit_failed;
  }
  // Statement rows whose id is ours, but of another day or biller: said so in the report.
  std::unordered_set<std::string> mine;
  for (const auto& p : ours.payments) mine.insert(p.ref);
  std::vector<payment_elsewhere> elsewhere;
  std::unordered_set<std::string> looked;
  for (const auto& r : st.rows) {
    if (r.payment_id.size() != 10 || mine.contains(r.payment_id)) continue;
    if (!looked.insert(r.payment_id).second) continue;
    if (auto p = store::find_payment(*d, r.payment_id)) {
      auto when = clock::local_date(p->created_at);
      elsewhere.push_back({std::move(*p), std::move(when)});
    }
  }
  snapshot.commit();

  const auto rep = match(ours.payments, st.rows, elsewhere);
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  const fs::path dir(o.out_dir);
  const auto report_path = dir / ("reconcile-" + o.biller + "-" + o.date + ".csv");
  const auto settlement_path = dir / ("settlement-" + o.biller + "-" + o.date + ".csv");
  if (!write_file(report_path, report_csv(rep), why) ||
      !write_file(settlement_path, settlement_csv(rep, o.biller, o.date), why)) {
    err << "ussdpay reconcile: " << why << "\n";
    return exit_failed;
  }
  out << summary(rep, o.biller, o.date) << "report: " << report_path.string()
      << "\nsettlement: " << settlement_path.string() << "\n";
  return rep.differences == 0 ? exit_matched : exit_differences;
}

}  // namespace ussdpay::reconcile
