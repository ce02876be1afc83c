#!/usr/bin/env bash
# Bill reminders and auto-pay end to end: the real daemon, its store and scheduler, the demo
# biller reading a bill book written here with due dates relative to today, and ussdpay-sim as
# the SMSC and the phones.
#   1. menus (scheduler off): reminders off and on, auto-pay on with a wrong PIN first, the
#      consent SMS, auto-pay off and on again; the store holds the consent, never the PIN
#   2. the scheduler: an auto-payment (receipt SMS), a bill over the auto-pay maximum, a
#      reminder, a balance too short for auto-pay, a bill over the [limits] maximum; nothing
#      for a bill due in 30 days, a paid bill, or an account with reminders off
#   3. a restart with every account due for a check again: nothing is sent or paid twice
#   4. outside the sending hours: nothing sent; the check comes back when the hours open
#
#   schedule.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3 config=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
lib_require_sqlite3
lib_start schedule
phase=setup
fail() {
  echo "FAIL ($phase): $*"
  echo "--- sim ---"; cat "$work/sim.out" 2>/dev/null
  echo "--- daemon ---"; tail -n 40 "$work/daemon.log" 2>/dev/null
  exit 1
}
export USSDPAY_STORE_PATH="$work/ussdpay.db"
export USSDPAY_DEMO_BILLS_FILE="$work/bills.csv"
export USSDPAY_SCHEDULE_REMIND_DAYS=3 USSDPAY_SCHEDULE_AUTOPAY_DAYS=2

day() { date -d "$1" +%F; }
soon=$(day "+1 day") later=$(day "+2 days") far=$(day "+30 days")
shown() { date -d "$1" +%d/%m/%Y; }  # how screens and SMS show a date
cat >"$work/bills.csv" <<CSV
biller,account,customer_name,period,due_date,amount_due,amount_after_due,currency,status,paid_on
lesco,04123456789012,M ASLAM,2026-12,$soon,4520,4972,PKR,unpaid,
lesco,04112233445566,KHAN SHAHID,2026-12,$soon,12870,14157,PKR,unpaid,
iesco,14151617181920,RAJA TARIQ,2026-12,$later,6240,6864,PKR,unpaid,
kelectric,04000123456789,SYED RAZA,2026-12,$soon,18640.50,20504.55,PKR,unpaid,
mepco,27130010203040,GHULAM RASOOL,2026-12,$far,9875,10863,PKR,unpaid,
fesco,21123456700012,MUHAMMAD IQBAL,2026-12,$soon,15320,16852,PKR,unpaid,
sngpl,10234567891,ABDUL REHMAN,2026-12,$soon,3480,3828,PKR,paid,$(day today)
pso,7004512398,AL-MADINA FILLING STATION,2026-12,$soon,1874500,,PKR,unpaid,
CSV
# One subscriber per case, so each phone expects its own SMS in order.
cat >"$work/subs.csv" <<CSV
msisdn,pin,balance,language
923001110001,4826,100000,en
923001110002,4826,100000,en
923001110003,4826,100000,en
923001110004,4826,100,en
923001110005,4826,100000,en
923001110006,4826,5000000,en
CSV
"$cli" --config "$config" subscriber import "$work/subs.csv" >/dev/null || fail "import"
now_ms=$(($(date +%s) * 1000))
save() {  # save MSISDN BILLER ACCOUNT LABEL
  q "INSERT INTO saved_accounts(msisdn, biller, account, label, created_at)
     VALUES ('$1', '$2', '$3', '$4', $now_ms)" || fail "save $*"
}
save 923001110001 lesco 04123456789012 Home
save 923001110002 lesco 04112233445566 Shop
save 923001110003 iesco 14151617181920 Office
save 923001110004 kelectric 04000123456789 Flat
save 923001110005 mepco 27130010203040 Far
save 923001110005 fesco 21123456700012 Off
save 923001110005 sngpl 10234567891 Paid
save 923001110006 pso 7004512398 Station
q "UPDATE saved_accounts SET reminders = 0 WHERE label = 'Off'"
q "UPDATE saved_accounts SET next_check_at = 9223372036854775807 WHERE label = 'Off'"
q "INSERT INTO autopay VALUES ('923001110002', 'lesco', '04112233445566', 500000, 'PKR', $now_ms),
                              ('923001110004', 'kelectric', '04000123456789', 5000000, 'PKR', $now_ms),
                              ('923001110006', 'pso', '7004512398', 200000000, 'PKR', $now_ms)"

# run SCRIPT [ENV...]: the daemon and the simulator until the script ends, then SIGTERM.
run() {
  local script=$1 i port
  shift
  rm -f "$work/sim.out" "$work/daemon.log"
  : >"$work/sim.out"  # before the launch: sim_port must not read the last run's port
  "$sim" --mode scripted --port 0 --script "$script" >"$work/sim.out" 2>&1 &
  sim_pid=$!
  port=$(sim_port "$work/sim.out") || fail "no simulator port"
  env "$@" USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT="$port" "$daemon" --config "$config" \
    >"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  for ((i = 0; i < 600; i++)); do kill -0 "$sim_pid" 2>/dev/null || break; sleep 0.1; done
  wait "$sim_pid" || fail "$(basename "$script") failed"
  sim_pid=""
  kill -TERM "$daemon_pid"
  wait_gone "$daemon_pid" 50 || fail "the daemon did not stop"
  wait "$daemon_pid" || fail "the daemon did not exit cleanly"
  daemon_pid=""
}
count() { q "SELECT count(*) FROM $1"; }

# ---- 1. the menus ---------------------------------------------------------------------------
phase=menus
cat >"$work/menus.sim" <<SIM
wait-bind 10000
as 923001110001
# *123*2# is Saved accounts (the shortcut the SMS quote); 1 Home, 3 its settings.
dial *123*2*1*3#
expect-continue 1. Stop bill reminders
reply 1
expect-end Bill reminders for Home are now off.
dial *123*2*1*3#
expect-continue 1. Bill reminders by SMS
reply 2
expect-continue the most one bill may take
reply 5000
expect-continue bills up to Rs5,000
reply 1111
expect-continue Wrong PIN, 2 tries left
reply 4826
expect-end Auto-pay is on for Home, up to Rs5,000 a bill.
expect-sms Auto-pay ON: LESCO 04123456789012 bills up to Rs5,000 are paid 2 days before due
dial *123*2*1*3#
expect-continue 2. Stop auto-pay (Rs5,000)
reply 2
expect-end Auto-pay for Home is off.
dial *123*2*1*3#
expect-continue 2. Turn on auto-pay
reply 2
expect-continue the most one bill may take
reply 6000
expect-continue bills up to Rs6,000
reply 4826
expect-end Auto-pay is on for Home, up to Rs6,000 a bill.
expect-sms Auto-pay ON: LESCO 04123456789012 bills up to Rs6,000
sleep 300
SIM
run "$work/menus.sim" USSDPAY_SCHEDULE_ENABLED=false
[ "$(q "SELECT reminders || ' ' || (next_check_at = 0) FROM saved_accounts WHERE label = 'Home'")" = "0 1" ] ||
  fail "Home: want reminders off and a check due"
[ "$(q "SELECT max_amount FROM autopay WHERE msisdn = '923001110001'")" = 600000 ] ||
  fail "Home: want the auto-pay consent at Rs6,000"
[ "$(q "SELECT count(*) FROM outbox WHERE kind = 'autopay_on'")" = 2 ] || fail "want 2 consent SMS"
[ "$(count payments)" = 0 ] || fail "the scheduler was off: no payment expected"
# The consent keeps no trace of the PIN: its digits appear nowhere in the autopay table.
q "SELECT * FROM autopay" | grep -q 4826 && fail "the PIN's digits are in the autopay table"
echo "phase $phase: ok"

# ---- 2. the scheduler -----------------------------------------------------------------------
phase=scheduler
cat >"$work/scheduler.sim" <<SIM
wait-bind 10000
as 923001110001
expect-sms PAID Rs4,520 to LESCO 04123456789012
as 923001110002
expect-sms Auto-pay did NOT pay LESCO 04112233445566: bill Rs12,870 due $(shown "$soon") is over your Rs5,000 limit. Pay: dial *123*2#
as 923001110003
expect-sms IESCO 14151617181920 (Office): bill Rs6,240 due $(shown "$later"). Pay: dial *123*2#, choose Office
as 923001110004
expect-sms Auto-pay could NOT pay K-Electric 04000123456789
as 923001110006
expect-sms Auto-pay could NOT pay PSO 7004512398: bill Rs1,874,500 is over your payment limit
sleep 1500
SIM
run "$work/scheduler.sim" USSDPAY_SCHEDULE_HOURS=00:00-24:00
ref=$(q "SELECT payment_ref FROM bill_actions WHERE msisdn = '923001110001' AND action = 'autopay'")
[ -n "$ref" ] || fail "no auto-payment recorded for Home"
[ "$(q "SELECT replace(state, 'COMPLETED', 'COMMITTED') || ' ' || amount FROM payments WHERE ref = '$ref'")" = "COMMITTED 452000" ] ||
  fail "the auto-payment $ref is not COMMITTED for Rs4,520"
[ "$(q "SELECT group_concat(msisdn || ':' || action || ':' || outcome, ' ') FROM
        (SELECT * FROM bill_actions ORDER BY msisdn)")" = \
  "923001110001:autopay:paying 923001110002:autopay:over_max 923001110003:reminder:sent 923001110004:autopay:funds 923001110006:autopay:limit" ] ||
  fail "bill actions: $(q 'SELECT * FROM bill_actions')"
[ "$(q "SELECT count(*) FROM outbox WHERE msisdn = '923001110005'")" = 0 ] ||
  fail "923001110005 (due in 30 days, reminders off, paid) got an SMS"
[ "$(q "SELECT count(*) FROM payments")" = 1 ] || fail "want exactly 1 payment"
# The account due in 30 days is looked at again within check_every; the one with reminders off
# never.
[ "$(q "SELECT next_check_at > $now_ms AND next_check_at <= $now_ms + 7 * 3600000 FROM saved_accounts WHERE label = 'Far'")" = 1 ] ||
  fail "Far: next check not within check_every"
[ "$(q "SELECT next_check_at FROM saved_accounts WHERE label = 'Off'")" = 9223372036854775807 ] ||
  fail "Off: reminders off, but the account is watched"
grep -q "schedule [0-9]* checks (0 unanswered), 1 reminders, 1 auto-payments, 3 refused" \
  "$work/daemon.log" || fail "daemon stats: $(grep 'schedule ' "$work/daemon.log" | tail -1)"
q "SELECT '  ' || msisdn || ' ' || kind || ': ' || body FROM outbox ORDER BY id"
# What an operator sees: the account's switches, its bill and the auto-payment made.
shown=$("$cli" --config "$config" subscriber show --msisdn 923001110001) || fail "subscriber show"
echo "$shown"
grep -q "^saved Home .* reminders=off autopay=Rs6,000 bill=Rs4,520 due $soon next_check=" <<<"$shown" ||
  fail "subscriber show: no Home line with its switches and bill"
grep -q "^  bill due $soon autopay paying Rs4,520 payment $ref" <<<"$shown" ||
  fail "subscriber show: no auto-payment line"
echo "phase $phase: ok"

# ---- 3. restart: nothing twice ----------------------------------------------------------------
phase=restart
before="$(count outbox) $(count payments) $(count bill_actions)"
q "UPDATE saved_accounts SET next_check_at = 0 WHERE label != 'Off'"
printf 'wait-bind 10000\nsleep 2500\n' >"$work/restart.sim"
run "$work/restart.sim" USSDPAY_SCHEDULE_HOURS=00:00-24:00
after="$(count outbox) $(count payments) $(count bill_actions)"
[ "$before" = "$after" ] || fail "outbox, payments, bill actions went from $before to $after"
grep -q "0 reminders, 0 auto-payments, 0 refused, [1-9][0-9]* already done" "$work/daemon.log" ||
  fail "daemon stats: $(grep 'schedule ' "$work/daemon.log" | tail -1)"
echo "phase $phase: ok ($after: outbox rows, payments, bill actions unchanged)"

# ---- 4. outside the sending hours -------------------------------------------------------------
phase=hours
# A window at least an hour away from now, whatever the time of day.
if [ "$(date +%H)" -lt 12 ]; then hours=13:00-24:00 open=$(date -d "13:00" +%s); else
  hours=00:00-11:00 open=$(date -d "tomorrow 00:00" +%s); fi
q "DELETE FROM bill_actions WHERE msisdn = '923001110003'"
q "DELETE FROM outbox WHERE msisdn = '923001110003'"
q "UPDATE saved_accounts SET next_check_at = 0 WHERE label = 'Office'"
run "$work/restart.sim" USSDPAY_SCHEDULE_HOURS=$hours
[ "$(q "SELECT count(*) FROM outbox WHERE msisdn = '923001110003'")" = 0 ] ||
  fail "a reminder went outside the sending hours $hours"
[ "$(q "SELECT next_check_at / 1000 FROM saved_accounts WHERE label = 'Office'")" = "$open" ] ||
  fail "Office: next check $(q "SELECT next_check_at FROM saved_accounts WHERE label = 'Office'") is not when $hours opens ($open)"
echo "phase $phase: ok"
echo "schedule: all phases passed"
