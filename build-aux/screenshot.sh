#!/usr/bin/env bash
# Takes the screenshot of the main window used by README.md and the AppStream metainfo:
#   build-aux/screenshot.sh OUTPUT.png [virtdeck arguments…]
# Runs in its own Xvfb display on the test fixture tests/fixtures/states.xml unless told
# otherwise.
set -euo pipefail
out=$(realpath -m "$1")
mkdir -p "$(dirname "$out")"
shift
cd "$(dirname "$0")/.."
bin=${VIRTDECK_BIN:-target/release/virtdeck}
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--connect "test://$PWD/tests/fixtures/states.xml")

if [ "${VD_IN_SESSION:-}" != 1 ]; then
    export VD_IN_SESSION=1
    exec xvfb-run -a -s "-screen 0 1920x1080x24" dbus-run-session -- "$0" "$out" "${args[@]}"
fi

GSETTINGS_BACKEND=memory GSK_RENDERER=cairo "$bin" "${args[@]}" &
app=$!
trap 'kill $app 2>/dev/null || true' EXIT
wid=
for _ in $(seq 100); do
    wid=$(xdotool search --onlyvisible --name '^Virtdeck$' 2>/dev/null | head -n 1 || true)
    [ -n "$wid" ] && break
    sleep 0.1
done
[ -n "$wid" ] || { echo "no Virtdeck window appeared" >&2; exit 1; }
sleep "${VD_SCREENSHOT_SETTLE:-2}"
import -window "$wid" "$out"
echo "wrote $out"
