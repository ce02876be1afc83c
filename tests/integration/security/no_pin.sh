#!/usr/bin/env bash
# No PIN anywhere: the payment and registration scripts (right, wrong, weak and changed PINs,
# a PIN set after an SMS code) run against the real daemon logging at trace level, in text and
# in JSON lines; then every PIN they typed is looked for, as digits, as the hex of its ASCII and
# in base64, in the daemon's log, in a dump of the whole store (text values; BLOBs are salts and
# hashes) and in everything the admin API answers about those subscribers and their payments.
#
#   no_pin.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3 config=$4
here=$(cd "$(dirname "$0")" && pwd)
scripts=$here/../scripts
. "$here/../lib.sh"
lib_require_sqlite3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
lib_start no-pin
phase=start
fail() {
  echo "FAIL ($phase): $*"
  echo "--- sim ---"; tail -n 20 "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; tail -n 20 "$work/daemon.log" 2>/dev/null
  exit 1
}
token=$(head -n 1 "$(dirname "$config")/demo/admin-token")
evidence=$work/evidence
checked=0

# A PIN as a whole token (not inside a longer number), its ASCII in hex, and in base64.
look_for() {  # look_for PIN FILE WHAT
  local pin=$1 file=$2 what=$3 hex b64
  hex=$(printf '%s' "$pin" | od -An -tx1 | tr -d ' \n')
  b64=$(printf '%s' "$pin" | base64)
  if grep -nE "(^|[^0-9])$pin([^0-9]|$)" "$file" | head -3 | grep .; then
    fail "PIN $pin in $what"
  fi
  grep -qiE "(^|[^0-9a-f])$hex([^0-9a-f]|$)" "$file" && fail "PIN $pin as hex ($hex) in $what"
  grep -qF "${b64%%=*}" "$file" && fail "PIN $pin as base64 ($b64) in $what"
  checked=$((checked + 1))
}

for name in payment registration; do
  for format in text json; do
    phase="$name/$format"
    rm -f "$work"/ussdpay.db* "$work/sim.out" "$work/daemon.log" "$evidence"
    export USSDPAY_STORE_PATH="$work/ussdpay.db"
    "$cli" --config "$config" subscriber import "$scripts/$name.csv" >/dev/null || fail "import"
    : >"$work/sim.out"  # before the launch: sim_port must not read the last run's port
    "$sim" --mode scripted --port 0 --script "$scripts/$name.sim" >"$work/sim.out" 2>&1 &
    sim_pid=$!
    smsc=$(sim_port "$work/sim.out") || fail "no simulator port"
    json=false
    [ "$format" = json ] && json=true
    USSDPAY_LOG_LEVEL=trace USSDPAY_LOG_JSON=$json USSDPAY_ADMIN_LISTEN=127.0.0.1:0 \
      USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT="$smsc" \
      "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
    daemon_pid=$!
    for ((i = 0; i < 600; i++)); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
    wait "$sim_pid" || fail "$name.sim failed"
    sim_pid=""
    api=$(admin_address "$work/daemon.log") || fail "no admin address in the log"
    # Everything the API says about these subscribers and their payments.
    {
      for path in /metrics /api/status "/api/payments?state=COMMITTED&limit=100" \
        "/api/payments?state=FAILED&limit=100"; do
        curl -s -H "Authorization: Bearer $token" "http://$api$path"
      done
      for msisdn in $(cut -d, -f1 "$scripts/$name.csv" | tail -n +2) \
        $(q "SELECT DISTINCT msisdn FROM subscribers"); do
        curl -s -H "Authorization: Bearer $token" "http://$api/api/payments?msisdn=$msisdn&limit=100"
      done
      for ref in $(q "SELECT ref FROM payments"); do
        curl -s -H "Authorization: Bearer $token" "http://$api/api/payments/$ref"
      done
    } >"$work/api.out"
    [ -s "$work/api.out" ] || fail "the API said nothing"
    kill -TERM "$daemon_pid"
    wait_gone "$daemon_pid" 50 || fail "the daemon did not stop"
    wait "$daemon_pid" || fail "the daemon did not exit cleanly"
    daemon_pid=""
    # The whole store as text: every table, every row; BLOB values (salts, hashes) left out.
    sqlite3 -batch "$USSDPAY_STORE_PATH" .dump | sed -E "s/X'[0-9A-Fa-f]*'/BLOB/g" >"$work/dump.sql"
    [ "$(grep -c '^INSERT INTO' "$work/dump.sql")" -gt 10 ] || fail "the dump is nearly empty"
    # The log really is in the format asked for, with the dialogs' hops (debug) in it.
    if [ "$format" = json ]; then
      grep -q '^{"time":".*","level":"debug",.*"msg":"ussd ' "$work/daemon.log" ||
        fail "no JSON debug lines for the dialogs' hops"
    else
      grep -q ' debug ussd ' "$work/daemon.log" || fail "no debug lines for the dialogs' hops"
    fi
    # The PINs this script typed (4-digit replies) and its subscribers' first PINs.
    pins=$( (grep -hE '^reply [0-9]{4}$' "$scripts/$name.sim" | cut -d' ' -f2;
      cut -d, -f2 "$scripts/$name.csv" | tail -n +2) | sort -u)
    for pin in $pins; do
      look_for "$pin" "$work/daemon.log" "the daemon's $format log"
      look_for "$pin" "$work/dump.sql" "the store"
      look_for "$pin" "$work/api.out" "the admin API"
    done
    echo "phase $phase: ok ($(wc -l <"$work/daemon.log") log lines," \
      "$(grep -c '^INSERT INTO' "$work/dump.sql") rows, $(wc -c <"$work/api.out") bytes of API;" \
      "PINs $(echo $pins))"
  done
done
echo "no PIN anywhere: $checked searches, all passed"
