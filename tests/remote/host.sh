#!/usr/bin/env bash
# A real remote libvirt host for tests, on this machine (root only).
#
#   tests/remote/host.sh up NAME INDEX     start remote host NAME at 198.18.0.(INDEX+1)
#   tests/remote/host.sh down NAME         stop it and remove all of it (idempotent)
#   tests/remote/host.sh logins NAME       accepted SSH logins to it so far
#   tests/remote/host.sh exec NAME CMD...  run CMD inside it, without SSH (no login counted)
#
# NAME: 1 to 8 of [a-z0-9]; INDEX: 1 to 250. Several hosts may be up at once (different names
# and indexes); they and this machine share one test LAN, so a pair can migrate guests.
#
# What a host is:
# - a network namespace `vdr-NAME` whose link `lan0` has 198.18.0.(INDEX+1)/24. The test LAN
#   is a bridge inside a namespace of its own (`vd-remote-lan`, made by the first `up`, removed
#   by the last `down`), joined by every host and by one veth link `vdr-lan` with 198.18.0.1
#   in this machine's namespace: bridged traffic never passes this machine's firewall, and
#   198.51.100.0/24 is left to the tests that put it on links here. eth0 is never touched.
#   The LAN is 198.18.0.0/24 (a benchmarking range), and this machine routes only the
#   addresses of the hosts that are up to `vdr-lan` (one /32 route each): the documentation
#   range 203.0.113.0/24 is where this machine's package registries resolve, and a route for
#   it here cut cargo, apt and pip off while a host was up.
# - a holder (this script, `__holder`) in that namespace and in mount, UTS and PID
#   namespaces of its own, where it is PID 1 and reaps orphans: hostname vd-remote-NAME,
#   its own /proc, tmpfs on /run, /root, /var/lib/libvirt and /var/log/libvirt, a copy of this
#   machine's QEMU capabilities cache on /var/cache/libvirt, and a private /etc/libvirt: this
#   machine's *.conf and nwfilters, no domains, networks, pools, secrets or hooks, its own
#   host_uuid (so libvirt sees another host) and migration_host. No cgroup file systems are
#   mounted there, so its guests stay clear of this machine's libvirt cgroups;
# - virtlogd, libvirtd and sshd entered into the holder's namespaces (nsenter). They run as
#   vdr-virtlogd, vdr-libvirtd and vdr-sshd (symlinks to the real binaries), so that
#   `pgrep -x libvirtd` and `pkill -x libvirtd` on this machine see only its own daemon.
#   `down` kills the holder, and with it the kernel kills everything in its PID namespace;
# - sshd with its own host key, root login with a key made here or with a password made here
#   (PASSWORD; the host sees its own /etc/shadow, so this machine's root password is never
#   touched), LogLevel VERBOSE into its own log: every key login is an "Accepted publickey for
#   root" line, every password login an "Accepted password for root" line. Its host key is put into
#   root's ~/.ssh/known_hosts for the address (and taken out again by `down`), so ssh asks
#   nothing even without no_verify=1. Over SSH libvirt runs virt-ssh-helper, which reaches the
#   private libvirtd at /run/libvirt/libvirt-sock (remote_mode = "legacy" in the private
#   libvirt.conf).
#
# VD_REMOTE_QEMU_CONF (for `up`): lines `key=value` set in the host's private qemu.conf.
#
# `up` prints, and writes into /run/vd-remote/NAME/env (a file sh can source), lines KEY='VALUE':
#   URI (qemu+ssh://root@ADDRESS/system?keyfile=KEY&no_verify=1&no_tty=1), KEY, ADDRESS,
#   KNOWN_HOSTS (a file with just this host's key), PASSWORD (root's password there),
#   PASSWORD_URI (qemu+ssh://root@ADDRESS/system, no key: ssh asks for the password),
#   SASL_URI (qemu+tcp://ADDRESS/system: libvirt's own SASL login, SASL_USER with PASSWORD),
#   SASL_USER,
#   SSHD_LOG, LIBVIRTD_LOG, HOSTNAME,
#   HOST_UUID, HOLDER_PID, STATE.
set -euo pipefail

RUN_DIR=/run/vd-remote
LAN_NS=vd-remote-lan
LAN_LINK=vdr-lan
LAN_PREFIX=198.18.0
SASL_USER=vdtest
SELF=$(readlink -f "$0")
DEADLINE_TENTHS=300

die() {
    echo "host.sh: $*" >&2
    exit 1
}

usage() {
    sed -n '4,7p' "$0" | sed 's/^# *//' >&2
    exit 2
}

# Polls `$@` every 100 ms until it succeeds; fails after $DEADLINE_TENTHS tenths of a second.
wait_until() {
    local what=$1 i
    shift
    for i in $(seq "$DEADLINE_TENTHS"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "host.sh: timed out after $((DEADLINE_TENTHS / 10)) s waiting for $what" >&2
    return 1
}

# The programs a host needs, with the Debian packages that carry them.
require_programs() {
    local missing=() entry program package
    for entry in ip:iproute2 unshare:util-linux \
        nsenter:util-linux flock:util-linux setsid:util-linux ssh:openssh-client \
        ssh-keygen:openssh-client sshd:openssh-server openssl:openssl libvirtd:libvirt-daemon \
        virtlogd:libvirt-daemon virsh:libvirt-clients \
        virt-ssh-helper:libvirt-daemon-common saslpasswd2:sasl2-bin; do
        program=${entry%%:*} package=${entry#*:}
        PATH=$PATH:/usr/sbin:/sbin command -v "$program" >/dev/null || missing+=("$program ($package)")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        die "missing programs: ${missing[*]}; run build-aux/install-deps.sh test"
    fi
    [ "$(id -u)" -eq 0 ] || die "a remote host needs root (network and mount namespaces)"
}

check_name() {
    [[ $1 =~ ^[a-z0-9]{1,8}$ ]] || die "NAME must be 1 to 8 of [a-z0-9], not '$1'"
}

# Serializes ups and downs: they share the LAN and root's known_hosts. Whatever is started
# while the lock is held must not inherit its descriptor (9>&-), or it keeps the lock.
lock() {
    mkdir -p "$RUN_DIR"
    chmod 755 "$RUN_DIR"
    exec 9>"$RUN_DIR/.lock"
    flock 9
}

# The holder's pid (as this machine sees it) if it runs, in the host's network namespace:
# a pid left in a stale state dir may belong to another process by now.
holder_of() {
    local pid net
    pid=$(cat "$RUN_DIR/$1/holder.pid" 2>/dev/null) || return 0
    net=$(stat -L -c %i "/run/netns/vdr-$1" 2>/dev/null) || return 0
    [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "net:[$net]" ] && echo "$pid"
    return 0
}

known_hosts_file() {
    local home
    home=$(getent passwd "$(id -u)" | cut -d: -f6)
    echo "$home/.ssh/known_hosts"
}

forget_host_key() {
    local file
    file=$(known_hosts_file)
    [ -f "$file" ] && ssh-keygen -R "$1" -f "$file" >/dev/null 2>&1 || true
    rm -f "$file.old"
}

lan_up() {
    ip netns list | grep -qx "$LAN_NS\( (id: [0-9]*)\)\?" && return 0
    ip netns add "$LAN_NS"
    ip -n "$LAN_NS" link set lo up
    ip -n "$LAN_NS" link add br0 type bridge stp_state 0
    ip -n "$LAN_NS" link set br0 up
    ip link add "$LAN_LINK" type veth peer name uplink netns "$LAN_NS"
    ip -n "$LAN_NS" link set uplink master br0 up
    ip addr add "$LAN_PREFIX.1/32" dev "$LAN_LINK"
    ip link set "$LAN_LINK" up
}

lan_down_if_unused() {
    local ns
    for ns in $(ip netns list | cut -d' ' -f1); do
        case "$ns" in vdr-*) return 0 ;; esac
    done
    ip link del "$LAN_LINK" 2>/dev/null || true
    ip netns del "$LAN_NS" 2>/dev/null || true
}

gone() { ! kill -0 "$1" 2>/dev/null; }

# Whether process $1 runs (a child that ended and was not waited for is a zombie, which
# `kill -0` still finds).
running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

netns_empty() { [ -z "$(ip netns pids "vdr-$1" 2>/dev/null)" ]; }

teardown() {
    local name=$1 state=$RUN_DIR/$1 holder pids address=""
    holder=$(holder_of "$name")
    if [ -n "$holder" ]; then
        # The holder is PID 1 of the host's PID namespace: when it dies, the kernel kills
        # every process in there (daemons, SSH sessions, guests).
        kill -KILL "$holder" 2>/dev/null || true
        wait_until "the holder of remote host $name to end" gone "$holder"
    fi
    # Anything else someone started in the network namespace.
    pids=$(ip netns pids "vdr-$name" 2>/dev/null || true)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        wait_until "the processes in network namespace vdr-$name to end" netns_empty "$name"
    fi
    [ -f "$state/address" ] && address=$(cat "$state/address")
    if [ -n "$address" ]; then
        ip route del "$address/32" dev "$LAN_LINK" 2>/dev/null || true
        ip neigh flush to "$address" dev "$LAN_LINK" 2>/dev/null || true
    fi
    ip -n "$LAN_NS" link del "p-$name" 2>/dev/null || true
    ip netns del "vdr-$name" 2>/dev/null || true
    [ -n "$address" ] && forget_host_key "$address"
    rm -rf "$state"
    lan_down_if_unused
}

# Runs inside the new namespaces as the holder: $1 state dir, $2 name.
holder_main() {
    local state=$1 name=$2 outer_pid
    # This /proc is still this machine's: its /proc/self/stat tells the pid seen from here.
    read -r outer_pid _ </proc/self/stat
    echo "vd-remote-$name" >/proc/sys/kernel/hostname
    mount -n -t proc vd-remote-proc /proc
    # A new /run that still shows the state dir at its own path: the tmpfs is mounted beside,
    # the state dir bound into it, and the whole moved over /run.
    mount -n -t tmpfs -o mode=0755 vd-remote-run "$state/.run"
    mkdir -p "$state/.run/vd-remote/$name" "$state/.run/sshd" "$state/.run/libvirt"
    # /var/lock: libvirt locks a guest's pseudo terminal there when a console opens it.
    mkdir -m 1777 "$state/.run/lock"
    mount -n --bind "$state" "$state/.run/vd-remote/$name"
    mount -n --move "$state/.run" /run
    mount -n -t tmpfs -o mode=0755 vd-remote-lib /var/lib/libvirt
    mount -n -t tmpfs -o mode=0700 vd-remote-log /var/log/libvirt
    mount -n --bind "$state/cache" /var/cache/libvirt
    mount -n --bind "$state/etc-libvirt" /etc/libvirt
    mkdir -p /etc/sasl2
    mount -n --bind "$state/etc-sasl2" /etc/sasl2
    mount -n --bind "$state/shadow" /etc/shadow
    mount -n -t tmpfs -o mode=0700 vd-remote-root /root
    mkdir -m 700 /root/.ssh
    cp "$state/id_ed25519.pub" /root/.ssh/authorized_keys
    echo "$outer_pid" >"$state/holder.pid.tmp"
    mv "$state/holder.pid.tmp" "$state/holder.pid"
    # As PID 1 this shell adopts every orphan (daemons, QEMU): waiting reaps them, so that
    # no zombie makes libvirt believe a destroyed guest still runs.
    while :; do
        sleep infinity &
        wait $! || true
    done
}

# Appends `key = value` to a libvirt config file, replacing any setting of key there.
set_conf() {
    local file=$1 key=$2 value=$3
    sed -i "/^[[:space:]]*$key[[:space:]]*=/d" "$file"
    echo "$key = $value" >>"$file"
}

prepare_state() {
    local state=$1 name=$2 address=$3 host_uuid=$4
    mkdir -m 700 "$state"
    mkdir "$state/.run" "$state/bin" "$state/etc-libvirt" "$state/cache"
    ssh-keygen -q -t ed25519 -N '' -C "vd-remote-$name client" -f "$state/id_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C "vd-remote-$name host" -f "$state/ssh_host_ed25519_key"
    # Root's password inside the host: a shadow file of its own, bound over /etc/shadow there.
    head -c 9 /dev/urandom | base64 | tr '+/' 'xy' >"$state/password"
    local hash
    hash=$(openssl passwd -6 -stdin <"$state/password")
    awk -F: -v OFS=: -v hash="$hash" '$1 == "root" { $2 = hash } { print }' /etc/shadow >"$state/shadow"
    chmod 600 "$state/shadow" "$state/password"
    ln -s "$(command -v virtlogd)" "$state/bin/vdr-virtlogd"
    ln -s "$(command -v libvirtd)" "$state/bin/vdr-libvirtd"
    ln -s "$(PATH=$PATH:/usr/sbin command -v sshd)" "$state/bin/vdr-sshd"

    local etc=$state/etc-libvirt
    cp /etc/libvirt/*.conf "$etc/"
    [ -d /etc/libvirt/nwfilter ] && cp -a /etc/libvirt/nwfilter "$etc/"
    set_conf "$etc/qemu.conf" user '"root"'
    set_conf "$etc/qemu.conf" group '"root"'
    set_conf "$etc/qemu.conf" namespaces '[]'
    # Where a migration to this host sends the guest's memory (its hostname resolves nowhere).
    set_conf "$etc/qemu.conf" migration_host "\"$address\""
    set_conf "$etc/libvirtd.conf" host_uuid "\"$host_uuid\""
    set_conf "$etc/libvirtd.conf" log_outputs "\"3:file:$state/libvirtd.log\""
    set_conf "$etc/libvirt.conf" remote_mode '"legacy"'
    # libvirt's own login, over TCP on the host's address: SASL with user SASL_USER and
    # PASSWORD, from a SASL database and config of the host's own (bound over /etc/sasl2
    # inside). DIGEST-MD5: over TCP without TLS libvirt wants a mechanism that encrypts,
    # which SCRAM does not. The user's realm is the host's hostname.
    set_conf "$etc/libvirtd.conf" listen_tls 0
    set_conf "$etc/libvirtd.conf" listen_tcp 1
    set_conf "$etc/libvirtd.conf" listen_addr "\"$address\""
    set_conf "$etc/libvirtd.conf" auth_tcp '"sasl"'
    mkdir "$state/etc-sasl2"
    printf 'mech_list: digest-md5\nsasldb_path: /etc/libvirt/passwd.db\n' \
        >"$state/etc-sasl2/libvirt.conf"
    tr -d '\n' <"$state/password" |
        saslpasswd2 -p -a libvirt -u "vd-remote-$name" -f "$etc/passwd.db" "$SASL_USER"
    # Settings a test asks for, `key=value` one a line (e.g. vnc_tls with its certificates).
    local line
    while IFS= read -r line; do
        [ -n "$line" ] && set_conf "$etc/qemu.conf" "${line%%=*}" "${line#*=}"
    done <<<"${VD_REMOTE_QEMU_CONF:-}"
    if [ -d /var/cache/libvirt/qemu ]; then cp -a /var/cache/libvirt/qemu "$state/cache/"; fi

    cat >"$state/sshd_config" <<EOF
ListenAddress $address
Port 22
HostKey $state/ssh_host_ed25519_key
PidFile $state/sshd.pid
LogLevel VERBOSE
PermitRootLogin yes
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication yes
PermitEmptyPasswords no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
X11Forwarding no
PrintMotd no
PrintLastLog no
EOF
}

inside() {
    local holder=$1
    shift
    nsenter -t "$holder" -m -n -u -p -- "$@" 9>&-
}

# Starts a daemon inside with a clean environment (not the test's display, buses, locale);
# its output goes to the caller's $state/daemons.log.
daemon() {
    local holder=$1
    shift
    inside "$holder" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        "$@" </dev/null >>"$state/daemons.log" 2>&1
}

cmd_up() {
    local name=$1 index=$2
    check_name "$name"
    [[ $index =~ ^[0-9]+$ ]] && [ "$index" -ge 1 ] && [ "$index" -le 250 ] ||
        die "INDEX must be 1 to 250, not '$index'"
    require_programs
    lock
    local state=$RUN_DIR/$name address=$LAN_PREFIX.$((index + 1)) other
    if [ -e "$state" ] || ip netns list | grep -q "^vdr-$name\b"; then
        [ -n "$(holder_of "$name")" ] && die "remote host $name is up already (host.sh down $name)"
        teardown "$name" # left over from a run that died
    fi
    for other in "$RUN_DIR"/*/env; do
        [ -f "$other" ] && grep -qx "ADDRESS='$address'" "$other" &&
            die "$address is taken by remote host $(basename "$(dirname "$other")")"
    done
    UP_NAME=$name
    trap 'status=$?; trap - EXIT; if [ $status -ne 0 ]; then up_failed "$UP_NAME"; teardown "$UP_NAME"; fi' EXIT

    local host_uuid
    host_uuid=$(cat /proc/sys/kernel/random/uuid)
    prepare_state "$state" "$name" "$address" "$host_uuid"
    echo "$address" >"$state/address"

    lan_up
    ip netns add "vdr-$name"
    ip -n "vdr-$name" link set lo up
    ip -n "$LAN_NS" link add "p-$name" type veth peer name lan0 netns "vdr-$name"
    ip -n "$LAN_NS" link set "p-$name" master br0 up
    ip -n "vdr-$name" addr add "$address/24" dev lan0
    ip -n "vdr-$name" link set lan0 up
    ip route replace "$address/32" dev "$LAN_LINK" src "$LAN_PREFIX.1"
    # A host that had this address before had another link: forget its MAC address, or
    # this machine sends to it until the stale entry times out.
    ip neigh flush to "$address" dev "$LAN_LINK" 2>/dev/null || true

    # `ip netns exec` mounts the namespace's own /sys, without the cgroup file systems.
    setsid ip netns exec "vdr-$name" \
        unshare -m -u -p --fork --kill-child --propagation private -- \
        "$SELF" __holder "$state" "$name" </dev/null >>"$state/holder.log" 2>&1 9>&- &
    local started=$!
    holder_settled() { [ -s "$state/holder.pid" ] || ! running "$started"; }
    wait_until "the holder of remote host $name" holder_settled
    local holder
    holder=$(holder_of "$name")
    [ -n "$holder" ] || die "the holder of remote host $name died: $(tail -n 3 "$state/holder.log")"

    daemon "$holder" "$state/bin/vdr-virtlogd" -d
    daemon "$holder" "$state/bin/vdr-libvirtd" -d --listen
    daemon "$holder" "$state/bin/vdr-sshd" -t -f "$state/sshd_config" ||
        die "sshd refuses $state/sshd_config: $(tail -n 3 "$state/daemons.log")"
    daemon "$holder" "$state/bin/vdr-sshd" -f "$state/sshd_config" -E "$state/sshd.log"
    wait_until "sshd of remote host $name" test -s "$state/sshd.pid"
    wait_until "libvirtd of remote host $name" \
        inside "$holder" virsh -c qemu:///system uri

    local known
    known=$(known_hosts_file)
    forget_host_key "$address"
    mkdir -p -m 700 "$(dirname "$known")"
    echo "$address $(cut -d' ' -f1,2 "$state/ssh_host_ed25519_key.pub")" | tee "$state/known_hosts" >>"$known"

    cat >"$state/env" <<EOF
NAME='$name'
ADDRESS='$address'
URI='qemu+ssh://root@$address/system?keyfile=$state/id_ed25519&no_verify=1&no_tty=1'
KEY='$state/id_ed25519'
KNOWN_HOSTS='$state/known_hosts'
PASSWORD='$(cat "$state/password")'
PASSWORD_URI='qemu+ssh://root@$address/system'
SASL_URI='qemu+tcp://$address/system'
SASL_USER='$SASL_USER'
SSHD_LOG='$state/sshd.log'
LIBVIRTD_LOG='$state/libvirtd.log'
HOSTNAME='vd-remote-$name'
HOST_UUID='$host_uuid'
HOLDER_PID='$holder'
STATE='$state'
EOF
    trap - EXIT
    cat "$state/env"
}

# What went wrong, from the logs, before `up` removes them.
up_failed() {
    local state=$RUN_DIR/$1 log
    for log in holder.log daemons.log sshd.log libvirtd.log; do
        [ -s "$state/$log" ] || continue
        echo "--- $log (last lines)" >&2
        tail -n 20 "$state/$log" >&2
    done
}

cmd_down() {
    check_name "$1"
    lock
    teardown "$1"
}

cmd_logins() {
    check_name "$1"
    local log=$RUN_DIR/$1/sshd.log
    [ -f "$RUN_DIR/$1/env" ] || die "remote host $1 is not up"
    if [ -f "$log" ]; then grep -c 'Accepted publickey for root ' "$log" || true; else echo 0; fi
}

cmd_exec() {
    check_name "$1"
    local holder
    holder=$(holder_of "$1")
    [ -n "$holder" ] || die "remote host $1 is not up"
    shift
    inside "$holder" "$@"
}

case "${1:-}" in
up) [ $# -eq 3 ] || usage; cmd_up "$2" "$3" ;;
down) [ $# -eq 2 ] || usage; cmd_down "$2" ;;
logins) [ $# -eq 2 ] || usage; cmd_logins "$2" ;;
exec) [ $# -ge 3 ] || usage; shift; cmd_exec "$@" ;;
__holder) holder_main "$2" "$3" ;;
*) usage ;;
esac
