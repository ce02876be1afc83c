# Shared by the integration test scripts (sourced, bash): a scratch directory removed on exit,
# the processes started here ended by PID on exit, and waits that are always bounded.
#
#   lib_start NAME [PID_VARIABLE...]
#       work=$(mktemp -d ${TMPDIR:-/tmp}/ussdpay-NAME.XXXXXXXX); on exit, SIGKILL whatever PID
#       each named variable holds then (default: daemon_pid sim_pid), and remove $work.
#   lib_require_sqlite3      exit 77 (skipped) without the sqlite3 command
#   sim_port FILE            the port of "ussdpay-sim listening on HOST:PORT" in FILE (10 s);
#                            empty FILE before starting the simulator again: the shell's
#                            redirection truncates it only once the child runs
#   wait_gone PID TENTHS     true once PID has exited
#   q SQL                    sqlite3 on $USSDPAY_STORE_PATH, one value per line
#   lib_pg_store NAME        under the PostgreSQL fixture ($USSDPAY_TEST_POSTGRESQL names the file
#                            with its server's connection string): a fresh schema NAME<pid>_<ns>
#                            there, exported as the store (USSDPAY_STORE_BACKEND, _URL)
#   admin_address LOG [MARK] the HOST:PORT of "admin: listening on HOST:PORT (MARK..." in LOG
#                            (10 s; MARK defaults to any)
#
# A paid payment is COMMITTED until the SMSC reports its receipt delivered, then COMPLETED; a
# test that only means "paid" reads replace(state, 'COMPLETED', 'COMMITTED') or both states.

lib_start() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/ussdpay-$1.XXXXXXXX")
  shift
  lib_pid_vars=("$@")
  [ ${#lib_pid_vars[@]} -gt 0 ] || lib_pid_vars=(daemon_pid sim_pid)
  local v
  for v in "${lib_pid_vars[@]}"; do printf -v "$v" '%s' ""; done
  trap lib_cleanup EXIT
}

lib_cleanup() {
  local v pid
  for v in "${lib_pid_vars[@]}"; do
    pid=${!v}
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
    fi
  done
  rm -rf "$work"
}

lib_require_sqlite3() {
  command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 (the CLI) is not installed"; exit 77; }
}

sim_port() {
  local i port
  for ((i = 0; i < 100; i++)); do
    port=$(sed -n 's/^ussdpay-sim listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$1" 2>/dev/null)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  return 1
}

wait_gone() {
  local i
  for ((i = 0; i < $2; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  ! kill -0 "$1" 2>/dev/null
}

q() { sqlite3 -batch -noheader "$USSDPAY_STORE_PATH" "$1"; }

lib_pg_store() {
  local server schema
  server=$(head -1 "$USSDPAY_TEST_POSTGRESQL")
  schema="$1$$_$(date +%s%N)"
  if ! psql "$server" -qAt -c "CREATE SCHEMA $schema" >"$work/schema.log" 2>&1; then
    echo "FAIL: cannot create schema $schema on the test server"
    cat "$work/schema.log"
    exit 1
  fi
  export USSDPAY_STORE_BACKEND=postgresql
  export USSDPAY_STORE_URL="$server options='-c search_path=$schema'"
}

admin_address() {
  local i api
  for ((i = 0; i < 100; i++)); do
    api=$(sed -n "s/.*admin: listening on \([0-9.]*:[0-9]*\) (${2-}.*/\1/p" "$1" 2>/dev/null | head -1)
    [ -n "$api" ] && { echo "$api"; return 0; }
    sleep 0.1
  done
  return 1
}
