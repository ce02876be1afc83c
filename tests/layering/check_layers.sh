#!/usr/bin/env bash
# Every #include "..." of the project's own headers must name a room its file's CMake target
# links (directly or through other rooms): the floors in README.md, enforced from the links that
# CMake already has (LINKS, written at generate time by tests/CMakeLists.txt), so that the rule
# has one source. Usage: check_layers.sh LINKS SOURCE_DIR. Exit 1 with every violation listed.
set -euo pipefail
links_file=$1
src=$2

declare -A direct
while IFS=: read -r target deps; do
  direct[$target]=$(tr ';' ' ' <<<"$deps")
done <"$links_file"

# The target that owns a path (a source file or an included header), "" for none of ours.
owner() {
  case $1 in
    gateway/common/on_store.hpp) echo ussdpay_on_store ;;
    gateway/main.cpp) echo ussdpayd ;;
    gateway/daemon.*) echo ussdpay_daemon ;;
    gateway/cli/main.cpp) echo ussdpay ;;
    gateway/*/*) local room=${1#gateway/}; echo "ussdpay_${room%%/*}" ;;
    store/*) echo ussdpay_store ;;
    menus/*) echo ussdpay_menus ;;
    adapters/*) echo ussdpay_adapters ;;
    *) echo "" ;;
  esac
}

# The targets `t` may use: itself and everything it links, transitively.
declare -A closure
reach() {
  local t=$1
  [[ -n ${closure[$t]+x} ]] && return
  local seen=" $t " todo=($t) next d
  while ((${#todo[@]})); do
    next=${todo[0]}
    todo=("${todo[@]:1}")
    for d in ${direct[$next]:-}; do
      [[ $seen == *" $d "* ]] && continue
      seen+="$d "
      todo+=("$d")
    done
  done
  closure[$t]=$seen
}

# 0 when `file` (owned by `from`) may include `header`.
allowed() {
  local from=$1 header=$2 to
  to=$(owner "$header")
  [[ -z $to || $to == "$from" ]] && return 0
  reach "$from"
  [[ ${closure[$from]} == *" $to "* ]]
}

if [[ ${3:-} == --self-test ]]; then
  # The checker must be able to fail: an upward include and one into a room not linked.
  allowed ussdpay_admin gateway/ussd/dialogs.hpp && { echo "self-test: admin -> ussd passed"; exit 1; }
  allowed ussdpay_ussd gateway/actions/actions.hpp && { echo "self-test: ussd -> actions passed"; exit 1; }
  allowed ussdpay_store gateway/payments/service.hpp && { echo "self-test: store -> payments passed"; exit 1; }
  allowed ussdpay_actions gateway/ussd/dialogs.hpp || { echo "self-test: actions -> ussd refused"; exit 1; }
  allowed ussdpay_store gateway/common/assert.hpp || { echo "self-test: store -> common refused"; exit 1; }
  echo "self-test OK"
  exit 0
fi

cd "$src"
bad=0
checked=0
while IFS= read -r file; do
  from=$(owner "$file")
  [[ -z $from || -z ${direct[$from]+x} ]] && { echo "no CMake target known for $file"; bad=1; continue; }
  while IFS= read -r header; do
    checked=$((checked + 1))
    if ! allowed "$from" "$header"; then
      echo "$file ($from) includes $header ($(owner "$header")), which $from does not link"
      bad=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
done < <(find gateway store menus adapters -name '*.cpp' -o -name '*.hpp' | sort)
echo "$checked includes checked"
exit $bad
