#!/usr/bin/env bash
# Performance benchmark: Virtdeck's CPU use with one running machine (a diskless TCG
# guest idling in SeaBIOS on qemu:///session) while its details show the Details page,
# then the Performance page (four graphs drawing every sample), then Details again; and
# with 200 running machines (test driver) in the list, the CPU history column on and off.
#   benches/performance/run.sh
# Environment (all optional):
#   VD_BENCH_SECONDS=30      length of each measuring window
#   VD_BENCH_INTERVAL=1      statistics interval in seconds (the app's default is 3)
#   VD_BENCH_RUNNING=200     running machines of the list part
#   VIRTDECK_BIN=PATH        the binary (default: target/release/virtdeck if built, else
#                            target/debug/virtdeck)
# Prints the figures; asserts nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ "${VD_BENCH_IN_SESSION:-}" != 1 ]; then
    export VD_BENCH_IN_SESSION=1
    "$repo/build-aux/ensure-libvirt.sh" >&2
    exec xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- "$0" "$@"
fi

/usr/libexec/at-spi-bus-launcher --launch-immediately &
launcher=$!
trap 'kill $launcher 2>/dev/null || true' EXIT
export GTK_A11Y=atspi NO_AT_BRIDGE=0 GSK_RENDERER=${GSK_RENDERER:-cairo}
if [ -z "${VIRTDECK_BIN:-}" ]; then
    if [ -x "$repo/target/release/virtdeck" ]; then
        export VIRTDECK_BIN=$repo/target/release/virtdeck
    else
        export VIRTDECK_BIN=$repo/target/debug/virtdeck
    fi
fi
/usr/bin/python3 "$here/bench.py"
