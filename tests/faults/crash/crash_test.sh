#!/usr/bin/env bash
# The crash test: a stream of paying dialogs against the real daemon (demo biller with latency,
# rejections and unanswered payments), the daemon killed with SIGKILL at random moments and
# restarted, again and again; then one last run until every payment is final, and the proofs:
#
#   1. every payment reached a final state (COMMITTED or COMPLETED, or FAILED; none
#      CREATED/UNKNOWN/REVIEW);
#   2. no payment was posted to the biller twice, and the biller's book and ours agree on each
#      one: COMMITTED <=> the biller accepted it, FAILED <=> it did not;
#   3. the ledger balances: all accounts sum to 0 (funding holds the negative), no money is left
#      on hold, wallets + settlement + fees equal what was funded, the biller's settlement equals
#      what the biller says it received, our fees equal the fees of committed payments;
#   4. every final payment has exactly one receipt queued (confirmed or failed, never both);
#   5. each payment's ledger entries match its state (hold; settle [+ fee] or void);
#   6. every receipt reached the SMSC, and on the wire (counted by the simulator) each text went
#      to its number once, but for messages the SMSC acknowledged in the moment before a kill
#      (acknowledged, not yet written: sent again after the restart); at most the outbox's
#      window per kill;
#   7. no delivery state lost: the SMSC reports every message delivered, and the store says so
#      for each (a delivery receipt is answered only once written; one a kill left unanswered
#      comes again, as an SMSC sends it again).
#
#   crash_test.sh SIM DAEMON CLI KILLS MAX_SECONDS
#
# Every wait is bounded; only the processes started here are ended, by PID.
set -u
if [ $# -ne 5 ]; then
  echo "usage: $0 SIM DAEMON CLI KILLS MAX_SECONDS" >&2
  exit 2
fi
sim=$1 daemon=$2 cli=$3 kills=$4 max_seconds=$5
here=$(cd "$(dirname "$0")" && pwd)
config="$here/crash.toml"
. "$here/../../integration/lib.sh"
. "$here/../proofs.sh"
lib_require_sqlite3
lib_start crash
fail() {
  echo "FAIL: $*"
  echo "--- last daemon log ---"
  tail -n 40 "$work/daemon.log" 2>/dev/null
  exit 1
}

export USSDPAY_STORE_PATH="$work/ussdpay.db"

# Subscribers: 40 wallets of Rs1,000,000 each.
subscribers=40 first=923100000000 balance=1000000
{
  echo "msisdn,pin,balance,language"
  for ((i = 0; i < subscribers; i++)); do echo "$((first + i)),4826,$balance,en"; done
} >"$work/subscribers.csv"
"$cli" --config "$config" subscriber import "$work/subscribers.csv" \
  >"$work/import.log" 2>&1 || { cat "$work/import.log"; fail "could not import subscribers"; }
funded=$(q "SELECT -sum(balance) FROM accounts WHERE kind = 'funding'")

# The SMSC and phones: paying dialogs for the whole run (a dialog cut by a kill times out and
# the phone dials again).
"$sim" --mode load --port 0 --sessions "$subscribers" --msisdn "$first" \
  --inputs '*123*1*1*1#,{account},1,4826' --think-ms 5 --hop-timeout 2 \
  --duration $((max_seconds + 30)) --linger-ms 120000 --sms-log "$work/sms.log" \
  >"$work/sim.out" 2>&1 &
sim_pid=$!
port=$(sim_port "$work/sim.out") || fail "ussdpay-sim did not report its port"
export USSDPAY_SMPP_PORT=$port

start_daemon() {
  "$daemon" --config "$config" >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
}

# The kill loop: each life lasts a random 30..700 ms (some die while starting, some mid-payment).
deadline=$((SECONDS + max_seconds))
done_kills=0
while [ "$done_kills" -lt "$kills" ] && [ "$SECONDS" -lt "$deadline" ]; do
  start_daemon
  sleep "0.$(printf '%03d' $((30 + RANDOM % 670)))"
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    wait "$daemon_pid"
    fail "the daemon exited by itself (status $?) after $done_kills kills"
  fi
  kill -KILL "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null
  daemon_pid=""
  done_kills=$((done_kills + 1))
done
echo "killed the daemon $done_kills times in $SECONDS s"
[ "$done_kills" -ge "$kills" ] || fail "only $done_kills of $kills kills within $max_seconds s"

# The phones stop dialing (SIGUSR1; the SMSC serves on, with the receipts it still holds); the
# daemon runs once more until every payment is final, every SMS sent and every receipt recorded
# (bounded: 60 s).
kill -USR1 "$sim_pid"
start_daemon
open=""
for ((i = 0; i < 600; i++)); do
  sleep 0.1
  open=$(q "SELECT count(*) FROM payments WHERE state IN ('CREATED','UNKNOWN','MANUAL_REVIEW')")
  [ "$open" = "0" ] &&
    [ "$(q "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sent')")" = 0 ] && break
done
kill -TERM "$daemon_pid"
for ((i = 0; i < 50; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$daemon_pid" 2>/dev/null
wait "$daemon_pid" 2>/dev/null
daemon_pid=""
kill -TERM "$sim_pid" 2>/dev/null
wait "$sim_pid" 2>/dev/null
sim_pid=""
stats=$(grep '^sim-stats ' "$work/sim.out") || fail "no sim-stats from ussdpay-sim"

total=$(q "SELECT count(*) FROM payments")
committed=$(q "SELECT count(*) FROM payments WHERE state IN ('COMMITTED', 'COMPLETED')")
failed=$(q "SELECT count(*) FROM payments WHERE state = 'FAILED'")
echo "payments: $total ($committed committed, $failed failed, $open still open)"
[ "$total" -ge 50 ] || fail "too few payments ($total) to prove anything"

# 1. Final states only.
[ "$open" = "0" ] || fail "$open payment(s) never reached a final state"
[ $((committed + failed)) -eq "$total" ] || fail "payments in other states"

# 2.-5. The biller's book and ours agree (nothing posted twice), the ledger balances, one
#        receipt of the right kind per payment, entries match the states.
proof_demo_book
proof_ledger "$funded"
proof_receipts
proof_entries
# 6. On the wire. A kill can land between the SMSC's answer and the write of it: those messages
#    go again after the restart (the daemon cannot know), at most a window's worth per kill.
proof_sent
window=$(sed -n 's/^max_in_flight = \([0-9]*\).*/\1/p' "$config")
proof_wire "$work/sms.log" $((done_kills * ${window:-100})) "$work/daemon.log"
# 7. Every receipt the SMSC sent was answered, and the store has each message delivered.
unanswered=$(tr ' ' '\n' <<<"$stats" | sed -n 's/^receipts_unanswered=//p')
[ "$unanswered" = 0 ] || fail "$unanswered delivery receipts never answered"
proof "messages whose delivery receipt was lost: $(q "SELECT group_concat(state || ' ' || n, ', ')
       FROM (SELECT state, count(*) n FROM outbox WHERE state <> 'delivered' GROUP BY state)")" \
  "SELECT count(*) FROM outbox WHERE state <> 'delivered'"
resent=$(tr ' ' '\n' <<<"$stats" | sed -n 's/^receipts_resent=//p')

unknown=$(grep -c 'CREATED -> UNKNOWN\|-> UNKNOWN' "$work/daemon.log" || true)
recovered=$(grep -c 'recovering' "$work/daemon.log" || true)
echo "PASS: $done_kills kills, $total payments ($committed committed, $failed failed), $unknown unknown outcomes resolved, $recovered recoveries; ledger balanced, one receipt each; $wire_sms SMS on the wire, $wire_again again after a kill; every one delivered, $resent receipts sent again after a kill"
