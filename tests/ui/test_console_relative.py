"""A guest without a USB tablet: its pointer is the PS/2 mouse, which moves by motion. A
click into the console grabs the pointer (hidden, kept in the middle of the screen on
X11) and forwards its motion; Ctrl+Alt gives it back."""

import re
import time

from console_ui import GuestTestCase, open_console, view_box, xdotool
from vdui import wait_for

# Nothing forwarded shows up on the serial port within this time (for checking absence).
SETTLE = 2.0


def pointer_lines(log):
    """The (dx, dy, buttons) of each `POINTER: rel` line in `log`."""
    return [tuple(map(int, m)) for m in re.findall(r"POINTER: rel (-?\d+) (-?\d+) (\d+)", log)]


def pointer_location():
    return tuple(map(int, re.search(r"x:(\d+) y:(\d+)", xdotool("getmouselocation")).groups()))


class ConsoleRelativeTest(GuestTestCase):
    tag = "relative"
    guest_options = dict(tablet=False)

    def test_grabbed_pointer_moves_the_guest_mouse_and_ctrl_alt_gives_it_back(self):
        app, window, screen, wid = open_console(self, self.guest)
        x, y, w, h = view_box(screen, wid, window=window)

        def in_the_middle():
            at = pointer_location()
            return at if abs(at[0] - (x + w / 2)) <= 3 and abs(at[1] - (y + h / 2)) <= 3 else None

        def motion(start):
            return pointer_lines(self.guest.log()[start:])

        # Not grabbed: moving over the screen is not the guest's.
        start = len(self.guest.log())
        xdotool("mousemove", str(x + w // 3), str(y + h // 3))
        xdotool("mousemove_relative", "--", "40", "0")
        time.sleep(SETTLE)
        self.assertEqual(motion(start), [])

        # The grabbing click goes to no one, and puts the pointer in the middle.
        xdotool("click", "1")
        app.find(contains="Press Ctrl+Alt to release the mouse", within=window)
        centre = wait_for("the pointer warped into the middle of the screen", in_the_middle)
        start = len(self.guest.log())
        for _ in range(5):
            xdotool("mousemove_relative", "--", "40", "0")
            # Back in the middle before the next move, so that each is one motion.
            wait_for("the pointer back in the middle", lambda: pointer_location() == centre)
        wait_for("the guest mouse to move 200 to the right",
                 lambda: sum(dx for dx, _, _ in motion(start)) >= 195, timeout=30)
        time.sleep(0.5)
        moved = motion(start)
        dx, dy = sum(m[0] for m in moved), sum(m[1] for m in moved)
        print(f"5 moves of 40 px arrived as {len(moved)} lines, dx {dx}, dy {dy}: {moved}")
        self.assertAlmostEqual(dx, 200, delta=5)
        self.assertAlmostEqual(dy, 0, delta=2)
        self.assertTrue(all(buttons == 0 for _, _, buttons in moved))

        # A click while grabbed is the guest's.
        start = len(self.guest.log())
        xdotool("mousedown", "1")
        wait_for("the button down in the guest",
                 lambda: any(b == 1 for _, _, b in motion(start)), timeout=30)
        xdotool("mouseup", "1")
        wait_for("the button up in the guest", lambda: motion(start)[-1][2] == 0, timeout=30)

        # Ctrl+Alt releases: the pointer moves freely again and the guest sees none of it.
        xdotool("key", "ctrl+alt")
        app.find(contains="Click to use the keyboard", within=window)
        start = len(self.guest.log())
        before = pointer_location()
        xdotool("mousemove_relative", "--", "40", "0")
        xdotool("mousemove_relative", "--", "0", "30")
        wait_for("the pointer to stay where it was moved",
                 lambda: pointer_location() == (before[0] + 40, before[1] + 30))
        time.sleep(SETTLE)
        self.assertEqual(pointer_location(), (before[0] + 40, before[1] + 30))
        self.assertEqual(motion(start), [])
