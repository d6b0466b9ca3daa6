#!/usr/bin/env bash
# Installs the system packages Virtdeck needs.
#   build-aux/install-deps.sh run    build + run: GTK 4 / libadwaita, libvirt, QEMU,
#                                    iproute2 and pkexec (bridges made as a normal user)
#   build-aux/install-deps.sh test   the above plus Xvfb, AT-SPI, xdotool, guest-building tools
# Packages already present are left alone; nothing is installed when all are there.
set -euo pipefail

mode=${1:-run}
case "$mode" in run | test) ;; *)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    echo "Installing system packages needs root; asking through sudo." >&2
    sudo_cmd=(sudo)
fi

. /etc/os-release
distro="${ID:-unknown}:${VERSION_ID:-}"

# --- Debian 12 (bookworm): libvirt and QEMU come from bookworm-backports, to match
#     the qemu-utils 10 this kind of host carries.
debian_build=(build-essential pkg-config libgtk-4-dev libadwaita-1-dev libglib2.0-dev-bin
    libvte-2.91-gtk4-dev libgtksourceview-5-dev gettext meson ninja-build desktop-file-utils
    appstream osinfo-db ovmf iproute2 pkexec swtpm swtpm-tools)
# swtpm: the emulated TPM 2.0 the hardware editor adds (Windows 11 asks for one).
# qemu-system-modules-spice: machines whose display is SPICE (the hardware editor offers it).
# libvirt-daemon-driver-interface: the host's bridges for a remote Virtdeck (virConnectListAllInterfaces);
# tests/remote/host.sh hosts run this machine's libvirtd, so the wizard's remote bridge test needs it.
debian_backports=(qemu-system-x86 qemu-utils libvirt-daemon libvirt-daemon-driver-qemu
    libvirt-clients libvirt-dev libvirt-daemon-system qemu-system-modules-spice
    libvirt-daemon-driver-interface)
debian_test=(xvfb xauth dbus dbus-x11 at-spi2-core python3-pyatspi python3-gi xdotool
    imagemagick busybox-static grub-pc-bin grub-common xorriso mtools cpio iproute2 iputils-ping
    locales openssh-client openssl libxml2-utils
    e2fsprogs mount tigervnc-standalone-server x11-xkb-utils kbd console-data sasl2-bin
    libsasl2-modules gcc libc6-dev)
# Installed on their own by install_network_manager and install_sshd (see there), never in
# the lists above.
nm_test=(network-manager)
# sshd for tests/remote/host.sh, which runs a private one inside a network namespace.
sshd_test=(openssh-server)

# --- Ubuntu 24.04 (noble): everything is new enough in the main archive.
ubuntu_build=(build-essential pkg-config libgtk-4-dev libadwaita-1-dev libglib2.0-dev-bin
    libvte-2.91-gtk4-dev libgtksourceview-5-dev gettext meson ninja-build desktop-file-utils appstream
    qemu-system-x86
    qemu-utils libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev
    libvirt-daemon-system osinfo-db ovmf iproute2 pkexec qemu-system-modules-spice swtpm
    swtpm-tools)
ubuntu_test=("${debian_test[@]}")

# --- Fedora.
fedora_build=(gcc pkgconf-pkg-config gtk4-devel libadwaita-devel vte291-gtk4-devel gtksourceview5-devel
    glib2-devel
    gettext meson ninja-build desktop-file-utils appstream libvirt-devel libvirt-daemon-kvm
    libvirt-client qemu-system-x86 osinfo-db edk2-ovmf iproute polkit swtpm swtpm-tools)
fedora_test=(xorg-x11-server-Xvfb xorg-x11-xauth dbus-daemon at-spi2-core python3-pyatspi
    xdotool ImageMagick busybox grub2-pc grub2-tools-extra xorriso mtools cpio iproute iputils
    openssh-clients openssh-server openssl tigervnc-server-minimal setxkbmap
    kbd kbd-legacy cyrus-sasl cyrus-sasl-md5)

missing_debs() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
            echo "$p"
    done
}

apt_install() {
    # $1: target release or "" ; rest: packages
    local release=$1
    shift
    local todo
    mapfile -t todo < <(missing_debs "$@")
    [ ${#todo[@]} -eq 0 ] && return 0
    echo "Installing: ${todo[*]}" >&2
    local args=(-y --no-install-recommends)
    [ -n "$release" ] && args+=(-t "$release")
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install "${args[@]}" "${todo[@]}"
}

apt_updated=0
apt_update_once() {
    [ $apt_updated -eq 1 ] && return 0
    # A broken third-party source must not stop us: the Debian archive is what we need.
    "${sudo_cmd[@]}" apt-get update || echo "apt-get update reported errors; continuing" >&2
    apt_updated=1
}

case "$distro" in
debian:12)
    want=("${debian_build[@]}")
    [ "$mode" = test ] && want+=("${debian_test[@]}")
    if [ -n "$(missing_debs "${want[@]}" "${debian_backports[@]}")" ]; then
        list=/etc/apt/sources.list.d/bookworm-backports.sources
        if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
            printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
                "${sudo_cmd[@]}" tee "$list" >/dev/null
        fi
        apt_update_once
        apt_install bookworm-backports "${debian_backports[@]}"
        apt_install "" "${want[@]}"
    fi
    ;;
ubuntu:24.04)
    want=("${ubuntu_build[@]}")
    [ "$mode" = test ] && want+=("${ubuntu_test[@]}")
    if [ -n "$(missing_debs "${want[@]}")" ]; then
        apt_update_once
        apt_install "" "${want[@]}"
    fi
    ;;
fedora:*)
    want=("${fedora_build[@]}")
    [ "$mode" = test ] && want+=("${fedora_test[@]}")
    "${sudo_cmd[@]}" dnf install -y "${want[@]}"
    ;;
*)
    echo "Unknown distribution '$distro'. Install GTK 4 (>= 4.8), libadwaita (>= 1.2)," >&2
    echo "libvirt (daemon, client, development files) and QEMU by hand, then retry." >&2
    exit 1
    ;;
esac

# Installs packages ($@) whose services must not start: with a policy-rc.d that exits 101
# unless one exists already (that file is removed afterwards). Then each unit named in
# $NO_START_UNITS is taken out of the boot targets by removing its .wants links (what
# `systemctl disable` does, which works without a running systemd).
apt_install_without_starting() {
    local policy=/usr/sbin/policy-rc.d ours=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\n# Temporary, from virtdeck build-aux/install-deps.sh\nexit 101\n' |
            "${sudo_cmd[@]}" tee "$policy" >/dev/null
        "${sudo_cmd[@]}" chmod 755 "$policy"
        ours=1
        trap '"${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt_update_once
    apt_install "" "$@"
    local unit
    for unit in $NO_START_UNITS; do
        "${sudo_cmd[@]}" find /etc/systemd/system -path '*.wants/*' -name "$unit" -type l -delete
    done
    if [ $ours -eq 1 ]; then
        "${sudo_cmd[@]}" rm -f "$policy"
        trap - EXIT
    fi
}

systemd_reload() {
    if [ -d /run/systemd/system ]; then
        "${sudo_cmd[@]}" systemctl daemon-reload || true
    fi
}

# NetworkManager for tests/host_nm.rs, which runs its own NetworkManager on a private D-Bus
# inside a network namespace. The host's NetworkManager must never start because of this
# install: it would take over eth0 and /etc/resolv.conf. So, when the package is missing:
# - it is installed without starting its services (apt_install_without_starting);
# - --no-install-recommends keeps out dnsmasq-base, ppp, modemmanager, wpasupplicant: only
#   network-manager and its libraries come in. The package itself writes no resolv.conf and
#   no ifupdown configuration (it only tells which interfaces ifupdown configures);
# - its units are disabled and masked, so it does not start at the next boot or through
#   D-Bus activation of dbus-org.freedesktop.NetworkManager;
# - afterwards no NetworkManager may run in the host's network namespace: one that does is
#   killed, loudly. A NetworkManager that was installed before is left alone.
install_network_manager() {
    [ -z "$(missing_debs "${nm_test[@]}")" ] && return 0
    local units="NetworkManager.service NetworkManager-wait-online.service
        NetworkManager-dispatcher.service" unit
    NO_START_UNITS=$units apt_install_without_starting "${nm_test[@]}"
    for unit in $units; do
        "${sudo_cmd[@]}" find /etc/systemd/system -name "$unit" -type l -delete
        "${sudo_cmd[@]}" ln -sfn /dev/null "/etc/systemd/system/$unit"
    done
    "${sudo_cmd[@]}" rm -f /etc/systemd/system/dbus-org.freedesktop.nm-dispatcher.service
    systemd_reload
    local host_ns pid
    host_ns=$(readlink /proc/$$/ns/net)
    for pid in $(grep -lx NetworkManager /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3); do
        if [ "$(readlink "/proc/$pid/ns/net")" = "$host_ns" ]; then
            echo "!!! A NetworkManager (pid $pid) runs in the host's network namespace after" >&2
            echo "!!! installing network-manager; killing it so that it cannot take eth0." >&2
            "${sudo_cmd[@]}" kill "$pid" || true
        fi
    done
}

# openssh-server for tests/remote/host.sh. The tests only run private sshds; installing the
# package must not open port 22 on this machine: when the package is missing, it is
# installed without starting sshd and ssh.service/ssh.socket are taken out of the boot
# targets (not masked: `systemctl enable --now ssh` still works). An openssh-server that
# was installed before is left alone.
install_sshd() {
    [ -z "$(missing_debs "${sshd_test[@]}")" ] && return 0
    NO_START_UNITS="ssh.service ssh.socket" apt_install_without_starting "${sshd_test[@]}"
    systemd_reload
}

if [ "$mode" = test ]; then
    case "$distro" in debian:12 | ubuntu:24.04)
        install_network_manager
        install_sshd
        ;;
    esac
fi

# The UI tests also run in Simplified Chinese.
if [ "$mode" = test ] && ! locale -a 2>/dev/null | grep -qi '^zh_CN\.utf-\?8$'; then
    "${sudo_cmd[@]}" localedef -i zh_CN -f UTF-8 zh_CN.UTF-8
fi
