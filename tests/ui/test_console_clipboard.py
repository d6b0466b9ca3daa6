"""The clipboard between this desktop and a guest with a clipboard agent (QEMU's
qemu-vdagent chardev, the guest's agent of virtdeck.vdagent=1): both ways, and only while
the console has the keyboard focus."""

import time

from console_ui import (Clipboard, GuestTestCase, clipboard_text, grab_keyboard, open_console,
                        type_line, x_window, xdotool)
from vdui import wait_for

ELSEWHERE = "Elsewhere"


class ConsoleClipboardTest(GuestTestCase):
    tag = "clipboard"
    guest_options = {"vdagent": True}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.guest.wait_line("VDAGENT: connected", timeout=60)

    def test_clipboard_goes_both_ways_only_while_the_console_has_the_focus(self):
        elsewhere = Clipboard(None, window=ELSEWHERE)
        self.addCleanup(elsewhere.close)
        other = x_window(ELSEWHERE)
        host_text = "Host says: hello & <ok> ✓"
        held = Clipboard(host_text)
        self.addCleanup(held.close)
        app, window, screen, wid = open_console(self, self.guest)

        # This side's clipboard stays here while the keyboard is elsewhere…
        xdotool("windowfocus", "--sync", other)
        start = len(self.guest.log())
        time.sleep(3)
        self.assertNotIn("VDAGENT-CLIPBOARD:", self.guest.log()[start:])
        # …and reaches the guest once the console has the focus.
        xdotool("windowfocus", "--sync", wid)
        grab_keyboard(app, window, screen, wid)
        self.guest.wait_line(f"VDAGENT-CLIPBOARD: {host_text}", timeout=30, after=start)

        # The guest's clipboard reaches this side while the console has the focus.
        start = len(self.guest.log())
        type_line(app, window, screen, wid, self.guest, "vdclip 0 from the guest, focused")
        self.guest.wait_line("VDAGENT: sent", timeout=30, after=start)
        wait_for("the guest's text on this side's clipboard",
                 lambda: clipboard_text() == "from the guest, focused", timeout=30)
        # What came from the guest is not offered back to it.
        self.assertNotIn("VDAGENT-CLIPBOARD:", self.guest.log()[start:])

        # A change in the background stays in the guest until the focus returns.
        start = len(self.guest.log())
        type_line(app, window, screen, wid, self.guest, "vdclip 4 from the guest, unfocused")
        xdotool("windowfocus", "--sync", other)
        self.guest.wait_line("VDAGENT: grabbed", timeout=30, after=start)
        time.sleep(3)
        self.assertNotIn("VDAGENT: sent", self.guest.log()[start:])
        self.assertEqual(clipboard_text(), "from the guest, focused")
        xdotool("windowfocus", "--sync", wid)
        self.guest.wait_line("VDAGENT: sent", timeout=30, after=start)
        wait_for("the guest's background text after the focus returned",
                 lambda: clipboard_text() == "from the guest, unfocused", timeout=30)
