"""The console: the real guest's screen in the window, keyboard and mouse reach it."""

import os
import re
import subprocess
import time

from console_ui import (Clipboard, GuestTestCase, assert_shows_guest, open_console, type_line,
                        view_box, x_window, xdotool)
from guest import virsh
from vdui import ARTIFACTS, click, find_all, wait_for


class ConsoleTest(GuestTestCase):
    tag = "console"

    def open_console(self):
        return open_console(self, self.guest)

    def test_typed_keys_reach_the_guest(self):
        app, window, screen, wid = self.open_console()
        type_line(app, window, screen, wid, self.guest, "hello console")

    def test_paste_as_keystrokes_types_the_clipboard_exactly(self):
        app, window, screen, wid = self.open_console()
        symbols = "`~!@#$%^&*()-_=+[{]};:'\",<.>/?|\\ azAZ09"
        line = (symbols * 6)[:200]
        self.assertEqual(len(line), 200)
        clipboard = Clipboard(line + "\n")
        self.addCleanup(clipboard.close)
        start = len(self.guest.log())
        click(app.find(name="Send Key", within=window))
        click(app.find("menu item", contains="Paste as Keystrokes", within=window))
        self.guest.wait_line(f"TYPED: {line}\r", timeout=90, after=start)

    def test_console_view_in_the_main_window(self):
        app = self.launch("--connect", "qemu:///session")
        main = app.window("Virtdeck")
        app.search(self.guest.name)
        app.find(name=self.guest.name, role="label", within=main)
        switch = wait_for("the Console view switch", lambda: next(
            a for a in find_all(main, name="Console") if a.getRoleName() != "push button"))
        click(switch)
        screen = app.find(name="Virtual machine screen", within=main)
        app.find(contains="Click to use the keyboard", within=main)
        wid = x_window("Virtdeck")
        type_line(app, main, screen, wid, self.guest, "hello view")
        # Its own window takes the guest over; the view takes it back when it closes.
        click(app.find("push button", "Open in Its Own Window", within=main))
        app.find(contains="Open in Its Own Window", role="label", within=main)
        title = f"{self.guest.name} — Console"
        window = app.window(title)
        app.find(contains="Click to use the keyboard", within=window)
        click(app.find("push button", "Close", within=window))
        wait_for("the console window to close", lambda: not app.find_all_windows(title))
        app.find(contains="Click to use the keyboard", within=main)
        type_line(app, main, screen, wid, self.guest, "view again")

    def test_hidpi_click_lands_on_the_guest_pixel_under_the_pointer(self):
        self.env["GDK_SCALE"] = "2"
        app, window, screen, wid = self.open_console()
        # Twice the default size does not fit the X screen: make the window fit.
        xdotool("windowmove", wid, "0", "0", "windowsize", wid, "1800", "1000")
        os.makedirs(ARTIFACTS, exist_ok=True)
        guest_png = os.path.join(ARTIFACTS, "console-hidpi-guest.png")
        virsh("screenshot", self.guest.name, guest_png)
        size = subprocess.run(["identify", "-format", "%w %h", guest_png],
                              capture_output=True, text=True, check=True).stdout.split()
        gw, gh = int(size[0]), int(size[1])

        def box():
            return view_box(screen, wid, window=window, scale=2)
        wait_for("the smaller window", lambda: box()[2] <= 1800, timeout=10)
        time.sleep(0.5)  # the last configure settles
        bx, by, bw, bh = box()
        zoom = min(bw / gw, bh / gh)
        x0, y0 = bx + (bw - gw * zoom) / 2, by + (bh - gh * zoom) / 2
        xdotool("mousemove", str(bx + bw // 2), str(by + bh // 2), "click", "1")
        start = len(self.guest.log())
        # A quarter into the guest screen each way: QEMU's tablet reports 0–32767.
        xdotool("mousemove", str(round(x0 + gw * zoom / 4)), str(round(y0 + gh * zoom / 4)))
        xdotool("mousedown", "1", "mouseup", "1")
        found = wait_for("a click in the guest", lambda: re.findall(
            r"POINTER: abs (\d+) (\d+) 1", self.guest.log()[start:]), timeout=30)
        x, y = map(int, found[-1])
        print(f"HiDPI click at a quarter of the screen arrived as {x} {y} ({gw}x{gh})")
        tolerance = 32768 * 3 / min(gw, gh)  # a few guest pixels
        self.assertAlmostEqual(x, 8192, delta=tolerance)
        self.assertAlmostEqual(y, 8192, delta=tolerance)

    def test_pointer_moves_and_clicks_reach_the_guest(self):
        app, window, screen, wid = self.open_console()
        bx, by, bw, bh = view_box(screen, wid)
        start = len(self.guest.log())
        xdotool("mousemove", str(bx + bw // 2), str(by + bh // 2), "click", "1")
        xdotool("mousemove", str(bx + bw // 4), str(by + bh // 4))
        xdotool("mousedown", "1", "mouseup", "1")
        self.guest.wait_line("POINTER: abs", timeout=30, after=start)
        wait_for("a click in the guest", lambda: re.search(
            r"POINTER: abs \d+ \d+ 1", self.guest.log()[start:]), timeout=30)

    def test_console_shows_what_the_guest_shows(self):
        app, window, screen, wid = self.open_console()
        time.sleep(1)  # let the last update arrive
        assert_shows_guest(self, screen, wid, self.guest)
