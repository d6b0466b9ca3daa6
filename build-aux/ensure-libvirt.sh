#!/usr/bin/env bash
# Makes sure a libvirt daemon answers for qemu:///session (and, as root, qemu:///system).
# On a host with systemd the daemons are socket-activated and nothing is done here. Without
# systemd (containers, CI), root's libvirtd is started by hand: QEMU is set to run as root
# without mount namespaces (needed there), then virtlogd and libvirtd are started.
# Fails loudly when no daemon answers in the end.
set -euo pipefail

if ! command -v virsh >/dev/null; then
    echo "virsh is missing: run build-aux/install-deps.sh first" >&2
    exit 1
fi

answers() { virsh -c qemu:///session uri >/dev/null 2>&1; }

# Polls up to $1 tenths of a second for the daemon to answer.
wait_answer() {
    local i
    for i in $(seq "$1"); do
        answers && return 0
        sleep 0.1
    done
    return 1
}

if ! answers && [ "$(id -u)" -eq 0 ] && [ ! -d /run/systemd/system ]; then
    conf=/etc/libvirt/qemu.conf
    # swtpm (emulated TPMs) runs as root too, like QEMU: its certificate authority's files
    # then have one owner, whichever daemon made them first.
    for setting in 'user = "root"' 'group = "root"' 'namespaces = []' 'swtpm_user = "root"' \
        'swtpm_group = "root"'; do
        key=${setting%% =*}
        if ! grep -q "^${key} = " "$conf" 2>/dev/null; then
            echo "$setting" >>"$conf"
        fi
    done
    pgrep -x virtlogd >/dev/null || virtlogd -d
    if pgrep -x libvirtd >/dev/null; then wait_answer 100 || true; fi
    if ! answers && pgrep -x libvirtd >/dev/null; then
        # A daemon that neither answers nor goes away (stuck stopping): replace it.
        pkill -KILL -x libvirtd || true
        for _ in $(seq 50); do pgrep -x libvirtd >/dev/null || break; sleep 0.1; done
    fi
    pgrep -x libvirtd >/dev/null || libvirtd -d
    wait_answer 150 || true
fi

if ! out=$(virsh -c qemu:///session uri 2>&1); then
    echo "qemu:///session does not answer: $out" >&2
    exit 1
fi
echo "libvirt: $out answers ($(virsh -c qemu:///session version --daemon 2>/dev/null | grep -i 'running against daemon' || true))"
