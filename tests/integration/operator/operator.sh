#!/usr/bin/env bash
# The operator's payment commands against the real daemon and store:
#   - `ussdpay payments reverse` of a paid bill: the daemon asks the biller, refunds the wallet
#     (amount and fee) and the subscriber gets the REVERSED SMS (checked by operator.sim);
#   - `ussdpay payments resolve` of a payment whose biller never answered, after the daemon was
#     killed and started again: per the biller's own book (what an operator would ask the
#     biller), settled by hand through the daemon's admin API in one transaction with its
#     receipt; a second resolve is refused (HTTP 409), a resolve without a note too;
#   - list (through the API, and --offline from the store while the daemon is down), show and
#     complaints print what the store holds.
#
#   operator.sh SIM DAEMON CLI
set -u
[ $# -eq 3 ] || { echo "usage: $0 SIM DAEMON CLI" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3
here=$(cd "$(dirname "$0")" && pwd)
config="$here/../../faults/crash/crash.toml"
. "$here/../lib.sh"
lib_require_sqlite3
lib_start operator
fail() {
  echo "FAIL: $*"
  echo "--- sim ---"; cat "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; tail -n 30 "$work/daemon.log" 2>/dev/null
  exit 1
}
export USSDPAY_STORE_PATH="$work/ussdpay.db"
export USSDPAY_ADMIN_TOKEN=operator-test-token-0123456789
printf 'msisdn,pin,balance,language\n923001234567,4826,100000,en\n' >"$work/subs.csv"
"$cli" --config "$config" subscriber import "$work/subs.csv" >/dev/null || fail "import"

"$sim" --mode scripted --port 0 --script "$here/operator.sim" --step-timeout-ms 20000 \
  >"$work/sim.out" 2>&1 &
sim_pid=$!
port=$(sim_port "$work/sim.out") || fail "no simulator port"
USSDPAY_SMPP_PORT=$port "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
daemon_pid=$!

# Wait until the second payment is UNKNOWN (its biller never answers; bounded: 30 s). The
# store says so before the simulator's buffered output would.
for ((i = 0; i < 300; i++)); do
  [ "$(q "SELECT count(*) FROM payments WHERE biller = 'silentco' AND state = 'UNKNOWN'" 2>/dev/null)" = 1 ] && break
  sleep 0.1
done
paid=$(q "SELECT ref FROM payments WHERE biller = 'lesco' AND state IN ('COMMITTED', 'COMPLETED')")
stuck=$(q "SELECT ref FROM payments WHERE biller = 'silentco'")
[ -n "$paid" ] && [ -n "$stuck" ] || fail "expected one paid and one open payment"

# A reversal of an open payment is refused by the daemon; of the paid one it is done.
out=$("$cli" --config "$config" payments reverse "$stuck" --wait 10) && fail "reversed an open payment: $out"
grep -q "refused: only a paid payment" <<<"$out" || fail "unexpected answer: $out"
out=$("$cli" --config "$config" payments reverse "$paid" --note "ticket 1" --wait 10) ||
  fail "reverse failed: $out"
echo "$out"
[ "$(q "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE ref = '$paid'")" = "REVERSED" ] || fail "not REVERSED"
[ "$(q "SELECT count(*) FROM outbox WHERE ref = '$paid' AND kind = 'reversed'")" = 1 ] ||
  fail "no reversal SMS queued"
"$cli" --config "$config" payments reverse "$paid" --wait 10 >/dev/null &&
  fail "a second reversal was accepted"

# The simulator saw the REVERSED SMS and ends; the daemon is killed with the other payment open.
for ((i = 0; i < 100; i++)); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
wait "$sim_pid" || fail "operator.sim failed"
sim_pid=""
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=""
state=$(q "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE ref = '$stuck'")
[ "$state" = "CREATED" ] || [ "$state" = "UNKNOWN" ] || fail "stuck payment is $state"
"$cli" --config "$config" payments list --offline --state "$state" | grep -q "$stuck" ||
  fail "list --offline"
out=$("$cli" --config "$config" payments list --state "$state" 2>&1) && fail "list without a daemon"
grep -q "cannot reach ussdpayd's admin API" <<<"$out" || fail "list without a daemon: $out"

# The daemon again (no SMSC now): the CLI works through its admin API.
: >"$work/daemon.log"  # admin_address must not read the first run's port
USSDPAY_ADMIN_LISTEN=127.0.0.1:0 USSDPAY_SMPP_PORT=1 "$daemon" --config "$config" \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!
api=$(admin_address "$work/daemon.log") || fail "the daemon did not say where the admin API listens"
export USSDPAY_ADMIN_LISTEN=$api
"$cli" --config "$config" payments list --state "$state" | grep -q "$stuck" || fail "list"
out=$("$cli" --config "$config" payments resolve "$stuck" --not-paid 2>&1) &&
  fail "a resolve without a note"
grep -q "a note (who decided, and why) is required" <<<"$out" || fail "no note: $out"

# Resolve it the way the biller's book says (the operator asked the biller).
accepted=$(q "SELECT biller_reference FROM demo_biller_book WHERE payment_id = '$stuck' AND accepted = 1")
if [ -n "$accepted" ]; then
  "$cli" --config "$config" payments resolve "$stuck" --paid "$accepted" --note t || fail "resolve"
  want=COMMITTED kind=confirmed
else
  "$cli" --config "$config" payments resolve "$stuck" --not-paid --note t || fail "resolve"
  want=FAILED kind=failed
fi
[ "$(q "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE ref = '$stuck'")" = "$want" ] || fail "not $want"
[ "$(q "SELECT count(*) FROM outbox WHERE ref = '$stuck' AND kind = '$kind'")" = 1 ] ||
  fail "no $kind SMS"
out=$("$cli" --config "$config" payments resolve "$stuck" --not-paid --note t 2>&1) &&
  fail "a final payment was resolved again"
grep -q "HTTP 409: $stuck is $want" <<<"$out" || fail "second resolve: $out"
"$cli" --config "$config" payments show "$stuck" | grep -q "sms $kind" || fail "show $stuck"
grep -q "payment $stuck resolved by an operator: $want (t)" "$work/daemon.log" ||
  fail "the daemon did not log the resolution"
kill -TERM "$daemon_pid"
wait_gone "$daemon_pid" 50 || fail "the daemon did not stop"
wait "$daemon_pid" || fail "the daemon did not exit cleanly"
daemon_pid=""
[ "$(q "SELECT sum(balance) FROM accounts")" = 0 ] || fail "ledger does not balance"
[ "$(q "SELECT coalesce(sum(balance), 0) FROM accounts WHERE kind = 'hold'")" = 0 ] ||
  fail "money left on hold"
"$cli" --config "$config" payments show --offline "$paid" | grep -q "$paid/refund" || fail "show"
"$cli" --config "$config" payments complaints | grep -q 'open complaint' || fail "complaints"
echo "PASS: reversed $paid; resolved $stuck as $want"
