"""The Text Console: a VTE terminal on the machine's serial port, reached from the console
window's machine menu. The test guest runs a shell on its second serial port
(virtdeck.shell=ttyS1); a command typed into the terminal runs there, and its answer comes
back into the terminal: it sets the terminal's title, which the window shows. The same over
a remote host's connection, with one SSH login for everything."""

import os
import subprocess

from console_ui import READY, open_console, view_box, x_window, xdotool
from remote import RemoteHostMixin, start_guest
from vdui import ROOT, UiTestCase, click, find_all, wait_for

PREFIX = f"vdtest-text-console-{os.getpid()}"
# printf answers with the terminal escape that sets its title to "vd-42".
COMMAND = "printf '\\033]0;vd-%s\\007' $((6*7))"


class TextConsoleTest(RemoteHostMixin, UiTestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)

    def answer_in_text_console(self, log, uri):
        app, window, _screen, _wid = open_console(self, log, uri=uri)
        click(app.find("push button", "Virtual Machine", within=window))
        click(app.find("menu item", contains="Text Console"))
        title = f"{log.name} — Text Console"
        text_window = app.window(title)
        terminal = app.find(name="Serial console", within=text_window)
        # A click into the terminal gives it the keyboard.
        x, y, w, h = view_box(terminal, x_window(title))
        xdotool("mousemove", str(x + w // 2), str(y + h // 2), "click", "1")
        # The guest's shell may not have opened its port yet when the first try goes.
        for attempt in range(3):
            xdotool("type", "--delay", "40", COMMAND)
            xdotool("key", "Return")
            try:
                wait_for("the answer in the window's subtitle", lambda: find_all(
                    text_window, role="label", name="vd-42"), timeout=15)
                return
            except AssertionError:
                if attempt == 2:
                    raise

    def test_a_command_typed_into_the_text_console_runs_in_the_guest(self):
        log = start_guest(self, None, f"{PREFIX}-local", serial_shell=True)
        log.wait_line(READY)
        self.answer_in_text_console(log, "qemu:///session")

    def test_the_text_console_of_a_remote_guest(self):
        host = self.remote_host("rtxc", 64)
        log = start_guest(self, host, f"{PREFIX}-remote", serial_shell=True)
        log.wait_line(READY)
        self.answer_in_text_console(log, host.uri)
        self.assertEqual(host.logins(), 1, "one SSH login for the connection and both consoles")
