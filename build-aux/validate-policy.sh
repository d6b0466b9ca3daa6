#!/usr/bin/env bash
# Validates the installed polkit policy of the network helper, loudly:
#   build-aux/validate-policy.sh POLICY BINDIR [ROOT]
# POLICY is the installed io.github.virtdeck.Virtdeck.policy, BINDIR the directory its
# exec.path annotations must name, ROOT the DESTDIR the binary was installed into.
# Checks: valid against polkit's DTD (xmllint), both actions there with a message and a
# Simplified Chinese one, defaults polkit knows (auth_admin_keep for the active session),
# exec.path naming the installed binary, which exists, and argv1 naming the helper's flag.
set -uo pipefail

policy=$1 bindir=$2 root=${3:-}
dtd=/usr/share/polkit-1/policyconfig-1.dtd
fail=0
bad() {
    echo "FAILED: polkit policy: $*" >&2
    fail=1
}

command -v xmllint >/dev/null || { bad "xmllint is missing (apt install libxml2-utils)"; exit 1; }
[ -f "$dtd" ] || { bad "polkit's DTD $dtd is missing (apt install polkitd)"; exit 1; }
[ -s "$policy" ] || { bad "$policy is missing or empty"; exit 1; }
xmllint --noout --dtdvalid "$dtd" "$policy" || bad "$policy is not valid against $dtd"
grep -q '@bindir@' "$policy" && bad "@bindir@ was not replaced"

value() { xmllint --xpath "string($1)" "$policy" 2>/dev/null; }

declare -A flags=(
    [io.github.virtdeck.Virtdeck.change-network]=--net-helper
    [io.github.virtdeck.Virtdeck.allow-bridge]=--bridge-conf-helper
)
for id in "${!flags[@]}"; do
    action="//action[@id='$id']"
    [ "$(value "count($action)")" = 1 ] || { bad "no action $id"; continue; }
    [ -n "$(value "$action/message[not(@xml:lang)]")" ] || bad "$id has no message"
    [ -n "$(value "$action/message[@xml:lang='zh_CN']")" ] || bad "$id has no zh_CN message"
    for who in allow_any allow_inactive allow_active; do
        v=$(value "$action/defaults/$who")
        case "$v" in no | yes | auth_self | auth_admin | auth_self_keep | auth_admin_keep) ;;
        *) bad "$id: $who is “$v”, which polkit does not know" ;;
        esac
    done
    v=$(value "$action/defaults/allow_active")
    [ "$v" = auth_admin_keep ] || bad "$id: allow_active is “$v”, not auth_admin_keep"
    path=$(value "$action/annotate[@key='org.freedesktop.policykit.exec.path']")
    [ "$path" = "$bindir/virtdeck" ] || bad "$id: exec.path is “$path”, not $bindir/virtdeck"
    [ -x "$root$path" ] || bad "$id: exec.path $root$path is not an installed program"
    argv1=$(value "$action/annotate[@key='org.freedesktop.policykit.exec.argv1']")
    [ "$argv1" = "${flags[$id]}" ] || bad "$id: exec.argv1 is “$argv1”, not ${flags[$id]}"
done
exit $fail
