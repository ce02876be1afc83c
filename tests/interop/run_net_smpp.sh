#!/usr/bin/env bash
# Interop: ussdpayd (the ESME) against an SMSC written with Perl's Net::SMPP.
#   run_net_smpp.sh <path to ussdpayd> <config.toml>
# Starts net_smpp_smsc.pl (it picks a free port on 127.0.0.1 and prints it), starts the daemon
# pointed at that port, waits (bounded) for the Perl script to finish its checks, then stops
# the daemon with SIGTERM and checks that it exits cleanly. Exit status: the Perl script's
# (1 if the daemon misbehaves on shutdown), 77 (CTest "skipped") without Net::SMPP.
set -u

daemon=${1:?usage: run_net_smpp.sh <ussdpayd> <config.toml>}
config=${2:?usage: run_net_smpp.sh <ussdpayd> <config.toml>}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "$daemon" ]; then
  echo "FAIL: $daemon is not an executable (not built?)"
  exit 1
fi
if ! perl -MNet::SMPP -e 1 2>/dev/null; then
  echo "SKIP: Perl Net::SMPP is not installed (Debian: libnet-smpp-perl)"
  exit 77
fi

# Credentials other than the file's, so the environment overrides are exercised too.
system_id=ussdpay-interop
password=s3cr3t!

work=$(mktemp -d "${TMPDIR:-/tmp}/ussdpay-net-smpp.XXXXXX")
smsc_out=$work/smsc.out
smsc_err=$work/smsc.err
daemon_log=$work/daemon.log
smsc_pid=
daemon_pid=

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Waits up to $2 tenths of a second for PID $1 to exit; true if it did.
wait_exit() {
  local i
  for ((i = 0; i < $2; i++)); do
    alive "$1" || return 0
    sleep 0.1
  done
  ! alive "$1"
}

cleanup() {
  # Only the processes this script started, by PID.
  if alive "$smsc_pid"; then kill -KILL "$smsc_pid" 2>/dev/null; fi
  if alive "$daemon_pid"; then kill -KILL "$daemon_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

SMSC_SYSTEM_ID=$system_id SMSC_PASSWORD=$password \
  perl "$here/net_smpp_smsc.pl" >"$smsc_out" 2>"$smsc_err" &
smsc_pid=$!

port=
for ((i = 0; i < 50; i++)); do
  port=$(sed -n 's/^# port \([0-9][0-9]*\)$/\1/p' "$smsc_out")
  [ -n "$port" ] && break
  alive "$smsc_pid" || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "FAIL: the Net::SMPP SMSC did not report a port within 5 s"
  echo "--- SMSC stdout"; cat "$smsc_out"
  echo "--- SMSC stderr"; cat "$smsc_err"
  exit 1
fi

# A store of its own, with the dialing subscriber registered (else the first screen would be
# the offer to register).
export USSDPAY_STORE_PATH="$work/ussdpay.db"
printf 'msisdn,pin,balance,language\n254700000001,4826,1000,en\n' >"$work/subscribers.csv"
if ! "$(dirname "$daemon")/ussdpay" --config "$config" subscriber import "$work/subscribers.csv" \
  >"$work/import.log" 2>&1; then
  echo "FAIL: could not register the test subscriber"
  cat "$work/import.log"
  exit 1
fi

USSDPAY_SMPP_HOST=127.0.0.1 USSDPAY_SMPP_PORT=$port \
  USSDPAY_SMPP_SYSTEM_ID=$system_id USSDPAY_SMPP_PASSWORD=$password USSDPAY_SMPP_BINDS=1 \
  USSDPAY_SMPP_BIND=transceiver USSDPAY_LOG_LEVEL=debug \
  "$daemon" --config "$config" >"$daemon_log" 2>&1 &
daemon_pid=$!

# The Perl script bounds itself at 30 s; give it 40 before calling it hung.
if wait_exit "$smsc_pid" 400; then
  wait "$smsc_pid"
  status=$?
else
  echo "FAIL: the Net::SMPP SMSC did not finish within 40 s; killing it"
  kill -KILL "$smsc_pid" 2>/dev/null
  wait "$smsc_pid" 2>/dev/null
  status=1
fi
smsc_pid=

cat "$smsc_out"

# SIGTERM: the daemon must stop on its own (its guard is drain + unbind timeout + 1 s = 4 s).
if alive "$daemon_pid"; then
  kill -TERM "$daemon_pid"
  if wait_exit "$daemon_pid" 80; then
    wait "$daemon_pid"
    daemon_status=$?
    if [ "$daemon_status" -eq 0 ]; then
      echo "# daemon exited 0 after SIGTERM"
    else
      echo "FAIL: the daemon exited with status $daemon_status after SIGTERM"
      status=1
    fi
  else
    echo "FAIL: the daemon did not exit within 8 s of SIGTERM; killing it"
    kill -KILL "$daemon_pid" 2>/dev/null
    wait "$daemon_pid" 2>/dev/null
    status=1
  fi
else
  wait "$daemon_pid"
  echo "FAIL: the daemon was gone before SIGTERM (exit status $?)"
  status=1
fi
daemon_pid=

if [ "$status" -ne 0 ]; then
  echo "--- SMSC stderr"; cat "$smsc_err"
  echo "--- daemon log"; cat "$daemon_log"
fi
exit "$status"
