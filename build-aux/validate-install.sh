#!/usr/bin/env bash
# Installs Virtdeck with meson into a temporary DESTDIR and validates what it installed:
# the .desktop file, the AppStream metainfo, the GSettings schema, icons, translations,
# the polkit policy of the network helper (build-aux/validate-policy.sh) and the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${VD_MESON_BUILD:-_build}
dest=$(mktemp -d /tmp/virtdeck-dest.XXXXXX)
trap 'rm -rf "$dest"' EXIT

if [ -d "$build" ]; then
    meson setup --reconfigure "$build" --prefix=/usr >/dev/null
else
    meson setup "$build" --prefix=/usr >/dev/null
fi
DESTDIR="$dest" meson install -C "$build" --quiet

app=io.github.virtdeck.Virtdeck
share="$dest/usr/share"
fail=0
check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok: $what"
    else
        echo "FAILED: $what" >&2
        fail=1
    fi
}

check "desktop-file-validate" desktop-file-validate "$share/applications/$app.desktop"
check "appstreamcli validate" appstreamcli validate --no-net --pedantic "$share/metainfo/$app.metainfo.xml"
check "glib-compile-schemas --strict" glib-compile-schemas --strict --dry-run "$share/glib-2.0/schemas"
check "scalable icon" test -s "$share/icons/hicolor/scalable/apps/$app.svg"
check "symbolic icon" test -s "$share/icons/hicolor/symbolic/apps/$app-symbolic.svg"
check "zh_CN translation" test -s "$share/locale/zh_CN/LC_MESSAGES/virtdeck.mo"
check "translated desktop name" grep -q '^GenericName\[zh_CN\]=' "$share/applications/$app.desktop"
check "screenshot in the tree" test -s data/screenshots/main-window.png
check "polkit policy (xmllint against polkit's DTD)" build-aux/validate-policy.sh \
    "$share/polkit-1/actions/$app.policy" /usr/bin "$dest"
check "installed binary runs" sh -c "'$dest/usr/bin/virtdeck' --version | grep -q '^virtdeck '"
exit $fail
