"""The Hardware page's disks and boot order: a new disk (a qcow2 volume in the default
pool) added to a shut-off machine, then removed with its volume kept; the boot order
changed with Move Up and Apply; each checked with virsh."""

import os
import re
import subprocess

import test_hardware
from session_domain import SESSION, SessionDomainTestCase, session_virsh
from vdui import click, find_all, sensitive, showing, wait_for

row_button = test_hardware.row_button
dialog_of = test_hardware.dialog_of


def shown_button(app, name, within=None):
    """The shown, enabled push button called `name`."""
    return wait_for(f"the button {name}", lambda: next(
        (b for b in find_all(within or app.app, role="push button", name=name)
         if showing(b) and sensitive(b)), None))


class HardwareDisksTest(SessionDomainTestCase):
    tag = "disks"
    open_hardware = test_hardware.HardwarePageTest.open_hardware
    open_shut_off = test_hardware.HardwarePageTest.open_shut_off

    def inactive(self):
        return session_virsh("dumpxml", "--inactive", self.name)

    def test_add_a_new_disk_then_remove_it_keeping_the_volume(self):
        volume = f"{self.name}-disk1.qcow2"
        self.addCleanup(lambda: subprocess.run(
            ["virsh", "-c", SESSION, "vol-delete", "--pool", "default", volume],
            capture_output=True))
        app, main = self.open_shut_off()
        click(app.find(name="Add Disk…", role="push button", within=main))
        size = app.find(name="Size (GiB)", role="spin button")
        dialog = dialog_of(size)
        size.queryValue().currentValue = 1.0
        click(shown_button(app, "Add", within=dialog))
        wait_for("vda in the configuration", lambda: re.search(
            r"^\s*vda\s+\S*disk1\.qcow2", session_virsh("domblklist", "--inactive", self.name),
            re.M))
        info = session_virsh("vol-info", "--pool", "default", volume)
        self.assertIn("1.00 GiB", info)
        self.assertIn("<driver name='qemu' type='qcow2'/>", self.inactive())

        click(row_button(app, main, "Disk vda", "Remove"))
        # "Delete the volume too" is offered, and left unticked.
        dialog = dialog_of(app.find(name="Delete the volume too"))
        click(shown_button(app, "Remove", within=dialog))
        wait_for("vda gone from the configuration",
                 lambda: "vda" not in session_virsh("domblklist", "--inactive", self.name))
        self.assertIn(volume, session_virsh("vol-list", "default"))
        wait_for("the row gone", lambda: not [
            r for r in find_all(main, name="Disk vda") if showing(r)])

    def test_reorder_boot(self):
        image = os.path.join(self.home.name, "disk.img")
        with open(image, "wb") as f:
            f.write(b"\0" * (1 << 20))
        self.define(
            f"<disk type='file' device='disk'><source file='{image}'/>"
            "<target dev='vda' bus='virtio'/><boot order='1'/></disk>"
            "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/>"
            "<boot order='2'/></disk>")
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        self.open_hardware(app, main, "Shut off")
        app.find(name="CD-ROM hdc", role="check box", within=main)
        # The first device cannot move up: the one button that can is the CD-ROM's.
        click(shown_button(app, "Move Up", within=main))
        click(app.find(name="Apply Boot Options", role="push button", within=main))

        def order():
            xml = self.inactive()
            return [(m.group(1), m.group(2)) for m in re.finditer(
                r"<target dev='(\w+)'.*?<boot order='(\d)'/>", xml, re.S)]
        wait_for("the CD-ROM first", lambda: order() == [("vda", "2"), ("hdc", "1")])

    def test_a_nic_mac_in_use_is_refused_on_its_field(self):
        first, second, new = "52:54:00:0d:00:01", "52:54:00:0d:00:02", "52:54:00:0d:00:03"
        self.define("".join(
            f"<interface type='user'><mac address='{mac}'/><model type='virtio'/></interface>"
            for mac in (first, second)))
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        self.open_hardware(app, main, "Shut off")
        click(row_button(app, main, f"Network Interface {first}", "Change…"))
        field = app.find(name="MAC address")
        dialog = dialog_of(field)
        app.fill("MAC address", second, within=dialog)
        app.find(contains="already used by a network interface", within=dialog)
        apply = app.find(name="Apply", role="push button", within=dialog)
        wait_for("Apply disabled", lambda: not sensitive(apply))
        app.fill("MAC address", new, within=dialog)
        click(shown_button(app, "Apply", within=dialog))
        wait_for("the new MAC in the configuration",
                 lambda: new in session_virsh("domiflist", "--inactive", self.name))
        self.assertIn(second, session_virsh("domiflist", "--inactive", self.name))
        self.assertNotIn(first, session_virsh("domiflist", "--inactive", self.name))
