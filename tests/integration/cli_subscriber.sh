#!/usr/bin/env bash
# `ussdpay subscriber add | import | show` against a fresh store, through the CLI as an operator
# runs it: normalised MSISDNs, refused weak PINs and bad rows (with file:line), all-or-nothing
# imports, balances set by ledger transfers that keep the ledger summing to zero, and no PIN in
# any output or in the database file.
#
#   cli_subscriber.sh USSDPAY CONFIG
set -u
cli=$1 config=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/ussdpay-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
export USSDPAY_STORE_PATH=$work/ussdpay.db
fails=0
check() {  # check DESCRIPTION EXPECTED-SUBSTRING ACTUAL
  if [[ "$3" == *"$2"* ]]; then echo "ok - $1"; else echo "not ok - $1: expected '$2' in '$3'"; fails=$((fails + 1)); fi
}
run() { "$cli" --config "$config" "$@" 2>&1; }

out=$(run subscriber add --msisdn +923001234567 --pin 4826 --balance 25,000 --language ur)
check "add normalises the MSISDN" "subscriber 923001234567 saved" "$out"
out=$(run subscriber show --msisdn 00923001234567)
check "show: language, balance, PIN state" "msisdn=923001234567 language=ur balance=Rs25,000 pin=set failed_pins=0" "$out"
out=$(run subscriber add --msisdn 923001234567 --pin 1234 --balance 10; echo "rc=$?")
check "a weak PIN is refused" "pin is too easy to guess" "$out"
check "... with a non-zero exit" "rc=1" "$out"
out=$(run subscriber add --msisdn 03001234567 --pin 4826 --balance 10; echo "rc=$?")
check "a national number is refused" "with the country code" "$out"
out=$(run subscriber add --msisdn 923001234567 --pin 9731 --balance 1000)
out=$(run subscriber show --msisdn 923001234567)
check "re-adding sets the balance and keeps the language" "language=ur balance=Rs1,000" "$out"

printf 'msisdn,pin,balance,language\n923000000001,4826,100.50,en\n254700000002,9731,5000,sw\n' >"$work/good.csv"
out=$(run subscriber import "$work/good.csv")
check "import" "imported 2 subscriber(s)" "$out"
out=$(run subscriber show --msisdn +254700000002)
check "an imported subscriber" "language=sw balance=Rs5,000 pin=set" "$out"

printf "msisdn,pin,balance,language\n923000000003,4826,100,en\n923000000004,0000,100,en\n923000000005,4826,lots,en\n'; DROP TABLE accounts; --,4826,1,en\n" >"$work/bad.csv"
out=$(run subscriber import "$work/bad.csv"; echo "rc=$?")
check "a weak PIN in a file is named by line" "bad.csv:3: pin is too easy to guess" "$out"
check "a bad amount is named by line" "bad.csv:4: balance must be an amount" "$out"
check "SQL in a field is just a bad MSISDN" "bad.csv:5: msisdn must be" "$out"
check "a file with bad rows imports nothing" "nothing imported" "$out"
out=$(run subscriber show --msisdn 923000000003; echo "rc=$?")
check "... not even its good rows" "is not registered" "$out"

# The ledger: every balance came from the funding account, so all accounts sum to zero.
if command -v sqlite3 >/dev/null; then
  out=$(sqlite3 "$USSDPAY_STORE_PATH" "SELECT sum(balance) FROM accounts; SELECT count(*) FROM accounts;")
  check "the ledger sums to zero" "0" "$(echo "$out" | head -1)"
fi
# No PIN in clear anywhere in the database file (the PINs used above).
for pin in 4826 9731; do
  if grep -qa "$pin" "$USSDPAY_STORE_PATH"* 2>/dev/null; then
    # A PIN's digits may occur by chance inside binary hashes; a PIN next to an MSISDN may not.
    if strings -n 8 "$USSDPAY_STORE_PATH"* | grep -q "$pin"; then
      echo "not ok - PIN $pin appears in the database"; fails=$((fails + 1))
    fi
  fi
done
echo "$fails failure(s)"
[ "$fails" -eq 0 ]
