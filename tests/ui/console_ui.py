"""Console helpers shared by the console UI tests: open a console, find the guest screen
on the X screen, click and type into it."""

import json
import os
import re
import subprocess

from guest import Guest, virsh
from vdui import ARTIFACTS, UiTestCase, wait_for

READY = "VIRTDECK-GUEST READY"


class GuestTestCase(UiTestCase):
    """UI tests sharing one booted test guest, `cls.guest`, named after `tag` and made with
    `guest_options` (see guest.Guest); removed when the class is done."""

    tag = "guest"
    guest_options = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.guest = Guest(f"vdui-{os.getpid()}-{cls.tag}", **cls.guest_options)
        cls.guest.wait_line(READY)

    @classmethod
    def tearDownClass(cls):
        cls.guest.remove()
        super().tearDownClass()


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, check=True).stdout


def x_window(title):
    """The id of the shown X window called exactly `title`."""
    return wait_for(f"the X window {title!r}", lambda: xdotool(
        "search", "--onlyvisible", "--name", f"^{re.escape(title)}$").split())[0]


def open_console(test, guest, uri="qemu:///session"):
    """Launches virtdeck on `uri` with the console window of `guest` (anything with the
    domain's `name`); waits until it shows the screen."""
    app = test.launch("--connect", uri, "--show-domain-console", guest.name)
    title = f"{guest.name} — Console"
    window = app.window(title)
    screen = app.find(name="Virtual machine screen", within=window)
    wid = x_window(title)
    # The screen shows once connected: the title's hint appears with it.
    app.find(contains="Click to use the keyboard", within=window)
    return app, window, screen, wid


def view_box(screen, wid, window=None, scale=1):
    """The screen widget's rectangle on the X screen: AT-SPI gives it relative to its
    window (in logical pixels, `scale` device pixels each), xdotool the window's position.
    With the accessible `window`, the client-side shadow around it is counted too."""
    box = screen.queryComponent().getExtents(1)  # window coordinates
    geometry = xdotool("getwindowgeometry", wid)
    wx, wy = map(int, re.search(r"Position: (\d+),(\d+)", geometry).groups())
    if window is not None:
        width, height = map(int, re.search(r"Geometry: (\d+)x(\d+)", geometry).groups())
        frame = window.queryComponent().getExtents(1)
        wx += (width - frame.width * scale) // 2
        wy += (height - frame.height * scale) // 2
    return wx + box.x * scale, wy + box.y * scale, box.width * scale, box.height * scale


def grab_keyboard(app, window, screen, wid):
    """Clicks into the middle of the screen, which takes the keyboard."""
    x, y, w, h = view_box(screen, wid)
    xdotool("mousemove", str(x + w // 2), str(y + h // 2), "click", "1")
    app.find(contains="Press Ctrl+Alt to release", within=window)


def type_line(app, window, screen, wid, guest, text):
    """Clicks into the screen (grabbing the keyboard), types `text` and Enter, and waits
    for the guest to report the line."""
    grab_keyboard(app, window, screen, wid)
    start = len(guest.log())
    xdotool("type", "--delay", "80", text)
    xdotool("key", "Return")
    guest.wait_line(f"TYPED: {text}", timeout=30, after=start)


CLIPBOARD_HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "clipboard.py")


class Clipboard:
    """Text on the X clipboard, owned by a helper process until `close()`; with
    `window=TITLE`, instead an empty window of another program called TITLE."""

    def __init__(self, text, window=None):
        args = ["--window", window] if window else [text]
        self.process = subprocess.Popen(
            ["/usr/bin/python3", CLIPBOARD_HELPER, *args], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if line.strip() != "READY":
            self.close()
            raise AssertionError(f"the clipboard helper said {line!r}")

    def close(self):
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()


def clipboard_text():
    """The X clipboard's text as another program reads it (None: no text)."""
    out = subprocess.run(["/usr/bin/python3", CLIPBOARD_HELPER, "--read"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return json.loads(out)


def assert_shows_guest(test, screen, wid, guest, name="console"):
    """Compares the console's screen widget on the X screen with the guest's own screen
    (`virsh screenshot`), both at the size fit mode shows it, with its aspect ratio; fails
    when they differ (normalised RMSE 0.08 or more). Returns the guest screen's size.
    The images are left in ARTIFACTS as `name`-guest.png, `name`-shown.png."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    guest_png = os.path.join(ARTIFACTS, f"{name}-guest.png")
    shown_png = os.path.join(ARTIFACTS, f"{name}-shown.png")
    virsh("screenshot", guest.name, guest_png)
    bx, by, bw, bh = view_box(screen, wid)
    size = subprocess.run(["identify", "-format", "%w %h", guest_png],
                          capture_output=True, text=True, check=True).stdout.split()
    gw, gh = int(size[0]), int(size[1])
    # Fit mode keeps the aspect ratio: the guest fills the middle of the view.
    zoom = min(bw / gw, bh / gh)
    w, h = round(gw * zoom), round(gh * zoom)
    x = bx + (bw - w) // 2
    y = by + (bh - h) // 2
    # Window decorations make the computed position off by a few pixels: grab a
    # margin around it and find where the guest's screen really is.
    m = 12
    around = os.path.join(ARTIFACTS, f"{name}-around.png")
    subprocess.run(["import", "-window", "root", "-crop",
                    f"{w + 2 * m}x{h + 2 * m}+{x - m}+{y - m}", "+repage", around], check=True)
    expected = os.path.join(ARTIFACTS, f"{name}-expected.png")
    subprocess.run(["convert", guest_png, "-resize", f"{w}x{h}!", expected], check=True)
    patch = os.path.join(ARTIFACTS, f"{name}-patch.png")
    subprocess.run(["convert", expected, "-crop", f"{w // 6}x{h // 8}+{m}+{m}", "+repage",
                    patch], check=True)
    found = subprocess.run(["compare", "-metric", "RMSE", "-subimage-search", around, patch,
                            "null:"], capture_output=True, text=True).stderr
    px, py = map(int, re.search(r"@ (\d+),(\d+)", found).groups())
    subprocess.run(["convert", around, "-crop", f"{w}x{h}+{px - m}+{py - m}", "+repage",
                    shown_png], check=True)
    compare = subprocess.run(
        ["compare", "-metric", "RMSE", expected, shown_png, "null:"],
        capture_output=True, text=True)
    # "1234.5 (0.0188)": the normalised error in parentheses.
    error = float(re.search(r"\(([\d.e-]+)\)", compare.stderr).group(1))
    print(f"{name} vs guest screen {gw}x{gh}: RMSE {error:.4f} at offset {px - m},{py - m}")
    test.assertLess(error, 0.08, f"{name} differs from the guest screen: {compare.stderr}")
    return gw, gh
