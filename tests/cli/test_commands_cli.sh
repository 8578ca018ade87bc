#!/usr/bin/env bash
# Every command answers -h/--help and `solent help COMMAND` with its usage on stdout, exit 0,
# and an unknown option with its usage on stderr, exit 2; check-config resolves every secret
# and file the configuration names (file:line: problem) and warns of a listener open beyond
# this host; solent run makes an existing data directory 0700.
# usage: test_commands_cli.sh SOLENT SOURCE_ROOT
set -u
solent=$(readlink -f "$1")
root=$2
. "$(dirname "$0")/check.sh"
cd "$tmp"
for c in run send messages status replay parse convert check-config route bench; do
    for h in -h --help; do
        out=$("$solent" "$c" "$h" 2>"$tmp/err"); rc=$?
        check "$c $h: exit 0" 0 "$rc"
        check "$c $h: usage on stdout" "usage: solent $c" "${out:0:$((14 + ${#c}))}"
        check "$c $h: nothing on stderr" "" "$(cat "$tmp/err")"
    done
    check "solent help $c is $c --help" "$("$solent" "$c" --help)" "$("$solent" help "$c")"
    err=$("$solent" "$c" --no-such-option 2>&1 >/dev/null); rc=$?
    check "$c --no-such-option: exit 2" 2 "$rc"
    check "$c --no-such-option: usage on stderr" 1 "$(grep -c "usage: solent $c" <<<"$err")"
done
check "solent -h" 0 "$("$solent" -h >/dev/null; echo $?)"
check "solent help NOPE" 2 "$("$solent" help nope >/dev/null 2>&1; echo $?)"

# check-config resolves secrets and files, and says where
write() { printf '%s\n' "$@" >"$tmp/s.conf"; }
write "[destination phr]" "kind = fhir" "url = https://phr.example/fhir" "auth = bearer" \
      "token = env:SOLENT_TEST_UNSET_TOKEN" "[route r]" "destinations = phr"
unset SOLENT_TEST_UNSET_TOKEN
check "an unset env: secret" \
    "$tmp/s.conf:5: [destination phr] token: environment variable SOLENT_TEST_UNSET_TOKEN is not set" \
    "$("$solent" check-config -c "$tmp/s.conf" 2>&1)"
check "exit 1" 1 "$("$solent" check-config -c "$tmp/s.conf" >/dev/null 2>&1; echo $?)"
check "set, it passes" 0 "$(SOLENT_TEST_UNSET_TOKEN=t "$solent" check-config -c "$tmp/s.conf" >/dev/null 2>&1; echo $?)"
write "[admin]" "port = 9575" "token = file:$tmp/none/token"
check "an unreadable file: secret" \
    "$tmp/s.conf:3: [admin] token: $tmp/none/token: No such file or directory" \
    "$("$solent" check-config -c "$tmp/s.conf" 2>&1)"
head -c 9000 /dev/zero | tr '\0' a >"$tmp/long"
chmod 600 "$tmp/long"
write "[admin]" "port = 9575" "token = file:$tmp/long"
check "a token too long is refused, not cut" \
    "$tmp/s.conf:3: [admin] token: $tmp/long holds more than 8191 bytes" \
    "$("$solent" check-config -c "$tmp/s.conf" 2>&1)"
head -c 5000 /dev/zero | tr '\0' b >"$tmp/jwt"
chmod 600 "$tmp/jwt"
write "[admin]" "port = 9575" "token = file:$tmp/jwt"
check "a 5,000-byte token is taken whole" 0 "$("$solent" check-config -c "$tmp/s.conf" >/dev/null 2>&1; echo $?)"
write "[destination phr]" "kind = fhir" "url = https://phr.example/fhir" \
      "ca_file = $tmp/no-ca.pem" "[route r]" "destinations = phr"
check "a file the engine would open" \
    "$tmp/s.conf:4: [destination phr] ca_file: $tmp/no-ca.pem: No such file or directory" \
    "$("$solent" check-config -c "$tmp/s.conf" 2>&1)"
write "[listener pas]" "bind = 0.0.0.0" "routes = r" "[route r]" "destinations = d" "[destination d]"
check "plain MLLP beyond this host: a warning, exit 0" \
    "$tmp/s.conf:2: warning: [listener pas] bind = 0.0.0.0: MLLP without TLS, open to every host that can reach this one" \
    "$("$solent" check-config -c "$tmp/s.conf" 2>&1 >/dev/null)"
check "the warning does not fail the check" 0 "$("$solent" check-config -c "$tmp/s.conf" >/dev/null 2>&1; echo $?)"

# solent run: an existing data directory open to others is made 0700
mkdir -m 755 "$tmp/data"
port=$((20000 + RANDOM % 20000))
write "[engine]" "data_dir = $tmp/data" "[store]" "path = $tmp/data/solent.db" \
      "[listener pas]" "port = $port" "routes = r" "[route r]" "destinations = d" \
      "[destination d]" "path = $tmp/data/outbox"
chmod 755 "$tmp"
"$solent" run -c "$tmp/s.conf" "${as_user[@]}" 2>"$tmp/run.log" &
pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
check "the data directory made 0700" 700 "$(stat -c %a "$tmp/data")"
check "and the change logged" 1 "$(grep -c 'event=directory_tightened .*mode_was=755 mode=700' "$tmp/run.log")"
finish
