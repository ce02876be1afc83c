#!/usr/bin/env bash
# The outbox drains through faults, against the real daemon and ussdpay-sim --mode serve, each
# phase on a fresh store with a backlog of queued receipts (as payments queue them):
#   1. the SMSC drops the link every 700 submits, leaving what it had not answered unanswered;
#   2. the SMSC answers every 7th submit ESME_RTHROTTLED;
#   3. the daemon is killed (SIGKILL) mid-drain and started again;
#   4. the daemon is stopped (SIGTERM) mid-drain and started again: it writes every answer it
#      got before exiting, so nothing is sent twice.
# Afterwards every message is 'sent' and none failed; the SMSC acknowledged each at least once.
# A message is sent again only if its acknowledgement had not reached us or was not yet written
# when the fault struck: the script prints how many, bounded by the window (throttling: none).
#
#   drain_faults.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3 config=$4
. "$(cd "$(dirname "$0")" && pwd)/../lib.sh"
lib_require_sqlite3
lib_start drain
phase=setup
fail() {
  echo "FAIL ($phase): $*"
  echo "--- sim ---"; tail -n 20 "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; grep -v "^$" "$work/daemon.log" 2>/dev/null | tail -n 30
  exit 1
}
export USSDPAY_STORE_PATH="$work/ussdpay.db" USSDPAY_SMS_RETRY_INITIAL=50ms \
  USSDPAY_SMS_RETRY_MAX=200ms USSDPAY_SMS_POLL_INTERVAL=100ms USSDPAY_SMS_MAX_ATTEMPTS=50 \
  USSDPAY_SMPP_WINDOW=100 USSDPAY_SMS_MAX_IN_FLIGHT=100
window=100

# fresh_store N: a new store with N receipts queued, one per number.
fresh_store() {
  rm -f "$work"/ussdpay.db*
  printf 'msisdn,pin,balance,language\n923001234567,4826,100000,en\n' >"$work/subs.csv"
  "$cli" --config "$config" subscriber import "$work/subs.csv" >/dev/null || fail "import"
  q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
     INSERT INTO outbox(ref, kind, msisdn, body, created_at, updated_at)
     SELECT printf('D%09d', i), 'confirmed', printf('9231%08d', i),
            printf('Ref D%09d PAID Rs4,520 to LESCO 04123456789012. Fee Rs0.', i), 0, 0 FROM n;"
}
start_sim() {
  : >"$work/sim.out"  # before the launch: sim_port must not read the last run's port
  "$sim" --mode serve --port 0 --no-receipts "$@" >"$work/sim.out" 2>&1 &
  sim_pid=$!
  port=$(sim_port "$work/sim.out") || fail "no simulator port"
}
start_daemon() {
  env "$@" USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT="$port" "$daemon" --config "$config" \
    >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
}
# drained SECONDS: nothing queued (bounded).
drained() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do
    [ "$(q "SELECT count(*) FROM outbox WHERE state = 'queued'")" = 0 ] && return 0
    kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon died"
    sleep 0.1
  done
  fail "$(q "SELECT count(*) FROM outbox WHERE state = 'queued'") still queued after $1 s"
}
# finish N MAX_RESENT: stop both, check the store and the SMSC's count; print the resends.
finish() {
  local n=$1 max=$2 acked resent
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || fail "the daemon did not exit cleanly"
  daemon_pid=""
  kill -TERM "$sim_pid"
  wait "$sim_pid"
  sim_pid=""
  [ "$(q "SELECT count(*) FROM outbox WHERE state = 'sent'")" = "$n" ] ||
    fail "not all sent: $(q "SELECT state, count(*) FROM outbox GROUP BY state")"
  acked=$(sed -n 's/^sim-stats.* acked=\([0-9]*\).*/\1/p' "$work/sim.out")
  [ -n "$acked" ] || fail "no sim-stats"
  resent=$((acked - n))
  [ "$resent" -ge 0 ] || fail "the SMSC acknowledged $acked of $n"
  [ "$resent" -le "$max" ] || fail "$resent messages sent again (at most $max expected)"
  echo "phase $phase: $n sent, the SMSC acknowledged $acked: $resent sent again (bound $max)"
}

phase="link dropped every 700 submits"
: >"$work/daemon.log"
fresh_store 3000
start_sim --drop-every 700
start_daemon
drained 60
finish 3000 $((3000 / 700 * window))
grep -q "drops=4" "$work/sim.out" || fail "expected 4 drops: $(grep sim-stats "$work/sim.out")"

phase="every 7th submit throttled"
: >"$work/daemon.log"
fresh_store 2000
start_sim --throttle-every 7
start_daemon
drained 60
finish 2000 0
grep -q "throttled=[1-9]" "$work/sim.out" || fail "nothing was throttled"

# stop_mid_drain SIGNAL MAX_RESENT: the daemon stopped with SIGNAL once at least 1,000 of 5,000
# are written as sent, started again, and the drain finished.
stop_mid_drain() {
  : >"$work/daemon.log"
  fresh_store 5000
  start_sim
  start_daemon USSDPAY_SMS_MAX_PER_SECOND=4000
  for ((i = 0; i < 100; i++)); do
    [ "$(q "SELECT count(*) FROM outbox WHERE state = 'sent'")" -ge 1000 ] && break
    sleep 0.05
  done
  kill -"$1" "$daemon_pid"
  if [ "$1" = TERM ]; then
    wait "$daemon_pid" || fail "the daemon did not exit cleanly on SIGTERM"
  else
    wait "$daemon_pid" 2>/dev/null
  fi
  sent_before=$(q "SELECT count(*) FROM outbox WHERE state = 'sent'")
  [ "$sent_before" -ge 1000 ] && [ "$sent_before" -lt 5000 ] ||
    fail "could not stop the drain in the middle ($sent_before sent)"
  echo "SIG$1 with $sent_before of 5000 written as sent"
  start_daemon
  drained 60
  finish 5000 "$2"
}

phase="daemon killed mid-drain"
stop_mid_drain KILL $((2 * window))

# Everything the SMSC acknowledged before a clean stop is written: nothing goes twice.
phase="daemon stopped (SIGTERM) mid-drain"
stop_mid_drain TERM 0
echo "drain_faults: all phases passed"
