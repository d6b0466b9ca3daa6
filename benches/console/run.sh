#!/usr/bin/env bash
# Console benchmark: Virtdeck's console window and gvncviewer (gtk-vnc) side by side on
# the painting test guest at 1920×1080 under qemu:///session, on a server sending a
# whole new screen at QEMU's pace, and on the painting guest on a remote host reached
# over SSH (tests/remote/host.sh; root only).
#   benches/console/run.sh
# Environment (all optional):
#   VD_BENCH_SECONDS=20          steady CPU window per viewer (s)
#   VD_BENCH_KEYS=100            key presses per viewer for the latency
#   VD_BENCH_APPS="virtdeck gvncviewer"   (also: virtdeck-fit, scaled to its window)
#   VD_BENCH_SCENARIOS="1080 64 paced remote"   one scenario each: the guest's repainted
#                                band height, paced (pacer.py: a new screen every 30 ms), or
#                                remote (the guest on a remote host, both viewers over SSH)
#   VD_BENCH_OUT=DIR             where results.md, results.json and logs go
#   VIRTDECK_BIN=PATH            use this binary instead of building target/release/virtdeck
# Prints a Markdown table on standard output; progress goes to standard error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=/usr/bin/python3 # Debian's: tests/ui/guest.py imports pyatspi through vdui

if [ "${VD_BENCH_IN_SESSION:-}" != 1 ]; then
    # --- outside the display session: packages, build, guest image, cleanup ------------
    say() { echo "[bench] $*" >&2; }
    pkgs=(gvncviewer xdotool xvfb xauth dbus libx11-6 libxtst6 python3-pyatspi libvirt-clients
        openssh-client openssh-server)
    "$here/../install-missing.sh" "${pkgs[@]}"
    virsh -c qemu:///session uri >/dev/null 2>&1 || "$repo/build-aux/ensure-libvirt.sh" >&2

    if [ -n "${VIRTDECK_BIN:-}" ]; then
        vd_bin=$(realpath "$VIRTDECK_BIN")
    else
        vd_bin=$repo/target/release/virtdeck
        say "cargo build --release"
        (cd "$repo" && cargo build --release) >&2
    fi
    say "building (or reusing) the test guest"
    "$repo/tests/guest/build.sh" >/dev/null

    out=${VD_BENCH_OUT:-$(mktemp -d /tmp/vdconsole.XXXXXX)}
    mkdir -p "$out/logs"
    out=$(cd "$out" && pwd)
    name="vdbench-$$-console"
    # Whatever happens inside the session, the guest goes. Retried for 30 s: libvirtd may
    # be restarting (other work on the machine restarts it) when the run ends.
    cleanup() {
        local v=(virsh -c qemu:///session) i
        for i in $(seq 30); do
            "${v[@]}" destroy "$name" >/dev/null 2>&1 || true
            "${v[@]}" undefine "$name" >/dev/null 2>&1 || true
            if "${v[@]}" uri >/dev/null 2>&1 && ! "${v[@]}" domstate "$name" >/dev/null 2>&1; then
                return 0
            fi
            sleep 1
        done
        say "could not remove the guest $name"
    }
    trap cleanup EXIT
    say "logs and results in $out"
    status=0
    VD_BENCH_IN_SESSION=1 VD_BENCH_OUTDIR=$out VD_BENCH_VIRTDECK_BIN=$vd_bin VD_BENCH_NAME=$name \
        timeout --kill-after=20 900 \
        xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- "$0" || status=$?
    say "results in $out/results.md and $out/results.json"
    exit $status
fi

# --- inside xvfb-run + dbus-run-session ------------------------------------------------
out=$VD_BENCH_OUTDIR
"$py" "$here/measure.py" \
    --virtdeck-bin "$VD_BENCH_VIRTDECK_BIN" \
    --name "$VD_BENCH_NAME" \
    --apps "${VD_BENCH_APPS:-virtdeck gvncviewer}" \
    --scenarios "${VD_BENCH_SCENARIOS:-1080 64 paced remote}" \
    --seconds "${VD_BENCH_SECONDS:-20}" \
    --keys "${VD_BENCH_KEYS:-100}" \
    --outdir "$out" | tee "$out/results.md"
