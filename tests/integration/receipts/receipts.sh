#!/usr/bin/env bash
# Delivery receipts end to end: a paid bill's receipt SMS goes to the simulated SMSC, which
# answers with a delivery receipt written the way real SMSCs disagree about it; the daemon must
# match it to the message and record its final state, visible in `ussdpay payments show`.
#   1. submit_sm_resp in hex, the receipt's id in decimal, text only ("id:... stat:DELIVRD")
#   2. submit_sm_resp in decimal, the receipt's id in hex, TLVs only, UNDELIV
#   3. ids zero-padded in lower case, EXPIRED, and 3 receipts for ids never given out after
#      each one: counted and logged as unknown, nothing else changes, the daemon keeps going
#   4. an Urdu subscriber: the receipt is UCS-2 and longer than one SMS, sent as concatenated
#      segments (long_messages = "udh", then "sar"); the phone gets it whole, and the receipt
#      for the last segment marks it delivered
#   Each phase also checks the payment: COMPLETED once its receipt is delivered, else COMMITTED.
#
#   receipts.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3 config=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
lib_require_sqlite3
lib_start receipts
fail() {
  echo "FAIL ($phase): $*"
  echo "--- sim ---"; cat "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; tail -n 30 "$work/daemon.log" 2>/dev/null
  exit 1
}

# phase NAME WANT_STATE WANT_STAT WANT_UNKNOWN SIM_OPTIONS... (with $script, $language and
# $daemon_env as set by the caller)
script=receipts.sim language=en daemon_env=()
phase() {
  phase=$1 want=$2 stat=$3 unknown=$4
  shift 4
  rm -f "$work"/ussdpay.db* "$work/sim.out" "$work/daemon.log"
  export USSDPAY_STORE_PATH="$work/ussdpay.db"
  printf 'msisdn,pin,balance,language\n923001234567,4826,100000,%s\n' "$language" >"$work/subs.csv"
  "$cli" --config "$config" subscriber import "$work/subs.csv" >/dev/null || fail "import"

  : >"$work/sim.out"  # before the launch: sim_port must not read the last run's port
  "$sim" --mode scripted --port 0 --script "$here/$script" "$@" >"$work/sim.out" 2>&1 &
  sim_pid=$!
  local port i
  port=$(sim_port "$work/sim.out") || fail "no simulator port"
  env "${daemon_env[@]}" USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT="$port" "$daemon" \
    --config "$config" >"$work/daemon.log" 2>&1 &
  daemon_pid=$!

  for ((i = 0; i < 300; i++)); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$sim_pid" || fail "$script failed"
  sim_pid=""
  local ref out
  ref=$(q "SELECT ref FROM payments WHERE state IN ('COMMITTED', 'COMPLETED')")
  [ -n "$ref" ] || fail "no paid payment"
  # The receipt was sent 20 ms after the SMS and the script waited 1.5 s; allow 5 s more.
  for ((i = 0; i < 50; i++)); do
    out=$("$cli" --config "$config" payments show --offline "$ref") || fail "payments show"
    grep -q "sms confirmed *$want .*stat:$stat" <<<"$out" && break
    sleep 0.1
  done
  grep -q "sms confirmed *$want .*stat:$stat" <<<"$out" ||
    fail "the receipt SMS is not $want with stat:$stat: $out"
  echo "$out" | grep "sms confirmed"
  # A delivered receipt completes the payment; an undelivered or expired one leaves it paid.
  local paid=COMMITTED
  [ "$want" = delivered ] && paid=COMPLETED
  [ "$(q "SELECT state FROM payments WHERE ref = '$ref'")" = "$paid" ] ||
    fail "payment $ref is $(q "SELECT state FROM payments WHERE ref = '$ref'"), want $paid"

  kill -TERM "$daemon_pid"
  for ((i = 0; i < 50; i++)); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$daemon_pid" || fail "the daemon did not exit cleanly"
  daemon_pid=""
  grep -q "receipts 1 matched, $unknown for unknown ids" "$work/daemon.log" ||
    fail "expected 1 matched and $unknown unknown: $(grep 'receipts ' "$work/daemon.log")"
  [ "$(grep -c 'delivery receipt for an unknown message id' "$work/daemon.log")" = "$unknown" ] ||
    fail "expected $unknown unknown ids in the log"
  echo "phase $phase: ok"
}

phase "hex response, decimal text receipt" delivered DELIVRD 0 \
  --receipt-ids other-base --receipt-form text
phase "decimal response, hex TLV receipt, undeliverable" undeliverable "message_state=5" 0 \
  --decimal-ids --receipt-ids other-base --receipt-form tlv --receipt-stat UNDELIV
phase "padded ids, expired, stray receipts" expired EXPIRED 3 \
  --receipt-ids padded --receipt-stat EXPIRED --stray-receipts 3
script=receipts_ur.sim language=ur
for mode in udh sar; do
  daemon_env=(USSDPAY_SMS_LONG_MESSAGES=$mode)
  phase "Urdu receipt in segments, $mode" delivered DELIVRD 0
  # The phone printed the whole text on one line: the first segment's start, the last's end.
  grep -q "^sms +923001234567: حوالہ .*بیلنس Rs95,480۔ LESCO حوالہ" "$work/sim.out" ||
    fail "the segments did not arrive as one SMS: $(grep '^sms' "$work/sim.out")"
done
echo "receipts: all phases passed"
