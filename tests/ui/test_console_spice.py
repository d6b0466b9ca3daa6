"""A machine whose only display is SPICE: its console says so and switches the display to
VNC in one click (libvirt's test driver, which needs no SPICE support in QEMU): a shut-off
machine's banner goes, a running one's says the switch waits for its next start."""

import os

from vdui import UiTestCase, click, find_all, showing, wait_for

SPICE_MESSAGE = "display is SPICE"


def spice_domain(name, uuid, runstate):
    return f"""  <domain type="test" xmlns:test="http://libvirt.org/schemas/domain/test/1.0">
    <name>{name}</name>
    <uuid>{uuid}</uuid>
    <memory unit="KiB">65536</memory>
    <vcpu>1</vcpu>
    <os><type>hvm</type></os>
    <devices>
      <graphics type="spice" port="-1" autoport="yes" listen="127.0.0.1"/>
    </devices>
    <test:runstate>{runstate}</test:runstate>
  </domain>
"""


class ConsoleSpiceTest(UiTestCase):
    def setUp(self):
        super().setUp()
        path = os.path.join(self.home.name, "spice.xml")
        with open(path, "w") as f:
            f.write("<node>\n" + spice_domain("spice-off", "5eed5000-0000-4000-8000-000000000001", 5)
                    + spice_domain("spice-on", "5eed5000-0000-4000-8000-000000000002", 1)
                    + "</node>\n")
        self.uri = "test://" + path

    def open_console(self, name):
        app = self.launch("--connect", self.uri, "--show-domain-console", name)
        return app, app.window(f"{name} — Console")

    def shown(self, window, text):
        return [a for a in find_all(window, contains=text) if showing(a)]

    def test_a_shut_off_machine_switches_to_vnc(self):
        app, window = self.open_console("spice-off")
        app.find(contains=SPICE_MESSAGE, within=window)
        # No tablet either: the tablet banner offers one beside it.
        app.find("push button", "Add USB Tablet", within=window)
        click(app.find("push button", "Switch Display to VNC", within=window))
        wait_for("the SPICE banner to go", lambda: not self.shown(window, SPICE_MESSAGE))
        app.find(name="The Virtual Machine Is Not Running", within=window)

    def test_a_running_machine_switches_at_its_next_start(self):
        app, window = self.open_console("spice-on")
        app.find(name="No VNC Display", within=window)
        click(app.find("push button", "Switch Display to VNC", within=window))
        app.find(contains="when the virtual machine starts again", within=window)
        self.assertFalse([a for a in find_all(window, name="Switch Display to VNC") if showing(a)])
