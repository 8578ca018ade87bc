#!/usr/bin/env bash
# Drives the real `solent parse` binary: values by path, the JSON tree,
# errors by HL7 position, charsets, batches, MLLP-framed files, stdin,
# directories and exit codes. usage: test_parse_cli.sh SOLENT DATA_DIR
set -u
solent=$1
data=$2
. "$(dirname "$0")/check.sh"

adt=$data/adt_a01_escapes.hl7

# Values by path: decoded, repetitions, components, explicit null, absent.
out=$("$solent" parse "$adt" --get PID-3[1].1 --get PID-3[2].4 --get PID-5.1 --get PID-5.2 \
    --get PID-5.3 --get PID-13 --get PID-99 --get NTE-3 --get MSH-9.3 --get PV1-3.2)
check "get values" $'9434765919\nRHM\nO^Brien-Smith\nSe\u00e1n\n&Q\n""\n\nFirst line\\nSecond line | pipe\nADT_A01\nBED2' "$out"
check "get --raw" 'O\S\Brien-Smith' "$("$solent" parse --raw "$adt" --get PID-5.1)"
check "get composite stays raw" 'O\S\Brien-Smith^Se\XC3A1\n^\T\Q^^Mr' "$("$solent" parse "$adt" --get PID-5)"

# The JSON tree: positions, decoding, null.
tree=$("$solent" parse --compact "$adt")
check "tree" "PID O^Brien-Smith None RHM 4" "$(printf '%s' "$tree" | /usr/bin/python3 -c '
import json, sys
t = json.load(sys.stdin)["segments"]
pid = t[2]
print(pid["segment"], pid["fields"]["5"][0][0], pid["fields"]["13"][0][0], pid["fields"]["3"][1][3], len(t[3]["fields"]["3"][0]))')"

# Errors: exit 1 and one line naming the position.
printf 'MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5||||||UNICODE UTF-8\rPID|1||X||Caf\xe9\r' > "$tmp/bad.hl7"
err=$("$solent" parse "$tmp/bad.hl7" 2>&1 >/dev/null)
check "bad utf-8 exit" 1 "$("$solent" parse "$tmp/bad.hl7" >/dev/null 2>&1; echo $?)"
at=$(/usr/bin/python3 -c 'import sys; print(open(sys.argv[1], "rb").read().index(b"\xe9"))' "$tmp/bad.hl7")
check "bad utf-8 message" "$tmp/bad.hl7: message 1: PID-5: byte 0xE9 is not valid UNICODE UTF-8 (HL7 102 Data type error, byte $at)" "$err"

# Charset conversion from MSH-18 and from --charset when MSH-18 is empty.
printf 'MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5||||||8859/1\rPID|1||X||M\xfcller\r' > "$tmp/latin1.hl7"
check "8859/1" "Müller" "$("$solent" parse "$tmp/latin1.hl7" --get PID-5)"
printf 'MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1||X||M\xfcller\r' > "$tmp/nocs.hl7"
check "fallback" "Müller" "$("$solent" parse --charset 8859/1 "$tmp/nocs.hl7" --get PID-5)"
check "no fallback" 1 "$("$solent" parse "$tmp/nocs.hl7" >/dev/null 2>&1; echo $?)"

# Batches with counts, MLLP-framed files, stdin.
m1='MSH|^~\&|A|B|C|D|1||ADT^A01|1|P|2.5\rPID|1||one\r'
m2='MSH|^~\&|A|B|C|D|1||ADT^A01|2|P|2.5\rPID|1||two\r'
printf "FHS|^~\\\\&\rBHS|^~\\\\&\r$m1$m2""BTS|2\rFTS|1\r" > "$tmp/batch.hl7"
check "batch" $'one\ntwo' "$("$solent" parse "$tmp/batch.hl7" --get PID-3 2>/dev/null)"
printf "BHS|^~\\\\&\r$m1""BTS|2\r" > "$tmp/badbatch.hl7"
at=$(/usr/bin/python3 -c 'import sys; print(open(sys.argv[1], "rb").read().index(b"BTS"))' "$tmp/badbatch.hl7")
check "batch count" "$tmp/badbatch.hl7: message 1: BTS-1: BTS-1 count does not match: 1 messages found (HL7 102 Data type error, byte $at)" \
    "$("$solent" parse "$tmp/badbatch.hl7" 2>&1 >/dev/null)"
printf "\x0b$m1\x1c\r\x0b$m2\x1c\r" > "$tmp/framed.hl7"
check "mllp file" $'one\ntwo' "$("$solent" parse "$tmp/framed.hl7" --get PID-3 2>/dev/null)"
check "stdin" "one" "$(printf "$m1" | "$solent" parse - --get PID-3)"

# A directory: every .hl7 below it, a summary, exit 1 when any is rejected.
mkdir -p "$tmp/dir/sub" && cp "$tmp/latin1.hl7" "$tmp/dir/sub/" && cp "$tmp/bad.hl7" "$tmp/dir/"
cp "$adt" "$tmp/dir/a.hl7" && echo "not a message" > "$tmp/dir/notes.txt"
check "dir summary" "summary: 3 files, 3 messages: 2 parsed, 1 rejected, 0 warnings" \
    "$("$solent" parse "$tmp/dir" --get MSH-10 2>&1 >/dev/null | tail -1)"
check "dir exit" 1 "$("$solent" parse "$tmp/dir" >/dev/null 2>&1; echo $?)"

# Usage errors exit 2.
check "bad path" 2 "$("$solent" parse --get PID-x "$adt" >/dev/null 2>&1; echo $?)"
check "no file" 2 "$("$solent" parse >/dev/null 2>&1; echo $?)"
check "missing file" 1 "$("$solent" parse "$tmp/none.hl7" >/dev/null 2>&1; echo $?)"
check "unknown command" 2 "$("$solent" frobnicate >/dev/null 2>&1; echo $?)"

finish
