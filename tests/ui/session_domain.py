"""A small diskless QEMU machine on qemu:///session for UI tests: SeaBIOS finds nothing to
boot, which is enough to run, use some CPU and send lifecycle events. It is removed after
each test, even on failure."""

import os
import subprocess

from vdui import UiTestCase, open_details_page, wait_for

SESSION = "qemu:///session"


def session_virsh(*args):
    return subprocess.run(
        ["virsh", "-c", SESSION, *args], capture_output=True, text=True, check=True
    ).stdout


class SessionDomainTestCase(UiTestCase):
    """`self.name` is the machine of this test, named after `tag`; Virtdeck samples
    statistics every `stats_interval` seconds (0: never)."""

    tag = "domain"
    stats_interval = 0

    def setUp(self):
        super().setUp()
        self.name = f"vdui-{os.getpid()}-{self.tag}"
        self.addCleanup(self.remove_domain)
        settings = os.path.join(self.env["XDG_CONFIG_HOME"], "glib-2.0", "settings")
        os.makedirs(settings)
        with open(os.path.join(settings, "keyfile"), "w") as f:
            f.write(f"[io/github/virtdeck/Virtdeck]\nstats-interval=uint32 {self.stats_interval}\n")

    def remove_domain(self):
        for command in (["destroy", self.name], ["undefine", self.name]):
            subprocess.run(["virsh", "-c", SESSION, *command], capture_output=True)

    def define(self, devices=""):
        """Defines the machine; `devices` is more device XML for it."""
        xml = os.path.join(self.home.name, "domain.xml")
        with open(xml, "w") as f:
            f.write(
                f"""<domain type='qemu'>
  <name>{self.name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>{devices}</devices>
</domain>"""
            )
        session_virsh("define", xml)

    def open_hardware(self, app, main, state):
        """Shows the machine's Hardware page once the list says it is `state`."""
        open_details_page(app, main, self.name, state, "Hardware")

    def open_shut_off(self):
        """Defines the 32 MiB machine, launches Virtdeck and waits for its Hardware page."""
        self.define()
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        self.open_hardware(app, main, "Shut off")
        wait_for("the form filled", lambda: app.find(
            name="Memory (MiB)", role="spin button", within=main).queryValue().currentValue == 32)
        return app, main

    def launch_running(self):
        """Defines and starts the machine, launches Virtdeck on the session connection and
        searches for it; returns the app and its main window once the list says Running."""
        from vdui import wait_for
        self.define()
        session_virsh("start", self.name)
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        app.search(self.name)
        wait_for("the machine running", lambda: app.rows()[0][:2] == [self.name, "Running"])
        return app, main
