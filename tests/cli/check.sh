# Shared by the CLI test scripts (sourced): a scratch directory removed on exit, and
# check NAME EXPECTED ACTUAL counting passes and printing each failure; finish reports
# the counts and sets the exit status.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { # name expected actual
    if [ "$2" == "$3" ]; then passed=$((passed + 1)); else
        failed=$((failed + 1))
        printf 'FAIL %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3"
    fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# Started as root (CI), solent run needs a user to become; the test's directory must let
# that user through (mktemp makes it 0700 for root).
as_user=()
if [ "$(id -u)" -eq 0 ]; then
    as_user=(--user nobody)
fi
