#!/usr/bin/env bash
# The admin API over TLS against the real daemon, with a throwaway CA and a certificate for
# IP 127.0.0.1 (tests/billersim/make_test_ca.sh):
#   1. --check-config refuses a certificate without a key, a key that does not match the
#      certificate, and a missing file; it accepts the right pair
#   2. the daemon says TLS where it says where it listens; curl trusting the CA gets /health and,
#      with the token, /metrics; plain http:// to the port and curl without the CA both fail
#   3. `ussdpay payments list` reaches it over TLS with [admin] tls_ca_file set, and refuses a
#      certificate signed by another CA with a message that says so
#
#   admin_tls.sh SIM DAEMON CLI CONFIG
set -u
[ $# -eq 4 ] || { echo "usage: $0 SIM DAEMON CLI CONFIG" >&2; exit 2; }
daemon=$2 cli=$3 config=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
lib_start admin-tls daemon_pid
phase=start
fail() {
  echo "FAIL ($phase): $*"
  echo "--- daemon ---"; tail -n 30 "$work/daemon.log" 2>/dev/null
  exit 1
}
export USSDPAY_STORE_PATH="$work/ussdpay.db"
token=$(head -n 1 "$(dirname "$config")/demo/admin-token")
pki=$work/pki
bash "$here/../../billersim/make_test_ca.sh" "$pki" || fail "make_test_ca.sh"

# ---- 1. configuration -------------------------------------------------------------------------
phase=config
check() { "$daemon" --config "$config" --check-config 2>&1; }
out=$(USSDPAY_ADMIN_TLS_CERT_FILE=$pki/server.pem check)
[ $? -eq 2 ] || fail "a certificate without a key: not exit 2: $out"
grep -q "admin.tls_key_file: tls_cert_file and tls_key_file go together" <<<"$out" || fail "$out"
out=$(USSDPAY_ADMIN_TLS_KEY_FILE=$pki/server.key check)
[ $? -eq 2 ] || fail "a key without a certificate: not exit 2: $out"
grep -q "admin.tls_cert_file: tls_cert_file and tls_key_file go together" <<<"$out" || fail "$out"
# ca.key is a real key, but not the one server.pem was issued for.
out=$(USSDPAY_ADMIN_TLS_CERT_FILE=$pki/server.pem USSDPAY_ADMIN_TLS_KEY_FILE=$pki/ca.key check)
[ $? -eq 2 ] || fail "a key that does not match: not exit 2: $out"
grep -q "admin.tls_key_file: .*ca.key is not the PEM private key of .*server.pem" <<<"$out" ||
  fail "$out"
out=$(USSDPAY_ADMIN_TLS_CERT_FILE=$pki/missing.pem USSDPAY_ADMIN_TLS_KEY_FILE=$pki/server.key check)
[ $? -eq 2 ] || fail "a missing certificate: not exit 2: $out"
grep -q "admin.tls_cert_file: no such file: .*missing.pem" <<<"$out" || fail "$out"
out=$(USSDPAY_ADMIN_TLS_CERT_FILE=$pki/server.key USSDPAY_ADMIN_TLS_KEY_FILE=$pki/server.key check)
[ $? -eq 2 ] || fail "a key as the certificate: not exit 2: $out"
grep -q "admin.tls_cert_file: cannot load .*server.key as a PEM certificate" <<<"$out" ||
  fail "$out"
out=$(USSDPAY_ADMIN_TLS_CERT_FILE=$pki/server.pem USSDPAY_ADMIN_TLS_KEY_FILE=$pki/server.key check) ||
  fail "the right pair refused: $out"
echo "phase $phase: ok"

# ---- 2. the daemon over HTTPS -----------------------------------------------------------------
phase=https
export USSDPAY_ADMIN_TLS_CERT_FILE=$pki/server.pem USSDPAY_ADMIN_TLS_KEY_FILE=$pki/server.key
# No SMSC: the API answers without one.
USSDPAY_ADMIN_LISTEN=127.0.0.1:0 USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT=1 \
  "$daemon" --config "$config" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
api=$(admin_address "$work/daemon.log" "bearer token required, TLS") ||
  fail "the daemon did not say it listens with TLS"
code() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }
[ "$(code --cacert "$pki/ca.pem" "https://$api/health")" = 200 ] || fail "/health over TLS"
grep -q '"status":"ok"' "$work/body" || fail "/health body: $(cat "$work/body")"
[ "$(code --cacert "$pki/ca.pem" -H "Authorization: Bearer $token" "https://$api/metrics")" = 200 ] ||
  fail "/metrics over TLS with the token"
grep -q '^ussdpay_payments_in_flight ' "$work/body" || fail "/metrics body: $(head -c 300 "$work/body")"
[ "$(code --cacert "$pki/ca.pem" "https://$api/metrics")" = 401 ] || fail "/metrics without a token"
# Keep-alive: two requests on one TLS connection.
curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' --cacert "$pki/ca.pem" \
  "https://$api/health" "https://$api/health" >"$work/connects" || fail "two requests"
[ "$(paste -sd' ' "$work/connects")" = "1 0" ] || fail "keep-alive over TLS: $(cat "$work/connects")"
curl -s -o /dev/null "http://$api/health" && fail "plain http:// to the TLS port answered"
curl -s -o /dev/null "https://$api/health" && fail "curl without the CA trusted the certificate"
[ $? -eq 60 ] || fail "curl without the CA: not a verification failure"
curl -s -o /dev/null --cacert "$pki/other-ca.pem" "https://$api/health" &&
  fail "curl trusting another CA accepted the certificate"
[ "$(code --cacert "$pki/ca.pem" "https://$api/health")" = 200 ] ||
  fail "the API stopped answering after the refused connections"
echo "phase $phase: ok"

# ---- 3. the CLI over TLS ----------------------------------------------------------------------
phase=cli
out=$(USSDPAY_ADMIN_LISTEN=$api USSDPAY_ADMIN_TLS_CA_FILE=$pki/ca.pem \
  "$cli" --config "$config" payments list --state MANUAL_REVIEW 2>&1) ||
  fail "payments list over TLS: $out"
out=$(USSDPAY_ADMIN_LISTEN=$api USSDPAY_ADMIN_TLS_CA_FILE=$pki/other-ca.pem \
  "$cli" --config "$config" payments list --state MANUAL_REVIEW 2>&1) &&
  fail "payments list trusted a certificate from another CA: $out"
grep -q "TLS handshake with ussdpayd's admin API at 127.0.0.1:[0-9]* failed: certificate verify failed" \
  <<<"$out" || fail "the CLI's message for a wrong CA: $out"
grep -q "tls_ca_file" <<<"$out" || fail "the CLI's message does not name tls_ca_file: $out"
echo "phase $phase: ok"

kill -TERM "$daemon_pid"
wait_gone "$daemon_pid" 50 || fail "the daemon did not stop"
wait "$daemon_pid" || fail "the daemon did not exit cleanly"
daemon_pid=""
echo "admin_tls: all phases passed"
