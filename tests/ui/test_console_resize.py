"""The console follows the guest's own change of resolution (an installer's text mode, then
its desktop's graphics mode): the view's size, aspect ratio and pixels stay right."""

import re
import time

from console_ui import GuestTestCase, assert_shows_guest, grab_keyboard, open_console, xdotool


class ConsoleGuestResizeTest(GuestTestCase):
    tag = "resize"
    # VGA text mode until Enter is typed (tests/guest/README.md).
    guest_options = {"extra_cmdline": "virtdeck.modeset=1"}

    def test_view_follows_the_guest_from_text_mode_to_graphics(self):
        self.assertIn("SCREEN: text", self.guest.log())
        app, window, screen, wid = open_console(self, self.guest)
        time.sleep(1)  # let the last update arrive
        self.assertEqual(assert_shows_guest(self, screen, wid, self.guest, "resize-text"),
                         (720, 400))
        start = len(self.guest.log())
        grab_keyboard(app, window, screen, wid)
        xdotool("key", "Return")
        line = self.guest.wait_line("SCREEN: ", timeout=60, after=start)
        size = re.search(r"SCREEN: (\d+)x(\d+)", self.guest.log()[start:])
        self.assertIsNotNone(size, f"no graphics mode: {self.guest.log()[start:]}")
        width, height = int(size.group(1)), int(size.group(2))
        self.assertNotEqual((width, height), (720, 400), line)
        time.sleep(2)  # the console redraws after the mode change
        self.assertEqual(assert_shows_guest(self, screen, wid, self.guest, "resize-graphics"),
                         (width, height))
