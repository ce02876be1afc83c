#!/usr/bin/env bash
# Runs one ussdpay-sim script against the real daemon:
#
#   run_script.sh SIM DAEMON CONFIG SCRIPT [PROFILE]
#
# PROFILE (default "default") is the operator's USSD dialect: the simulator speaks it and the
# daemon is configured for it (USSDPAY_SMPP_USSD_PROFILE).
# The simulator (scripted mode, any free port) plays the SMSC and the subscriber; the daemon is
# started with USSDPAY_SMPP_PORT pointing at it. The result is the simulator's exit status
# (0 = every step passed). Every wait is bounded; both processes are always ended, by PID.
set -u

if [ $# -lt 4 ] || [ $# -gt 5 ]; then
  echo "usage: $0 SIM DAEMON CONFIG SCRIPT [PROFILE]" >&2
  exit 2
fi
sim=$1 daemon=$2 config=$3 script=$4 profile=${5:-default}

# Only the two processes started here are ended, by PID (lib.sh).
. "$(cd "$(dirname "$0")" && pwd)/lib.sh"
lib_start script

show_logs() {
  echo "--- ussdpay-sim output ---"
  cat "$work/sim.out"
  echo "--- ussdpayd log ---"
  cat "$work/daemon.log" 2>/dev/null
}

# 1. The simulator listens on any free port and says which.
"$sim" --mode scripted --port 0 --profile "$profile" --script "$script" >"$work/sim.out" 2>&1 &
sim_pid=$!
port=$(sim_port "$work/sim.out")
if [ -z "$port" ]; then
  echo "FAIL: ussdpay-sim did not report its port within 10 s"
  show_logs
  exit 1
fi
echo "ussdpay-sim (pid $sim_pid) listening on port $port"

# 2. A store of its own; subscribers from SCRIPT's .csv twin (if any; $SUBSCRIBERS_CSV names
#    another file), imported with the operator's command that sits next to the daemon.
#    Under the PostgreSQL fixture ($USSDPAY_TEST_POSTGRESQL names the file with the server's
#    connection string) the store is a fresh schema on that server instead of a SQLite file.
export USSDPAY_STORE_PATH="$work/ussdpay.db"
if [ -n "${USSDPAY_TEST_POSTGRESQL:-}" ]; then lib_pg_store script; fi
subscribers="${SUBSCRIBERS_CSV:-${script%.sim}.csv}"
if [ -f "$subscribers" ]; then
  if ! "$(dirname "$daemon")/ussdpay" --config "$config" subscriber import "$subscribers" \
    >"$work/import.log" 2>&1; then
    echo "FAIL: could not import $subscribers"
    cat "$work/import.log"
    exit 1
  fi
fi

# 3. The daemon, with the shipped configuration, pointed at it.
USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT=$port USSDPAY_SMPP_USSD_PROFILE=$profile \
  "$daemon" --config "$config" \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!
echo "ussdpayd (pid $daemon_pid) started"

# 4. The script runs; its exit status is the verdict (bounded: 60 s).
if wait_gone "$sim_pid" 600; then
  wait "$sim_pid"
  rc=$?
else
  echo "FAIL: ussdpay-sim still running after 60 s"
  kill -KILL "$sim_pid" 2>/dev/null
  wait "$sim_pid" 2>/dev/null
  rc=124
fi

# 5. The daemon is stopped the way an operator would: SIGTERM, then at most 5 s.
if kill -0 "$daemon_pid" 2>/dev/null; then
  kill -TERM "$daemon_pid"
  if wait_gone "$daemon_pid" 50; then
    wait "$daemon_pid"
    echo "ussdpayd exited with status $?"
  else
    echo "ussdpayd did not exit within 5 s of SIGTERM; killing it"
  fi
else
  wait "$daemon_pid"
  echo "ussdpayd had already exited with status $?"
fi

show_logs
echo "ussdpay-sim exit status: $rc"
exit "$rc"
