#!/usr/bin/env bash
# Abuse and security (issue 7): one real daemon, logging at debug, against ussdpay-sim SMSCs
# swapped on one port and curl, phase by phase. Each phase checks that nothing got in, that the
# daemon is alive and still serves others, and that its log says what it refused:
#   bind     the SMSC refuses our bind (wrong password): refusals logged with the status, a
#            bounded number of retries (back-off, not a hot loop), /ready 503; then bound
#   admin    no token, a wrong one, another scheme: 401 and no data; a client address not in
#            [admin] allow (127.0.0.2): closed unanswered and logged; a burst of them
#   pin      wrong PINs across dialogs and dials lock the PIN; the right PIN is then refused, in
#            new dials too; no payment, no balance change; another subscriber pays
#   flood    one number dials hundreds of times: busy screens, refusals counted and logged;
#            another subscriber's paying dialog goes through between its dials; then more
#            numbers than [ussd] max_sessions: busy for the excess, live dialogs and a fresh
#            number after the flood still served
#   meta     SQL, format-string and control characters, and long strings, at every USSD input
#            (menu choice, consumer number, amount, PIN, one-time code, account label, dial
#            string) and in admin paths, queries and a resolve note: handled as data
#   size     oversized USSD inputs, admin headers, URLs and bodies: bounded refusals
# Then the store is intact (integrity_check, row counts, the ledger sums to zero), only the
# payments meant were made, the log has no raw control character, no secret and no PIN.
#
#   abuse.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3 config=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
lib_require_sqlite3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
lib_start abuse
phase=start
fail() {
  echo "FAIL ($phase): $*"
  for f in "$work"/sim-*.out; do
    [ -f "$f" ] && { echo "--- $(basename "$f") ---"; tail -n 15 "$f"; }
  done
  echo "--- daemon ---"; tail -n 40 "$work/daemon.log" 2>/dev/null
  exit 1
}
ms() { date +%s%3N; }
started=$(ms)
phase_started=$started
phase_done() {
  echo "phase $phase: ok in $(($(ms) - phase_started)) ms${1:+ ($*)}"
  phase_started=$(ms)
}

export USSDPAY_STORE_PATH="$work/ussdpay.db"
"$cli" --config "$config" subscriber import "$here/abuse.csv" >/dev/null || fail "import"
subscribers=$(($(wc -l <"$here/abuse.csv") - 1))
token=$(head -n 1 "$(dirname "$config")/demo/admin-token")
smsc_password=Qz7pw42  # the daemon's bind password (USSDPAY_SMPP_PASSWORD), 8 at most
wrong_password=wr0ngpw
wallet() { q "SELECT balance FROM accounts WHERE kind = 'wallet' AND owner = '$1'"; }
victim=923001110001 payer=923001110002 flooder=923001110003 meta=923001110004
victim_balance=$(wallet $victim)
[ -n "$victim_balance" ] || fail "no wallet for $victim"

# The simulator, on the daemon's SMSC port once the first one has chosen it.
port=0
start_sim() {  # start_sim NAME ARGS...: in the background, sim_pid set
  local name=$1
  shift
  : >"$work/sim-$name.out"
  "$sim" --port "$port" "$@" >"$work/sim-$name.out" 2>&1 &
  sim_pid=$!
  local p
  p=$(sim_port "$work/sim-$name.out") || fail "ussdpay-sim ($name) did not report its port"
  port=$p
}
stop_sim() {
  kill -TERM "$sim_pid" 2>/dev/null
  wait_gone "$sim_pid" 50 || fail "ussdpay-sim did not stop"
  wait "$sim_pid" 2>/dev/null
  sim_pid=""
}
run_sim() {  # run_sim NAME ARGS...: until it exits (60 s at most); its exit status
  start_sim "$@"
  wait_gone "$sim_pid" 600 || fail "ussdpay-sim ($1) still running after 60 s"
  wait "$sim_pid"
  local rc=$?
  sim_pid=""
  return $rc
}
code() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }
auth=(-H "Authorization: Bearer $token")
metrics() { curl -s "${auth[@]}" "http://$api/metrics" >"$work/metrics"; }
metric() { awk -v n="$1 " 'index($0, n) == 1 {print $NF}' "$work/metrics"; }  # after metrics
alive() {
  kill -0 "$daemon_pid" 2>/dev/null || fail "the daemon died"
  [ "$(code "http://$api/health")" = 200 ] || fail "/health does not answer"
}
wait_ready() {  # wait_ready TENTHS
  local i
  for ((i = 0; i < $1; i++)); do
    [ "$(code "http://$api/ready")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}
logged() { grep -aF -- "$1" "$work/daemon.log" >/dev/null; }

# ---- bind: the SMSC refuses our password --------------------------------------------------------
phase=bind
start_sim bind --mode serve --password "$wrong_password"
# Dialogs last the whole test: no dialog times out between a phase's count and its checks. 10
# dials per number (the default) in 10 min, not 1 min: no allowance refills during the test (one
# dial every minute), so every dial of the flooding number after its tenth is refused.
USSDPAY_LOG_LEVEL=debug USSDPAY_ADMIN_LISTEN=127.0.0.1:0 USSDPAY_ADMIN_ALLOW=127.0.0.1/32 \
  USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT="$port" USSDPAY_SMPP_PASSWORD=$smsc_password \
  USSDPAY_USSD_MAX_SESSIONS=20 USSDPAY_USSD_SESSION_TIMEOUT=150s USSDPAY_USSD_DIAL_WINDOW=600s \
  "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
api=$(admin_address "$work/daemon.log") || fail "no admin address in the log"
bind_started=$(ms)
sleep 3
alive
[ "$(code "http://$api/ready")" = 503 ] || fail "/ready while every bind is refused: $(cat "$work/body")"
grep -q '"reasons":\["not bound to the SMSC"\]' "$work/body" || fail "/ready: $(cat "$work/body")"
stop_sim
bind_ms=$(($(ms) - bind_started))
refused=$(sed -n 's/.* binds_rejected=\([0-9]*\).*/\1/p' "$work/sim-bind.out")
# Back-off from 100 ms doubling to 1 s, with jitter: about 7 binds in 3 s. A hot loop would make
# thousands.
[ "${refused:-0}" -ge 2 ] && [ "$refused" -le 15 ] || fail "$refused binds refused in $bind_ms ms"
logged "bind refused: ESME_RINVPASWD" || fail "the refusal is not logged with its status"
warns=$(grep -ac 'warning smpp trx0: binding -> backoff (bind refused' "$work/daemon.log")
[ "$warns" -le 2 ] || fail "$warns warn lines for one cause (logged once per interval)"
# The right password: bound, ready.
start_sim admin --mode serve --password "$smsc_password"
t=$(ms)
wait_ready 50 || fail "not ready within 5 s of the right password: $(cat "$work/body")"
phase_done "$refused binds refused with ESME_RINVPASWD in $bind_ms ms ($warns warn line)," \
  "bound $(($(ms) - t)) ms after the right password"

# ---- admin: the token and the address allow-list ------------------------------------------------
phase="admin"
denied=0
# No header, an empty one, no token, a wrong one, other schemes, two spaces, the bare token.
for header in "" "Authorization;" "Authorization: Bearer" "Authorization: Bearer ${token}x" \
  "Authorization: Bearer ${token:1}" "Authorization: Basic $token" "Authorization: bearer $token" \
  "Authorization: Bearer  $token" "Authorization: $token" "X-Authorization: Bearer $token"; do
  h=()
  [ -n "$header" ] && h=(-H "$header")
  for path in /metrics /api/status "/api/payments?state=COMMITTED" /api/payments/ABCDEFGHIJ; do
    c=$(code "${h[@]}" "http://$api$path")
    [ "$c" = 401 ] || fail "$path with [$header]: $c $(cat "$work/body")"
    grep -qx '{"error":"a bearer token is required"}' "$work/body" ||
      fail "$path with [$header] said more: $(head -c 200 "$work/body")"
    denied=$((denied + 1))
  done
done
c=$(code "${auth[@]}" -X POST --data '{"outcome":"not_paid","note":"x"}' \
  "http://$api/api/payments/ABCDEFGHIJ/resolve")
[ "$c" = 404 ] || fail "resolve with the token: $c $(cat "$work/body")"
[ "$(code -X POST --data '{"outcome":"not_paid","note":"x"}' \
  "http://$api/api/payments/ABCDEFGHIJ/resolve")" = 401 ] || fail "resolve without a token"
denied=$((denied + 1))
logged "admin: 401 for GET /metrics from 127.0.0.1: no valid bearer token" ||
  fail "no 401 in the log"
# Another client address (Linux routes 127.0.0.0/8 to lo; the allow-list is 127.0.0.1/32): the
# connection is closed unanswered, token or not.
rm -f "$work/body"
c=$(code --interface 127.0.0.2 "http://$api/health")
[ "$c" = 000 ] && [ ! -s "$work/body" ] || fail "127.0.0.2 got an answer: $c"
c=$(code --interface 127.0.0.2 "${auth[@]}" "http://$api/metrics")
[ "$c" = 000 ] && [ ! -s "$work/body" ] || fail "127.0.0.2 with the token got an answer: $c"
logged "admin: refused a connection from 127.0.0.2 (not in [admin] allow)" ||
  fail "the refused address is not logged"
# A burst of them: refused at accept, the log paced (one line a second at most).
burst=()
for ((i = 0; i < 40; i++)); do
  curl -s -o /dev/null --max-time 2 --interface 127.0.0.2 "http://$api/health" &
  burst+=($!)
done
for p in "${burst[@]}"; do wait "$p"; done
alive
lines=$(grep -ac 'admin: refused a connection from 127.0.0.2' "$work/daemon.log")
[ "$lines" -le 10 ] || fail "$lines log lines for 42 refused connections"
# Idle connections up to [admin] max_connections (64) hold every slot: the next one is closed at
# once and logged; once they go, the API answers again.
idle=()
for ((i = 0; i < 64; i++)); do
  exec {fd}<>"/dev/tcp/${api%:*}/${api#*:}" || fail "connection $i"
  idle+=("$fd")
done
sleep 0.2
rm -f "$work/body"
c=$(code --max-time 5 "http://$api/health")
[ "$c" = 000 ] && [ ! -s "$work/body" ] || fail "a 65th connection was served: $c"
for fd in "${idle[@]}"; do exec {fd}>&-; done
for ((i = 0; i < 50; i++)); do [ "$(code "http://$api/health")" = 200 ] && break; sleep 0.1; done
alive
logged "64 connections open ([admin] max_connections): one from 127.0.0.1 closed" ||
  fail "the connection over max_connections is not logged"
# The token never appears in the log, nor the wrong one tried.
grep -aqF "$token" "$work/daemon.log" && fail "the admin token is in the log"
metrics
[ "$(metric 'ussdpay_smpp_binds_total{link="trx0",event="bind_failed"}')" -ge 2 ] ||
  fail "bind failures are not in /metrics"
phase_done "$denied requests 401 with no data, 42 connections from 127.0.0.2 closed" \
  "unanswered ($lines log lines), a 65th connection closed while 64 idle ones were open"
stop_sim

# ---- pin: brute force across dialogs and dials ----------------------------------------------------
phase=pin
run_sim pin --mode scripted --password "$smsc_password" --script "$here/abuse_pin.sim" ||
  fail "abuse_pin.sim failed"
alive
[ "$(q "SELECT count(*) FROM payments WHERE msisdn = '$victim'")" = 0 ] ||
  fail "a payment was made with a locked PIN"
[ "$(wallet $victim)" = "$victim_balance" ] || fail "the victim's balance changed"
now_ms=$(ms)
[ "$(q "SELECT locked_until > $now_ms + 25 * 60000 FROM subscribers WHERE msisdn = '$victim'")" = 1 ] ||
  fail "the PIN is not locked for 30 min: $(q "SELECT * FROM subscribers WHERE msisdn = '$victim'")"
[ "$(q "SELECT count(*) FROM outbox WHERE msisdn = '$victim' AND kind = 'locked'")" = 1 ] ||
  fail "not one 'locked' SMS"
[ "$(q "SELECT count(*) FROM payments WHERE msisdn = '923001110005' AND \
  state IN ('COMMITTED', 'COMPLETED')")" = 1 ] || fail "the other subscriber's payment"
for pin in 4826 1111 2222 3333 2719 5831; do
  grep -aqE "(^|[^0-9])$pin([^0-9]|$)" "$work/daemon.log" && fail "PIN $pin is in the log"
done
phase_done "3 wrong PINs over 2 dials locked it; the right PIN refused in 2 more dials;" \
  "no payment, balance unchanged; another subscriber paid"

# ---- flood-one: one number dials hundreds of times ------------------------------------------------
phase=flood-one
run_sim flood --mode load --password "$smsc_password" --sessions 1 --msisdn $flooder \
  --inputs '*123#,1' --max-dials 400 --duration 30 --hop-timeout 3 ||
  fail "the flood had hops without an answer (see sim-flood.out)"
line=$(grep '^load ' "$work/sim-flood.out")
val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
dials=$(val dials) busy=$(val ended_early) served=$(val completed) secs=$(val seconds)
[ "$dials" -ge 400 ] || fail "$dials dials"
# 10 dials per number: the first 10 served, every other busy.
[ "$served" -le 11 ] && [ "$busy" -ge $((dials - 11)) ] ||
  fail "$served served and $busy busy of $dials dials from one number"
alive
metrics
limited=$(metric 'ussdpay_ussd_dialogs_total{event="rate_limited"}')
[ "$limited" -ge "$busy" ] || fail "rate_limited $limited < $busy busy screens"
[ "$(grep -ac "ussd: $flooder dialed more than 10 times within 600 s" "$work/daemon.log")" = 1 ] ||
  fail "the number over its limit is not named once in the log"
# Another subscriber pays while the same number keeps dialing: 40 refused dials between each of
# its steps.
flood40() {
  local i
  echo "as $flooder"
  for ((i = 0; i < 40; i++)); do
    echo "dial *123#"
    echo "expect-end Service busy. Please try again in a minute."
  done
  echo "as $payer"
}
{
  echo "wait-bind 10000"
  echo "as $payer"
  echo "dial *123*1*1*1#"
  flood40
  echo "expect-continue Enter LESCO consumer number"
  echo "reply 04123456789012"
  flood40
  echo "expect-continue Due 25/12/2026: Rs4,520"
  echo "reply 1"
  flood40
  echo "expect-continue Enter 4-digit PIN"
  echo "reply 5937"
  flood40
  echo "expect-continue Paid Rs4,520 to LESCO. ID"
} >"$work/flood.sim"
t=$(ms)
run_sim interleave --mode scripted --password "$smsc_password" --step-timeout-ms 3000 \
  --script "$work/flood.sim" || fail "the paying dialog during the flood failed"
interleave_ms=$(($(ms) - t))
[ "$interleave_ms" -lt 15000 ] || fail "the paying dialog took $interleave_ms ms among the flood"
[ "$(q "SELECT count(*) FROM payments WHERE msisdn = '$payer' AND \
  state IN ('COMMITTED', 'COMPLETED')")" = 1 ] || fail "the payer's payment is not in the store"
metrics
limited=$(metric 'ussdpay_ussd_dialogs_total{event="rate_limited"}')
[ "$limited" = $((busy + 160)) ] || fail "rate_limited $limited, not $busy + 160"
numbers=$(metric ussdpay_ussd_dial_limit_numbers)
[ "$numbers" -ge 4 ] && [ "$numbers" -le 100000 ] || fail "dial_limit_numbers $numbers"
phase_done "$dials dials from one number in $secs s: $served served, $busy busy;" \
  "a 4-hop payment of another subscriber done among 160 more in $interleave_ms ms;" \
  "rate_limited $limited"

# ---- meta: metacharacters as data -------------------------------------------------------------
phase=meta
# A line of a script may carry any octet but a newline: CR, ESC, SOH, DEL, NUL, and a
# right-to-left override, besides SQL and format strings.
payloads=("' OR 1=1 --" '"; DROP TABLE payments; --' "'); DELETE FROM accounts; --" '%s%n%x%p'
  '{}' '{0:>99999}' '${PATH}$(id)`id`' "$(printf '\xe2\x80\xae1')"
  "$(head -c 70 /dev/zero | tr '\0' 1)")
each() {  # each EXPECT: every payload as a reply, each answered with EXPECT again
  local p
  for p in "${payloads[@]}"; do
    printf 'reply %s\n' "$p"
    echo "expect-continue $1"
  done
  printf 'reply a\rb\x1bc\x01d\x7fe\x00f\n'  # no shell variable holds a NUL
  echo "expect-continue $1"
}
{
  echo "wait-bind 10000"
  echo "as $meta"
  echo "dial *123#"
  echo "expect-continue Bill Pay"
  each "Bill Pay"                          # menu choice
  echo "reply 1"
  echo "expect-continue Pay bill"
  echo "reply 1"
  echo "expect-continue Choose company"
  echo "reply 1"
  echo "expect-continue Enter LESCO consumer number"
  each "Enter LESCO consumer number"       # consumer number
  echo "reply 04999000111222"
  echo "expect-continue 2. Other amount"
  each "2. Other amount"                   # a choice on the bill
  echo "reply 2"
  echo "expect-continue Enter amount"
  each "Enter amount"                      # amount
  echo "reply 100"
  echo "expect-continue Enter 4-digit PIN"
  each "Enter 4-digit PIN"                 # PIN: none of these is a PIN try
  echo "reply 6142"
  echo "expect-continue Paid Rs100 to LESCO. ID"
  echo "expect-sms-ref PAID Rs100 to LESCO 04999000111222"
  echo "reply 1"
  echo "expect-continue Name for this account"
  echo "reply {0:>99999}"                  # a label is free text, stored as it is
  echo "expect-end Saved as {0:>99999}."
  echo "dial *123*1*1*1#"
  echo "expect-continue Enter LESCO consumer number"
  echo "reply 04999000111223"
  echo "expect-continue 2. Other amount"
  echo "reply 2"
  echo "expect-continue Enter amount"
  echo "reply 101"
  echo "expect-continue Enter 4-digit PIN"
  echo "reply 6142"
  echo "expect-continue Paid Rs101 to LESCO. ID"
  echo "expect-sms-ref PAID Rs101 to LESCO 04999000111223"
  echo "reply 1"
  echo "expect-continue Name for this account"
  echo "reply %n';DROP--"
  echo "expect-end Saved as %n';DROP--."
  echo "# The labels shown back as they were typed."
  echo "dial *123*2#"
  echo "expect-continue {0:>99999} LESCO"
  echo "# Dial strings."
  echo "dial *123*' OR 1=1 --#"
  echo "expect-continue Invalid choice."
  echo "dial *123*%s%n{0}#"
  echo "expect-continue Invalid choice."
  echo "# A one-time code screen (a number registering)."
  echo "as 923005550001"
  echo "dial *123#"
  echo "expect-continue Welcome to Bill Pay"
  echo "reply 1"
  echo "expect-sms is your Bill Pay code"
  echo "expect-continue Enter the code we sent you by SMS"
  each "Enter the code we sent you by SMS"
} >"$work/meta.sim"
run_sim meta --mode scripted --password "$smsc_password" --script "$work/meta.sim" ||
  fail "metacharacters were not handled as data"
alive
[ "$(q "SELECT count(*) FROM payments WHERE msisdn = '$meta'")" = 2 ] ||
  fail "payments of $meta: $(q "SELECT ref, amount, state FROM payments WHERE msisdn = '$meta'")"
[ "$(q "SELECT group_concat(amount, ',') FROM (SELECT amount FROM payments WHERE msisdn = '$meta' \
  ORDER BY amount)")" = "10000,10100" ] || fail "amounts of $meta"
[ "$(q "SELECT failed_pins FROM subscribers WHERE msisdn = '$meta'")" = 0 ] ||
  fail "a metacharacter input counted as a wrong PIN"
[ "$(q "SELECT count(*) FROM saved_accounts WHERE label IN ('{0:>99999}', '%n'';DROP--')")" = 2 ] ||
  fail "labels: $(q "SELECT label FROM saved_accounts")"
# The hop log shows each input as data: '"' and '\' escaped, control characters and a
# right-to-left override as JSON's \uXXXX, a long one cut short.
for want in "at main: '' OR 1=1 --'" "at main: '\\\"; DROP TABLE payments; --'" \
  "at main: '%s%n%x%p'" "at main: '{0:>99999}'" "at main: '\${PATH}\$(id)\`id\`'" \
  'at main: '"'"'a\u000db\u001bc\u0001d\u007fe\u0000f'"'" "at main: '\\u202e1'" \
  "at pay_account: '' OR 1=1 --'" "at confirm: '****'" "at pay_amount: '{}'"; do
  logged "$want" || fail "no \"$want\" in the log"
done
grep -aqE "at main: '1{64}\.\.\.\(\+6 bytes\)'" "$work/daemon.log" || fail "a long input is not cut"
# The admin API: paths, queries and a note.
for path in "/api/payments/%27%20OR%201=1--" "/api/payments/'%3BDROP--" "/api/payments/%25s%25n%25x%25s" \
  "/api/payments/{0:>9999}x" "/api/subscribers/923001110001" "/api/payments/../../etc/passwd" \
  "/metrics/../api/status" "/%00"; do
  c=$(code -g --path-as-is "${auth[@]}" "http://$api$path")
  [ "$c" = 404 ] || [ "$c" = 400 ] || fail "$path: $c $(head -c 200 "$work/body")"
done
for query in "msisdn=' OR 1=1 --" "msisdn=923001110001' OR '1'='1" "state=COMMITTED;DROP" \
  "state=%s%n" "limit=1;DELETE" "msisdn=923001110001&limit=100000000000000000000"; do
  c=$(code -g "${auth[@]}" --get --data-urlencode "${query%%=*}=${query#*=}" "http://$api/api/payments")
  [ "$c" = 400 ] || fail "?$query: $c $(head -c 200 "$work/body")"
done
paid=$(q "SELECT ref FROM payments WHERE msisdn = '$meta' LIMIT 1")
for note in "'; DROP TABLE payments; --" '%s%n%x {} {0:>99999}'; do
  body="{\"outcome\":\"not_paid\",\"note\":\"${note//\"/\\\"}\"}"
  [ "$(code "${auth[@]}" -X POST --data-binary "$body" "http://$api/api/payments/$paid/resolve")" = 409 ] ||
    fail "resolve a paid payment with note $note: $(cat "$work/body")"
  [ "$(code "${auth[@]}" -X POST --data-binary "$body" "http://$api/api/payments/NOSUCHREF0/resolve")" = 404 ] ||
    fail "resolve an unknown payment with note $note"
done
[ "$(code "${auth[@]}" -X POST --data-binary '{"outcome":"not_paid","note":"a\u0000b\u001b[2J"}' \
  "http://$api/api/payments/$paid/resolve")" = 400 ] || fail "control characters in a note"
# A raw request whose target carries quotes and backslashes: logged as data. (A second apart from
# the last 401: such lines are logged at most once a second.)
sleep 1
exec {fd}<>"/dev/tcp/${api%:*}/${api#*:}"
printf 'GET /x"y'"'"'z\\w{0}%%n HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&"$fd"
timeout 5 cat <&"$fd" >"$work/raw" || true
exec {fd}>&-
head -n 1 "$work/raw" | grep -q '^HTTP/1.1 401' || fail "raw request: $(head -n 1 "$work/raw")"
logged "admin: 401 for GET /x\\\"y'z\\\\w{0}%n from 127.0.0.1" || fail "the raw target is not logged escaped"
phase_done "$((${#payloads[@]} + 1)) payloads at 6 USSD inputs, 2 labels, 2 dial strings; 8 admin paths," \
  "6 queries, 5 notes: all data"

# ---- size: oversized inputs ---------------------------------------------------------------------
phase=size
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status")
long253=$(head -c 253 /dev/zero | tr '\0' 9)
{
  echo "wait-bind 10000"
  echo "as 923001110006"
  echo "dial *123#"
  echo "expect-continue Bill Pay"
  echo "reply $(head -c 182 /dev/zero | tr '\0' 7)"
  echo "expect-continue Too long."
  echo "reply $long253"
  echo "expect-continue Too long."
  # 120 Urdu letters: 240 octets of UCS-2, the most one short_message carries in that coding.
  echo "reply $(for ((i = 0; i < 120; i++)); do printf '\xd8\xa7'; done)"
  echo "expect-continue Too long."
  echo "reply 6"
  echo "expect-continue Help"
  echo "reply 3"
  echo "expect-end Call 111"
  echo "dial $long253"
  echo "expect-end Unknown service code"
} >"$work/size.sim"
run_sim size --mode scripted --password "$smsc_password" --script "$work/size.sim" ||
  fail "oversized USSD inputs"
alive
grep -aqE "at main: '9{64}\.\.\.\(\+189 bytes\)'" "$work/daemon.log" || fail "a 253-octet input is not cut in the log"
# Admin: a 100 KiB header, a 100 KiB URL, a 1 MiB body: 413 and closed; still serving.
big=$(head -c 102400 /dev/zero | tr '\0' a)
[ "$(code "${auth[@]}" -H "X-Big: $big" "http://$api/metrics")" = 413 ] || fail "a 100 KiB header"
[ "$(code "${auth[@]}" "http://$api/api/payments/$big")" = 413 ] || fail "a 100 KiB URL"
head -c 1048576 /dev/zero | tr '\0' a >"$work/megabyte"
c=$(code "${auth[@]}" -H 'Expect:' -X POST --data-binary "@$work/megabyte" \
  "http://$api/api/payments/ABCDEFGHIJ/resolve")
[ "$c" = 413 ] || [ "$c" = 000 ] || fail "a 1 MiB body: $c"
body_code=$c
c=$(code -H 'Expect:' -X POST --data-binary "@$work/megabyte" "http://$api/api/payments/x/resolve")
[ "$c" = 413 ] || [ "$c" = 000 ] || fail "a 1 MiB body without a token: $c"
logged "refused with 413" || fail "the 413s are not logged"
alive
rss_after=$(awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status")
[ $((rss_after - rss_before)) -lt 65536 ] || fail "RSS grew from $rss_before to $rss_after KiB"
phase_done "182 and 253 octet inputs 'Too long', a 253-digit dial unknown; 100 KiB header" \
  "and URL 413, 1 MiB body $body_code; RSS $rss_before -> $rss_after KiB"

# ---- flood-many: more numbers than max_sessions (last: it leaves max_sessions full) -------
phase=flood-many
# More numbers than max_sessions (20): fill what is free, then 30 more.
metrics
live=$(metric ussdpay_ussd_live_dialogs)
busy_before=$(metric 'ussdpay_ussd_dialogs_total{event="busy"}')
free=$((20 - live))
[ "$free" -ge 5 ] || fail "only $free of 20 dialogs free before the flood"
{
  echo "wait-bind 10000"
  echo "as 923001110006"
  echo "dial *123#"
  echo "expect-continue Bill Pay"
  for ((i = 1; i < free; i++)); do
    echo "as 92300222$(printf %04d $i)"
    echo "dial *123#"
    echo "expect-continue Welcome to Bill Pay"
  done
  for ((i = 1; i <= 30; i++)); do
    echo "as 92300333$(printf %04d $i)"
    echo "dial *123#"
    echo "expect-end Service busy. Please try again in a minute."
  done
  echo "# A live dialog is still served, and ends."
  echo "as 923001110006"
  echo "reply 6"
  echo "expect-continue Help"
  echo "reply 3"
  echo "expect-end Call 111"
  echo "# A fresh number after the flood."
  echo "as 923004440001"
  echo "dial *123#"
  echo "expect-continue Welcome to Bill Pay"
} >"$work/many.sim"
run_sim many --mode scripted --password "$smsc_password" --script "$work/many.sim" ||
  fail "the flood of numbers did not go as expected"
alive
metrics
busy_after=$(metric 'ussdpay_ussd_dialogs_total{event="busy"}')
[ $((busy_after - busy_before)) = 30 ] || fail "busy went from $busy_before to $busy_after"
[ "$(metric ussdpay_ussd_live_dialogs)" = 20 ] || fail "live dialogs: $(metric ussdpay_ussd_live_dialogs)"
logged "dialogs live ([ussd] max_sessions): new dials get the busy screen" ||
  fail "max_sessions refusals are not logged"
phase_done "$free dialogs filled max_sessions 20 ($live live before), 30 more numbers busy," \
  "a live dialog and a fresh number served after"

# ---- the store and the log ------------------------------------------------------------------------
phase=store
[ "$(q "PRAGMA integrity_check")" = ok ] || fail "integrity_check: $(q "PRAGMA integrity_check")"
for table in subscribers accounts entries payments outbox saved_accounts; do
  [ -n "$(q "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '$table'")" ] ||
    fail "table $table is gone"
done
[ "$(q "SELECT count(*) FROM subscribers")" = "$subscribers" ] ||
  fail "subscribers: $(q "SELECT count(*) FROM subscribers"), not $subscribers"
# Exactly the payments meant: 923001110005, the payer during the flood, and the two of $meta.
payments=$(q "SELECT count(*) FROM payments")
[ "$payments" = 4 ] || fail "$payments payments: $(q "SELECT msisdn, amount, state FROM payments")"
[ "$(q "SELECT sum(balance) FROM accounts")" = 0 ] || fail "the ledger does not sum to zero"
[ "$(wallet $victim)" = "$victim_balance" ] || fail "the victim's balance changed"
# No raw control character in the log (every peer input escaped), no secret, no PIN.
ctl=$(tr -d '\n\t' <"$work/daemon.log" | LC_ALL=C tr -dc '\000-\010\013-\037\177' | wc -c)
[ "$ctl" = 0 ] || fail "$ctl raw control characters in the log"
for secret in "$smsc_password" "$wrong_password" "$token"; do
  grep -aqF -- "$secret" "$work/daemon.log" && fail "a secret ($secret) is in the log"
done
for pin in 4826 5937 7391 6142 2719 3958; do
  grep -aqE "(^|[^0-9])$pin([^0-9]|$)" "$work/daemon.log" && fail "PIN $pin is in the log"
done
kill -TERM "$daemon_pid"
wait_gone "$daemon_pid" 100 || fail "the daemon did not stop"
wait "$daemon_pid" || fail "the daemon did not exit cleanly"
daemon_pid=""
phase_done "integrity ok, $subscribers subscribers, $payments payments, ledger sums to 0," \
  "$(wc -l <"$work/daemon.log") log lines clean"
echo "abuse: all phases passed in $(($(ms) - started)) ms"
