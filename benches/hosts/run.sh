#!/usr/bin/env bash
# Many-hosts benchmark: Virtdeck and virt-manager connected to ten hosts of 1000 domains.
#   benches/hosts/run.sh
# Environment (all optional):
#   VD_BENCH_HOSTS=10                 hosts of the remote-protocol row
#   VD_BENCH_DOMAINS=1000             domains per host
#   VD_BENCH_SSH_HOSTS=2              hosts of the SSH row (daemons in namespaces,
#                                     tests/remote/host.sh); 0 leaves the row out
#   VD_BENCH_SSH_DOMAINS=1000         domains per SSH host
#   VD_BENCH_STEADY_SECONDS=30        length of the steady CPU window
#   VD_BENCH_APPS="virtdeck virt-manager"
#   VD_BENCH_VM_TIMEOUT=300           bound on virt-manager's launch → all listed wait (s)
#   VD_BENCH_VD_TIMEOUT=60            bound on Virtdeck's launch → all listed wait (s)
#   VD_BENCH_OUT=DIR                  where results.json, results.md and app logs go
#   VIRTDECK_BIN=PATH                 use this binary instead of building target/release/virtdeck
# Prints a Markdown table on standard output; progress goes to standard error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=/usr/bin/python3 # Debian's: it has python3-pyatspi, python3-gi and python3-libvirt

if [ "${VD_BENCH_IN_SESSION:-}" != 1 ]; then
    say() { echo "[bench] $*" >&2; }
    pkgs=(virt-manager gir1.2-gtk-3.0 gir1.2-gtksource-4 gir1.2-libvirt-glib-1.0
        gir1.2-libosinfo-1.0 gir1.2-vte-2.91 gir1.2-gtk-vnc-2.0 python3-libvirt python3-gi
        python3-gi-cairo python3-pyatspi gir1.2-atspi-2.0 at-spi2-core xvfb xauth dbus
        libvirt-clients)
    "$here/../install-missing.sh" "${pkgs[@]}"
    "$repo/build-aux/ensure-libvirt.sh" >&2

    if [ -n "${VIRTDECK_BIN:-}" ]; then
        vd_bin=$(realpath "$VIRTDECK_BIN")
    else
        vd_bin=$repo/target/release/virtdeck
        say "cargo build --release"
        (cd "$repo" && cargo build --release) >&2
    fi

    hosts=${VD_BENCH_HOSTS:-10}
    count=${VD_BENCH_DOMAINS:-1000}
    ssh_hosts=${VD_BENCH_SSH_HOSTS:-2}
    ssh_count=${VD_BENCH_SSH_DOMAINS:-1000}
    # Under /tmp: the namespace hosts see this machine's /tmp, so their daemons read the
    # same fixture files.
    out=${VD_BENCH_OUT:-$(mktemp -d /tmp/vdbench-hosts.XXXXXX)}
    mkdir -p "$out/fixtures" "$out/logs"
    out=$(cd "$out" && pwd)
    # The last host of each row is the shared `…:///default` instance measure.py fills.
    "$py" "$here/make_hosts.py" $((hosts - 1)) "$count" "$out/fixtures"
    "$py" -c 'import sys; sys.path.insert(0, sys.argv[1]); import make_hosts as m
open(sys.argv[2], "w").write(m.fixture(0, 10))' "$here" "$out/fixtures/warm-up.xml"
    listed=$(virsh -c "test+unix://$out/fixtures/host-01.xml" list --all --name | grep -c . || true)
    [ "$listed" -eq "$count" ] || { say "host-01.xml lists $listed domains, not $count"; exit 1; }

    rows=$("$py" - "$out/fixtures" "$hosts" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
uris = [f"test+unix://{d}/host-{i:02d}.xml" for i in range(1, n)] + ["test+unix:///default"]
print(json.dumps({"row": f"{n} × test+unix", "uris": uris, "shared": uris[-1]}))
PY
)
    ssh_up=()
    cleanup() {
        for name in "${ssh_up[@]}"; do "$repo/tests/remote/host.sh" down "$name" >&2 || true; done
    }
    trap cleanup EXIT
    if [ "$ssh_hosts" -gt 0 ]; then
        "$py" "$here/make_hosts.py" $((ssh_hosts - 1)) "$ssh_count" "$out/fixtures/ssh"
        uris=()
        for i in $(seq "$ssh_hosts"); do
            name=vdbh$i
            ssh_up+=("$name")
            say "namespace host $name"
            "$repo/tests/remote/host.sh" up "$name" $((200 + i)) >/dev/null
            # shellcheck disable=SC1090
            . "/run/vd-remote/$name/env"
            holders="${holders:-} $HOLDER_PID"
            query="keyfile=$KEY&no_verify=1&no_tty=1"
            if [ "$i" -lt "$ssh_hosts" ]; then
                uris+=("test+ssh://root@$ADDRESS$out/fixtures/ssh/host-$(printf %02d "$i").xml?$query")
            else
                uris+=("test+ssh://root@$ADDRESS/default?$query")
            fi
        done
        rows="$rows
$("$py" -c 'import json, sys; print(json.dumps({"row": f"{len(sys.argv) - 1} × test+ssh (namespaces)", "uris": sys.argv[1:], "shared": sys.argv[-1]}))' "${uris[@]}")"
    fi
    "$py" -c 'import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
rows[0]["count"] = int(sys.argv[1])
if len(rows) > 1:
    rows[1]["count"] = int(sys.argv[2])
json.dump(rows, open(sys.argv[3], "w"), indent=2)' "$count" "$ssh_count" "$out/rows.json" <<<"$rows"
    say "fixtures, logs and results in $out"

    export VD_BENCH_IN_SESSION=1 VD_BENCH_OUTDIR=$out VD_BENCH_VIRTDECK_BIN=$vd_bin
    export VD_BENCH_HOLDERS=${holders:-}
    xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- "$0"
    exit
fi

# --- inside xvfb-run + dbus-run-session ------------------------------------------
out=$VD_BENCH_OUTDIR
unset NO_AT_BRIDGE
/usr/libexec/at-spi-bus-launcher --launch-immediately >"$out/logs/at-spi.log" 2>&1 &
bus_launcher=$!
trap 'kill $bus_launcher 2>/dev/null || true' EXIT
sleep 1

"$py" "$here/measure.py" \
    --rows "$out/rows.json" \
    --apps "${VD_BENCH_APPS:-virtdeck virt-manager}" \
    --virtdeck-bin "$VD_BENCH_VIRTDECK_BIN" \
    --warm-up-fixture "$out/fixtures/warm-up.xml" \
    --steady-seconds "${VD_BENCH_STEADY_SECONDS:-30}" \
    --vm-timeout "${VD_BENCH_VM_TIMEOUT:-300}" \
    --vd-timeout "${VD_BENCH_VD_TIMEOUT:-60}" \
    --logdir "$out/logs" \
    --json "$out/results.json" | tee "$out/results.md"
echo "[bench] results in $out/results.md and $out/results.json" >&2
