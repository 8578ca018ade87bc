#!/bin/bash
# A throwaway PostgreSQL cluster for the tests: initdb in a temporary directory, as an
# unprivileged user (postgres when started as root), on 127.0.0.1 and a free port, a role
# "solent" with a password and a database "solent".
#
#   tests/pg/cluster.sh start DIR    makes and starts it; prints the environment for the tests:
#                                      SOLENT_TEST_PG_DSN=...  SOLENT_TEST_PG_PASSWORD_FILE=...
#   tests/pg/cluster.sh stop DIR     stops it and removes DIR
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?a directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "cluster.sh: PostgreSQL's initdb not found (apt-get install postgresql)" >&2; exit 1; }
as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    chmod 711 "$dir" # traversed to the password file by the engines under test
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    as "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
CONF
    as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
    as "$bin/psql" -h "$dir" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE solent LOGIN PASSWORD '$password'" \
        -c "CREATE DATABASE solent OWNER solent" >/dev/null
    umask 077
    printf '%s\n' "$password" >"$dir/password"
    [ "$(id -u)" -eq 0 ] && chmod 644 "$dir/password" # the engines under test run as nobody
    echo "SOLENT_TEST_PG_DSN='host=127.0.0.1 port=$port dbname=solent user=solent'"
    echo "SOLENT_TEST_PG_PASSWORD_FILE=$dir/password"
    echo "SOLENT_TEST_PG_ADMIN='-h $dir -p $port -U postgres'"
    echo "SOLENT_TEST_PG_DIR=$dir"
    ;;
stop)
    [ -d "$dir/data" ] && as "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "cluster.sh: start or stop" >&2
    exit 2
    ;;
esac
