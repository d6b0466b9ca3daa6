#!/usr/bin/env bash
# Domain-list benchmark: Virtdeck and virt-manager side by side on libvirt's test driver.
#   benches/domain_list/run.sh
# Environment (all optional):
#   VD_BENCH_SIZES="10 200 1000"      fixture sizes (domains)
#   VD_BENCH_STEADY_SECONDS=30        length of the steady CPU window
#   VD_BENCH_APPS="virtdeck virt-manager"
#   VD_BENCH_VM_TIMEOUT=240           bound on virt-manager's launch → loaded wait (s)
#   VD_BENCH_VD_TIMEOUT=60            bound on Virtdeck's launch → loaded wait (s)
#   VD_BENCH_IDLE_TIMEOUT=30          bound on the loaded → idle wait (s)
#   VD_BENCH_OUT=DIR                  where results.json, results.md and app logs go
#   VIRTDECK_BIN=PATH                 use this binary instead of building target/release/virtdeck
#   VD_BENCH_BUILD_TRIES=3            cargo build attempts (60 s apart) before giving up
# Prints a Markdown table on standard output; progress goes to standard error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=/usr/bin/python3 # Debian's: it has python3-pyatspi and python3-gi

if [ "${VD_BENCH_IN_SESSION:-}" != 1 ]; then
    # --- outside the display session: packages, build, fixtures -------------------
    say() { echo "[bench] $*" >&2; }

    pkgs=(virt-manager gir1.2-gtk-3.0 gir1.2-gtksource-4 gir1.2-libvirt-glib-1.0
        gir1.2-libosinfo-1.0 gir1.2-vte-2.91 gir1.2-gtk-vnc-2.0 python3-libvirt python3-gi
        python3-gi-cairo python3-pyatspi gir1.2-atspi-2.0 at-spi2-core xvfb xauth dbus
        libvirt-clients)
    "$here/../install-missing.sh" "${pkgs[@]}"

    # Virtdeck: cargo rebuilds only what changed.  Other work in the tree may not
    # compile for a moment, so try again before falling back to an existing binary.
    if [ -n "${VIRTDECK_BIN:-}" ]; then
        vd_bin=$(realpath "$VIRTDECK_BIN")
        vd_note="binary given by VIRTDECK_BIN"
    else
        vd_bin=$repo/target/release/virtdeck
        vd_note=
        case " ${VD_BENCH_APPS:-virtdeck} " in *" virtdeck "*)
            tries=${VD_BENCH_BUILD_TRIES:-3}
            for i in $(seq "$tries"); do
                say "cargo build --release (attempt $i of $tries)"
                if (cd "$repo" && cargo build --release) >&2; then
                    vd_note=
                    break
                fi
                vd_note="build failed"
                [ "$i" -lt "$tries" ] && sleep 60
            done
            if [ -n "$vd_note" ] && [ -x "$vd_bin" ]; then
                vd_note="build failed: measured the binary left by an earlier build"
            fi
            ;;
        esac
    fi
    [ -n "$vd_note" ] && say "Virtdeck: $vd_note"

    out=${VD_BENCH_OUT:-$(mktemp -d /tmp/vdbench.XXXXXX)}
    mkdir -p "$out/fixtures" "$out/logs"
    out=$(cd "$out" && pwd)
    for n in ${VD_BENCH_SIZES:-10 200 1000}; do
        f=$out/fixtures/domains-$n.xml
        "$py" "$here/make_fixture.py" "$n" "$f"
        listed=$(virsh -c "test://$f" list --all --name | grep -c . || true)
        [ "$listed" -eq "$n" ] || { say "fixture $f lists $listed domains, not $n"; exit 1; }
    done
    say "fixtures, logs and results in $out"

    export VD_BENCH_IN_SESSION=1 VD_BENCH_OUTDIR=$out VD_BENCH_VIRTDECK_BIN=$vd_bin
    export VD_BENCH_VD_NOTE=$vd_note
    export VD_BENCH_SESSION_PID=$$ # xvfb-run keeps this PID: the session's process tree
    exec xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- "$0"
fi

# --- inside xvfb-run + dbus-run-session ------------------------------------------
out=$VD_BENCH_OUTDIR
unset NO_AT_BRIDGE
/usr/libexec/at-spi-bus-launcher --launch-immediately >"$out/logs/at-spi.log" 2>&1 &
bus_launcher=$!
trap 'kill $bus_launcher 2>/dev/null || true' EXIT
sleep 1

"$py" "$here/measure.py" \
    --fixture-dir "$out/fixtures" \
    --sizes "${VD_BENCH_SIZES:-10 200 1000}" \
    --apps "${VD_BENCH_APPS:-virtdeck virt-manager}" \
    --virtdeck-bin "$VD_BENCH_VIRTDECK_BIN" \
    --steady-seconds "${VD_BENCH_STEADY_SECONDS:-30}" \
    --vm-timeout "${VD_BENCH_VM_TIMEOUT:-240}" \
    --vd-timeout "${VD_BENCH_VD_TIMEOUT:-60}" \
    --idle-timeout "${VD_BENCH_IDLE_TIMEOUT:-30}" \
    --logdir "$out/logs" \
    --json "$out/results.json" | tee "$out/results.md"
if [ -n "${VD_BENCH_VD_NOTE:-}" ]; then
    echo "- Virtdeck: $VD_BENCH_VD_NOTE" | tee -a "$out/results.md"
fi
echo "[bench] results in $out/results.md and $out/results.json" >&2
