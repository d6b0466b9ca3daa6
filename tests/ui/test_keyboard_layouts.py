"""Keyboard layouts: with the same layout on this side (X) and in the guest (its console
keymap), every character typed into the console arrives as typed, AltGr ones included.
The console sends physical keys, so the guest's own keymap decides, as on real hardware.
"""
# X server: Xtigervnc

import ctypes
import re
import subprocess
import time

from console_ui import GuestTestCase, grab_keyboard, open_console, xdotool
from vdui import wait_for


def setxkbmap(layout):
    subprocess.run(["setxkbmap", layout], check=True)
    shown = subprocess.run(["setxkbmap", "-query"], capture_output=True, text=True,
                           check=True).stdout
    layouts = [line.split()[1] for line in shown.splitlines() if line.startswith("layout:")]
    # Xvfb accepts setxkbmap and keeps the US map: the test needs a server that applies it.
    if layouts != [layout]:
        raise AssertionError(f"the X server kept the layout {layouts} instead of {layout}")


def press_keys(*keycodes):
    """Presses and releases X keycodes one after another through XTest: the physical key
    itself, where xdotool takes the first key that has the keysym on any level (X's de
    layout has dead_circumflex on AltGr+Ä too, which a console keymap leaves out)."""
    x11 = ctypes.CDLL("libX11.so.6")
    xtst = ctypes.CDLL("libXtst.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                       ctypes.c_ulong]
    display = x11.XOpenDisplay(None)
    if not display:
        raise AssertionError("cannot open the X display")
    try:
        for keycode in keycodes:
            for pressed in (1, 0):
                xtst.XTestFakeKeyEvent(display, keycode, pressed, 0)
                x11.XFlush(display)
                time.sleep(0.04)
    finally:
        x11.XCloseDisplay(display)


# XKB keycodes (evdev + 8) of keys pressed by their place: left of 1, O on QWERTZ, the
# space bar, the 102nd key.
TLDE, AD09, SPACE, LSGT = 49, 32, 65, 94


class LayoutTestCase(GuestTestCase):
    """Types `line` with the X layout `layout` into a guest whose console keymap is
    `kmap` (none: the kernel's US one)."""

    layout = "us"
    kmap = None
    line = ""

    @classmethod
    def setUpClass(cls):
        if cls.kmap:
            cls.guest_options = {"extra_cmdline": f"virtdeck.kmap={cls.kmap}"}
        super().setUpClass()
        if cls.kmap:
            cls.guest.wait_line(f"KMAP: {cls.kmap}", timeout=10)

    def setUp(self):
        super().setUp()
        setxkbmap(self.layout)
        self.addCleanup(setxkbmap, "us")

    def grab_console(self):
        """Opens the console and clicks into the screen, which takes the keyboard."""
        grab_keyboard(*open_console(self, self.guest))

    def typed_line(self, start):
        """The next line the guest reports after `start` in its serial log."""
        return wait_for("a TYPED line on the guest's serial port", lambda: re.search(
            r"TYPED: (.*)\r", self.guest.log()[start:]), timeout=30).group(1)

    def check_line_arrives_exactly(self, keys_after=(), text_after=""):
        """Types `line`, then presses the X keycodes `keys_after` (which type `text_after`)."""
        self.grab_console()
        start = len(self.guest.log())
        xdotool("type", "--delay", "80", self.line)
        press_keys(*keys_after)
        xdotool("key", "Return")
        self.assertEqual(self.typed_line(start), self.line + text_after)


class UsLayoutTest(LayoutTestCase):
    tag = "layout-us"
    layout = "us"
    line = "echo zyZY-_#<>|@`~[]{}\\;:'\",./?"

    def test_us_layout_into_the_default_guest(self):
        self.check_line_arrives_exactly()


class GermanLayoutTest(LayoutTestCase):
    tag = "layout-de"
    layout = "de"
    kmap = "de"
    # z/y swapped, - _ # on their own keys, < > | on the 102nd key, @ { [ ] } \ with AltGr;
    # no dead keys (^ ´ ` ~), which xdotool type cannot type.
    line = "echo zyZY-_#'<>|@{[]}\\+*?=/"

    def test_german_layout_into_a_german_guest(self):
        self.check_line_arrives_exactly()

    def test_dead_keys_compose_in_the_guest(self):
        # The keys go to the guest as they are pressed; its console composes them.
        self.grab_console()
        start = len(self.guest.log())
        xdotool("type", "--delay", "80", "echo ")
        xdotool("key", "--delay", "80", "dead_acute", "e", "dead_grave", "a")
        # ^ is the key left of 1 (TLDE): ^ o, then ^ space.
        press_keys(TLDE, AD09, SPACE, TLDE, SPACE)
        xdotool("key", "Return")
        self.assertEqual(self.typed_line(start), "echo éàô ^")


class FrenchLayoutTest(LayoutTestCase):
    tag = "layout-fr"
    layout = "fr"
    kmap = "fr"
    # AZERTY letters, digits with Shift, > | on the 102nd key, AltGr for # @ | [ ] { } \.
    # "<" is pressed as the 102nd key itself: X's fr has it on Shift+AltGr+Z as well, a key
    # xdotool picks first, which the console's fr-latin9 map leaves to another character.
    line = "echo azqwmAZQWM,;:!-_#>|@12390()[]{}\\"

    def test_french_layout_into_a_french_guest(self):
        self.check_line_arrives_exactly(keys_after=(LSGT,), text_after="<")
