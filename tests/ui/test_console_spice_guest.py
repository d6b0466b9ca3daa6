"""A real QEMU guest whose only display is SPICE: its console page says so and switches the
display to VNC in one click; the running guest keeps SPICE until it starts again, and then
the same console page connects over VNC and what is typed into it reaches the guest."""

import os
import xml.etree.ElementTree as ET

from console_ui import READY, type_line, x_window
from guest import SESSION, Guest, virsh
from vdui import UiTestCase, click, find_all, sensitive, showing, wait_for


def graphics_types(name, *flags):
    """The `<graphics>` types of the domain's XML (`flags`: e.g. --inactive)."""
    root = ET.fromstring(virsh("dumpxml", name, *flags).stdout)
    return [g.get("type") for g in root.iter("graphics")]


class ConsoleSpiceGuestTest(UiTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        name = f"vdtest-spiceg-{os.getpid()}"
        # Removed even when the guest does not boot.
        cls.addClassCleanup(lambda: (virsh("destroy", name, check=False),
                                     virsh("undefine", name, check=False)))
        cls.guest = Guest(name, display="spice")
        cls.guest.wait_line(READY)

    def test_switch_a_spice_guest_to_vnc_and_type_into_it(self):
        guest = self.guest
        self.assertEqual(graphics_types(guest.name), ["spice"])
        app = self.launch("--connect", SESSION, "--show-domain-console", guest.name)
        title = f"{guest.name} — Console"
        window = app.window(title)
        app.find(name="No VNC Display", within=window)
        app.find(contains="display is SPICE, which this console cannot show", within=window)
        click(app.find("push button", "Switch Display to VNC", within=window))
        app.find(contains="it takes effect when the virtual machine starts again", within=window)
        wait_for("the switch button to go", lambda: not [
            a for a in find_all(window, name="Switch Display to VNC") if showing(a)])
        # The configuration is VNC; the running guest keeps its SPICE display.
        self.assertEqual(graphics_types(guest.name, "--inactive"), ["vnc"])
        self.assertEqual(graphics_types(guest.name), ["spice"])

        # Force off and start again from the console page.
        click(app.find("push button", "Virtual Machine", within=window))
        click(app.find("menu item", contains="Force Off", within=window))
        app.find(name="The Virtual Machine Is Not Running", within=window)
        start = len(guest.log())
        button = app.find("push button", "Start", within=window)
        wait_for("Start offered", lambda: sensitive(button))
        click(button)
        wait_for("the guest running", lambda: virsh("domstate", guest.name).stdout.strip()
                 == "running", timeout=60)
        guest.wait_line(READY, after=start)

        # The page connects over VNC by itself and the keyboard reaches the guest.
        screen = app.find(name="Virtual machine screen", within=window)
        app.find(contains="Click to use the keyboard", within=window)
        type_line(app, window, screen, x_window(title), guest, "typed over vnc")
        self.assertEqual(graphics_types(guest.name), ["vnc"])
        self.assertFalse([a for a in find_all(window, contains="display is SPICE") if showing(a)])
