"""A guest without a USB tablet: the console says the pointer may not follow exactly and
adds a tablet to the machine's configuration."""


from console_ui import GuestTestCase, open_console
from guest import virsh
from vdui import click, find_all, showing, wait_for


class ConsoleTabletTest(GuestTestCase):
    tag = "notablet"
    guest_options = dict(tablet=False)

    def test_banner_adds_a_usb_tablet(self):
        self.assertNotIn("type='tablet'", virsh("dumpxml", "--inactive", self.guest.name).stdout)
        app, window, screen, wid = open_console(self, self.guest)
        app.find(contains="may not follow your pointer", within=window)
        click(app.find("push button", "Add USB Tablet", within=window))
        wait_for("a tablet in the configuration", lambda: "<input type='tablet' bus='usb'>" in
                 virsh("dumpxml", "--inactive", self.guest.name).stdout)
        live = "type='tablet'" in virsh("dumpxml", self.guest.name).stdout
        if live:
            wait_for("the banner to go", lambda: not [
                a for a in find_all(window, contains="may not follow your pointer") if showing(a)])
        else:
            app.find(contains="when the virtual machine starts again", within=window)
        print("USB tablet plugged in", "live" if live else "for the next start")
