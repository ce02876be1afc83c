#!/usr/bin/env bash
# Starts and stops a real PostgreSQL 15 server that a test owns: data under the directory given
# (in the build tree), listening on 127.0.0.1 only at a free port, stopped by its PID.
#
#   pg_server.sh start DIR [--durable]   initdb if DIR/data is missing, start, wait until it
#                                         accepts connections; writes DIR/url (a libpq
#                                         connection string) and DIR/pid
#   pg_server.sh standby DIR PRIMARY_DIR  a streaming standby of the server in PRIMARY_DIR
#                                         (pg_basebackup), started like `start --durable`; the
#                                         primary then waits for it at every commit
#                                         (synchronous_standby_names: no acknowledged commit is
#                                         lost when the standby is promoted)
#   pg_server.sh promote DIR              promotes the standby in DIR to primary (and waits)
#   pg_server.sh kill DIR                 SIGKILL, as a machine that dies (then `stop` cleans up)
#   pg_server.sh stop DIR                 fast shutdown by PID (SIGINT), bounded wait, then
#                                         SIGKILL; removes nothing
#
# PostgreSQL refuses to run as root, and CI runs as root: then the server runs as the `postgres`
# user Debian's package creates (runuser), and owns DIR/data. Without --durable the server runs
# with fsync off (the store tests check logic, not power loss: the benchmarks and the failover
# tests use --durable, the defaults).
set -euo pipefail

bin=/usr/lib/postgresql/15/bin
usage() {
  echo "usage: $0 start DIR [--durable] | standby DIR PRIMARY_DIR | promote DIR | kill DIR |" \
    "stop DIR" >&2
  exit 2
}
[ $# -ge 2 ] || usage
cmd=$1
dir=$2
durable=0
primary=""
[ "${3:-}" = "--durable" ] && durable=1
if [ "$cmd" = standby ]; then
  [ $# -eq 3 ] || usage
  primary=$(cd "$3" && pwd)
  durable=1
fi

as_server=()
if [ "$(id -u)" -eq 0 ]; then as_server=(runuser -u postgres --); fi

free_port() {
  perl -MIO::Socket::INET -e \
    '$s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0,
       ReuseAddr => 1) or die "no free port: $!\n"; print $s->sockport, "\n"'
}

start() {
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -x "$bin/postgres" ] || {
    echo "pg_server: $bin/postgres is missing (scripts/setup installs postgresql-15)" >&2
    exit 1
  }
  if [ ${#as_server[@]} -gt 0 ]; then
    chown postgres "$dir"
    if ! "${as_server[@]}" test -w "$dir"; then
      echo "pg_server: the postgres user cannot reach $dir (a parent directory is not" \
        "searchable by others); build in a directory it can reach" >&2
      exit 1
    fi
  fi
  if [ -f "$dir/pid" ] && grep -q postgres "/proc/$(cat "$dir/pid")/comm" 2>/dev/null; then
    echo "pg_server: already running (pid $(cat "$dir/pid")): $(cat "$dir/url")"
    return 0
  fi
  if [ -n "$primary" ] && [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    # -R writes primary_conninfo and standby.signal; -X stream copies the WAL as it goes.
    "${as_server[@]}" "$bin/pg_basebackup" -d "$(cat "$primary/url") application_name=standby" \
      -D "$dir/data" -R -X stream --checkpoint=fast >"$dir/basebackup.log" 2>&1 || {
      cat "$dir/basebackup.log" >&2
      exit 1
    }
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    rm -rf "$dir/data"
    "${as_server[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      --no-instructions >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
  fi
  local settings=(-c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=100
    -c shared_buffers=64MB)
  if [ "$durable" = 0 ]; then
    settings+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
  fi
  local attempt port pid
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    "${as_server[@]}" "$bin/postgres" -D "$dir/data" -p "$port" "${settings[@]}" \
      >>"$dir/server.log" 2>&1 &
    pid=$!
    # runuser stays as the parent: the server's own PID is in postmaster.pid.
    for _ in $(seq 1 100); do
      if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1; then
        echo "$(head -1 "$dir/data/postmaster.pid")" >"$dir/pid"
        echo "host=127.0.0.1 port=$port user=postgres dbname=postgres connect_timeout=5" \
          >"$dir/url"
        echo "pg_server: PostgreSQL on 127.0.0.1:$port, data in $dir/data"
        if [ -n "$primary" ]; then
          # The primary now waits at every commit until this standby has it.
          psql "$(cat "$primary/url")" -qAt -c "ALTER SYSTEM SET synchronous_standby_names = \
            'standby'" -c "SELECT pg_reload_conf()" >/dev/null
        fi
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "pg_server: attempt $attempt on port $port failed" >&2
  done
  tail -20 "$dir/server.log" >&2
  exit 1
}

stop() {
  [ -f "$dir/pid" ] || return 0
  local pid
  pid=$(cat "$dir/pid")
  rm -f "$dir/pid"
  # Only the server this script started: the PID must still be a postgres for this data.
  if ! grep -q "postgres" "/proc/$pid/comm" 2>/dev/null; then return 0; fi
  kill -INT "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

kill_server() {
  [ -f "$dir/pid" ] || return 0
  local pid
  pid=$(cat "$dir/pid")
  grep -q "postgres" "/proc/$pid/comm" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  return 0
}

promote() {
  "${as_server[@]}" "$bin/pg_ctl" promote -D "$dir/data" -w -t 30 >/dev/null
}

case "$cmd" in
  start | standby) start ;;
  promote) promote ;;
  kill) kill_server ;;
  stop) stop ;;
  *) usage ;;
esac
