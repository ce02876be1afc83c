#!/usr/bin/env bash
# The status page in a real browser: headless Chromium (Debian's chromium) loads the admin root
# with the token in the URL fragment while the daemon is bound and has paid one bill, runs the
# page's script, and the rendered page must say what /api/status says: the bind and its state,
# live dialogs, SMS queued, open payments, the last hour's payments and the stuck ones. Without
# a token the page asks for one and shows no figures.
#
#   status_page.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
sim=$1 daemon=$2 cli=$3 config=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
lib_require_sqlite3
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
browser=$(command -v chromium || command -v chromium-browser) ||
  { echo "SKIP: chromium is not installed"; exit 77; }
lib_start status-page
phase=start
fail() {
  echo "FAIL ($phase): $*"
  echo "--- page ---"; cat "$work/dom.html" 2>/dev/null | head -80
  echo "--- daemon ---"; tail -n 20 "$work/daemon.log" 2>/dev/null
  exit 1
}
export USSDPAY_STORE_PATH="$work/ussdpay.db"
token=$(head -n 1 "$(dirname "$config")/demo/admin-token")
"$cli" --config "$config" subscriber import "$here/../scripts/payment.csv" >/dev/null ||
  fail "import"

# One paid bill, then the SMSC stays bound while the page is looked at.
cat >"$work/pay.sim" <<'SIM'
wait-bind 10000
dial *123*1*1*1#
expect-continue Enter LESCO consumer number
reply 04123456789012
expect-continue Due
reply 1
expect-continue Pay Rs4,520 to LESCO
reply 4826
expect-continue Paid Rs4,520 to LESCO. ID
expect-sms-ref PAID Rs4,520
sleep 60000
SIM
"$sim" --mode scripted --port 0 --script "$work/pay.sim" >"$work/sim.out" 2>&1 &
sim_pid=$!
smsc=$(sim_port "$work/sim.out") || fail "no simulator port"
USSDPAY_ADMIN_LISTEN=127.0.0.1:0 USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT="$smsc" \
  "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
api=$(admin_address "$work/daemon.log") || fail "the daemon did not say where the admin API listens"
sent() { q "SELECT count(*) FROM outbox WHERE kind = 'confirmed' AND state IN ('sent', 'delivered')"; }
for ((i = 0; i < 100; i++)); do
  [ "$(sent)" = 1 ] && grep -q "same reference on screen and in the SMS" "$work/sim.out" && break
  sleep 0.1
done
grep -q "same reference on screen and in the SMS" "$work/sim.out" || fail "the payment did not go through"
sleep 0.5  # the delivery receipt, 20 ms after the SMS

# What the API says; nothing changes meanwhile (no dialog runs, the SMS is sent).
status=$(curl -s -H "Authorization: Bearer $token" "http://$api/api/status") || fail "/api/status"
echo "api: $status"
field() { sed -n "s/.*\"$1\":\([0-9-]*\).*/\1/p" <<<"$status"; }
chrome() {  # chrome URL: the DOM after the page's script ran
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$work/profile" --virtual-time-budget=5000 \
    --dump-dom "$1" 2>"$work/chrome.err"
}

# ---- 1. with the token --------------------------------------------------------------------------
phase=page
chrome "http://$api/#token=$token" >"$work/dom.html" || fail "chromium failed: $(tail -5 "$work/chrome.err")"
has() { grep -q -- "$1" "$work/dom.html" || fail "the page lacks $1"; }
has '<body data-state="ok">'
has '<td class="bound" id="link-trx0">bound</td>'
has "<div class=\"n\" id=\"live-dialogs\">$(field live_dialogs)</div>"
has "<div class=\"n\" id=\"outbox-depth\">$(field outbox_depth)</div>"
for s in CREATED UNKNOWN MANUAL_REVIEW; do
  has "<div class=\"n\" id=\"open-$s\">$(field "$s")</div>"
done
[ "$(field committed)" = 1 ] || fail "the API does not count the paid bill: $status"
for e in created committed failed unknown manual_review reversed; do
  has "<td id=\"hour-$e\">$(field "$e")</td>"
done
grep -q '"stuck":\[\]' <<<"$status" || fail "stuck payments in the API: $status"
has '<tbody id="stuck"><tr><td colspan="6">none</td></tr></tbody>'
grep -q "$token" "$work/dom.html" && fail "the token is in the rendered page"
echo "phase $phase: ok (the page shows what /api/status says)"

# ---- 2. without a token --------------------------------------------------------------------------
phase=no-token
rm -rf "$work/profile"
chrome "http://$api/" >"$work/dom.html" || fail "chromium failed"
has '<body data-state="error">'
has 'Give the admin token to see the status.'
has '<div class="n" id="live-dialogs">-</div>'
grep -q '<form id="token-form" hidden' "$work/dom.html" && fail "the token form is hidden"
echo "phase $phase: ok"
echo "status page: all phases passed"
