#!/usr/bin/env bash
# Drives `solent route`: routes by type, listener and field predicate, the AR code when
# nothing matches (200 unknown type, 201 unknown trigger), and the park policy.
# usage: test_route_cli.sh SOLENT SOURCE_ROOT
set -u
solent=$1
root=$2
. "$(dirname "$0")/check.sh"
cat > "$tmp/r.conf" <<'CONF'
[route inpatients]
listeners = pas
type = ADT^*
where = PV1-2 = I
destinations = phr, copy
[route labs]
type = ORU^R01
sending_app = LAB
destinations = phr
[destination phr]
kind = fhir
url = https://phr.example/fhir
[destination copy]
CONF
printf 'MSH|^~\\&|PAS|RHM|S|T|1||ADT^A01|1|P|2.5\rPID|1||X\rPV1|1|I\r' > "$tmp/in.hl7"
printf 'MSH|^~\\&|PAS|RHM|S|T|1||ADT^A01|1|P|2.5\rPID|1||X\rPV1|1|O\r' > "$tmp/out.hl7"
printf 'MSH|^~\\&|LAB|RHM|S|T|1||ORU^R30|1|P|2.5\rPID|1||X\r' > "$tmp/r30.hl7"
printf 'MSH|^~\\&|LAB|RHM|S|T|1||VXU^V04|1|P|2.5\rPID|1||X\r' > "$tmp/vxu.hl7"
check "inpatient" "$tmp/in.hl7: message 1: route inpatients -> fhir -> phr, copy" \
    "$("$solent" route -c "$tmp/r.conf" --listener pas "$tmp/in.hl7")"
check "wrong listener" "$tmp/in.hl7: message 1: no route: AR 200" \
    "$("$solent" route -c "$tmp/r.conf" --listener lab "$tmp/in.hl7")"
check "predicate" "$tmp/out.hl7: message 1: no route: AR 201" \
    "$("$solent" route -c "$tmp/r.conf" --listener pas "$tmp/out.hl7")"
check "unknown trigger" "$tmp/r30.hl7: message 1: no route: AR 201" \
    "$("$solent" route -c "$tmp/r.conf" "$tmp/r30.hl7")"
check "unknown type" "$tmp/vxu.hl7: message 1: no route: AR 200" \
    "$("$solent" route -c "$tmp/r.conf" "$tmp/vxu.hl7")"
check "exit status" 1 "$("$solent" route -c "$tmp/r.conf" "$tmp/vxu.hl7" >/dev/null 2>&1; echo $?)"
printf '[engine]\non_no_match = park\n' | cat - "$tmp/r.conf" > "$tmp/park.conf"
check "park" "$tmp/vxu.hl7: message 1: no route: parked (accepted, stored, not delivered)" \
    "$("$solent" route -c "$tmp/park.conf" "$tmp/vxu.hl7")"
check "shipped table" "$root/conf/samples/oru_r01.hl7: message 1: route oru -> fhir -> local" \
    "$("$solent" route -c "$root/conf/solent.conf" "$root/conf/samples/oru_r01.hl7")"
finish
