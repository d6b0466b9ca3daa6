"""The Hardware page's CD-ROM settings, a change made elsewhere, a PCI device offered to a
running machine and the network interface dialog's sources: a CD-ROM moved from IDE to
SATA with another cache mode (VirtIO is not offered, IDE is on an i440FX machine); a
description changed with `virsh desc` while the form holds an unapplied edit offers Reload,
and without one is shown at once; passing a PCI device through to a running machine asks
first and Cancel changes nothing; the NIC dialog lists the sources instead of asking for a
name. Each checked with virsh."""

import re
import subprocess
import time

from session_domain import SESSION, SessionDomainTestCase, session_virsh
from test_hardware import dialog_of, row_button
from test_hardware_devices import host_devices
from vdui import click, entry_text, find_all, press, sensitive, showing, wait_for


def shown_labels(within):
    return [a.name for a in find_all(within, role="label") if showing(a)]


def choose(app, dropdown, item, *keys):
    """Opens `dropdown` (its button's action), waits for `item` in its list and presses
    `keys` (xdotool names) in the list, as a person would."""
    click(dropdown)
    app.find(role="label", name=item)
    # The list takes the keyboard once its popup is mapped.
    time.sleep(0.3)
    for key in keys:
        subprocess.run(["xdotool", "key", key], check=True)


def choose_last(app, dropdown, item):
    """Chooses the last item of `dropdown`, `item`, with End and Return; again while the
    drop-down does not show it (keys sent before the list had the keyboard are lost)."""
    def chosen():
        if [a for a in find_all(dropdown, role="label", name=item) if showing(a)]:
            return True
        choose(app, dropdown, item, "End", "Return")
        return False
    wait_for(f"{item} chosen", chosen, step=1)


class HardwareGapsTest(SessionDomainTestCase):
    tag = "hwgaps"

    def inactive(self):
        return session_virsh("dumpxml", "--inactive", self.name)

    def open_defined(self, devices, running=False):
        """Defines the machine with `devices` (started when `running`), launches Virtdeck
        and shows its Hardware page; returns the app and its main window."""
        self.define(devices)
        if running:
            session_virsh("start", self.name)
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        self.open_hardware(app, main, "Running" if running else "Shut off")
        return app, main

    def test_cdrom_bus_and_cache(self):
        # The session machines are i440FX PCs ('pc'): IDE is there.
        app, main = self.open_defined("<disk type='file' device='cdrom'>"
                                      "<target dev='hdc' bus='ide'/><readonly/></disk>")
        click(row_button(app, main, "CD-ROM hdc", "Change…"))
        bus = app.find(name="Disk bus")
        dialog = dialog_of(bus)
        app.find(role="label", name="Change CD-ROM hdc", within=dialog)
        choose(app, bus, "SATA")
        offered = shown_labels(app.app)
        self.assertIn("IDE", offered)
        self.assertNotIn("VirtIO", offered)
        for key in ("Home", "Return"):
            subprocess.run(["xdotool", "key", key], check=True)
        choose_last(app, app.find(name="Cache mode", within=dialog), "Unsafe")
        click(next(b for b in find_all(dialog, role="push button", name="Apply") if showing(b)))

        def drive():
            xml = self.inactive()
            return re.search(r"<disk type='file' device='cdrom'>.*?</disk>", xml, re.S).group(0)
        wait_for("the CD-ROM on SATA", lambda: "<target dev='sda' bus='sata'/>" in drive())
        self.assertIn("cache='unsafe'", drive())
        self.assertIn("<readonly/>", drive())
        app.find(name="CD-ROM sda", within=main)

    def test_a_description_changed_elsewhere(self):
        self.define()
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        self.open_hardware(app, main, "Shut off")
        # Unapplied: a title typed, then the description changed by someone else.
        app.fill("Title", "Not applied yet", within=main)
        session_virsh("desc", "--config", self.name, "Changed by virsh")
        reload = app.find(name="Reload", role="push button", within=main)
        app.find(role="label", name="This virtual machine was changed elsewhere.", within=main)
        click(reload)
        description = app.find(name="Description", role="text", within=main)
        wait_for("the description read again",
                 lambda: entry_text(description) == "Changed by virsh")
        title = app.find(name="Title", role="text", within=main)
        self.assertEqual(entry_text(title), "")
        # Nothing unapplied: the next change is shown at once, with no banner.
        session_virsh("desc", "--config", self.name, "Changed again")
        wait_for("the description shown at once",
                 lambda: entry_text(description) == "Changed again")
        self.assertFalse([b for b in find_all(main, name="Reload", role="push button")
                          if showing(b)])

    def test_pci_passthrough_on_a_running_machine_asks_first(self):
        pci = host_devices("pci")
        self.assertTrue(pci, "this host has PCI devices")
        name, _ = pci[-1]
        app, main = self.launch_running()
        self.open_hardware(app, main, "Running")
        click(row_button(app, main, name, "Add"))
        heading = app.find(role="label", name=f"Pass “{name}” Through?")
        dialog = dialog_of(heading)
        app.find(role="label", contains="takes the device at", within=dialog)
        click(next(b for b in find_all(dialog, role="push button", name="Cancel")
                   if showing(b)))
        wait_for("the question gone", lambda: not showing(dialog))
        self.assertNotIn("<hostdev", self.inactive())
        self.assertNotIn("<hostdev", session_virsh("dumpxml", self.name))

    def test_nic_sources_are_picked_from_a_list(self):
        app, main = self.open_shut_off()
        add = app.find(name="Add Network Interface", role="push button", within=main)
        wait_for("Add Network Interface enabled", lambda: sensitive(add))
        click(add)
        source = app.find(name="Network source")
        dialog = dialog_of(source)
        # No name to type: the sources are listed, the virtual networks first, user-mode
        # networking last (a session connection); chosen from the list.
        self.assertFalse([e for e in find_all(dialog, name="Source name") if showing(e)])
        click(source)
        app.find(role="label", name="User-mode networking")
        self.assertTrue([n for n in shown_labels(app.app) if n.startswith("Virtual network")])
        time.sleep(0.3)
        for key in ("End", "Return"):
            subprocess.run(["xdotool", "key", key], check=True)
        choose_last(app, source, "User-mode networking")
        click(next(b for b in find_all(dialog, role="push button", name="Add") if showing(b)))
        wait_for("a user-mode NIC in the configuration",
                 lambda: "<interface type='user'>" in self.inactive())

    def test_a_disk_the_guest_holds_keeps_its_volume(self):
        volume = f"{self.name}-held.qcow2"
        self.addCleanup(lambda: subprocess.run(
            ["virsh", "-c", SESSION, "vol-delete", "--pool", "default", volume],
            capture_output=True))
        session_virsh("vol-create-as", "default", volume, "16M", "--format", "qcow2")
        path = session_virsh("vol-path", "--pool", "default", volume).strip()
        # SeaBIOS alone answers no unplug request: the guest never lets the disk go.
        app, main = self.open_defined(
            "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source file='{path}'/><target dev='vda' bus='virtio'/></disk>", running=True)
        click(row_button(app, main, "Disk vda", "Remove"))
        delete = app.find(name="Delete the volume too")
        dialog = dialog_of(delete)
        press(delete, dialog, "Remove Disk vda?")
        click(next(b for b in find_all(dialog, role="push button", name="Remove")
                   if showing(b)))
        # libvirt waits a few seconds for the guest, then the page says what happened.
        app.find(role="label", contains=f"Disk vda is removed after the next shutdown; "
                 f"its volume {path} is kept", within=main)
        self.assertNotIn("vda", session_virsh("domblklist", "--inactive", self.name))
        self.assertIn("vda", session_virsh("domblklist", self.name))
        self.assertIn(volume, session_virsh("vol-list", "default"))

    def test_add_an_empty_cdrom_drive(self):
        app, main = self.open_shut_off()
        click(app.find(name="Add Disk…", role="push button", within=main))
        kind = app.find(name="Disk source")
        dialog = dialog_of(kind)
        # The last kind; a CD-ROM is offered no VirtIO bus, and SATA comes first.
        choose_last(app, kind, "Empty CD-ROM drive")
        app.find(role="label", name="SATA", within=dialog)
        click(next(b for b in find_all(dialog, role="push button", name="Add") if showing(b)))
        wait_for("an empty SATA CD-ROM in the configuration", lambda: re.search(
            r"<disk type='file' device='cdrom'>\s*<driver name='qemu' type='raw'/>\s*"
            r"<target dev='sda' bus='sata'/>\s*<readonly/>", self.inactive()))
        app.find(name="CD-ROM sda", within=main)
