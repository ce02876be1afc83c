// "My payments": the last payments, this month's totals, a receipt sent again (rebuilt from the
// store, never by asking the biller again) and a complaint about a payment.
#include "gateway/actions/handlers.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/payments/saga.hpp"
#include "store/outbox.hpp"
#include "store/payments.hpp"
#include "store/requests.hpp"

namespace ussdpay::actions {

namespace {

/// How a payment's state reads in the history list.
std::string_view status_name(store::payment_state s) {
  using enum store::payment_state;
  switch (s) {
    case committed:
    case completed:
      return "completed";
    case failed:
      return "failed";
    case reversed:
      return "refunded";
    case manual_review:
      return "review";
    case created:
    case unknown:
      return "pending";
  }
  return "pending";
}

/// Copies of a receipt a subscriber may ask for, per payment.
constexpr int max_resends = 3;
/// Payments the history screen lists.
constexpr std::size_t history_length = 5;

}  // namespace

void last_payments(context& c, const ussd::action_call& call, done_fn done) {
  const std::string msisdn(call.msisdn);
  read_then<std::vector<store::payment_record>>(
      c, std::move(done),
      [msisdn](store::db& d) { return store::recent_payments(d, msisdn, history_length); },
      [&c](const std::vector<store::payment_record>& payments) {
        ussd::action_result out;
        for (const auto& p : payments) {
          menus::list_item item;
          item.set(item_field::ref, p.ref);
          item.set(item_field::name, c.billers.name(p.biller));
          item.set(item_field::account, p.account);
          item.set(item_field::amount, std::to_string(p.amount));
          item.set(item_field::date, clock::local_date(p.created_at));
          item.set(item_field::status, std::string(status_name(p.state)));
          out.items.push_back(std::move(item));
        }
        out.result = out.items.empty() ? outcome::empty : outcome::ok;
        return out;
      });
}

void month_totals(context& c, const ussd::action_call& call, done_fn done) {
  using totals = std::vector<std::pair<std::string, std::int64_t>>;
  const std::string msisdn(call.msisdn);
  read_then<totals>(
      c, std::move(done),
      [msisdn](store::db& d) {
        return store::totals_by_biller(d, msisdn, clock::local_month_start_ms(clock::now_ms()));
      },
      [&c](const totals& by_biller) {
        ussd::action_result out;
        std::int64_t total = 0;
        for (const auto& [biller, amount] : by_biller) {
          menus::list_item item;
          item.set(item_field::name, c.billers.name(biller));
          item.set(item_field::amount, std::to_string(amount));
          out.items.push_back(std::move(item));
          total += amount;
        }
        out.vars = {var(var_id::month_total, std::to_string(total))};
        out.result = out.items.empty() ? outcome::empty : outcome::ok;
        return out;
      });
}

void resend_receipt(context& c, const ussd::action_call& call, done_fn done) {
  const std::string msisdn(call.msisdn);
  const std::string ref = text_of(*call.state, var_id::payment_ref);
  write(c, poke_after_ok(std::move(done), c.b.message_queued), [msisdn, ref](store::db& d) {
    return only(store::requeue_message(d, ref, msisdn, clock::now_ms(), max_resends)
                    ? outcome::ok
                    : outcome::not_found);
  });
}

void report_problem(context& c, const ussd::action_call& call, done_fn done) {
  const std::string msisdn(call.msisdn);
  const std::string ref = text_of(*call.state, var_id::payment_ref);
  const std::string ticket = payments::new_reference();
  write(c, std::move(done), [msisdn, ref, ticket](store::db& d) {
    auto t = store::open_complaint(d, ref, msisdn, ticket, clock::now_ms());
    if (!t) return only(outcome::not_found);
    return ussd::action_result{outcome::ok, {var(var_id::ticket_ref, *t)}, {}};
  });
}

}  // namespace ussdpay::actions
