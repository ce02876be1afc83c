#!/usr/bin/env bash
# `ussdpay reconcile` against real payments: the daemon with the shipped configuration and its
# demo billers, ussdpay-sim as the SMSC and the phone, all on 127.0.0.1.
#   1. four WASA Lahore bills (a flat fee of Rs10 each) and one LESCO bill are paid through the
#      menus; an operator reverses one WASA payment through the daemon;
#   2. the statement is the demo biller's own book (demo_biller_book: what the biller recorded
#      under the reference we posted): reconcile exits 0, everything matches, and the
#      settlement counts the three paid WASA payments with their fees (not the reversed one,
#      not LESCO's);
#   3. the statement is changed the ways a real one goes wrong: one payment left out, one
#      amount changed, a row that is not ours added; and one WASA payment is made open
#      (UNKNOWN, written to the store with the daemon stopped: the menus cannot leave one open
#      with the demo biller): reconcile exits 1 and the report names each item's category;
#   4. a bad statement line: exit 2 with its line number, and the reports are not rewritten.
#
#   reconcile.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3 config=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
lib_require_sqlite3
lib_start reconcile
phase=payments
fail() {
  echo "FAIL ($phase): $*"
  echo "--- sim ---"; cat "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; tail -n 40 "$work/daemon.log" 2>/dev/null
  echo "--- reconcile ---"; cat "$work/rec.out" "$work/rec.err" 2>/dev/null
  exit 1
}
export USSDPAY_STORE_PATH="$work/ussdpay.db"
printf 'msisdn,pin,balance,language\n923001234567,4826,1000000,en\n' >"$work/subs.csv"
"$cli" --config "$config" subscriber import "$work/subs.csv" >/dev/null || fail "import"

# ---- 1. real payments ---------------------------------------------------------------------------
pay_wasa() {  # pay_wasa ACCOUNT: *123*1*2*1# is Pay bill > Water > WASA Lahore
  cat <<SIM
dial *123*1*2*1#
expect-continue Enter WASA Lahore consumer number
reply $1
expect-continue Due
reply 1
expect-continue Fee Rs10
reply 4826
expect-continue to WASA Lahore. ID
expect-sms-ref PAID
SIM
}
{
  echo "wait-bind 10000"
  echo "as 923001234567"
  for account in 1234567890 1234567891 1234567892 1234567893; do pay_wasa $account; done
  cat <<SIM
dial *123*1*1*1#
expect-continue Enter LESCO consumer number
reply 04123456789012
expect-continue Due
reply 1
expect-continue Pay Rs4,520 to LESCO
reply 4826
expect-continue Paid Rs4,520 to LESCO. ID
expect-sms-ref PAID
# The operator reverses one WASA payment (below): its refund SMS arrives.
expect-sms REVERSED
SIM
} >"$work/pay.sim"

"$sim" --mode scripted --port 0 --script "$work/pay.sim" --step-timeout-ms 20000 \
  >"$work/sim.out" 2>&1 &
sim_pid=$!
port=$(sim_port "$work/sim.out") || fail "no simulator port"
USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT=$port "$daemon" --config "$config" \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!
paid_sql="SELECT count(*) FROM payments WHERE state IN ('COMMITTED', 'COMPLETED')"
for ((i = 0; i < 600; i++)); do
  [ "$(q "$paid_sql" 2>/dev/null)" = 5 ] && break
  kill -0 "$sim_pid" 2>/dev/null || break
  sleep 0.1
done
[ "$(q "$paid_sql")" = 5 ] || fail "expected 5 paid payments"
refs=($(q "SELECT ref FROM payments WHERE biller = 'wasa-lhr' ORDER BY account"))
[ ${#refs[@]} = 4 ] || fail "expected 4 WASA payments, got ${refs[*]}"
lesco=$(q "SELECT ref FROM payments WHERE biller = 'lesco'")
"$cli" --config "$config" payments reverse "${refs[3]}" --note "reconcile test" --wait 20 \
  >"$work/reverse.out" 2>&1 || { cat "$work/reverse.out"; fail "reverse"; }
for ((i = 0; i < 200; i++)); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
wait "$sim_pid" || fail "pay.sim failed"
sim_pid=""
kill -TERM "$daemon_pid"
wait_gone "$daemon_pid" 50 || fail "the daemon did not stop"
wait "$daemon_pid" || fail "the daemon did not exit cleanly"
daemon_pid=""
[ "$(q "SELECT state FROM payments WHERE ref = '${refs[3]}'")" = REVERSED ] || fail "not REVERSED"

# The local day of the payments (this shell's TZ is the daemon's and the CLI's).
days=$(q "SELECT created_at / 1000 FROM payments" | while read -r s; do date -d "@$s" +%F; done |
  sort -u)
[ "$(wc -l <<<"$days")" = 1 ] || { echo "SKIP: the payments straddle local midnight"; exit 77; }
day=$days

money() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }  # minor units as PKR
# The biller's own book, as the statement: status from its accepted/reversed flags.
statement_from_book() {
  echo "payment_id,biller_reference,account,amount,currency,paid_at,status"
  q "SELECT payment_id, biller_reference, account, amount, paid_on, reversed
     FROM demo_biller_book WHERE biller = 'wasa-lhr' AND accepted = 1 ORDER BY payment_id" |
    while IFS='|' read -r id ref account amount paid_on reversed; do
      status=paid
      [ "$reversed" = 1 ] && status=reversed
      echo "$id,$ref,$account,$(money "$amount"),PKR,$paid_on,$status"
    done
}
reconcile() {  # reconcile STATEMENT: runs the command, leaves its exit code in $rc
  "$cli" --config "$config" reconcile --biller wasa-lhr --date "$day" --statement "$1" \
    --out "$work/out" >"$work/rec.out" 2>"$work/rec.err"
  rc=$?
}
report="$work/out/reconcile-wasa-lhr-$day.csv"
settlement="$work/out/settlement-wasa-lhr-$day.csv"
# The report's line for a payment id: "category,our_state,their_status".
item() { awk -F, -v id="$1" '$2 == id { print $1 "," $8 "," $9 }' "$report"; }

# ---- 2. the biller's book as it is: everything matches ----------------------------------------
phase=matching
statement_from_book >"$work/statement.csv"
[ "$(wc -l <"$work/statement.csv")" = 5 ] || fail "the book has $(wc -l <"$work/statement.csv") lines"
reconcile "$work/statement.csv"
[ "$rc" = 0 ] || fail "exit $rc, expected 0"
grep -q "everything matches" "$work/rec.out" || fail "no 'everything matches'"
for ref in "${refs[@]:0:3}"; do
  [ "$(item "$ref")" = "matched,$(q "SELECT state FROM payments WHERE ref = '$ref'"),paid" ] ||
    fail "$ref: $(item "$ref")"
done
[ "$(item "${refs[3]}")" = "reversed,REVERSED,reversed" ] || fail "${refs[3]}: $(item "${refs[3]}")"
grep -q "$lesco" "$report" && fail "LESCO's payment is in WASA's report"
# Settlement: the three paid WASA payments, their amounts and Rs10 fees; the reversal apart.
paid_amount=$(q "SELECT sum(amount) FROM payments WHERE biller = 'wasa-lhr'
                 AND state IN ('COMMITTED', 'COMPLETED')")
reversed_amount=$(q "SELECT amount FROM payments WHERE ref = '${refs[3]}'")
want="wasa-lhr,$day,PKR,3,$(money "$paid_amount"),30.00,0,0.00,1,$(money "$reversed_amount"),0"
[ "$(sed -n 2p "$settlement")" = "$want" ] || fail "settlement: $(sed -n 2p "$settlement") != $want"
[ "$(wc -l <"$settlement")" = 2 ] || fail "settlement lines"
grep -q "settlement PKR: 3 payment(s), amount $(money "$paid_amount"), fees 30.00" \
  "$work/rec.out" || fail "summary settlement"

# ---- 3. a statement that differs, and an open payment -----------------------------------------
phase=differences
# refs[0] stays; refs[1] is left out; refs[2]'s amount is Rs1 more; a row that is not ours.
changed=$(q "SELECT amount + 100 FROM payments WHERE ref = '${refs[2]}'")
statement_from_book | grep -v "^${refs[1]}," |
  awk -F, -v OFS=, -v id="${refs[2]}" -v amt="$(money "$changed")" '$1 == id { $4 = amt } 1' \
    >"$work/statement.csv"
echo "ZZZZZZZZZZ,DB9999999999,1299999999,\"1,000.00\",PKR,$day,paid" >>"$work/statement.csv"
reconcile "$work/statement.csv"
[ "$rc" = 2 ] || fail "a quoted amount with a thousands separator: exit $rc, expected 2"
sed -i 's/"1,000.00"/1000.00/' "$work/statement.csv"
# An open payment of the day (the daemon is stopped: nothing moves it meanwhile).
open_at=$(q "SELECT created_at FROM payments WHERE ref = '${refs[0]}'")
q "INSERT INTO payments(ref, msisdn, biller, account, amount, fee, currency, state, created_at,
                        updated_at)
   VALUES ('OPENOPEN01', '923001234567', 'wasa-lhr', '1234567899', 77700, 1000, 'PKR', 'UNKNOWN',
           $open_at, $open_at)" || fail "insert the open payment"
reconcile "$work/statement.csv"
[ "$rc" = 1 ] || fail "exit $rc, expected 1"
[ "$(item "${refs[0]}")" = "matched,$(q "SELECT state FROM payments WHERE ref = '${refs[0]}'"),paid" ] ||
  fail "${refs[0]}: $(item "${refs[0]}")"
[[ "$(item "${refs[1]}")" == ours_not_theirs,COMMITTED,  || "$(item "${refs[1]}")" == ours_not_theirs,COMPLETED, ]] ||
  fail "${refs[1]}: $(item "${refs[1]}")"
[[ "$(item "${refs[2]}")" == amount_mismatch,*,paid ]] || fail "${refs[2]}: $(item "${refs[2]}")"
grep -q "^amount_mismatch,${refs[2]},.*,$(money "$((changed - 100))"),$(money "$changed"),PKR," \
  "$report" || fail "the mismatch's amounts"
[ "$(item ZZZZZZZZZZ)" = "theirs_not_ours,,paid" ] || fail "foreign row: $(item ZZZZZZZZZZ)"
[ "$(item "${refs[3]}")" = "reversed,REVERSED,reversed" ] || fail "${refs[3]}: $(item "${refs[3]}")"
[ "$(item OPENOPEN01)" = "pending,UNKNOWN," ] || fail "open payment: $(item OPENOPEN01)"
[ "$(wc -l <"$report")" = 7 ] || fail "report lines: $(wc -l <"$report")"
for want in "matched  *1$" "amount_mismatch  *1$" "ours_not_theirs  *1$" "theirs_not_ours  *1$" \
  "pending  *1  (open" "reversed  *1  (" "duplicate  *0$" "4 difference(s)"; do
  grep -q "$want" "$work/rec.out" || fail "summary lacks '$want'"
done
# The open payment is pending in the settlement, never counted as settled.
want="wasa-lhr,$day,PKR,3,$(money "$paid_amount"),30.00,1,777.00,1,$(money "$reversed_amount"),0"
[ "$(sed -n 2p "$settlement")" = "$want" ] || fail "settlement: $(sed -n 2p "$settlement") != $want"

# ---- 4. a bad line ------------------------------------------------------------------------------
phase=bad-input
cp "$report" "$work/report.before"
awk -F, -v OFS=, 'NR == 3 { $4 = "-" $4 } 1' "$work/statement.csv" >"$work/bad.csv"
reconcile "$work/bad.csv"
[ "$rc" = 2 ] || fail "exit $rc, expected 2"
grep -q "bad.csv:3: amount \"-" "$work/rec.err" || fail "no line number for the bad line"
cmp -s "$report" "$work/report.before" || fail "the report was rewritten"
"$cli" --config "$config" reconcile --biller nosuch --date "$day" --statement "$work/bad.csv" \
  --out "$work/out" >/dev/null 2>&1
[ $? = 2 ] || fail "an unknown biller is not exit 2"
echo "PASS: reconcile of wasa-lhr on $day: matched, left out, amount changed, foreign row, open," \
  "reversed; settlement 3 payments"
