"""A guest whose VNC display has a password, reached over TCP (VIRTDECK_CONSOLE_ADDRESS):
the console takes the password from the domain XML; when that one is refused it asks,
asks again after a wrong answer, and connects with the right one."""


from console_ui import GuestTestCase, open_console, type_line, x_window, xdotool
from guest import virsh
from vdui import click, wait_for

PASSWORD = "vdxmlpw1"  # VNC passwords have at most 8 characters
CHANGED = "vdtyped2"


class ConsolePasswordTest(GuestTestCase):
    tag = "vncpass"
    guest_options = dict(vnc_password=PASSWORD)

    def answer(self, app, heading, password, refused):
        """Types `password` into the prompt called `heading` and presses Connect."""
        dialog = app.window(heading)
        if refused:
            app.find(name="The password was not accepted.", within=dialog)
        wid = x_window(heading)
        xdotool("windowfocus", "--sync", wid)
        xdotool("type", "--delay", "50", password)
        click(app.find("push button", "Connect", within=dialog))
        wait_for("the prompt to close", lambda: not app.find_all_windows(heading))

    def test_password_from_the_xml_then_asked_for(self):
        self.env["VIRTDECK_CONSOLE_ADDRESS"] = self.guest.vnc_address()
        # The domain XML's password opens the console without a question.
        app, window, screen, wid = open_console(self, self.guest)
        type_line(app, window, screen, wid, self.guest, "xml password")
        app.quit()

        # QEMU's password changes behind libvirt's back: the XML's is refused.
        virsh("qemu-monitor-command", self.guest.name, "--hmp", f"set_password vnc {CHANGED}")
        app = self.launch("--connect", "qemu:///session", "--show-domain-console",
                          self.guest.name)
        heading = f"Password for {self.guest.name}'s Console"
        self.answer(app, heading, "not-it", refused=True)
        self.answer(app, heading, CHANGED, refused=True)
        title = f"{self.guest.name} — Console"
        window = app.window(title)
        screen = app.find(name="Virtual machine screen", within=window)
        app.find(contains="Click to use the keyboard", within=window)
        type_line(app, window, screen, x_window(title), self.guest, "typed password")
