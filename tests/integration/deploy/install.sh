#!/usr/bin/env bash
# `cmake --install` into a scratch DESTDIR, then the installed layout of docs/deploy.md: both
# binaries and nothing from the tests; the installed configuration is the shipped one less the
# demo (no demo/ path, the store in /var/lib/ussdpay, secrets in secrets/, the menus installed),
# passes `ussdpayd --check-config` once the operator's secrets exist and not before, and runs the
# installed daemon, which stops on SIGTERM well within the unit's TimeoutStopSec; the unit has
# its paths and sandboxing (and passes `systemd-analyze verify` and `security` where systemd is
# installed); a second install keeps an edited configuration; `--prefix` elsewhere is refused.
#
#   install.sh CMAKE BUILD_DIR PREFIX BINDIR SYSCONFDIR DATADIR DOCDIR
# (the build's CMAKE_INSTALL_PREFIX and CMAKE_INSTALL_FULL_* directories)
set -euo pipefail
cmake=$1 build=$2 prefix=$3 bindir=$4 sysconfdir=$5 datadir=$6 docdir=$7
here=$(cd "$(dirname "$0")" && pwd)
source_config=$here/../../../etc/ussdpay.toml
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$here/../lib.sh"
lib_start install daemon_pid

root=$work/root
conf=$root$sysconfdir/ussdpay/ussdpay.toml
secrets=$root$sysconfdir/ussdpay/secrets
menus=$datadir/ussdpay/menus
unit=$root$prefix/lib/systemd/system/ussdpay.service
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
has_line() { grep -qxF -- "$2" "$1"; }
seconds() {  # "30s", "2m", "500ms" -> whole seconds, rounded up
  case $1 in
    *ms) echo $(((${1%ms} + 999) / 1000)) ;;
    *s) echo "${1%s}" ;;
    *min) echo $((${1%min} * 60)) ;;
    *m) echo $((${1%m} * 60)) ;;
    *) echo "$1" ;;
  esac
}
# The value of KEY in [SECTION] of a TOML file (strings unquoted).
toml_value() {
  awk -v s="[$2]" -v k="$3" '
    /^\[/ { in_s = ($0 == s) }
    in_s && $1 == k && $2 == "=" { v = $3; gsub(/"/, "", v); print v; exit }' "$1"
}

# --- the install ----------------------------------------------------------------------------
# An operator stages the install into a scratch root, as a package build would.
if ! DESTDIR=$root "$cmake" --install "$build" >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  bad "cmake --install with DESTDIR"
  exit 1
fi
ok "cmake --install with DESTDIR"

# --- binaries -------------------------------------------------------------------------------
for b in ussdpayd ussdpay; do
  check "$bindir/$b installed, executable" test -x "$root$bindir/$b"
done
programs=$(cd "$root" && find . -type f -perm -u+x | sort | tr '\n' ' ')
check "no other program installed (simulators, tests, benchmarks): $programs" \
  test "$programs" = ".$bindir/ussdpay .$bindir/ussdpayd "
demo=$(find "$root" \( -name pepper -o -name admin-token -o -name 'bills.csv' \
  -o -name 'subscribers.csv' -o -name '*.db' -o -name demo \) -print)
check "no demo data installed" test -z "$demo"
[ -z "$demo" ] || echo "$demo"

# --- the configuration ----------------------------------------------------------------------
check "configuration at $sysconfdir/ussdpay/ussdpay.toml" test -f "$conf"
check "configuration mode 0644 (it holds no secret)" test "$(stat -c %a "$conf")" = 644
check "no demo/ path in the installed configuration" bash -c "! grep -n 'demo/' '$conf'"
check "no ../var path in the installed configuration" bash -c "! grep -n '\\.\\./var' '$conf'"
check "no demo biller left on" bash -c "! grep -nE '^(\\[\\[billers\\]\\]|kind = \"demo\")' '$conf'"
check "store in /var/lib/ussdpay" has_line "$conf" 'path = "/var/lib/ussdpay/ussdpay.db"'
check "SMPP password from secrets/" has_line "$conf" 'password_file = "secrets/smpp-password"'
check "no SMPP password in the file" has_line "$conf" 'password = ""'
check "PIN pepper from secrets/" has_line "$conf" 'pepper_file = "secrets/pin-pepper"'
check "admin token from secrets/" has_line "$conf" 'token_file = "secrets/admin-token"'
check "menus from $menus" has_line "$conf" "menus = \"$menus\""
for f in menu.toml text.en.toml text.ur.toml text.hi.toml text.sw.toml; do
  check "menus: $f installed" test -f "$root$menus/$f"
done
check "no secrets installed" test ! -e "$secrets"
# Every line of the shipped configuration is still there, as it was or commented out, but for
# the lines the install rewrites: every key keeps its documentation.
lost=$(grep -vxF -f "$conf" "$source_config" | while IFS= read -r line; do
  grep -qxF -- "# $line" "$conf" || printf '%s\n' "$line"
done | grep -vE '^(password|password_file|menus|path|token_file|pepper_file|bills_file) = |shipped file|demo only' || true)
check "every other line of etc/ussdpay.toml kept" test -z "$lost"
[ -z "$lost" ] || printf 'lost: %s\n' "$lost"

# The installed menus and store path are absolute; the scratch root stands in for them.
export USSDPAY_USSD_MENUS=$root$menus USSDPAY_STORE_PATH=$work/state/ussdpay.db
out=$("$root$bindir/ussdpayd" --config "$conf" --check-config 2>&1) && rc=0 || rc=$?
check "--check-config fails before the operator creates the secrets (rc=$rc)" test "$rc" -ne 0
check "... naming the missing secret" grep -q 'secrets/smpp-password' <<<"$out"

# The operator creates the secrets (docs/deploy.md).
install -d -m 0750 "$secrets"
(
  umask 027
  printf '%s\n' smscpw01 >"$secrets/smpp-password"
  printf '%s\n' test-pin-pepper-0123456789abcdef >"$secrets/pin-pepper"
  printf '%s\n' test-admin-token-0123456789abcdef >"$secrets/admin-token"
)
out=$("$root$bindir/ussdpayd" --config "$conf" --check-config 2>&1) && rc=0 || rc=$?
check "installed ussdpayd --check-config passes with the secrets (rc=$rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || echo "$out"
out=$("$root$bindir/ussdpay" --config "$conf" check-menus 2>&1) && rc=0 || rc=$?
check "installed ussdpay check-menus passes (rc=$rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || echo "$out"

# --- the unit -------------------------------------------------------------------------------
check "unit at $prefix/lib/systemd/system/ussdpay.service" test -f "$unit"
check "ExecStart names the installed daemon and configuration" has_line "$unit" \
  "ExecStart=$bindir/ussdpayd --config $sysconfdir/ussdpay/ussdpay.toml"
# shellcheck disable=SC2016 # $MAINPID is systemd's, literal here
check "ExecReload sends SIGHUP" has_line "$unit" 'ExecReload=/bin/kill -HUP $MAINPID'
for d in User=ussdpay Group=ussdpay Restart=on-failure KillSignal=SIGTERM \
  StateDirectory=ussdpay ConfigurationDirectory=ussdpay UMask=0077 LimitCORE=0 \
  NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
  ProtectKernelTunables=yes ProtectKernelModules=yes ProtectKernelLogs=yes \
  ProtectControlGroups=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
  RestrictNamespaces=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
  SystemCallFilter=@system-service SystemCallArchitectures=native CapabilityBoundingSet=; do
  check "unit: $d" has_line "$unit" "$d"
done
# TimeoutStopSec covers the daemon's own bound on a SIGTERM stop (gateway/daemon.cpp):
# [ussd] stop_timeout + drain_timeout + unbind_timeout + 2 s for the outbox + 1 s.
stop=$(seconds "$(sed -n 's/^TimeoutStopSec=//p' "$unit")")
screens=$(seconds "$(toml_value "$conf" ussd stop_timeout)")
drain=$(seconds "$(toml_value "$conf" smpp drain_timeout)")
unbind=$(seconds "$(toml_value "$conf" smpp unbind_timeout)")
bound=$((screens + drain + unbind + 3))
check "TimeoutStopSec=${stop}s covers the daemon's stop bound (${bound}s) with room" \
  test "$stop" -ge $((bound * 2))

if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart exists: a copy whose paths point into the scratch root.
  mkdir -p "$work/verify"
  sed "s#$bindir/ussdpayd#$root$bindir/ussdpayd#g" "$unit" >"$work/verify/ussdpay.service"
  out=$(systemd-analyze verify --man=no "$work/verify/ussdpay.service" 2>&1) && rc=0 || rc=$?
  out=$(grep 'ussdpay' <<<"$out" || true)
  check "systemd-analyze verify: no complaint about the unit (rc=$rc)" \
    test "$rc" -eq 0 -a -z "$out"
  [ -z "$out" ] || echo "$out"
  out=$(systemd-analyze security --offline=yes --threshold=20 "$work/verify/ussdpay.service" \
    2>&1) && rc=0 || rc=$?
  check "systemd-analyze security: $(grep -o 'exposure level.*' <<<"$out" || echo "?") (<= 2.0)" \
    test "$rc" -eq 0
else
  echo "skip - systemd-analyze verify and security: systemd-analyze not installed (Debian: systemd)"
fi
check "sysusers.d entry for the ussdpay user" \
  grep -q '^u ussdpay ' "$root$prefix/lib/sysusers.d/ussdpay.conf"
check "docs/deploy.md installed" test -f "$root$docdir/deploy.md"

# --- the installed daemon runs and stops in time --------------------------------------------
# No SMSC answers (port 1): it runs, creates the store and serves /health, and a SIGTERM
# stops it well within TimeoutStopSec.
USSDPAY_SMPP_PORT=1 USSDPAY_ADMIN_LISTEN=127.0.0.1:0 \
  "$root$bindir/ussdpayd" --config "$conf" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
api=$(admin_address "$work/daemon.log") || api=""
check "installed daemon starts (admin API up)" test -n "$api"
check "... and creates the store" test -f "$USSDPAY_STORE_PATH"
if [ -n "$api" ] && command -v curl >/dev/null; then
  check "... and answers /health" curl -fsS -o /dev/null "http://$api/health"
fi
start=$SECONDS
kill -TERM "$daemon_pid"
if wait_gone "$daemon_pid" $((stop * 10)); then
  wait "$daemon_pid" && rc=0 || rc=$?
  check "SIGTERM stops it, exit 0 (rc=$rc), in $((SECONDS - start)) s < ${stop} s" test "$rc" -eq 0
else
  bad "SIGTERM did not stop it within TimeoutStopSec=${stop}s"
fi
daemon_pid=""
[ "$fails" -eq 0 ] || tail -20 "$work/daemon.log"

# --- a second install keeps the operator's configuration ------------------------------------
echo '# edited by the operator' >>"$conf"
if DESTDIR=$root "$cmake" --install "$build" >"$work/install2.log" 2>&1; then
  check "reinstall keeps an edited ussdpay.toml" grep -qxF '# edited by the operator' "$conf"
  check "... and puts the new one beside it as ussdpay.toml.new" \
    bash -c "test -f '$conf.new' && ! grep -q 'edited by the operator' '$conf.new'"
else
  cat "$work/install2.log"
  bad "second cmake --install"
fi

# --- an install to another prefix is refused (the unit would name the wrong paths) ---------
out=$("$cmake" --install "$build" --prefix "$work/elsewhere" 2>&1) && rc=0 || rc=$?
check "cmake --install --prefix elsewhere is refused (rc=$rc)" test "$rc" -ne 0
check "... saying to stage with DESTDIR" grep -q 'DESTDIR' <<<"$out"
check "... before installing anything" test ! -e "$work/elsewhere"

echo "$fails failed"
[ "$fails" -eq 0 ]
