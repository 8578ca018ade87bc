#!/usr/bin/env bash
# Drives `solent check-config`: the shipped file is valid; a broken one is reported as
# file:line: problem with exit status 1. usage: test_config_cli.sh SOLENT SOURCE_ROOT
set -u
solent=$1
root=$2
. "$(dirname "$0")/check.sh"
out=$("$solent" check-config -c "$root/conf/solent.conf")
check "shipped file" "$root/conf/solent.conf: ok: 1 listeners, 7 routes, 1 destinations, 0 identifier rules" "$out"
printf '[engine]\nsite_tz = UTC\n\n[route r]\ntype = ADT^*\ndestinations = phr\n' > "$tmp/bad.conf"
check "missing destination, at the key that names it" "$tmp/bad.conf:6: [route r] sends to destination phr, which is not defined" \
    "$("$solent" check-config -c "$tmp/bad.conf" 2>&1)"
check "exit status" 1 "$("$solent" check-config -c "$tmp/bad.conf" >/dev/null 2>&1; echo $?)"
check "missing file" 1 "$("$solent" check-config -c "$tmp/none.conf" >/dev/null 2>&1; echo $?)"
printf '[engine]\nsite_tz = Nowhere/Land\n' > "$tmp/tz.conf"
check "unknown zone" "$tmp/tz.conf:2: [engine] site_tz: Nowhere/Land is not a known time zone (no file /usr/share/zoneinfo/Nowhere/Land)" \
    "$("$solent" check-config -c "$tmp/tz.conf" 2>&1)"
check "usage" 2 "$("$solent" check-config --bogus >/dev/null 2>&1; echo $?)"
finish
