#!/usr/bin/env bash
# Two instances on one PostgreSQL store (the fixture's server, a fresh schema): both join as
# members, one holds the scheduler's lease; a second process under a name already alive is
# refused; the holder SIGKILLed, the other takes the lease over with the next epoch once it
# expires; a clean stop gives the lease up at once and leaves the cluster.
#   usage: cluster_leases.sh SIM DAEMON CONFIG   (USSDPAY_TEST_POSTGRESQL: the server's URL file)
set -u
if [ $# -ne 3 ] || [ -z "${USSDPAY_TEST_POSTGRESQL:-}" ]; then
  echo "usage: USSDPAY_TEST_POSTGRESQL=URL_FILE $0 SIM DAEMON CONFIG" >&2
  exit 2
fi
sim=$1 daemon=$2 config=$3

. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
lib_start cluster-leases sim_pid a_pid b_pid

lib_pg_store cluster
# Short heartbeats and leases, so that a takeover takes about a second.
export USSDPAY_CLUSTER_HEARTBEAT=200ms USSDPAY_CLUSTER_LEASE_TTL=1s USSDPAY_CLUSTER_MEMBER_TTL=1s
export USSDPAY_ADMIN_LISTEN=127.0.0.1:0
pg() { psql "$USSDPAY_STORE_URL" -qAt -c "$1" 2>/dev/null; }
fail() {
  echo "FAIL: $*"
  for f in a b a2; do [ -f "$work/$f.log" ] && { echo "--- $f ---"; cat "$work/$f.log"; }; done
  exit 1
}
# until TENTHS SQL EXPECTED: true once SQL gives EXPECTED (bounded).
until_is() {
  local i
  for ((i = 0; i < $1; i++)); do
    [ "$(pg "$2")" = "$3" ] && return 0
    sleep 0.1
  done
  return 1
}

"$sim" --mode serve --port 0 >"$work/sim.out" 2>&1 &
sim_pid=$!
port=$(sim_port "$work/sim.out")
[ -n "$port" ] || fail "ussdpay-sim did not report its port"
export USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT=$port

USSDPAY_CLUSTER_NODE=a "$daemon" --config "$config" >"$work/a.log" 2>&1 &
a_pid=$!
until_is 50 "SELECT holder || ' ' || epoch FROM leases WHERE name = 'scheduler'" "a 1" ||
  fail "a did not take the scheduler's lease"
USSDPAY_CLUSTER_NODE=b "$daemon" --config "$config" >"$work/b.log" 2>&1 &
b_pid=$!
until_is 50 "SELECT count(*) FROM cluster_members" "2" || fail "b did not join"
echo "ok: a and b are members, a holds the scheduler's lease at epoch 1"

# A second process named a while a is alive: refused before it serves anything.
USSDPAY_CLUSTER_NODE=a timeout 10 "$daemon" --config "$config" >"$work/a2.log" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "a second 'a' exited with $rc, not 1"
grep -q "another instance is running as node a" "$work/a2.log" || fail "no reason given"
[ "$(pg "SELECT holder FROM leases WHERE name = 'scheduler'")" = a ] || fail "the lease moved"
echo "ok: a second process named a is refused (exit 1) and takes nothing"

# a dies without a word: b takes the lease once it expires, with the next epoch.
kill -KILL "$a_pid"
wait "$a_pid" 2>/dev/null
a_pid=
until_is 50 "SELECT holder || ' ' || epoch FROM leases WHERE name = 'scheduler'" "b 2" ||
  fail "b did not take the lease over after a's death"
grep -q "lease scheduler held (epoch 2)" "$work/b.log" || fail "b does not say it holds it"
echo "ok: a SIGKILLed, b holds the scheduler's lease at epoch 2"

# A clean stop gives the lease up at once and leaves.
kill -TERM "$b_pid"
wait_gone "$b_pid" 100 || fail "b did not stop within 10 s"
wait "$b_pid"
rc=$?
b_pid=
[ "$rc" = 0 ] || fail "b exited with $rc"
[ "$(pg "SELECT expires_at FROM leases WHERE name = 'scheduler'")" = 0 ] ||
  fail "b kept its lease after a clean stop"
[ "$(pg "SELECT count(*) FROM cluster_members WHERE node = 'b'")" = 0 ] || fail "b did not leave"
echo "ok: b stopped cleanly, released the lease and left"
echo "PASS"
