"""The details' Hardware page: memory and vCPUs of a shut-off machine through the form and
Apply, an ISO inserted into and ejected from a running machine's CD-ROM, a network
interface added; each checked with virsh."""

import os
import re

from session_domain import SESSION, SessionDomainTestCase, session_virsh
from vdui import click, find_all, open_details_page, press, sensitive, showing, walk, wait_for


def set_spin(app, main, name, value):
    """Sets the spin button called `name` as a screen reader would: its value."""
    spin = app.find(name=name, role="spin button", within=main)
    spin.queryValue().currentValue = float(value)


def row_button(app, main, row_name, button):
    """The button showing `button` in the list row called `row_name`: a screen reader
    names it whole, "Add USB Tablet"."""
    name = f"{button} {row_name}"

    def look():
        for row in find_all(main, name=row_name):
            if not showing(row):
                continue
            for acc in walk(row):
                if acc.getRoleName() == "push button" and acc.name == name:
                    return acc
        return None
    return wait_for(f"{name} in the row {row_name}", look)


def dialog_of(acc):
    """The dialog window that holds `acc`."""
    while acc is not None and acc.getRoleName() != "dialog":
        acc = acc.parent
    assert acc is not None, "the widget is in no dialog"
    return acc


class HardwarePageTest(SessionDomainTestCase):
    tag = "hw"

    def define_with_cdrom(self):
        self.define("<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/>"
                    "<readonly/></disk>")

    def test_memory_and_vcpus_of_a_shut_off_machine(self):
        app, main = self.open_shut_off()
        set_spin(app, main, "Maximum Memory (MiB)", 64)
        set_spin(app, main, "Memory (MiB)", 48)
        set_spin(app, main, "Maximum Virtual CPUs", 2)
        set_spin(app, main, "Virtual CPUs", 2)
        click(app.find(name="Apply", role="push button", within=main))

        def applied():
            info = session_virsh("dominfo", self.name)
            return "65536 KiB" in info and "49152 KiB" in info and \
                re.search(r"CPU\(s\):\s+2\b", info)
        wait_for("memory and vCPUs in the configuration", applied)
        # Applied: nothing left to apply.
        wait_for("Apply hidden", lambda: not [
            a for a in find_all(main, name="Apply", role="push button") if showing(a)])

    def test_insert_and_eject_an_iso_on_a_running_machine(self):
        self.define_with_cdrom()
        session_virsh("start", self.name)
        image = os.path.join(self.home.name, "image.iso")
        with open(image, "wb") as f:
            f.write(b"\0" * (1 << 20))
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        self.open_hardware(app, main, "Running")

        app.fill("Image to Insert", image, within=main)
        click(row_button(app, main, "CD-ROM hdc", "Insert"))
        wait_for("the image in the drive",
                 lambda: image in session_virsh("domblklist", self.name))
        wait_for("the row shows the image", lambda: [
            r for r in find_all(main, name="CD-ROM hdc") if image in (r.description or "")
            or any(image in (a.name or "") for a in walk(r))])

        click(row_button(app, main, "CD-ROM hdc", "Eject"))

        def empty():
            line = next(l for l in session_virsh("domblklist", self.name).splitlines()
                        if l.strip().startswith("hdc"))
            return line.split()[1] == "-"
        wait_for("the drive empty", empty)

        # A display cannot be added to a running machine: it waits for the next shutdown.
        app.fill("Listen Address", "127.0.0.1", within=main)
        click(app.find(name="Apply", role="push button", within=main))
        app.find(name="Takes effect after the next shutdown", within=main)
        self.assertIn("<graphics type='vnc'", session_virsh("dumpxml", "--inactive", self.name))
        self.assertNotIn("<graphics", session_virsh("dumpxml", self.name))

    def test_add_a_network_interface(self):
        app, main = self.open_shut_off()
        add = app.find(name="Add Network Interface", role="push button", within=main)
        # Enabled once the page has the machine's configuration (and a free MAC address).
        wait_for("Add Network Interface enabled", lambda: sensitive(add))
        click(add)
        # The dialog offers the wizard's sources; user-mode networking is chosen.
        dialog = dialog_of(app.find(name="MAC address"))
        click(next(b for b in find_all(dialog, role="push button", name="Add") if showing(b)))
        mac = wait_for("a NIC in the configuration", lambda: re.search(
            r"52:54:00(:[0-9a-f]{2}){3}", session_virsh("domiflist", "--inactive", self.name)))
        app.find(name=f"Network Interface {mac.group(0)}", within=main)

    def test_title_display_autostart_and_a_usb_tablet(self):
        app, main = self.open_shut_off()
        app.fill("Title", "Edited from the page", within=main)
        app.fill("Listen Address", "0.0.0.0", within=main)
        click(app.find(name="Apply", role="push button", within=main))
        wait_for("the title in the configuration", lambda: session_virsh(
            "desc", "--config", "--title", self.name).strip() == "Edited from the page")
        wait_for("a VNC display listening everywhere", lambda: "address='0.0.0.0'" in
                 session_virsh("dumpxml", "--inactive", self.name))

        # Listening everywhere without a password is said on the row; a password set
        # through the form quiets it, and Clear takes the password away.
        warning = "Anyone who can reach this address"
        app.find(contains=warning, within=main)
        secure = lambda: session_virsh("dumpxml", "--inactive", "--security-info", self.name)
        app.fill("Display password", "pa55", within=main)
        click(app.find(name="Apply", role="push button", within=main))
        wait_for("the password in the configuration", lambda: "passwd='pa55'" in secure())
        app.find(contains="Set: the viewer asks for it", within=main)
        wait_for("the warning gone", lambda: not [
            a for a in find_all(main, contains=warning) if showing(a)])
        click(app.find(name="Clear Display Password", role="push button", within=main))
        wait_for("the password cleared", lambda: "passwd=" not in secure())

        click(row_button(app, main, "USB Tablet", "Add"))
        wait_for("a USB tablet in the configuration", lambda: "<input type='tablet' bus='usb'>"
                 in session_virsh("dumpxml", "--inactive", self.name))
        row_button(app, main, "USB Tablet", "Remove")

        switch = app.find("check box", contains="Start When the Host Boots", within=main)
        press(switch, main, "Virtdeck")
        wait_for("autostart on", lambda: "enable" in session_virsh("dominfo", self.name)
                 .split("Autostart:")[1].splitlines()[0])
