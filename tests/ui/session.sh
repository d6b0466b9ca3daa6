#!/usr/bin/env bash
# Runs the UI tests in a real X server (Xvfb) with a D-Bus session and the AT-SPI bus.
#   tests/ui/session.sh [unittest args…]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# A module whose source has the line "# X server: Xtigervnc" runs in Xtigervnc instead:
# Xvfb accepts setxkbmap and silently keeps the US keymap, Xtigervnc applies the layout.
x_server_of() {
    local file=$here/${1%%.*}.py
    if [ -f "$file" ] && grep -qx '# X server: Xtigervnc' "$file"; then
        echo Xtigervnc
    else
        echo Xvfb
    fi
}

# Runs "$@" (this script again) with DISPLAY on a fresh Xtigervnc of its own.
in_xtigervnc() {
    local dir status=0
    # Debian names TigerVNC's X server Xtigervnc, Fedora Xvnc.
    local server_binary
    server_binary=$(command -v Xtigervnc || command -v Xvnc) || {
        echo "Xtigervnc is missing: run build-aux/install-deps.sh test" >&2
        return 1
    }
    dir=$(mktemp -d)
    "$server_binary" -displayfd 3 -rfbport -1 -SecurityTypes None -geometry 1920x1080 -depth 24 \
        3>"$dir/display" >"$dir/log" 2>&1 &
    local server=$!
    local tries=0
    while [ ! -s "$dir/display" ] && [ $tries -lt 100 ]; do
        kill -0 $server 2>/dev/null || break
        sleep 0.1
        tries=$((tries + 1))
    done
    if [ ! -s "$dir/display" ]; then
        echo "Xtigervnc did not start:" >&2
        cat "$dir/log" >&2
        kill $server 2>/dev/null || true
        rm -rf "$dir"
        return 1
    fi
    DISPLAY=:$(head -n 1 "$dir/display") "$@" || status=$?
    kill $server 2>/dev/null || true
    wait $server 2>/dev/null || true
    rm -rf "$dir"
    return $status
}

if [ "${VD_IN_SESSION:-}" != 1 ]; then
    export VD_IN_SESSION=1
    if [ $# -gt 0 ]; then
        # Named modules or tests: the first one's X server runs them all.
        if [ "$(x_server_of "$1")" = Xtigervnc ]; then
            in_xtigervnc dbus-run-session -- "$0" "$@"
            exit
        fi
        exec xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- "$0" "$@"
    fi
    # Everything: the Xvfb modules together, then each Xtigervnc one.
    xvfb=() tigervnc=()
    for file in "$here"/test_*.py; do
        module=$(basename "$file" .py)
        if [ "$(x_server_of "$module")" = Xtigervnc ]; then
            tigervnc+=("$module")
        else
            xvfb+=("$module")
        fi
    done
    status=0
    xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- "$0" "${xvfb[@]}" || status=$?
    for module in "${tigervnc[@]}"; do
        in_xtigervnc dbus-run-session -- "$0" "$module" || status=$?
    done
    exit $status
fi

/usr/libexec/at-spi-bus-launcher --launch-immediately &
launcher=$!
trap 'kill $launcher 2>/dev/null || true' EXIT
export GTK_A11Y=atspi NO_AT_BRIDGE=0 GSK_RENDERER=${GSK_RENDERER:-cairo}
cd "$here"
# Debian's python3 carries pyatspi; a python3 earlier on PATH may not.
/usr/bin/python3 -m unittest "${@:-discover}" -v 2>&1
