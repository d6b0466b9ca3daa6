#!/usr/bin/env bash
# Full clone of a machine with one 1 GiB raw disk full of data, in a directory pool on
# qemu:///session: Virtdeck's worker (benches/clone_vm.rs) and virt-clone (virtinst) in the
# same run, each twice, wall time and the client's peak RSS (getrusage of the child). In both the
# copy itself is done by libvirtd (virStorageVolCreateXMLFrom); the client waits.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
URI=qemu:///session
TAG=vdbench-clone-$$
DIR=/var/tmp/$TAG
virsh() { command virsh -c "$URI" "$@"; }

cleanup() {
    for d in "$TAG-src" "$TAG-vd1" "$TAG-vd2" "$TAG-vc1" "$TAG-vc2"; do
        virsh undefine "$d" >/dev/null 2>&1 || true
    done
    virsh pool-destroy "$TAG" >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT

build-aux/ensure-libvirt.sh >/dev/null
command -v virt-clone >/dev/null || { echo "virt-clone (virtinst) is needed" >&2; exit 1; }
# The debug build: the client only waits for libvirtd, and a release build of the crate
# takes long on a small machine. PROFILE=release measures that one.
if [ "${PROFILE:-debug}" = release ]; then
    cargo bench --no-run --bench clone_vm >/dev/null 2>&1
    BIN=$(ls -t "$CARGO_TARGET_DIR"/release/deps/clone_vm-* | grep -v '\.d$' | head -n 1)
else
    cargo test --no-run --bench clone_vm >/dev/null 2>&1
    BIN=$(ls -t "$CARGO_TARGET_DIR"/debug/deps/clone_vm-* | grep -v '\.d$' | head -n 1)
fi

mkdir -p "$DIR"
virsh pool-create-as "$TAG" dir --target "$DIR" >/dev/null
dd if=/dev/urandom of="$DIR/src.img" bs=1M count=1024 status=none
virsh pool-refresh "$TAG" >/dev/null
cat >"$DIR/src.xml" <<XML
<domain type='qemu'>
  <name>$TAG-src</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$DIR/src.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
  </devices>
</domain>
XML
virsh define "$DIR/src.xml" >/dev/null

measure() { # command…: prints "seconds peak_rss_kib" of the command (and its children)
    /usr/bin/python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
elapsed = time.monotonic() - start
if code != 0:
    sys.exit(f"{sys.argv[1]} failed with {code}")
print(f"{elapsed:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

echo "| run | tool | wall time (s) | peak RSS (MB) |"
echo "|---:|---|---:|---:|"
for run in 1 2; do
    sync
    read -r s kib < <(measure "$BIN" "$URI" "$TAG-src" "$TAG-vd$run")
    printf '| %d | Virtdeck | %.2f | %.0f |\n' "$run" "$s" "$((kib / 1024))"
    sync
    read -r s kib < <(measure virt-clone --connect "$URI" --original "$TAG-src" \
        --name "$TAG-vc$run" --file "$DIR/vc$run.img")
    printf '| %d | virt-clone | %.2f | %.0f |\n' "$run" "$s" "$((kib / 1024))"
done
for d in vd1 vd2 vc1 vc2; do
    virsh domblklist "$TAG-$d" | grep vda >/dev/null || { echo "clone $d has no disk" >&2; exit 1; }
done
