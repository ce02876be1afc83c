#include "gateway/payments/resolve.hpp"

#include "adapters/wallet.hpp"
#include "store/outbox.hpp"

namespace ussdpay::payments {

namespace {
constexpr std::size_t max_biller_reference = 64;
constexpr std::size_t max_note = 200;
}  // namespace

std::string check_resolution(const resolution& r) {
  if (r.ref.size() != 10) return "a payment reference has 10 characters";
  if (r.paid && r.biller_reference.empty()) return "a paid resolution needs the biller's reference";
  if (!r.paid && !r.biller_reference.empty())
    return "a biller reference is given only when the biller took the payment";
  if (r.biller_reference.size() > max_biller_reference)
    return "the biller reference is longer than 64 octets";
  if (r.note.empty()) return "a note (who decided, and why) is required";
  if (r.note.size() > max_note) return "the note is longer than 200 octets";
  for (char c : r.biller_reference + r.note)
    if (static_cast<unsigned char>(c) < 0x20) return "control characters are not accepted";
  return {};
}

resolve_result resolve_by_hand(store::db& d, adapters::ledger_steps& ledger, const resolution& r,
                               const receipt_fn& render, std::int64_t now_ms) {
  using k = resolve_result::kind;
  resolve_result out;
  if (auto why = check_resolution(r); !why.empty()) return {k::bad_request, why, {}, {}};
  const auto p = store::find_payment(d, r.ref);
  if (!p) return {k::not_found, "no payment " + r.ref, {}, {}};
  if (p->state != store::payment_state::unknown &&
      p->state != store::payment_state::manual_review && p->state != store::payment_state::created)
    return {k::wrong_state,
            r.ref + " is " + std::string(store::to_string(p->state)) +
                ": only CREATED, UNKNOWN or MANUAL_REVIEW payments are resolved by hand",
            *p,
            {}};
  auto next = *p;
  next.state = r.paid ? store::payment_state::committed : store::payment_state::failed;
  next.biller_reference = r.biller_reference;
  next.reason = "resolved by an operator: " + r.note;
  next.next_at = 0;
  next.updated_at = now_ms;
  if (!store::update_payment(d, next, p->state))
    return {k::failed, "the payment changed while resolving; look again", {}, {}};
  const auto st =
      r.paid ? ledger.commit(
                   d, {next.ref, next.msisdn, next.currency, next.biller, next.amount, next.fee},
                   now_ms)
             : ledger.release(d, {next.ref, next.msisdn, next.currency, next.amount + next.fee},
                              now_ms);
  if (st != adapters::wallet_status::ok) return {k::failed, "the ledger step failed", {}, {}};
  const std::string_view kind = r.paid ? "confirmed" : "failed";
  const auto balance = ledger.balance(d, next.msisdn, next.currency).balance;
  out.sms = render(kind, next, balance);
  if (store::enqueue_message(d, next.ref, kind, next.msisdn, out.sms, now_ms) ==
      store::enqueue_status::failed)
    return {k::failed, "could not queue the receipt", {}, {}};
  out.result = k::resolved;
  out.payment = std::move(next);
  return out;
}

}  // namespace ussdpay::payments
