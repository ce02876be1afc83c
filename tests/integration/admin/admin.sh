#!/usr/bin/env bash
# The admin API against the real daemon, over HTTP on 127.0.0.1 with curl:
#   1. /health answers at once without a token; /ready says 503 until the daemon is bound to
#      the SMSC and its store takes writes, then 200
#   2. everything else needs the bearer token: none or a wrong one is 401, and 403 is what a
#      daemon without a token configured answers
#   3. /metrics in Prometheus text while a paying dialog runs: the bind up, PDUs, the payment,
#      its SMS, the outbox depth
#   4. /api/payments/REF with its SMS; ?msisdn= and ?state= lists; 400, 404 and 405 for what it
#      does not serve; an oversized header is refused with 413 and the daemon keeps answering
#   5. --check-config refuses a short token and a malformed listen address
#
#   admin.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3 config=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
lib_require_sqlite3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
lib_start admin
phase=start
fail() {
  echo "FAIL ($phase): $*"
  echo "--- sim ---"; cat "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; tail -n 30 "$work/daemon.log" 2>/dev/null
  exit 1
}
export USSDPAY_STORE_PATH="$work/ussdpay.db"
token=$(head -n 1 "$(dirname "$config")/demo/admin-token")
"$cli" --config "$config" subscriber import "$here/../scripts/payment.csv" >/dev/null ||
  fail "import"

# The daemon first, with no SMSC to bind to yet: not ready.
"$sim" --mode scripted --port 0 --script "$here/../scripts/payment.sim" >"$work/sim.out" 2>&1 &
sim_pid=$!
smsc=$(sim_port "$work/sim.out") || fail "no simulator port"
kill -STOP "$sim_pid"  # the SMSC does not answer the bind for now
USSDPAY_ADMIN_LISTEN=127.0.0.1:0 USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT="$smsc" \
  "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
api=$(admin_address "$work/daemon.log") || fail "the daemon did not say where the admin API listens"
code() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }
auth=(-H "Authorization: Bearer $token")

# ---- 1. probes --------------------------------------------------------------------------------
phase=probes
[ "$(code "http://$api/health")" = 200 ] || fail "/health: $(cat "$work/body")"
grep -q '"status":"ok"' "$work/body" || fail "/health body: $(cat "$work/body")"
[ "$(code "http://$api/ready")" = 503 ] || fail "/ready before the bind: $(cat "$work/body")"
grep -q '"reasons":\["not bound to the SMSC"\]' "$work/body" || fail "/ready: $(cat "$work/body")"
kill -CONT "$sim_pid"
for ((i = 0; i < 100; i++)); do
  [ "$(code "http://$api/ready")" = 200 ] && break
  sleep 0.1
done
grep -q '"ready":true,"smsc_binds":1,"store_writable":true' "$work/body" ||
  fail "/ready once bound: $(cat "$work/body")"
echo "phase $phase: ok"

# ---- 2. the token -----------------------------------------------------------------------------
phase=token
[ "$(code -D "$work/headers" "http://$api/metrics")" = 401 ] || fail "/metrics without a token"
grep -qi '^WWW-Authenticate: Bearer realm="ussdpay"' "$work/headers" ||
  fail "a 401 without WWW-Authenticate: $(cat "$work/headers")"
[ "$(code -H "Authorization: Bearer ${token}x" "http://$api/metrics")" = 401 ] ||
  fail "/metrics with a wrong token"
[ "$(code -H "Authorization: Basic $token" "http://$api/api/payments?state=CREATED")" = 401 ] ||
  fail "a token in another scheme"
echo "phase $phase: ok"

# ---- 3. metrics while paying ------------------------------------------------------------------
phase=metrics
for ((i = 0; i < 300; i++)); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
wait "$sim_pid" || fail "payment.sim failed"
sim_pid=""
[ "$(code "${auth[@]}" "http://$api/metrics")" = 200 ] || fail "/metrics: $(cat "$work/body")"
m=$work/body
for want in 'ussdpay_smpp_binds_total{link="trx0",event="bound"} 1' \
  'ussdpay_payments_total{event="created"} 1' 'ussdpay_payments_total{event="committed"} 1' \
  'ussdpay_payments_open{state="UNKNOWN"} 0' 'ussdpay_outbox_depth 0' \
  '# TYPE ussdpay_smpp_pdus_total counter' 'ussdpay_ussd_dialogs_total{event="dialed"} '; do
  grep -qF "$want" "$m" || fail "no '$want' in /metrics"
done
grep -q '^ussdpay_sms_total{result="sent"} [1-9]' "$m" || fail "no SMS sent in /metrics"
# PDUs by command and status, the hop latency, the biller's answers and latency, receipts.
for want in \
  '^ussdpay_smpp_pdus_by_command_total{link="trx0",direction="in",command="deliver_sm",status="ESME_ROK"} [1-9]' \
  '^ussdpay_smpp_pdus_by_command_total{link="trx0",direction="out",command="deliver_sm_resp",status="ESME_ROK"} [1-9]' \
  '^ussdpay_smpp_pdus_by_command_total{link="trx0",direction="in",command="submit_sm_resp",status="ESME_ROK"} [1-9]' \
  '^ussdpay_smpp_window_size{link="trx0"} [1-9]' \
  '^ussdpay_ussd_hop_latency_seconds_count [1-9]' \
  '^ussdpay_biller_answers_total{biller="[a-z0-9_]+",call="pay",result="accepted"} 1$' \
  '^ussdpay_biller_answers_total{biller="[a-z0-9_]+",call="inquire",result="found"} [1-9]' \
  '^ussdpay_biller_latency_seconds_count{biller="[a-z0-9_]+",call="pay"} 1$' \
  '^ussdpay_biller_errors_total{biller="[a-z0-9_]+"} 0$' \
  '^ussdpay_receipts_by_state_total{state="delivered"} [0-9]'; do
  grep -qE "$want" "$m" || fail "no '$want' in /metrics"
done
# A histogram's +Inf bucket is its count, and its buckets never decrease.
hops=$(sed -n 's/^ussdpay_ussd_hop_latency_seconds_count //p' "$m")
grep -qx "ussdpay_ussd_hop_latency_seconds_bucket{le=\"+Inf\"} $hops" "$m" ||
  fail "the +Inf bucket is not the count ($hops)"
sed -n 's/^ussdpay_ussd_hop_latency_seconds_bucket{le="[^"]*"} //p' "$m" | sort -nc ||
  fail "hop latency buckets decrease"
# Every sample line is "name{labels} value" or "name value".
bad=$(grep -v '^#' "$m" | grep -cvE '^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9][0-9.e+-]*$')
[ "$bad" = 0 ] || fail "$bad malformed sample lines"
echo "phase $phase: ok ($(grep -vc '^#' "$m") samples)"

# ---- 4. payments ------------------------------------------------------------------------------
phase=payments
ref=$(q "SELECT ref FROM payments LIMIT 1")
[ -n "$ref" ] || fail "no payment in the store"
[ "$(code "${auth[@]}" "http://$api/api/payments/$ref")" = 200 ] || fail "GET $ref"
grep -qE "\"ref\":\"$ref\".*\"state\":\"(COMMITTED|COMPLETED)\"" "$work/body" ||
  fail "payment $ref: $(cat "$work/body")"
grep -q '"kind":"confirmed","state":"\(sent\|delivered\)"' "$work/body" ||
  fail "payment $ref has no confirmed SMS: $(cat "$work/body")"
[ "$(code "${auth[@]}" "http://$api/api/payments?msisdn=%2B923001234567&limit=5")" = 400 ] ||
  fail "a percent-encoded msisdn is refused (only plain characters)"
[ "$(code "${auth[@]}" "http://$api/api/payments?msisdn=923001234567&limit=5")" = 200 ] ||
  fail "list by msisdn"
grep -q "\"ref\":\"$ref\"" "$work/body" || fail "the list by msisdn lacks $ref"
[ "$(code "${auth[@]}" "http://$api/api/payments?state=MANUAL_REVIEW")" = 200 ] ||
  fail "list by state"
grep -q '^{"payments":\[\]}$' "$work/body" || fail "MANUAL_REVIEW: $(cat "$work/body")"
[ "$(code "${auth[@]}" "http://$api/api/payments?state=SOMETIMES")" = 400 ] || fail "a bad state"
[ "$(code "${auth[@]}" "http://$api/api/payments?limit=1000&state=FAILED")" = 400 ] ||
  fail "limit over 100"
[ "$(code "${auth[@]}" "http://$api/api/payments/NOSUCHREF0")" = 404 ] || fail "an unknown ref"
[ "$(code "${auth[@]}" "http://$api/nowhere")" = 404 ] || fail "an unknown path"
[ "$(code "${auth[@]}" -X POST "http://$api/api/payments/$ref")" = 405 ] || fail "POST"
# Resolving: only by POST, only open payments, only with a well-formed body (operator.sh
# resolves a stuck payment through the CLI).
resolve() { code "${auth[@]}" -X POST --data-binary "$1" "http://$api/api/payments/$2/resolve"; }
[ "$(code "${auth[@]}" "http://$api/api/payments/$ref/resolve")" = 405 ] || fail "GET resolve"
[ "$(resolve '{"outcome":"not_paid","note":"ops: test"}' "$ref")" = 409 ] ||
  fail "a paid payment was resolved: $(cat "$work/body")"
grep -q "only CREATED, UNKNOWN or MANUAL_REVIEW" "$work/body" || fail "409: $(cat "$work/body")"
[ "$(resolve '{"outcome":"not_paid","note":"x"}' NOSUCHREF0)" = 404 ] || fail "resolve unknown"
for body in 'not json' '[]' '{"outcome":"maybe","note":"x"}' '{"outcome":"paid","note":"x"}' \
  '{"outcome":"not_paid"}' '{"outcome":"not_paid","note":7}'; do
  [ "$(resolve "$body" "$ref")" = 400 ] || fail "resolve with $body: $(cat "$work/body")"
done
[ "$(code -X POST --data-binary '{}' "http://$api/api/payments/$ref/resolve")" = 401 ] ||
  fail "resolve without a token"
big=$(head -c 20000 /dev/zero | tr '\0' a)
[ "$(code "${auth[@]}" -H "X-Big: $big" "http://$api/health")" = 413 ] ||
  fail "an oversized header was not refused with 413"
[ "$(code "http://$api/health")" = 200 ] || fail "the API stopped answering after the refusal"
echo "phase $phase: ok"

kill -TERM "$daemon_pid"
wait_gone "$daemon_pid" 50 || fail "the daemon did not stop"
wait "$daemon_pid" || fail "the daemon did not exit cleanly"
daemon_pid=""

# ---- 2b. no token configured: only the probes answer --------------------------------------------
phase=no-token
USSDPAY_ADMIN_TOKEN_FILE= USSDPAY_ADMIN_LISTEN=127.0.0.1:0 USSDPAY_SMPP_HOST=127.0.0.1 \
  USSDPAY_SMPP_PORT=1 "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
api=$(admin_address "$work/daemon.log" "no token") || fail "the daemon without a token did not say so"
[ "$(code "http://$api/health")" = 200 ] || fail "/health without a token configured"
[ "$(code "${auth[@]}" "http://$api/metrics")" = 403 ] || fail "/metrics without a token configured"
kill -TERM "$daemon_pid"
wait_gone "$daemon_pid" 50 || fail "the daemon did not stop"
wait "$daemon_pid" || fail "the daemon did not exit cleanly"
daemon_pid=""
echo "phase $phase: ok"

# ---- 5. configuration -------------------------------------------------------------------------
phase=config
out=$(USSDPAY_ADMIN_TOKEN=short "$daemon" --config "$config" --check-config 2>&1) &&
  fail "a short token passed --check-config"
grep -q "admin.token: must be at least 16 characters" <<<"$out" || fail "$out"
out=$(USSDPAY_ADMIN_LISTEN=localhost "$daemon" --config "$config" --check-config 2>&1) &&
  fail "a malformed listen address passed --check-config"
grep -q "admin.listen: must be HOST:PORT" <<<"$out" || fail "$out"
echo "phase $phase: ok"
echo "admin: all phases passed"
