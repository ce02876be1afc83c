// ussdpay: the operator's command line. It reads the same configuration (and environment
// overrides) as the daemon, so both agree.
//
//   ussdpay check-menus [--config PATH] [--menus DIR]
//       loads and checks every screen in every language (lengths per encoding, targets,
//       variables, unreachable screens); prints each error with file, screen and language and
//       exits 1 when there is any.
//   ussdpay subscriber add --msisdn N --pin P --balance AMOUNT [--language L]
//   ussdpay subscriber import FILE.csv      (columns msisdn,pin,balance,language; a header row)
//       registers subscribers (or updates their PIN, language and balance) in [store] path:
//       the PIN is stored only as a peppered PBKDF2 hash; the balance is set with ledger
//       transfers from the funding account, so the ledger stays balanced.
//   ussdpay subscriber show --msisdn N
//       language, wallet balance and PIN state (never the PIN or its hash).
//   ussdpay payments list [--state S] [--msisdn N] [--limit L]
//   ussdpay payments show REF                   the payment, its ledger entries and messages
//   ussdpay payments resolve REF (--paid BILLER_REF | --not-paid) [--note TEXT]
//       an operator's answer for an UNKNOWN or MANUAL_REVIEW payment, after asking the biller:
//       one transaction settles (or returns) the hold and queues the receipt (docs/payments.md)
//   ussdpay payments reverse REF [--note TEXT] [--wait SECONDS]
//       an approved reversal of a paid payment: queued for the running daemon, which asks the
//       biller to reverse, refunds the wallet and sends the SMS; waits for the outcome
//   ussdpay payments complaints                  problems subscribers reported from the menu
//   ussdpay reconcile --biller ID --date YYYY-MM-DD --statement FILE.csv [--out DIR]
//       compares the biller's payments of that local day with its statement; writes the report
//       and the day's settlement as CSV; exit 0 all matched, 1 differences, 2 bad input
//       (docs/reconcile.md)
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "adapters/embedded_wallet.hpp"
#include "adapters/pin.hpp"
#include "gateway/admin/client.hpp"
#include "gateway/cli/reconcile.hpp"
#include "gateway/cli/subscriber_import.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/config/config.hpp"
#include "gateway/payments/resolve.hpp"
#include "gateway/payments/saga.hpp"
#include "gateway/sms/texts.hpp"
#include "menus/catalog.hpp"
#include "menus/format.hpp"
#include "store/accounts.hpp"
#include "store/ledger.hpp"
#include "store/outbox.hpp"
#include "store/payments.hpp"
#include "store/requests.hpp"
#include "store/schema.hpp"
#include "store/subscribers.hpp"

extern char** environ;

namespace {

using namespace ussdpay;
namespace json = boost::json;

/// The writer connection, migrated; exits with a message when it cannot be had.
store::db open_store(const config& cfg) {
  std::string why;
  auto d = store::open_writer(cfg.store.where(), why);
  if (!d) {
    std::cerr << "ussdpay: " << why << "\n";
    std::exit(1);
  }
  return std::move(*d);
}

/// Registers or updates one subscriber inside the caller's transaction; "" or the reason.
std::string apply(store::db& d, const config& cfg, new_subscriber n, std::int64_t seq) {
  const auto checked = check_subscriber(n, cfg.ussd.currency);
  if (!checked.why.empty()) {
    adapters::wipe(n.pin);
    return checked.why;
  }
  const std::string& msisdn = checked.msisdn;
  const std::int64_t amount = checked.balance;
  auto h = adapters::hash_pin(n.pin, cfg.pin.pepper, cfg.pin.iterations);
  adapters::wipe(n.pin);
  store::subscriber_record r{msisdn, n.language, h.hash, h.salt, h.kdf, 0, 0, clock::now_ms()};
  if (auto e = store::upsert_subscriber(d, r)) return e->message;
  const auto& cur = cfg.ussd.currency;
  const auto wallet = store::account_id(d, store::account_kind::wallet, msisdn, cur, true);
  const auto funding = store::account_id(d, store::account_kind::funding, "", cur, true);
  store::account_id(d, store::account_kind::hold, msisdn, cur, true);
  if (!wallet || !funding) return "cannot create the wallet account";
  const auto have = store::balance(d, *wallet).value_or(0);
  if (amount == have) return {};
  // The wallet is set to the amount by a transfer from (or back to) the funding account.
  const std::string id = fmt::format("admin-balance/{}/{}/{}", msisdn, r.created_at, seq);
  const auto st = amount > have
                      ? store::transfer(d, id, *funding, *wallet, amount - have, r.created_at)
                      : store::transfer(d, id, *wallet, *funding, have - amount, r.created_at);
  return st == store::transfer_status::done ? std::string() : "the balance transfer failed";
}

int subscriber_add(const config& cfg, new_subscriber n) {
  auto d = open_store(cfg);
  store::transaction tx(d, true);
  if (const auto& e = tx.begin_error()) {
    std::cerr << "ussdpay subscriber add: " << e->message << "\n";
    return 1;
  }
  const std::string shown = n.msisdn;
  if (auto why = apply(d, cfg, std::move(n), 0); !why.empty()) {
    std::cerr << "ussdpay subscriber add: " << shown << ": " << why << "\n";
    return 1;
  }
  if (auto e = tx.commit()) {
    std::cerr << "ussdpay subscriber add: " << e->message << "\n";
    return 1;
  }
  std::cout << "subscriber " << *store::normalise_msisdn(shown) << " saved\n";
  return 0;
}

int subscriber_import(const config& cfg, const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    std::cerr << "ussdpay subscriber import: cannot read " << file << "\n";
    return 1;
  }
  auto d = open_store(cfg);
  store::transaction tx(d, true);
  if (const auto& e = tx.begin_error()) {
    std::cerr << "ussdpay subscriber import: " << e->message << "\n";
    return 1;
  }
  std::string line;
  std::size_t lineno = 0, saved = 0, bad = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lineno == 1) {
      if (line != subscriber_header) {
        std::cerr << file << ":1: the header must be msisdn,pin,balance,language\n";
        return 1;
      }
      continue;
    }
    if (line.empty()) continue;
    new_subscriber f;
    std::string why;
    if (!split_subscriber_line(line, f))
      why = "expected 4 fields: msisdn,pin,balance,language";
    else
      why = apply(d, cfg, f, static_cast<std::int64_t>(lineno));
    adapters::wipe(f.pin);
    adapters::wipe(line);
    if (!why.empty()) {
      std::cerr << file << ":" << lineno << ": " << why << "\n";
      ++bad;
    } else {
      ++saved;
    }
  }
  // All or nothing: a file with any bad row changes nothing, so it can be fixed and re-run.
  if (bad > 0) {
    std::cerr << "ussdpay subscriber import: " << bad << " bad row(s); nothing imported\n";
    return 1;
  }
  if (auto e = tx.commit()) {
    std::cerr << "ussdpay subscriber import: " << e->message << "\n";
    return 1;
  }
  std::cout << "imported " << saved << " subscriber(s) from " << file << "\n";
  return 0;
}

std::string when(std::int64_t ms) {
  return clock::local_date_time(ms);
}

int subscriber_show(const config& cfg, const std::string& number) {
  const auto msisdn = store::normalise_msisdn(number);
  if (!msisdn) {
    std::cerr << "ussdpay subscriber show: " << number << " is not an MSISDN\n";
    return 1;
  }
  auto d = open_store(cfg);
  auto r = store::find_subscriber(d, *msisdn);
  if (!r) {
    std::cerr << "ussdpay subscriber show: " << *msisdn << " is not registered\n";
    return 1;
  }
  const auto wallet =
      store::account_id(d, store::account_kind::wallet, *msisdn, cfg.ussd.currency, false);
  const auto bal = wallet ? store::balance(d, *wallet).value_or(0) : 0;
  std::cout << fmt::format("msisdn={} language={} balance={} pin={} failed_pins={}\n", r->msisdn,
                           r->language.empty() ? "-" : r->language,
                           menus::format_money(bal, cfg.ussd.currency),
                           r->pin_hash.empty() ? "unset" : "set", r->failed_pins);
  // Saved accounts with their reminder and auto-pay state, and what the scheduler did.
  for (const auto& a : store::accounts_of(d, *msisdn)) {
    std::cout << fmt::format(
        "saved {:<10} {:<10} {:<16} reminders={} autopay={} bill={} next_check={}\n", a.label,
        a.biller, a.account, a.reminders ? "on" : "off",
        a.autopay_max > 0 ? menus::format_money(a.autopay_max, cfg.ussd.currency) : "off",
        a.due_date.empty()
            ? "-"
            : menus::format_money(a.bill_amount, cfg.ussd.currency) + " due " + a.due_date,
        a.next_check_at == store::never ? "never"
        : a.next_check_at == 0          ? "now"
                                        : when(a.next_check_at));
    for (const auto& b : store::bill_actions(d, *msisdn, a.biller, a.account, 5))
      std::cout << fmt::format("  bill due {} {} {} {} {}\n", b.due_date, b.action, b.outcome,
                               menus::format_money(b.amount, cfg.ussd.currency),
                               b.payment_ref.empty() ? "" : "payment " + b.payment_ref);
  }
  return 0;
}

// ---- payments ---------------------------------------------------------------------------------

std::string row(const store::payment_record& p) {
  return fmt::format("{}  {}  +{}  {:<10} {:<16} {:>12} fee {:>8}  {:<13} {}{}", p.ref,
                     when(p.created_at), p.msisdn, p.biller, p.account,
                     menus::format_money(p.amount, p.currency),
                     menus::format_money(p.fee, p.currency), store::to_string(p.state),
                     p.biller_reference, p.reason.empty() ? "" : "  (" + p.reason + ")");
}

/// A payment as the admin API writes it (payment_json in gateway/admin/api.cpp).
/// A string or integer field of an admin API answer ("" or 0 when absent or of another type).
std::string text_of(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}
std::int64_t number_of(const json::object& o, std::string_view k) {
  const auto* v = o.if_contains(k);
  return v != nullptr && v->is_int64() ? v->get_int64() : std::int64_t{0};
}

store::payment_record payment_from(const json::object& o) {
  auto text = [&o](std::string_view k) { return text_of(o, k); };
  auto number = [&o](std::string_view k) { return number_of(o, k); };
  store::payment_record p;
  p.ref = text("ref");
  p.msisdn = text("msisdn");
  p.biller = text("biller");
  p.account = text("account");
  p.amount = number("amount");
  p.fee = number("fee");
  p.currency = text("currency");
  p.state = store::parse_payment_state(text("state")).value_or(store::payment_state::created);
  p.reason = text("reason");
  p.biller_reference = text("biller_reference");
  p.created_at = number("created_at");
  p.updated_at = number("updated_at");
  return p;
}

/// One request to ussdpayd's admin API (the daemon's own view, and the only writer while it
/// runs). The JSON answer of a 200, or nullopt after saying why.
std::optional<json::object> api(const config& cfg, std::string_view method, std::string_view target,
                                std::string_view body, std::string_view who) {
  std::string why;
  const auto a = admin::call(cfg.admin, method, target, body, why);
  if (!a) {
    std::cerr << who << ": " << why
              << "\n(is ussdpayd running? --offline works on the store directly)\n";
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto v = json::parse(a->body, ec);
  auto* o = ec ? nullptr : v.if_object();
  if (a->status != 200 || o == nullptr) {
    const auto* e = o != nullptr ? o->if_contains("error") : nullptr;
    std::cerr << who << ": HTTP " << a->status << ": "
              << (e != nullptr && e->is_string() ? std::string(e->get_string()) : a->body) << "\n";
    return std::nullopt;
  }
  return std::move(*o);
}

int payments_list(const config& cfg, const std::string& state, const std::string& msisdn,
                  std::size_t limit, bool offline) {
  constexpr std::string_view who = "ussdpay payments list";
  std::optional<std::string> m;
  if (!msisdn.empty()) {
    m = store::normalise_msisdn(msisdn);
    if (!m) {
      std::cerr << who << ": " << msisdn << " is not an MSISDN\n";
      return 1;
    }
  }
  const auto s = store::parse_payment_state(state);
  if (!m && !s) {
    std::cerr << who
              << ": --state must be one of CREATED, UNKNOWN, MANUAL_REVIEW, COMMITTED, "
                 "FAILED, REVERSED, COMPLETED\n";
    return 1;
  }
  std::vector<store::payment_record> found;
  if (offline) {
    auto d = open_store(cfg);
    found = m ? store::recent_payments(d, *m, limit) : store::payments_in_state(d, *s, limit);
  } else {
    limit = std::clamp<std::size_t>(limit, 1, 100);  // the API's bound
    const auto target = m ? fmt::format("/api/payments?msisdn={}&limit={}", *m, limit)
                          : fmt::format("/api/payments?state={}&limit={}", state, limit);
    const auto o = api(cfg, "GET", target, {}, who);
    if (!o) return 1;
    if (const auto* list = o->if_contains("payments"); list != nullptr && list->is_array())
      for (const auto& p : list->get_array())
        if (p.is_object()) found.push_back(payment_from(p.get_object()));
  }
  for (const auto& p : found) std::cout << row(p) << "\n";
  std::cout << found.size() << " payment(s)\n";
  return 0;
}

void print_sms(std::string_view kind, std::string_view state, std::int64_t attempts,
               std::string_view message_id, std::int64_t delivered_at, std::string_view stat,
               std::string_view error, std::string_view body) {
  std::cout << fmt::format("  sms {:<20} {:<13} tries {} id {}", kind, state, attempts,
                           message_id.empty() ? "-" : message_id);
  if (delivered_at != 0)
    std::cout << fmt::format(" receipt {} stat:{} err:{}", when(delivered_at), stat,
                             error.empty() ? "-" : error);
  std::cout << (body.empty() ? std::string("\n") : fmt::format(": {}\n", body));
}

int payments_show_api(const config& cfg, const std::string& ref) {
  const auto o = api(cfg, "GET", "/api/payments/" + ref, {}, "ussdpay payments show");
  if (!o) return 1;
  std::cout << row(payment_from(*o)) << "\n";
  const auto* sms = o->if_contains("sms");
  if (sms == nullptr || !sms->is_array()) return 0;
  for (const auto& v : sms->get_array()) {
    if (!v.is_object()) continue;
    const auto& m = v.get_object();
    auto text = [&m](std::string_view k) { return text_of(m, k); };
    auto number = [&m](std::string_view k) { return number_of(m, k); };
    print_sms(text("kind"), text("state"), number("attempts"), text("message_id"),
              number("delivered_at"), text("delivery_stat"), text("delivery_error"), {});
  }
  std::cout << "(the ledger entries and SMS texts: --offline)\n";
  return 0;
}

int payments_show(const config& cfg, const std::string& ref, bool offline) {
  if (!offline) return payments_show_api(cfg, ref);
  auto d = open_store(cfg);
  const auto p = store::find_payment(d, ref);
  if (!p) {
    std::cerr << "ussdpay payments show: no payment " << ref << "\n";
    return 1;
  }
  std::cout << row(*p) << "\n";
  for (const auto& e : store::entries_of_payment(d, ref))
    std::cout << fmt::format("  ledger {:<22} {:>12}  {} {} -> {} {}  {}\n", e.transfer_id,
                             menus::format_money(e.amount, p->currency), e.debit_kind,
                             e.debit_owner, e.credit_kind, e.credit_owner, when(e.created_at));
  for (const auto& m : store::messages_for(d, ref))
    print_sms(m.kind, m.state, m.attempts, m.message_id, m.delivered_at, m.delivery_stat,
              m.delivery_error, m.body);
  return 0;
}

/// Receipts worded as the daemon words them: the [sms] texts of the configured menus (none if
/// the menus do not load: the receipt is then the bare reference, and the error is printed).
sms::receipt_context receipts_for(const config& cfg) {
  std::map<std::string, std::string, std::less<>> names;
  for (const auto& b : cfg.billers) names[b.info.id] = b.info.name;
  auto menus = menus::load_catalog(
      cfg.ussd.menus, {cfg.ussd_profile.max_gsm_chars, cfg.ussd_profile.max_ucs2_chars});
  if (!menus.errors.empty())
    std::cerr << "ussdpay: the menus do not load, receipts will carry only the reference:\n"
              << menus::format_errors(menus.errors);
  return {[names](std::string_view id) {
            auto it = names.find(id);
            return it == names.end() ? std::string(id) : it->second;
          },
          cfg.ussd.support_phone, std::make_shared<sms::sms_templates>(menus.cat)};
}

int payments_resolve(const config& cfg, const std::string& ref, const std::string& paid_ref,
                     bool not_paid, const std::string& note, bool offline) {
  constexpr std::string_view who = "ussdpay payments resolve";
  if (paid_ref.empty() == !not_paid) {
    std::cerr << who << ": give exactly one of --paid BILLER_REF or --not-paid\n";
    return 2;
  }
  const payments::resolution r{ref, !not_paid, paid_ref, note};
  if (auto why = payments::check_resolution(r); !why.empty()) {
    std::cerr << who << ": " << why << "\n";
    return 2;
  }
  std::string state, sms;
  if (!offline) {
    const json::object body{{"outcome", r.paid ? "paid" : "not_paid"},
                            {"biller_reference", r.biller_reference},
                            {"note", r.note}};
    const auto o =
        api(cfg, "POST", "/api/payments/" + ref + "/resolve", json::serialize(body), who);
    if (!o) return 1;
    state = payment_from(*o).state == store::payment_state::committed ? "COMMITTED"
                                                                      : "FAILED (hold returned)";
    if (const auto* t = o->if_contains("sms"); t != nullptr && t->is_string())
      sms = std::string(t->get_string());
  } else {
    // The daemon is down: the same transaction, on the store directly.
    auto d = open_store(cfg);
    store::transaction tx(d, true);
    if (const auto& e = tx.begin_error()) {
      std::cerr << who << ": " << e->message << "\n";
      return 1;
    }
    const auto ctx = receipts_for(cfg);
    adapters::store_ledger ledger;
    const auto res = payments::resolve_by_hand(
        d, ledger, r,
        [&ctx](std::string_view kind, const store::payment_record& p,
               adapters::minor_units balance) {
          return sms::render_receipt(ctx, kind, p, balance);
        },
        clock::now_ms());
    if (res.result != payments::resolve_result::kind::resolved || tx.commit()) {
      std::cerr << who << ": " << (res.why.empty() ? "commit failed" : res.why) << "\n";
      return 1;
    }
    state = r.paid ? "COMMITTED" : "FAILED (hold returned)";
    sms = res.sms;
  }
  std::cout << ref << " -> " << state << "; SMS queued: " << sms << "\n";
  return 0;
}

int payments_reverse(const config& cfg, const std::string& ref, const std::string& note,
                     int wait_s) {
  auto d = open_store(cfg);
  std::string why;
  const auto id = store::add_request(d, ref, "reverse", note, clock::now_ms(), why);
  if (!id) {
    std::cerr << "ussdpay payments reverse: " << why << "\n";
    return 1;
  }
  std::cout << "reversal of " << ref << " queued (request " << *id
            << "); the daemon asks the biller, refunds the wallet and sends the SMS\n";
  for (int i = 0; i < wait_s * 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto r = store::find_request(d, *id);
    if (r && r->state != "pending") {
      std::cout << "request " << *id << " " << r->state << ": " << r->result << "\n";
      return r->state == "done" ? 0 : 1;
    }
  }
  std::cout << "request " << *id << " still pending after " << wait_s
            << " s (is ussdpayd running?); it will be carried out when the daemon runs\n";
  return 3;
}

int payments_complaints(const config& cfg) {
  auto d = open_store(cfg);
  const auto open = store::open_complaints(d, 1000);
  for (const auto& c : open)
    std::cout << fmt::format("{}  {}  +{}  payment {}\n", c.ticket, when(c.created_at), c.msisdn,
                             c.ref);
  std::cout << open.size() << " open complaint(s)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ussdpay: operate a ussdpay gateway"};
  app.require_subcommand(1);
  app.fallthrough();  // --config may come after the subcommand too
  std::string config_path = "etc/ussdpay.toml";
  app.add_option("--config", config_path, "configuration file (TOML)");

  auto* check = app.add_subcommand("check-menus", "check the menus and their texts");
  std::string dir;
  check->add_option("--menus", dir, "menus directory (default: [ussd] menus)");

  auto* sub = app.add_subcommand("subscriber", "register and look up subscribers");
  sub->require_subcommand(1);
  new_subscriber n;
  auto* add = sub->add_subcommand("add", "register a subscriber, or set PIN, language, balance");
  add->add_option("--msisdn", n.msisdn, "E.164, with or without +")->required();
  add->add_option("--pin", n.pin, "4 digits")->required();
  add->add_option("--balance", n.balance, "wallet balance, e.g. 2500 or 2,500.50")->required();
  add->add_option("--language", n.language, "en, ur, hi or sw");
  std::string file;
  auto* import = sub->add_subcommand("import", "register subscribers from a CSV file");
  import->add_option("file", file, "CSV: msisdn,pin,balance,language")->required();
  std::string show_msisdn;
  auto* show = sub->add_subcommand("show", "a subscriber's language, balance and PIN state");
  show->add_option("--msisdn", show_msisdn, "E.164")->required();

  auto* pay = app.add_subcommand("payments", "look up and resolve payments (docs/payments.md)");
  pay->require_subcommand(1);
  std::string state = "MANUAL_REVIEW", by_msisdn, ref, paid_ref, note;
  std::size_t limit = 50;
  bool not_paid = false;
  int wait_s = 30;
  auto* list = pay->add_subcommand("list", "payments in a state, or a subscriber's newest");
  list->add_option("--state", state, "CREATED, UNKNOWN, MANUAL_REVIEW (default), COMMITTED, ...");
  list->add_option("--msisdn", by_msisdn, "a subscriber's payments, newest first");
  list->add_option("--limit", limit, "at most this many (50)");
  auto* pshow = pay->add_subcommand("show", "a payment, its ledger entries and messages");
  pshow->add_option("ref", ref, "the payment's reference")->required();
  auto* resolve = pay->add_subcommand("resolve", "settle an unknown payment by hand");
  resolve->add_option("ref", ref, "the payment's reference")->required();
  resolve->add_option("--paid", paid_ref, "the biller confirmed it: its reference");
  resolve->add_flag("--not-paid", not_paid, "the biller confirmed it did not take it");
  resolve->add_option("--note", note, "why (kept with the payment)");
  auto* reverse = pay->add_subcommand("reverse", "an approved reversal, carried out by ussdpayd");
  reverse->add_option("ref", ref, "the payment's reference")->required();
  reverse->add_option("--note", note, "who approved it and why");
  reverse->add_option("--wait", wait_s, "seconds to wait for the daemon's answer (30)");
  auto* complaints = pay->add_subcommand("complaints", "problems subscribers reported");
  // list, show and resolve ask the running daemon through its admin API (docs/admin.md);
  // --offline works on the store file directly, for when ussdpayd is down.
  bool offline = false;
  for (auto* c : {list, pshow, resolve})
    c->add_flag("--offline", offline, "work on the store directly (ussdpayd is not running)");

  auto* rec = app.add_subcommand("reconcile", "compare a biller's statement with our payments");
  ussdpay::reconcile::command_options rec_opts;
  rec->add_option("--biller", rec_opts.biller, "the biller's id, as configured");
  rec->add_option("--date", rec_opts.date, "the local day, YYYY-MM-DD");
  rec->add_option("--statement", rec_opts.statement, "the biller's statement (docs/reconcile.md)");
  rec->add_option("--out", rec_opts.out_dir, "where the CSV reports go (.)");
  CLI11_PARSE(app, argc, argv);

  auto loaded = ussdpay::load_config(config_path, environ);
  if (!loaded.errors.empty()) {
    std::cerr << "ussdpay: configuration errors:\n" << ussdpay::format_errors(loaded.errors);
    return 2;
  }
  const auto& cfg = loaded.cfg;
  if ((*add || *import) && cfg.pin.pepper.empty()) {
    std::cerr << "ussdpay: no PIN pepper: set [pin] pepper_file or USSDPAY_PIN_PEPPER\n";
    return 2;
  }
  if (*add) return subscriber_add(cfg, std::move(n));
  if (*import) return subscriber_import(cfg, file);
  if (*show) return subscriber_show(cfg, show_msisdn);
  if (*list) return payments_list(cfg, state, by_msisdn, limit, offline);
  if (*pshow) return payments_show(cfg, ref, offline);
  if (*resolve) return payments_resolve(cfg, ref, paid_ref, not_paid, note, offline);
  if (*reverse) return payments_reverse(cfg, ref, note, wait_s);
  if (*complaints) return payments_complaints(cfg);
  if (*rec) return ussdpay::reconcile::run_command(cfg, rec_opts, std::cout, std::cerr);
  if (*check) {
    if (dir.empty()) dir = cfg.ussd.menus;
    const ussdpay::menus::length_limits limits{cfg.ussd_profile.max_gsm_chars,
                                               cfg.ussd_profile.max_ucs2_chars};
    auto r = ussdpay::menus::load_catalog(dir, limits);
    if (!r.errors.empty()) {
      std::cerr << ussdpay::menus::format_errors(r.errors);
      std::cerr << "ussdpay check-menus: " << r.errors.size() << " error(s) in " << dir << "\n";
      return 1;
    }
    std::cout << "ussdpay check-menus: " << dir << ": " << r.cat->screens.size() << " screens in "
              << r.cat->languages.size() << " languages OK (limits " << limits.gsm << " GSM / "
              << limits.ucs2 << " UCS-2 characters)\n";
  }
  return 0;
}
