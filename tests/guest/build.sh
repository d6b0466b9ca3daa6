#!/usr/bin/env bash
# Builds the tiny test guest (see README.md beside this script) from Debian packages and
# caches it under /var/tmp/virtdeck-guest (VIRTDECK_GUEST_CACHE overrides). A build is
# reused until one of its inputs changes: this script, init, modules, udhcpc.script, the
# kernel package apt offers, busybox-static, grub, kbd or console-data. Prints GUEST_ISO=,
# GUEST_KERNEL= and GUEST_INITRD=.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${VIRTDECK_GUEST_CACHE:-/var/tmp/virtdeck-guest}

die() {
    echo "tests/guest/build.sh: $*" >&2
    exit 1
}

need_debs=(busybox-static grub-pc-bin grub-common xorriso mtools cpio kbd console-data gcc libc6-dev)
for deb in "${need_debs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$deb" 2>/dev/null | grep -q '^install ok installed$' ||
        die "package $deb is missing: run build-aux/install-deps.sh test"
done
busybox=/bin/busybox
[ -x "$busybox" ] || die "$busybox is missing (package busybox-static)"

# The kernel the linux-image-amd64 metapackage points at; apt's lists decide, no network.
kernel_deb=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[^ ]*-amd64\)$/\1/p' | head -n 1)
[ -n "$kernel_deb" ] || die "apt knows no linux-image-amd64 package (run apt-get update)"
kernel_version=$(apt-cache show --no-all-versions "$kernel_deb" | sed -n 's/^Version: //p' | head -n 1)
[ -n "$kernel_version" ] || die "apt knows no version of $kernel_deb"

key=$(
    {
        cat "$here/build.sh" "$here/init" "$here/modules" "$here/install-modules" "$here/udhcpc.script"
        cat "$here/vdagent.c"
        echo "$kernel_deb $kernel_version"
        dpkg-query -W -f='${Package} ${Version}\n' "${need_debs[@]}"
    } | sha256sum | cut -c1-16
)
out=$cache/$key

print_paths() {
    echo "GUEST_ISO=$out/guest.iso"
    echo "GUEST_KERNEL=$out/vmlinuz"
    echo "GUEST_INITRD=$out/initrd.img"
}

mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
if [ -f "$out/guest.iso" ]; then
    print_paths
    exit 0
fi

echo "Building the test guest ($kernel_deb $kernel_version) in $out" >&2
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- the kernel package, downloaded once and extracted (never installed)
debs=$cache/debs
mkdir -p "$debs"
deb_file=$(find "$debs" -maxdepth 1 -name "${kernel_deb}_${kernel_version//:/%3a}_amd64.deb" | head -n 1)
if [ -z "$deb_file" ]; then
    (cd "$debs" && apt-get download "$kernel_deb=$kernel_version") >&2 ||
        die "could not download $kernel_deb $kernel_version"
    deb_file=$(find "$debs" -maxdepth 1 -name "${kernel_deb}_*_amd64.deb" | head -n 1)
    [ -n "$deb_file" ] || die "apt-get download left no $kernel_deb package in $debs"
fi
find "$debs" -maxdepth 1 -name 'linux-image-*.deb' ! -path "$deb_file" -delete
dpkg-deb -x "$deb_file" "$work/kernel"
kver=$(basename "$(find "$work/kernel/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n 1)")
[ -n "$kver" ] || die "$deb_file holds no modules"
vmlinuz=$work/kernel/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "$deb_file holds no vmlinuz-$kver"

# --- modules: the listed ones and everything they depend on
"$busybox" depmod -b "$work/kernel" "$kver"
moddir=$work/kernel/lib/modules/$kver
root=$work/root
mkdir -p "$root/lib/modules/$kver" "$root/bin" "$root/etc" "$root/proc" "$root/sys" \
    "$root/dev" "$root/tmp"
# virtio_console: the clipboard agent's port (virtdeck.vdagent=1), loaded only then.
{ cat "$here/modules" "$here/install-modules" && echo virtio_console; } | grep -v '^\s*\(#\|$\)' | while read -r module; do
    # modules.dep names files with '-' or '_' as built; match either.
    pattern=$(echo "$module" | sed 's/[-_]/[-_]/g')
    line=$(grep -E "/${pattern}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -n 1) ||
        die "module $module is not in $kver (built in? then drop it from tests/guest/modules)"
    for file in ${line/:/}; do
        mkdir -p "$root/lib/modules/$kver/$(dirname "$file")"
        cp "$moddir/$file" "$root/lib/modules/$kver/$file"
    done
done
cp "$moddir/modules.builtin" "$moddir/modules.order" "$root/lib/modules/$kver/"
"$busybox" depmod -b "$root" "$kver"

# --- busybox, init
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$here/init" "$root/init"
# The clipboard agent of virtdeck.vdagent=1, static like busybox.
gcc -static -Os -o "$root/bin/vdagent" "$here/vdagent.c" 2>"$work/gcc.log" ||
    die "building vdagent.c failed: $(cat "$work/gcc.log")"
chmod 755 "$root/init"
cp "$here/modules" "$root/etc/guest-modules"
cp "$here/udhcpc.script" "$root/etc/udhcpc.script"
chmod 755 "$root/etc/udhcpc.script"
cp "$here/install-modules" "$root/etc/install-modules"
# Console keymaps for virtdeck.kmap=: loadkeys -b writes the binary form busybox loadkmap
# reads. The console-data maps that match X's de and fr layouts key for key (AltGr and dead
# keys included) are de-latin1 and fr-latin9, the ones Debian's installer picks for them.
mkdir -p "$root/etc/kmap"
for kmap in de:de-latin1 fr:fr-latin9; do
    loadkeys -b "${kmap#*:}" >"$root/etc/kmap/${kmap%%:*}.bmap" 2>"$work/loadkeys.log" ||
        die "loadkeys -b ${kmap#*:} failed: $(cat "$work/loadkeys.log")"
done
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9 >"$work/initrd.img"
cp "$vmlinuz" "$work/vmlinuz"

# --- the ISO: GRUB for BIOS, a short menu
iso=$work/iso
mkdir -p "$iso/boot/grub"
cp "$work/vmlinuz" "$work/initrd.img" "$iso/boot/"
# The third entry "installs" the guest onto a disk: GRUB picks it only when a disk holds a
# FAT file system labelled VDINSTALL (made by the install tests), so every other machine
# boots the first entry as before. Booted from a hard disk (the installed ISO image), the
# first entry passes GRUB's root device on to init, which reports it.
cat >"$iso/boot/grub/grub.cfg" <<'EOF'
set timeout=1
insmod fat
if search --no-floppy --label --set=vdtarget VDINSTALL; then
    set default=2
fi
vdboot=
regexp --set=vdroot '^(hd[0-9]+)' "$root"
if [ -n "$vdroot" ]; then
    vdboot="virtdeck.boot=$vdroot"
fi
menuentry "Virtdeck test guest" {
    linux /boot/vmlinuz $vdboot console=tty1 console=ttyS0
    initrd /boot/initrd.img
}
menuentry "Virtdeck test guest, painting 1920x1080" {
    linux /boot/vmlinuz virtdeck.mode=fb video=1920x1080 console=tty1 console=ttyS0
    initrd /boot/initrd.img
}
menuentry "Virtdeck test guest, installing onto the disk labelled VDINSTALL" {
    linux /boot/vmlinuz virtdeck.mode=install console=tty1 console=ttyS0
    initrd /boot/initrd.img
}
EOF
grub-mkrescue -o "$work/guest.iso" "$iso" -- -volid VIRTDECK_GUEST >"$work/grub.log" 2>&1 ||
    die "grub-mkrescue failed: $(cat "$work/grub.log")"

mkdir -p "$out"
mv "$work/vmlinuz" "$work/initrd.img" "$out/"
# The ISO last: its presence marks a complete build.
mv "$work/guest.iso" "$out/"
find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name debs ! -path "$out" -exec rm -rf {} +
print_paths
