#!/usr/bin/env bash
# The site time zone comes from the configuration, never from the shell's TZ: the same
# messages (times without an offset in GMT, BST, the hour skipped in March and the hour
# repeated in October) give byte-identical bundles from `solent convert`, `solent convert
# -c`, `solent replay --dry-run` and `solent run` (its directory destination) under
# TZ=UTC, TZ=America/New_York and no TZ at all, with the offsets Europe/London gives.
# usage: test_tz_cli.sh SOLENT SOURCE_ROOT
set -u
solent=$1
root=$2
. "$(dirname "$0")/check.sh"
msg() { # control id, admit time (PV1-44, no offset)
    printf 'MSH|^~\\&|PAS|RHM|S|T|20240101||ADT^A01^ADT_A01|%s|P|2.5.1\rEVN|A01\r' "$1"
    printf 'PID|1||9434765919^^^NHS^NH||Testpatient^Alex||19850412|U\r'
    printf 'PV1|1|I|WARD7^BED3^^RHM||||||||||||||||V%s|||||||||||||||||||||||||%s\r' "$1" "$2"
}
times=(20240115120000 20240701120000 20240331013000 20241027013000 20241027020000)
want=("2024-01-15T12:00:00+00:00" "2024-07-01T12:00:00+01:00" "2024-03-31T01:30:00+00:00"
      "2024-10-27T01:30:00+01:00" "2024-10-27T02:00:00+00:00")
for i in "${!times[@]}"; do
    msg "TZ$i" "${times[$i]}" > "$tmp/m$i.hl7"
done
port=$((20000 + RANDOM % 20000))
cat > "$tmp/solent.conf" <<CONF
[engine]
site_tz = Europe/London
data_dir = $tmp/data
[store]
path = $tmp/data/solent.db
[listener pas]
port = $port
routes = adt
[route adt]
type = ADT^*
destinations = local
[destination local]
kind = directory
path = $tmp/data/outbox
CONF
starts() { # the Encounter's period.start of every bundle on stdin, one per line
    python3 -c '
import json, sys
for line in sys.stdin:
    if not line.strip():
        continue
    for e in json.loads(line)["entry"]:
        if e["resource"]["resourceType"] == "Encounter":
            print(e["resource"]["period"]["start"])'
}
expected=$(printf '%s\n' "${want[@]}")
reference=$(env -u TZ "$solent" convert "$tmp"/m?.hl7 2>/dev/null)
check "convert, no TZ: Europe/London's offsets" "$expected" "$(starts <<<"$reference")"
for tz in UTC America/New_York Australia/Sydney; do
    check "convert under TZ=$tz" "$reference" "$(TZ=$tz "$solent" convert "$tmp"/m?.hl7 2>/dev/null)"
    check "convert -c under TZ=$tz" "$reference" \
        "$(TZ=$tz "$solent" convert -c "$tmp/solent.conf" "$tmp"/m?.hl7 2>/dev/null)"
done
# The engine under a foreign TZ writes the same bundles; replay --dry-run too.
chmod 755 "$tmp"
TZ=America/New_York "$solent" run -c "$tmp/solent.conf" "${as_user[@]}" 2>"$tmp/run.log" &
pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
"$solent" send --quiet "127.0.0.1:$port" "$tmp"/m?.hl7 >/dev/null
for _ in $(seq 100); do [ "$(ls "$tmp/data/outbox" 2>/dev/null | wc -l)" -ge 5 ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
run_out=$(for f in $(ls "$tmp/data/outbox" | sort -n); do cat "$tmp/data/outbox/$f"; echo; done)
check "run under TZ=America/New_York" "$expected" "$(starts <<<"$run_out")"
for tz in UTC America/New_York; do
    replayed=$(TZ=$tz "$solent" replay -c "$tmp/solent.conf" --dry-run 1 2 3 4 5 2>/dev/null |
        grep '^{')
    check "replay --dry-run under TZ=$tz" "$expected" "$(starts <<<"$replayed")"
done
finish
