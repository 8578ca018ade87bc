#!/usr/bin/env bash
# Drives `solent bench store` and `solent bench fsync` briefly: each prints its figures,
# the store benchmark measures a new store and leaves nothing behind, and bad arguments
# are refused with a reason. Figures only: no assertion on speed.
# usage: test_bench_cli.sh SOLENT SOURCE_ROOT
set -u
solent=$1
root=$2
. "$(dirname "$0")/check.sh"
sample=$root/conf/samples/adt_a01.hl7
mkdir "$tmp/d"
out=$("$solent" bench store "$tmp/d" "$sample" --seconds 0.2)
check "store: exit status" 0 $?
# four lines, each with a positive rate: the store and SQLite alone, batches of 1 and 16
check "store: lines" "batches of 1|batches of 16|SQLite alone, batches of 1|SQLite alone, batches of 16" \
    "$(sed -n 's/^bench store: \(.*batches of [0-9]*\): [1-9][0-9]* messages\/s.*/\1/p' <<<"$out" | paste -sd'|')"
check "store: nothing left behind" "" "$(ls -A "$tmp/d")"
touch "$tmp/d/bench-store.db"
err=$("$solent" bench store "$tmp/d" "$sample" --seconds 0.2 2>&1 >/dev/null)
check "store: an existing store is refused" "1 $tmp/d/bench-store.db exists: a new store is measured" \
    "$? ${err#solent bench: }"
check "store: the existing file is kept" "bench-store.db" "$(ls -A "$tmp/d")"
rm "$tmp/d/bench-store.db"
printf 'MSH|^~\\&|A|B|C|D|20261129||ZZZ^Z01|1|P|2.5\rPID|1||X\r' > "$tmp/z.hl7"
err=$("$solent" bench store "$tmp/d" "$tmp/z.hl7" 2>&1 >/dev/null)
check "store: a message that does not convert" "1 $tmp/z.hl7 does not convert" "$? ${err#solent bench: }"
printf 'not hl7\r' > "$tmp/bad.hl7"
err=$("$solent" bench store "$tmp/d" "$tmp/bad.hl7" 2>&1 >/dev/null)
check "store: no message" "1 no message in $tmp/bad.hl7" "$? ${err#solent bench: }"
err=$("$solent" bench store "$tmp/d" "$tmp/missing.hl7" 2>&1 >/dev/null)
check "store: a missing file" "1 $tmp/missing.hl7: No such file or directory" "$? ${err#solent bench: }"
check "store: nothing made by the failures" "" "$(ls -A "$tmp/d")"
out=$("$solent" bench fsync "$tmp/d" --seconds 0.2)
check "fsync: a positive rate" 1 "$(grep -cE '^bench fsync: .*: [1-9][0-9]* fdatasync/s' <<<"$out")"
check "fsync: nothing left behind" "" "$(ls -A "$tmp/d")"
finish
