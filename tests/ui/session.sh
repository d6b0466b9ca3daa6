#!/usr/bin/env bash
# Runs the UI tests in a real X server (Xvfb) with a D-Bus session and the AT-SPI bus.
#   tests/ui/session.sh [unittest args…]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${VD_IN_SESSION:-}" != 1 ]; then
    export VD_IN_SESSION=1
    exec xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- "$0" "$@"
fi

/usr/libexec/at-spi-bus-launcher --launch-immediately &
launcher=$!
trap 'kill $launcher 2>/dev/null || true' EXIT
export GTK_A11Y=atspi NO_AT_BRIDGE=0 GSK_RENDERER=${GSK_RENDERER:-cairo}
cd "$here"
# Debian's python3 carries pyatspi; a python3 earlier on PATH may not.
/usr/bin/python3 -m unittest "${@:-discover}" -v 2>&1
