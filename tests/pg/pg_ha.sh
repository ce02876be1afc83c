#!/usr/bin/env bash
# A primary and its synchronous streaming standby for the failover tests, in DIR/primary and
# DIR/standby (tests/pg/pg_server.sh does the work); DIR/urls holds the multi-host connection
# string that follows a failover (target_session_attrs=read-write).
#   pg_ha.sh start DIR | stop DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
dir=$2
case "$1" in
  start)
    mkdir -p "$dir"
    # A fresh pair each run: a standby promoted by the last run is a primary now.
    "$here/pg_server.sh" stop "$dir/standby"
    "$here/pg_server.sh" stop "$dir/primary"
    rm -rf "$dir/primary" "$dir/standby"
    "$here/pg_server.sh" start "$dir/primary" --durable
    "$here/pg_server.sh" standby "$dir/standby" "$dir/primary"
    port() { sed -n 's/.*port=\([0-9]*\).*/\1/p' "$1/url"; }
    echo "host=127.0.0.1,127.0.0.1 port=$(port "$dir/primary"),$(port "$dir/standby")" \
      "user=postgres dbname=postgres connect_timeout=2 target_session_attrs=read-write" \
      >"$dir/urls"
    ;;
  stop)
    "$here/pg_server.sh" stop "$dir/standby"
    "$here/pg_server.sh" stop "$dir/primary"
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
