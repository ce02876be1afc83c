#!/usr/bin/env bash
# SIGTERM with a screen in flight: a subscriber has entered the PIN and the payment's biller
# never answers, so the screen waits for [ussd] payment_timeout when the daemon gets SIGTERM.
# The daemon refuses new dials, lets that screen be answered ("is processing", within
# [ussd] stop_timeout), closes the dialogs, unbinds, and exits 0; the payment stays open for the
# next start (its saga resumes it), with its hold in place.
#
#   sigterm.sh SIM DAEMON CLI
set -u
[ $# -eq 3 ] || { echo "usage: $0 SIM DAEMON CLI" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3
here=$(cd "$(dirname "$0")" && pwd)
config="$here/../../faults/crash/crash.toml"
. "$here/../lib.sh"
lib_require_sqlite3
lib_start sigterm
fail() {
  echo "FAIL: $*"
  echo "--- sim ---"; cat "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; tail -n 30 "$work/daemon.log" 2>/dev/null
  exit 1
}
export USSDPAY_STORE_PATH="$work/ussdpay.db"
printf 'msisdn,pin,balance,language\n923001234567,4826,100000,en\n' >"$work/subs.csv"
"$cli" --config "$config" subscriber import "$work/subs.csv" >/dev/null || fail "import"

"$sim" --mode scripted --port 0 --script "$here/sigterm.sim" --step-timeout-ms 20000 \
  >"$work/sim.out" 2>&1 &
sim_pid=$!
port=$(sim_port "$work/sim.out") || fail "no simulator port"
USSDPAY_SMPP_PORT=$port "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
daemon_pid=$!

# The PIN was taken and the payment created: its screen now waits (bounded: 30 s).
for ((i = 0; i < 300; i++)); do
  [ "$(q "SELECT count(*) FROM payments WHERE biller = 'silentco'" 2>/dev/null)" = 1 ] && break
  sleep 0.1
done
[ "$(q "SELECT count(*) FROM payments WHERE biller = 'silentco'")" = 1 ] || fail "no payment"
kill -TERM "$daemon_pid"

# The subscriber still gets the answer to the PIN screen, then the daemon exits cleanly.
for ((i = 0; i < 200; i++)); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
wait "$sim_pid" || fail "the screen in flight was not answered"
sim_pid=""
wait_gone "$daemon_pid" 150 || fail "the daemon did not stop within 15 s"
wait "$daemon_pid" || fail "the daemon did not exit cleanly"
daemon_pid=""
grep -q "ussd: stopping: new dials refused; 1 screen(s) waiting for an action" "$work/daemon.log" ||
  fail "the daemon did not wait for the screen in flight"
grep -q "ussd: stopped: 0 dialog(s) closed, 0 still waiting for an action" "$work/daemon.log" ||
  fail "the screen was not answered before the stop"
grep -q "ussdpayd: stopped" "$work/daemon.log" || fail "no clean stop"
state=$(q "SELECT state FROM payments WHERE biller = 'silentco'")
[ "$state" = CREATED ] || [ "$state" = UNKNOWN ] || fail "the open payment is $state"
[ "$(q "SELECT sum(balance) FROM accounts")" = 0 ] || fail "ledger does not balance"
echo "PASS: the screen in flight was answered after SIGTERM; payment $state kept for the next start"
