#!/usr/bin/env bash
# The real daemon with an HTTP/JSON biller (kind = "http") against ussdpay-billersim over HTTPS
# (a test CA made here by make_test_ca.sh), paying dialogs played by ussdpay-sim, all on
# 127.0.0.1. Four phases, one store and one biller book throughout:
#
#   1. no faults (paid_and_refused.sim): a bill paid in full ends COMMITTED with its receipt
#      sent, and the biller's journal holds exactly one posting under our reference (sent as
#      paymentId and Idempotency-Key) with the biller reference we stored; bills the biller
#      reports as paid are refused at the bill screen; two payments the biller refuses (422:
#      paid by someone else meanwhile; wrong amount) end FAILED with the "did not accept" screen
#      and the wallet whole (hold voided, nothing settled, nothing at the biller);
#   2. the biller answers 3 s late, past biller_timeout (slow_pay.sim): the payment is UNKNOWN
#      with its money on hold while the biller already has it; once the biller is fast again a
#      status query commits it, with one posting and no pay sent twice;
#   3. the daemon is killed with SIGKILL while a payment is at the (slow) biller (crash_pay.sim):
#      the payment is left CREATED; the restarted daemon asks the biller and commits it, again
#      with exactly one posting, no pay sent twice, and the receipt sent;
#   4. the biller is frozen (SIGSTOP) so a payment goes into its socket unread, then the daemon
#      and the biller are both killed (lost_pay.sim): the payment is CREATED and the biller,
#      restarted from its journal on the same port, has no record of it; the restarted daemon
#      asks, pays again under the same reference, and it is posted exactly once.
#
# Then the whole books: every payment final, the ledger sums to 0 with nothing on hold,
# settlement = what the biller holds (its journal and its /_stats), fees = fees of committed
# payments, one receipt of the right kind per payment, ledger entries matching each state.
#
#   http_biller.sh SIM DAEMON CLI BILLERSIM
#
# Every wait is bounded; only the processes started here are ended, by PID.
set -u
if [ $# -ne 4 ]; then
  echo "usage: $0 SIM DAEMON CLI BILLERSIM" >&2
  exit 2
fi
sim=$1 daemon=$2 cli=$3 billersim=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
for tool in sqlite3 curl openssl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

. "$here/../lib.sh"
. "$here/../../faults/proofs.sh"
lib_start http-biller daemon_pid sim_pid biller_pid
# Each process's output goes to a file of its own (a restarted one's old output must not be
# mistaken for its new "listening" line).
sim_out="$work/sim.out" biller_out="$work/billersim.out"
fail() {
  echo "FAIL: $*"
  echo "--- sim ---"; cat "$sim_out" 2>/dev/null
  echo "--- billersim ---"; cat "$biller_out" 2>/dev/null
  echo "--- daemon ---"; tail -n 40 "$work/daemon.log" 2>/dev/null
  exit 1
}

export USSDPAY_STORE_PATH="$work/ussdpay.db"
# Polls SQL $2 until it prints $3, for at most $1 tenths of a second.
wait_for() {
  local i
  for ((i = 0; i < $1; i++)); do
    [ "$(q "$2" 2>/dev/null)" = "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
check() {  # check "what" "SQL returning 0 when it holds"
  local n
  n=$(q "$2")
  [ "$n" = "0" ] || fail "$1 ($n)"
}

# ---- The biller: a test PKI, then ussdpay-billersim on any free port, with a journal ----------
pki="$work/pki"
"$here/../../billersim/make_test_ca.sh" "$pki" >"$work/pki.log" 2>&1 ||
  { cat "$work/pki.log"; fail "could not make the test CA"; }
journal="$work/biller.journal"
api_key="ussdpay-e2e-key"
# Starts the biller on port $1 (0: any free one), which it reports (biller_port); output to $2.
start_biller() {
  biller_out="$work/$2"
  "$billersim" --host 127.0.0.1 --port "$1" --tls-cert "$pki/server.pem" \
    --tls-key "$pki/server.key" --bills "$root/etc/demo/bills.csv" --synthesize \
    --journal "$journal" --api-key "$api_key" --seed 7 >"$biller_out" 2>&1 &
  biller_pid=$!
  biller_port=""
  for ((i = 0; i < 100; i++)); do
    biller_port=$(sed -n 's/^listening \([0-9][0-9]*\)$/\1/p' "$biller_out" 2>/dev/null)
    [ -n "$biller_port" ] && break
    kill -0 "$biller_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$biller_port" ] || fail "ussdpay-billersim did not report its port"
}
start_biller 0 billersim.out
biller_url="https://127.0.0.1:$biller_port"

# The biller's own account of what reached it (GET /_stats), and its fault knobs (POST /_faults).
biller_stats() { curl -sS --fail --max-time 5 --cacert "$pki/ca.pem" "$biller_url/_stats"; }
biller_stat() { stat_of "$1" "$(biller_stats)"; }
biller_faults() {
  curl -sS --fail --max-time 5 --cacert "$pki/ca.pem" -H 'Content-Type: application/json' \
    --data "$1" "$biller_url/_faults" >/dev/null || fail "could not set the biller's faults $1"
}
# Journal lines of postings under payment id $1 (P<TAB>id<TAB>biller<TAB>account<TAB>...).
postings_of() { grep -c "^P	$1	" "$journal"; }
journal_field() { awk -F'\t' -v id="$1" -v n="$2" '$1 == "P" && $2 == id { print $n }' "$journal"; }

# ---- The daemon's configuration and subscribers ---------------------------------------------
config="$work/ussdpay.toml"
sed -e "s|@ROOT@|$root|g" -e "s|@BILLERSIM_URL@|$biller_url|g" -e "s|@CA_FILE@|$pki/ca.pem|g" \
  "$here/http_biller.toml.in" >"$config"
"$daemon" --config "$config" --check-config >"$work/check.log" 2>&1 ||
  { cat "$work/check.log"; fail "the configuration has errors"; }
"$cli" --config "$config" subscriber import "$here/subscribers.csv" >"$work/import.log" 2>&1 ||
  { cat "$work/import.log"; fail "could not import subscribers"; }
funded=$(q "SELECT -sum(balance) FROM accounts WHERE kind = 'funding'")
start_balance=5000000  # Rs50,000 each, in paisa
wallet() { q "SELECT coalesce(sum(balance), 0) FROM accounts WHERE kind = '$1' AND owner = '$2'"; }
state_of() { q "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE ref = '$1'"; }
# Receipts (kind confirmed) of payment $1 the SMSC accepted.
receipts_sent() {
  q "SELECT count(*) FROM outbox WHERE ref = '$1' AND kind = 'confirmed' AND state IN ('sent', 'delivered')"
}

# ---- Processes -------------------------------------------------------------------------------
# The SMSC and phone, playing one script, on any free port (sim_port).
start_sim() {
  sim_out="$work/${1%.sim}.out"
  : >"$sim_out"  # before the launch: sim_port must not read the last run's port
  "$sim" --mode scripted --port 0 --script "$here/$1" --step-timeout-ms 15000 >"$sim_out" 2>&1 &
  sim_pid=$!
  sim_port=$(sim_port "$sim_out") || fail "ussdpay-sim did not report its port"
}
# The script's verdict, within $1 seconds.
finish_sim() {
  wait_gone "$sim_pid" $(($1 * 10)) || fail "ussdpay-sim still running after $1 s"
  wait "$sim_pid" || fail "$(grep '^FAIL' "$sim_out" || echo "ussdpay-sim failed")"
  sim_pid=""
}
# The daemon, with extra VAR=value settings for this life.
start_daemon() {
  echo "--- ussdpayd $* ---" >>"$work/daemon.log"
  env "$@" USSDPAY_SMPP_PORT="$sim_port" "$daemon" --config "$config" >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
}
# Every SMS queued so far was accepted by the SMSC (bounded: 10 s), before the daemon stops.
all_sent() {
  wait_for 100 "SELECT count(*) FROM outbox WHERE state IN ('queued', 'failed')" 0 || fail "SMS left unsent"
}
stop_daemon() {
  kill -TERM "$daemon_pid" 2>/dev/null
  if ! wait_gone "$daemon_pid" 50; then
    kill -KILL "$daemon_pid" 2>/dev/null
    fail "ussdpayd ignored SIGTERM"
  fi
  wait "$daemon_pid" || fail "ussdpayd exited with status $?"
  daemon_pid=""
}

# ---- 1. Paid, already paid, refused ----------------------------------------------------------
start_sim paid_and_refused.sim
start_daemon
finish_sim 40
all_sent
stop_daemon

# The paid bill: COMMITTED, its receipt sent, exactly one posting at the biller under our ref
# (the billersim refuses a pay whose Idempotency-Key is not its paymentId, so a posting under
# our reference shows both carried it).
paid=$(q "SELECT ref FROM payments WHERE msisdn = '923001110001'")
[ "$(wc -w <<<"$paid")" = 1 ] || fail "923001110001 should have exactly one payment: '$paid'"
[ "$(state_of "$paid")" = COMMITTED ] || fail "$paid not COMMITTED"
[ "$(postings_of "$paid")" = 1 ] || fail "$paid: not exactly one posting in the biller's journal"
bref=$(journal_field "$paid" 7)
[ "$(q "SELECT biller_reference FROM payments WHERE ref = '$paid'")" = "$bref" ] ||
  fail "$paid: stored biller reference differs from the biller's '$bref'"
[ "$(journal_field "$paid" 4) $(journal_field "$paid" 5)" = "04123456789012 4520.00" ] ||
  fail "$paid: the biller posted another account or amount"
[ "$(q "SELECT count(*) FROM outbox WHERE ref = '$paid' AND kind = 'confirmed' AND state IN ('sent', 'delivered')
        AND body LIKE 'Ref $paid PAID Rs4,520 to LESCO 04123456789012 %LESCO ref $bref'")" = 1 ] ||
  fail "$paid: no sent receipt naming our and the biller's reference"
grep -q "sms +923001110001: Ref $paid PAID Rs4,520" "$sim_out" ||
  fail "the phone did not get the receipt for $paid"
[ "$(wallet wallet 923001110001)" = $((start_balance - 452000 - 1000)) ] ||
  fail "923001110001's wallet is not Rs50,000 - Rs4,520 - Rs10 fee"
# The already-paid bills made no payment (one row for 923001110001, above); the refused ones
# are FAILED with the biller's codes, and the wallet is whole: hold voided, nothing settled.
[ "$(q "SELECT group_concat(biller_code || ':' || state, ' ') FROM (SELECT * FROM payments
        WHERE msisdn = '923001110002' ORDER BY created_at)")" = "03:FAILED 04:FAILED" ] ||
  fail "923001110002's payments are not two FAILED ones (codes 03, 04)"
[ "$(wallet wallet 923001110002)" = "$start_balance" ] || fail "923001110002's wallet changed"
[ "$(wallet hold 923001110002)" = 0 ] || fail "money left on hold for 923001110002"
for ref in $(q "SELECT ref FROM payments WHERE msisdn = '923001110002'"); do
  [ "$(postings_of "$ref")" = 0 ] || fail "$ref: refused, yet posted at the biller"
  [ "$(q "SELECT group_concat(transfer_id, ' ') FROM (SELECT transfer_id FROM entries
          WHERE transfer_id LIKE '$ref/%' ORDER BY id)")" = "$ref/hold $ref/void" ] ||
    fail "$ref: ledger entries are not hold then void"
  [ "$(q "SELECT count(*) FROM outbox WHERE ref = '$ref' AND kind = 'failed'")" = 1 ] ||
    fail "$ref: no FAILED SMS"
done
stats=$(biller_stats)
[ "$(stat_of postings "$stats") $(stat_of rejections "$stats")" = "2 2" ] ||
  fail "the biller should have 2 postings and 2 rejections: $stats"
echo "phase 1: $paid COMMITTED (biller ref $bref); already paid bills refused at the bill;" \
  "two payments refused by the biller FAILED, wallet whole"

# ---- 2. The biller is slow: UNKNOWN, then a status query commits it ------------------------
biller_faults '{"latency_ms": 3000}'
start_sim slow_pay.sim
start_daemon USSDPAY_PAYMENTS_BILLER_TIMEOUT=1s USSDPAY_PAYMENTS_PENDING_SMS_AFTER=500ms
wait_for 150 "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE msisdn = '923001110004'" UNKNOWN ||
  fail "the slow payment did not become UNKNOWN"
slow=$(q "SELECT ref FROM payments WHERE msisdn = '923001110004'")
total=$(q "SELECT amount + fee FROM payments WHERE ref = '$slow'")
# Unknown to us, posted at the biller (its answer is what was late), the money on hold.
[ "$(postings_of "$slow")" = 1 ] || fail "$slow: the biller has no posting while we wait"
[ "$(wallet hold 923001110004)" = "$total" ] || fail "$slow: the hold is not amount + fee"
[ "$(wallet wallet 923001110004)" = $((start_balance - total)) ] || fail "$slow: wallet"
sleep 1  # status queries meanwhile are as late: still UNKNOWN
[ "$(state_of "$slow")" = UNKNOWN ] ||
  fail "$slow left UNKNOWN while the biller was still slow"
biller_faults '{"latency_ms": 0}'
wait_for 100 "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE ref = '$slow'" COMMITTED ||
  fail "$slow was not committed once the biller answered"
finish_sim 20
all_sent
stop_daemon
grep -q "payment $slow UNKNOWN -> COMMITTED" "$work/daemon.log" ||
  fail "$slow was not committed from UNKNOWN"
[ "$(q "SELECT queries > 0 FROM payments WHERE ref = '$slow'")" = 1 ] ||
  fail "$slow: committed without a status query"
[ "$(postings_of "$slow")" = 1 ] || fail "$slow: not exactly one posting at the biller"
[ "$(q "SELECT biller_reference FROM payments WHERE ref = '$slow'")" = \
  "$(journal_field "$slow" 7)" ] ||
  fail "$slow: stored biller reference differs from the biller's"
[ "$(wallet hold 923001110004)" = 0 ] || fail "$slow: money left on hold"
[ "$(receipts_sent "$slow")" = 1 ] ||
  fail "$slow: no sent receipt"
[ "$(q "SELECT count(*) FROM outbox WHERE ref = '$slow' AND kind = 'pending'")" = 1 ] ||
  fail "$slow: unknown past pending_sms_after, yet not exactly one PROCESSING SMS"
echo "phase 2: $slow UNKNOWN (biller 3 s late, posted), one PROCESSING SMS, then COMMITTED by" \
  "status query"

# ---- 3. SIGKILL while a payment is at the biller; the restarted daemon finishes it ----------
biller_faults '{"latency_ms": 4000}'
before=$(biller_stat postings)
start_sim crash_pay.sim
# Long enough timings in this life that nothing answers the PIN before the kill.
start_daemon USSDPAY_PAYMENTS_BILLER_TIMEOUT=20s USSDPAY_PAYMENTS_ANSWER_WITHIN=15s \
  USSDPAY_USSD_PAYMENT_TIMEOUT=20s
wait_for 200 "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE msisdn = '923001110005'" CREATED ||
  fail "the payment to crash did not start"
crash=$(q "SELECT ref FROM payments WHERE msisdn = '923001110005'")
# The biller posted it (its answer is held back 4 s): the pay is in flight. Kill now.
for ((i = 0; i < 50; i++)); do [ "$(postings_of "$crash")" = 1 ] && break; sleep 0.05; done
[ "$(postings_of "$crash")" = 1 ] || fail "$crash never reached the biller"
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=""
[ "$(state_of "$crash")" = CREATED ] ||
  fail "$crash: the daemon got the answer before it was killed (the test proves nothing)"
total=$(q "SELECT amount + fee FROM payments WHERE ref = '$crash'")
[ "$(wallet hold 923001110005)" = "$total" ] || fail "$crash: the hold is not amount + fee"
biller_faults '{"latency_ms": 0}'
start_daemon
wait_for 150 "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE ref = '$crash'" COMMITTED ||
  fail "$crash was not recovered to COMMITTED"
finish_sim 20
all_sent
stop_daemon
grep -q "payments: recovering 1 open payment" "$work/daemon.log" || fail "no recovery logged"
grep -q "payment $crash CREATED -> COMMITTED" "$work/daemon.log" ||
  fail "$crash was not committed from CREATED"
[ "$(postings_of "$crash")" = 1 ] || fail "$crash: not exactly one posting at the biller"
stats=$(biller_stats)
[ "$(stat_of postings "$stats")" = $((before + 1)) ] ||
  fail "the biller's postings went from $before to $(stat_of postings "$stats"), not +1"
[ "$(stat_of duplicates "$stats") $(stat_of conflicts "$stats")" = "0 0" ] ||
  fail "a pay reached the biller twice (the recovery should ask, not pay again): $stats"
[ "$(q "SELECT count(*) FROM entries WHERE transfer_id = '$crash/hold'")" = 1 ] ||
  fail "$crash: the hold was taken twice"
[ "$(receipts_sent "$crash")" = 1 ] ||
  fail "$crash: no sent receipt"
echo "phase 3: $crash CREATED at SIGKILL (posted at the biller), recovered to COMMITTED once"

# ---- 4. The pay never reached the biller's books; both crash; the daemon pays again once ----
start_sim lost_pay.sim
start_daemon USSDPAY_PAYMENTS_BILLER_TIMEOUT=20s USSDPAY_PAYMENTS_ANSWER_WITHIN=15s \
  USSDPAY_USSD_PAYMENT_TIMEOUT=20s
# The wrong PIN comes after the bill; the phone then waits 3 s: freeze the biller meanwhile.
wait_for 150 "SELECT failed_pins FROM subscribers WHERE msisdn = '923001110006'" 1 ||
  fail "the wrong PIN of the lost payment's dialog was not counted"
kill -STOP "$biller_pid"
wait_for 100 "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE msisdn = '923001110006'" CREATED ||
  fail "the payment to lose did not start"
lost=$(q "SELECT ref FROM payments WHERE msisdn = '923001110006'")
kill -KILL "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
daemon_pid=""
kill -KILL "$biller_pid"  # the payment, unread in its socket, is lost with it
wait "$biller_pid" 2>/dev/null
biller_pid=""
[ "$(postings_of "$lost")" = 0 ] ||
  fail "$lost reached the biller before it was frozen (the phone's 3 s wait was too short here)"
[ "$(state_of "$lost")" = CREATED ] || fail "$lost is not CREATED"
start_biller "$biller_port" billersim-2.out  # the same address, its book from the journal
start_daemon
wait_for 150 "SELECT replace(state, 'COMPLETED', 'COMMITTED') FROM payments WHERE ref = '$lost'" COMMITTED ||
  fail "$lost was not recovered to COMMITTED"
finish_sim 20
all_sent
stop_daemon
grep -q "payment $lost CREATED -> COMMITTED" "$work/daemon.log" ||
  fail "$lost was not committed from CREATED"
[ "$(q "SELECT queries > 0 FROM payments WHERE ref = '$lost'")" = 1 ] ||
  fail "$lost: paid again without asking the biller first"
[ "$(postings_of "$lost")" = 1 ] || fail "$lost: not exactly one posting at the biller"
stats=$(biller_stats)
[ "$(stat_of postings "$stats")" = $(($(stat_of journal_loaded "$stats") + 1)) ] ||
  fail "the restarted biller should have its journal and one new posting: $stats"
[ "$(q "SELECT count(*) FROM entries WHERE transfer_id = '$lost/hold'")" = 1 ] ||
  fail "$lost: the hold was taken twice"
[ "$(receipts_sent "$lost")" = 1 ] ||
  fail "$lost: no sent receipt"
echo "phase 4: $lost CREATED, lost by the crashed biller; asked (no record), paid again once"

# ---- The books -------------------------------------------------------------------------------
stats=$(biller_stats)
kill -TERM "$biller_pid"
wait_gone "$biller_pid" 50 || fail "ussdpay-billersim ignored SIGTERM"
wait "$biller_pid" 2>/dev/null
biller_pid=""
check "a payment not final" \
  "SELECT count(*) FROM payments WHERE state NOT IN ('COMMITTED', 'COMPLETED', 'FAILED')"
[ "$(q "SELECT count(*) FROM payments WHERE state IN ('COMMITTED', 'COMPLETED')")" = 5 ] ||
  fail "not 5 committed payments"
[ "$(stat_of duplicates "$stats") $(stat_of conflicts "$stats")" = "0 0" ] ||
  fail "a pay reached the restarted biller twice: $stats"
# Our book and the biller's agree, payment by payment.
[ "$(grep -c '^P	' "$journal")" = 5 ] || fail "the biller's journal does not hold 5 postings"
[ -z "$(cut -f2 "$journal" | sort | uniq -d)" ] || fail "a payment id posted twice"
while IFS=$'\t' read -r kind id _ account amount _ ref _; do
  [ "$kind" = P ] || fail "unexpected journal line for $id"
  [ "$(q "SELECT replace(state, 'COMPLETED', 'COMMITTED') || ' ' || account || ' ' || amount || ' ' || biller_reference FROM payments
          WHERE ref = '$id'")" = "COMMITTED $account ${amount/./} $ref" ] ||
    fail "the biller's posting $id ($account $amount $ref) differs from our payment"
done <"$journal"
proof_ledger "$funded"
check "settlement differs from what the biller holds" \
  "SELECT coalesce(sum(balance), 0) - $(stat_of amount_total "$stats") FROM accounts
   WHERE kind = 'settlement' AND owner = 'lesco'"
proof_receipts
proof_entries
echo "PASS: 5 payments posted exactly once at the biller, 2 refused, 1 resolved from UNKNOWN," \
  "2 recovered after SIGKILL; ledger balanced, one receipt each ($SECONDS s)"
