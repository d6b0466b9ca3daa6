#!/usr/bin/env bash
# Everything `make test` checks, in order; every step runs, and the script fails when any
# step failed.
set -uo pipefail
cd "$(dirname "$0")/.."

# A clean checkout builds once: incremental caches would only take disk. Say how much
# disk there is, since a full disk fails every later step in confusing ways.
if [ "${CI:-}" = true ]; then
    export CARGO_INCREMENTAL=0
fi
df -h . | tail -n 1 | awk '{print "disk: " $4 " free of " $2}'

passed=0
failed=0
failures=()
step() {
    local name=$1
    shift
    echo
    echo "=== $name: $*"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== FAILED: $name"
    fi
}

step "libvirt" build-aux/ensure-libvirt.sh
step "format" cargo fmt --check
step "lint" cargo clippy --locked --all-targets -- -D warnings
step "unit and integration tests" cargo test --locked --no-fail-fast
step "vnc-rs (vendor/vnc-rs)" cargo test --locked -p vnc-rs --lib
step "UI tests" tests/ui/session.sh
step "install and validate" build-aux/validate-install.sh

echo
if [ $failed -gt 0 ]; then
    echo "failed steps: ${failures[*]}"
fi
echo "steps: $passed passed, $failed failed"
[ $failed -eq 0 ]
