"""The console: the real guest's screen in the window, keyboard and mouse reach it."""

import os
import re
import subprocess
import time

from guest import Guest, virsh
from vdui import ARTIFACTS, UiTestCase, click, wait_for


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, check=True).stdout


class ConsoleTest(UiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.guest = Guest(f"vdui-{os.getpid()}-console")
        cls.guest.wait_line("VIRTDECK-GUEST READY")

    @classmethod
    def tearDownClass(cls):
        cls.guest.remove()

    def open_console(self):
        app = self.launch("--connect", "qemu:///session", "--show-domain-console", self.guest.name)
        window = app.window(f"{self.guest.name} — Console")
        screen = app.find(name="Virtual machine screen", within=window)
        wid = wait_for("the console's X window", lambda: xdotool(
            "search", "--onlyvisible", "--name", f"^{re.escape(self.guest.name)} — Console$").split())[0]
        # The screen shows once connected: the title's hint appears with it.
        app.find(contains="Click to use the keyboard", within=window)
        return app, window, screen, wid

    def view_box(self, screen, wid):
        """The screen widget's rectangle on the X screen: AT-SPI gives it relative to its
        window, xdotool gives the window's position."""
        box = screen.queryComponent().getExtents(1)  # window coordinates
        geometry = xdotool("getwindowgeometry", wid)
        wx, wy = map(int, re.search(r"Position: (\d+),(\d+)", geometry).groups())
        return wx + box.x, wy + box.y, box.width, box.height

    def view_center(self, screen, wid):
        x, y, w, h = self.view_box(screen, wid)
        return x + w // 2, y + h // 2

    def test_typed_keys_reach_the_guest(self):
        app, window, screen, wid = self.open_console()
        x, y = self.view_center(screen, wid)
        xdotool("mousemove", str(x), str(y), "click", "1")
        app.find(contains="Press Ctrl+Alt to release", within=window)
        start = len(self.guest.log())
        xdotool("type", "--delay", "80", "hello console")
        xdotool("key", "Return")
        self.guest.wait_line("TYPED: hello console", timeout=30, after=start)

    def test_pointer_moves_and_clicks_reach_the_guest(self):
        app, window, screen, wid = self.open_console()
        bx, by, bw, bh = self.view_box(screen, wid)
        start = len(self.guest.log())
        xdotool("mousemove", str(bx + bw // 2), str(by + bh // 2), "click", "1")
        xdotool("mousemove", str(bx + bw // 4), str(by + bh // 4))
        xdotool("mousedown", "1", "mouseup", "1")
        self.guest.wait_line("POINTER: abs", timeout=30, after=start)
        wait_for("a click in the guest", lambda: re.search(
            r"POINTER: abs \d+ \d+ 1", self.guest.log()[start:]), timeout=30)

    def test_console_shows_what_the_guest_shows(self):
        app, window, screen, wid = self.open_console()
        os.makedirs(ARTIFACTS, exist_ok=True)
        guest_png = os.path.join(ARTIFACTS, "console-guest.png")
        shown_png = os.path.join(ARTIFACTS, "console-shown.png")
        time.sleep(1)  # let the last update arrive
        virsh("screenshot", self.guest.name, guest_png)
        bx, by, bw, bh = self.view_box(screen, wid)
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
        around = os.path.join(ARTIFACTS, "console-around.png")
        subprocess.run(["import", "-window", "root", "-crop",
                        f"{w + 2 * m}x{h + 2 * m}+{x - m}+{y - m}", "+repage", around], check=True)
        expected = os.path.join(ARTIFACTS, "console-expected.png")
        subprocess.run(["convert", guest_png, "-resize", f"{w}x{h}!", expected], check=True)
        patch = os.path.join(ARTIFACTS, "console-patch.png")
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
        print(f"console vs guest screen: RMSE {error:.4f} at offset {px - m},{py - m}")
        self.assertLess(error, 0.08, f"console differs from the guest screen: {compare.stderr}")
