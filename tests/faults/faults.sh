#!/usr/bin/env bash
# One fault under a steady load of paying dialogs, against the real daemon on 127.0.0.1:
# ussdpay-sim plays the SMSC and 40 subscribers paying bills (*123*1*1*1#, a consumer number,
# Pay, PIN) for SECONDS while the fault is injected; then the fault ends (a healthy SMSC on the
# same port, a healthy biller), the daemon runs until every payment is final and every SMS is
# sent (bounded), stops on SIGTERM, and the proofs run (tests/faults/proofs.sh): every payment
# final, the biller's book and ours agree (nothing lost, nothing posted twice), the ledger
# balances, exactly one receipt per payment and every one of them sent, and what the SMSC
# acknowledged (counted by the simulators on the wire) agrees: no text twice to one number but
# for submits that had no answer.
#
#   faults.sh SIM DAEMON CLI BILLERSIM FAULT SECONDS
#
# FAULT:
#   none                no fault: the subscribers pay as fast as they can (no reading time), the
#                       load that once sent about 2 % of receipts twice; none may go twice now
#   link-drop           the SMSC drops the link every 2 s, whatever is in flight
#   throttle            the SMSC answers every 5th submit_sm ESME_RTHROTTLED
#   throttle-burst      the SMSC answers every SMS ESME_RTHROTTLED for 2.5 s after the bind (the
#                       screens pass, so receipts pile up); every receipt must be acknowledged
#                       within 5 s after the throttling ends (or after its final screen), as the
#                       simulator counts it
#   queue-full          the SMSC answers every 5th submit_sm ESME_RMSGQFUL
#   silent-smsc         every 2nd bind is accepted and then never answered; the link also
#                       drops every 3 s, so silent binds keep coming under load
#   biller-timeout      the HTTP biller never answers 30% of requests (half of them done anyway)
#   biller-5xx          the HTTP biller answers 30% of requests 503 (half of them done anyway)
#   biller-garbage      the HTTP biller answers 30% of requests with bytes that are not its JSON
#   biller-slow         the HTTP biller answers every request after 1.5 s (above answer_within)
#   biller-late-accept  the HTTP biller answers after 2.5 s, past our 1 s biller_timeout: every
#                       payment is done at the biller and UNKNOWN here until the biller is fast
#   disk-full           the store is on a 256 MiB tmpfs, filled to the last byte for the middle
#                       third of the run, then freed (needs permission to mount)
#   clock-jump          the daemon's wall clock (libfaketime; the monotonic clock is left alone)
#                       jumps 1 h forward at a third of the run and 2 h back at two thirds, and
#                       stays there; the SMSC throttles every 5th submit, and the link passes
#                       throttling straight back, so the outbox has retries pending at each jump
#
# The last line is "faults: fault=... key=value ..." (scripts/bench faults collects them).
# Every wait is bounded; only the processes started here are ended, by PID.
set -u
if [ $# -ne 6 ]; then
  echo "usage: $0 SIM DAEMON CLI BILLERSIM FAULT SECONDS" >&2
  exit 2
fi
sim=$1 daemon=$2 cli=$3 billersim=$4 fault=$5 seconds=$6
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../integration/lib.sh"
. "$here/proofs.sh"
lib_require_sqlite3
lib_start "fault-$fault" daemon_pid sim_pid biller_pid
fail() {
  echo "FAIL ($fault): $*"
  echo "--- sim ---"; tail -n 5 "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; grep -v '^$' "$work/daemon.log" 2>/dev/null | tail -n 30
  # FAULTS_KEEP=DIR keeps the logs and the store of a run for a post-mortem.
  [ -n "${FAULTS_KEEP:-}" ] && mkdir -p "$FAULTS_KEEP" && cp -r "$work/." "$FAULTS_KEEP/"
  exit 1
}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "SECONDS must be a positive integer" >&2; exit 2; }

biller=demo sim_faults=() daemon_env=() hop_timeout=2 biller_faults="" biller_timeout=4s think=5
case $fault in
  # The loaded SMSC serves on after the last dialog until every receipt is in: when it goes, a
  # submit still in flight is an unknown outcome (sent again, allowed), and none may be here.
  none) think=0 sim_faults=(--linger-ms 5000) ;;
  link-drop) sim_faults=(--drop-every-ms 2000) ;;
  throttle) sim_faults=(--throttle-every 5) ;;
  # The loaded SMSC serves on for 5 s after the last dialog, so it sees every receipt.
  throttle-burst) sim_faults=(--throttle-for-ms 2500 --throttle-sms-only --linger-ms 5000) ;;
  queue-full) sim_faults=(--queue-full-every 5) ;;
  silent-smsc) sim_faults=(--silent-bind-every 2 --drop-every-ms 3000)
    # Silence is noticed by the unanswered enquire_link or submit_sm.
    daemon_env=(USSDPAY_SMPP_ENQUIRE_LINK_INTERVAL=300ms USSDPAY_SMPP_RESPONSE_TIMEOUT=500ms) ;;
  biller-timeout) biller=http biller_faults='{"timeout_rate":0.3}' ;;
  biller-5xx) biller=http biller_faults='{"fail_5xx_rate":0.3}' ;;
  biller-garbage) biller=http biller_faults='{"garbage_rate":0.3}' ;;
  biller-slow) biller=http biller_faults='{"latency_ms":1500}' hop_timeout=6 ;;
  biller-late-accept) biller=http biller_faults='{"latency_ms":2500}' hop_timeout=6 biller_timeout=1s ;;
  disk-full) ;;
  clock-jump) sim_faults=(--throttle-every 5)
    # Throttled SMS go back to the outbox at once (no retries on the link), so the outbox has
    # retries scheduled by the wall clock when it jumps.
    # Retries 1..3 s apart: there are always some scheduled.
    daemon_env=(USSDPAY_SMPP_THROTTLE_RETRIES=0 USSDPAY_SMS_RETRY_INITIAL=1s USSDPAY_SMS_RETRY_MAX=3s) ;;
  *) echo "unknown FAULT '$fault'" >&2; exit 2 ;;
esac

# ---- The store: on a small tmpfs of its own for disk-full --------------------------------------
store_dir=$work/store
mkdir -p "$store_dir"
if [ "$fault" = disk-full ]; then
  # Room for the store of a long run; filled to the last byte below, whatever its size.
  mount -t tmpfs -o size=256m,mode=0700 ussdpay-faults "$store_dir" 2>"$work/mount.err" || {
    echo "SKIP: cannot mount a tmpfs for the store ($(cat "$work/mount.err"))"
    exit 77
  }
  trap 'lib_cleanup_mounted' EXIT
  lib_cleanup_mounted() {
    local v pid
    for v in daemon_pid sim_pid biller_pid; do
      pid=${!v}
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    umount "$store_dir" 2>/dev/null
    lib_cleanup
  }
fi
export USSDPAY_STORE_PATH="$store_dir/ussdpay.db"

# ---- The biller: the demo adapter (its book in our store), or ussdpay-billersim over HTTPS ------
if [ "$biller" = http ]; then
  for tool in curl openssl; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
  done
  pki=$work/pki
  "$root/tests/billersim/make_test_ca.sh" "$pki" >"$work/pki.log" 2>&1 ||
    { cat "$work/pki.log"; fail "could not make the test CA"; }
  journal=$work/biller.journal
  : >"$work/billersim.out"
  "$billersim" --host 127.0.0.1 --port 0 --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
    --synthesize --journal "$journal" --api-key faults-key --seed 11 >"$work/billersim.out" 2>&1 &
  biller_pid=$!
  biller_port=""
  for ((i = 0; i < 100; i++)); do
    biller_port=$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$work/billersim.out")
    [ -n "$biller_port" ] && break
    sleep 0.1
  done
  [ -n "$biller_port" ] || fail "ussdpay-billersim did not report its port"
  biller_url=https://127.0.0.1:$biller_port
  biller_call() {  # biller_call PATH [JSON]: GET, or POST the JSON
    local post=()
    [ $# -gt 1 ] && post=(-H 'Content-Type: application/json' --data "$2")
    curl -sS --fail --max-time 5 --cacert "$pki/ca.pem" "${post[@]}" "$biller_url$1"
  }
  biller_call /_faults "$biller_faults" >/dev/null || fail "could not set the biller's faults"
  biller_section="kind = \"http\"
base_url = \"$biller_url/lesco\"
ca_file = \"$pki/ca.pem\"
api_key = \"faults-key\"
connect_timeout = \"1s\"
request_timeout = \"6s\""
else
  biller_section='kind = "demo"
synthesize = true
latency = "20ms"
reject_rate = 0.05'
fi

# ---- The daemon's configuration --------------------------------------------------------------
config=$work/ussdpay.toml
admin_token=faults-admin-token-0123456789
cat >"$config" <<EOF
[smpp]
host = "127.0.0.1"
system_id = "ussdpay"
password = "secret"
reconnect_initial = "20ms"
reconnect_max = "200ms"

[ussd]
menus = "$root/etc/menus"
# Each simulated subscriber pays a bill every second or so: no per-number dial limit.
dials_per_msisdn = 0
inquiry_timeout = "8s"
payment_timeout = "4s"

[demo]
bills_file = ""

[pin]
pepper_file = "$root/etc/demo/pepper"
iterations = 100

[payments]
answer_within = "1s"
biller_timeout = "$biller_timeout"
query_initial = "50ms"
query_max = "400ms"
manual_review_after = "10m"

[limits]
daily_count = 100000
velocity_count = 0
daily_amount = 0
max_amount = 0

[sms]
poll_interval = "100ms"
retry_initial = "50ms"
retry_max = "500ms"
max_attempts = 1000

[log]
level = "info"

[[billers]]
id = "lesco"
name = "LESCO"
category = "electricity"
account_min = 14
account_max = 14
exactness = "any"
fee_flat = 1000
$biller_section
EOF
"$daemon" --config "$config" --check-config >"$work/check.log" 2>&1 ||
  { cat "$work/check.log"; fail "the configuration has errors"; }

# 40 subscribers with Rs1,000,000 each.
subscribers=40 first=923200000000
{
  echo "msisdn,pin,balance,language"
  for ((i = 0; i < subscribers; i++)); do echo "$((first + i)),4826,100000000,en"; done
} >"$work/subscribers.csv"
"$cli" --config "$config" subscriber import "$work/subscribers.csv" >"$work/import.log" 2>&1 ||
  { cat "$work/import.log"; fail "could not import subscribers"; }
funded=$(q "SELECT -sum(balance) FROM accounts WHERE kind = 'funding'")

# ---- The load, the daemon, the fault ---------------------------------------------------------
"$sim" --mode load --host 127.0.0.1 --port 0 --sessions "$subscribers" --msisdn "$first" \
  --inputs '*123*1*1*1#,{account},1,4826' --think-ms "$think" --hop-timeout "$hop_timeout" \
  --duration "$seconds" --sms-log "$work/sms.log" "${sim_faults[@]}" >"$work/sim.out" 2>&1 &
sim_pid=$!
port=$(sim_port "$work/sim.out") || fail "ussdpay-sim did not report its port"

preload=()
if [ "$fault" = clock-jump ]; then
  libfaketime=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n1)
  [ -n "$libfaketime" ] || { echo "SKIP: libfaketime is not installed (package faketime)"; exit 77; }
  echo "+0" >"$work/clock"
  # FAKETIME_CACHE_DURATION: the offset file is read again at most once a second. ASan must
  # otherwise come first among the preloaded libraries.
  preload=(LD_PRELOAD="$libfaketime" FAKETIME_TIMESTAMP_FILE="$work/clock" FAKETIME_CACHE_DURATION=1
    FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0")
fi
env "${daemon_env[@]}" "${preload[@]}" USSDPAY_SMPP_PORT="$port" USSDPAY_ADMIN_LISTEN=127.0.0.1:0 USSDPAY_ADMIN_TOKEN=$admin_token \
  "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
daemon_pid=$!

count() { q "SELECT count(*) FROM payments"; }
metric() {  # metric 'NAME{LABELS}': its value from the daemon's /metrics
  local api
  api=$(admin_address "$work/daemon.log") || fail "no admin address in the daemon's log"
  curl -sS --max-time 5 -H "Authorization: Bearer $admin_token" "http://$api/metrics" |
    awk -v k="$1" '$1 == k { print $2 }'
}
injected=0
third=$(awk -v s="$seconds" 'BEGIN { printf "%.2f", s / 3 }')
case $fault in
  disk-full)
    sleep "$third"
    before=$(count)
    # Fill the filesystem to the last byte (dd stops at ENOSPC).
    dd if=/dev/zero of="$store_dir/filler" bs=64k >/dev/null 2>&1
    echo "disk full at $before payments: $(df -k --output=avail "$store_dir" | tail -n1) KiB free"
    sleep "$third"
    during=$(($(count) - before))
    rm -f "$store_dir/filler"
    injected=$(metric 'ussdpay_store_jobs_total{result="failed"}')
    logged=$(grep -c 'store: write failed: database or disk is full' "$work/daemon.log")
    echo "disk freed: $during payments made while full, $injected store writes failed," \
      "$logged log lines about it"
    [ "${injected:-0}" -gt 0 ] || fail "the full disk caused no store error"
    # Reported, without a flood: the first failure, then at most one line per 5 s.
    [ "$logged" -ge 1 ] && [ "$logged" -le $((${third%.*} / 5 + 2)) ] ||
      fail "$logged log lines for $injected failed writes"
    ;;
  clock-jump)
    sleep "$third"
    echo "+3600" >"$work/clock"
    sleep "$third"
    echo "-3600" >"$work/clock"
    injected=2
    echo "the daemon's wall clock jumped 1 h forward, then 2 h back"
    ;;
esac

wait_gone "$sim_pid" $(((seconds + 40) * 10)) || fail "the load did not end within $((seconds + 40)) s"
wait "$sim_pid"
sim_pid=""
kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon died under the fault"
load=$(grep '^load ' "$work/sim.out") || fail "no load line from ussdpay-sim"
stats=$(grep '^sim-stats ' "$work/sim.out")
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
case $fault in
  link-drop | silent-smsc) injected=$(kv "$stats" drops) ;;
  throttle) injected=$(kv "$stats" throttled) ;;
  throttle-burst)
    injected=$(kv "$stats" throttled)
    # Time from each dialog's final screen (or the end of the throttling) to its receipt's
    # acknowledgement, as the SMSC saw it.
    receipts=$(grep '^receipts ' "$work/sim.out") || fail "no receipts line from ussdpay-sim"
    echo "receipts after the final screen or the throttling: $receipts"
    [ "$(kv "$receipts" still_waiting)" = 0 ] || fail "receipts never acknowledged: $receipts"
    awk -v m="$(kv "$receipts" max_ms)" 'BEGIN { exit !(m <= 5000) }' ||
      fail "a receipt took more than 5 s after the throttling ended: $receipts"
    ;;
  queue-full) injected=$(kv "$stats" queue_full) ;;
  clock-jump) ;;
esac
[ "$fault" = silent-smsc ] && injected="$injected drops, $(kv "$stats" silent_binds) silent binds"

# ---- The fault ends: a healthy SMSC on the same port, a healthy biller; everything settles -----
settle_start=$SECONDS
if [ "$biller" = http ]; then
  b=$(biller_call /_stats) || fail "no /_stats from the biller"
  injected=$(($(stat_of faults_timeout "$b") + $(stat_of faults_5xx "$b") + $(stat_of faults_garbage "$b")))
  [ "$fault" = biller-slow ] || [ "$fault" = biller-late-accept ] && injected=$(stat_of requests "$b")
  biller_call /_faults '{"timeout_rate":0,"fail_5xx_rate":0,"garbage_rate":0,"latency_ms":0}' \
    >/dev/null || fail "could not clear the biller's faults"
fi
: >"$work/sim.out"
"$sim" --mode serve --host 127.0.0.1 --port "$port" --sms-log "$work/sms.log" >"$work/sim.out" 2>&1 &
sim_pid=$!
sim_port "$work/sim.out" >/dev/null || fail "the healthy SMSC could not listen on port $port"
settled=""
for ((i = 0; i < 900; i++)); do
  kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon died while settling"
  if [ "$(q "SELECT (SELECT count(*) FROM payments WHERE state NOT IN ($paid_states, 'FAILED')) +
                    (SELECT count(*) FROM outbox WHERE state = 'queued')")" = 0 ]; then
    settled=1
    break
  fi
  sleep 0.1
done
[ -n "$settled" ] || fail "not settled within 90 s: $(q "SELECT group_concat(state || ' ' || n, ', ')
  FROM (SELECT state, count(*) n FROM payments GROUP BY state)"); outbox $(q "SELECT group_concat(state || ' ' || n, ', ')
  FROM (SELECT state, count(*) n FROM outbox GROUP BY state)")"
settle_s=$((SECONDS - settle_start))
kill -TERM "$daemon_pid"
wait_gone "$daemon_pid" 150 || fail "the daemon ignored SIGTERM for 15 s"
wait "$daemon_pid" || fail "the daemon exited with status $? on SIGTERM"
daemon_pid=""
kill -TERM "$sim_pid"
wait "$sim_pid"
sim_pid=""

# ---- The proofs ------------------------------------------------------------------------------
proof_final
if [ "$biller" = http ]; then
  proof_journal "$journal" "$(biller_call /_stats)"
else
  proof_demo_book
fi
proof_ledger "$funded"
proof_receipts
proof_entries
proof_sent
proof_wire "$work/sms.log" 0 "$work/daemon.log"
[ "$fault" != none ] || [ "$wire_again" = 0 ] || fail "$wire_again SMS sent twice with no fault at all"
read -r total committed failed <<<"$(proof_counts)"
[ "$total" -ge 10 ] || fail "too few payments ($total) to prove anything"
unknown=$(grep -c -- '-> UNKNOWN' "$work/daemon.log")
q "SELECT '  failed: ' || count(*) || ' x ' || reason FROM payments WHERE state = 'FAILED'
   GROUP BY reason ORDER BY count(*) DESC LIMIT 3"
[ -n "${FAULTS_KEEP:-}" ] && mkdir -p "$FAULTS_KEEP" && cp -r "$work/." "$FAULTS_KEEP/"
echo "faults: fault=$fault seconds=$seconds dialogs=$(kv "$load" dials)" \
  "completed=$(kv "$load" completed) payments=$total committed=$committed failed=$failed" \
  "unknown_resolved=$unknown injected=\"$injected\" settle_s=$settle_s lost=0 doubled=0 receipts_lost=0" \
  "sms_on_wire=$wire_sms sms_again=$wire_again"
