#!/usr/bin/env bash
# Makes sure a libvirt daemon answers for the tests: the per-user QEMU session, which
# libvirt starts on demand. Fails loudly when it cannot.
set -euo pipefail

if ! command -v virsh >/dev/null; then
    echo "virsh is missing: run build-aux/install-deps.sh test first" >&2
    exit 1
fi
if ! out=$(virsh -c qemu:///session uri 2>&1); then
    echo "qemu:///session does not answer: $out" >&2
    exit 1
fi
echo "libvirt: $out answers ($(virsh -c qemu:///session version --daemon | grep -i 'running hypervisor' || true))"
