#!/usr/bin/env bash
# Fails when an include points against parsers <- transforms <- routes <- engine,
# or when parsers/ uses anything beyond libc. usage: check_layering.sh SOURCE_ROOT
# With --self-test it first proves, on a scratch tree, that a wrong-way include fails.
set -u

# Folder, then the include prefixes it must not use.
rules=(
    "parsers|transforms/|routes/|engine/|cjson/|event2/|curl/|openssl/|libpq|sqlite3|check.h"
    "transforms|routes/|engine/|event2/|curl/|libpq|sqlite3"
    "routes|engine/|event2/|curl/|libpq|sqlite3"
)

check_tree() {
    local root=$1 bad=0
    for rule in "${rules[@]}"; do
        local dir=${rule%%|*} banned=${rule#*|}
        [ -d "$root/$dir" ] || continue
        local hits
        hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]($banned)" \
            "$root/$dir" --include='*.c' --include='*.h')
        if [ -n "$hits" ]; then
            echo "layering: $dir/ includes what it must not:"
            echo "$hits"
            bad=1
        fi
    done
    return $bad
}

if [ "${1:-}" = "--self-test" ]; then
    shift
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    mkdir -p "$scratch/parsers"
    echo '#include "engine/main.h"' > "$scratch/parsers/x.c"
    if check_tree "$scratch" >/dev/null; then
        echo "layering: self-test failed: a parsers -> engine include went unnoticed"
        exit 1
    fi
fi
check_tree "${1:?source root}" || exit 1
echo "layering: ok"
