"""The console follows its guest: it stays connected through a reboot inside the same
QEMU process and connects by itself to the new process after a restart."""


from console_ui import READY, GuestTestCase, open_console, type_line
from guest import virsh


class ConsoleLifecycleTest(GuestTestCase):
    tag = "lifecycle"

    def test_console_survives_a_reset_and_reconnects_after_a_restart(self):
        app, window, screen, wid = open_console(self, self.guest)
        type_line(app, window, screen, wid, self.guest, "before")

        # A reset reboots the guest inside the same QEMU: the session goes on.
        start = len(self.guest.log())
        virsh("reset", self.guest.name)
        self.guest.wait_line(READY, after=start)
        type_line(app, window, screen, wid, self.guest, "after reset")

        # Destroy and start: a new QEMU process; the console connects again, no click.
        virsh("destroy", self.guest.name)
        app.find(name="The Virtual Machine Is Not Running", within=window)
        self.restart_and_type(app, window, screen, wid, "after restart", destroy=False)

        # Back to back, before the console may have seen the machine stop.
        self.restart_and_type(app, window, screen, wid, "after quick restart", destroy=True)

    def restart_and_type(self, app, window, screen, wid, text, destroy):
        start = len(self.guest.log())
        if destroy:
            virsh("destroy", self.guest.name)
        virsh("start", self.guest.name)
        self.guest.wait_line(READY, after=start)
        app.find(contains="Click to use the keyboard", within=window)
        type_line(app, window, screen, wid, self.guest, text)
