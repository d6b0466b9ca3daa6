"""The Hardware page's processor and devices on a shut-off machine: a CPU model and a
topology (refused on the field until it makes the maximum vCPUs), a TPM 2.0 and an RNG
added, and the host's own USB and PCI devices listed by name, one passed through; each
checked with virsh."""

import re
import subprocess
import xml.etree.ElementTree as ET

import pyatspi

from session_domain import SessionDomainTestCase, session_virsh
from test_hardware import row_button, set_spin
from vdui import click, find_all, label_texts, press, showing, wait_for, wheel_over


def inactive(name):
    return session_virsh("dumpxml", "--inactive", name)


def host_devices(cap):
    """The host's node devices of `cap` as (name as shown, address) pairs, from virsh."""
    devices = []
    for node in session_virsh("nodedev-list", "--cap", cap).split():
        capability = ET.fromstring(session_virsh("nodedev-dumpxml", node)).find("capability")
        words = [capability.findtext(k, "").strip() for k in ("vendor", "product")]
        ids = [capability.find(k).get("id")[2:] for k in ("vendor", "product")]
        name = " ".join(w for w in words if w) or ":".join(ids)
        devices.append((name, node))
    return devices


def tall_window(main):
    """Makes the window as tall as the screen, so that the processor section is in it (a
    wheel over the page would turn its spin buttons)."""
    for wid in subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Virtdeck$"],
                              capture_output=True, text=True).stdout.split():
        subprocess.run(["xdotool", "windowsize", wid, "1900", "1060"], check=True)
    wait_for("a tall window",
             lambda: main.queryComponent().getExtents(pyatspi.WINDOW_COORDS).height > 1000)


class HardwareDevicesTest(SessionDomainTestCase):
    tag = "hwdev"

    def shown(self, main, name):
        return [a for a in find_all(main, name=name) if showing(a)]

    def test_cpu_model_and_topology(self):
        app, main = self.open_shut_off()
        tall_window(main)
        set_spin(app, main, "Maximum Virtual CPUs", 2)
        set_spin(app, main, "Virtual CPUs", 2)
        # Two cores in each of two sockets is four, not two: said on the field.
        set_spin(app, main, "Cores per Socket", 2)
        app.find(role="label", contains="is 4 virtual CPUs, not the maximum of 2", within=main)
        set_spin(app, main, "Sockets", 1)
        wait_for("the topology message gone", lambda: not [
            l for l in find_all(main, role="label", contains="not the maximum of") if showing(l)])

        # The model: the machine has none (the hypervisor's default); below it come those
        # the hypervisor offers, first a model like the host's.
        model = next(a for a in find_all(main, name="CPU Model")
                     if a.getRoleName() not in ("list item", "label", "panel"))
        # The section's title is on screen; the model below it may not be: scroll to it.
        wheel_over(app.find("label", "Memory and Processors", within=main), main, "Virtdeck", 5)
        press(model, main, "Virtdeck")
        app.find(role="label", contains="host-model")
        for key in ("Down", "Return"):
            subprocess.run(["xdotool", "key", key], check=True)
        click(app.find(name="Apply", role="push button", within=main))

        def applied():
            cpu = ET.fromstring(inactive(self.name)).find("cpu")
            topology = cpu.find("topology") if cpu is not None else None
            if topology is None or session_virsh("vcpucount", "--config", "--maximum",
                                                 self.name).strip() != "2":
                return None
            if [topology.get(k) for k in ("sockets", "cores", "threads")] != ["1", "2", "1"]:
                return None
            return cpu.findtext("model") if cpu.get("mode") == "custom" else cpu.get("mode")
        chosen = wait_for("a CPU model and the topology in the configuration", applied)
        # The drop-down shows what the machine has now.
        shown = "Same as the Host (host-model)" if chosen == "host-model" else chosen
        app.find(role="label", name=shown, within=model)

    def test_add_a_tpm_and_an_rng(self):
        app, main = self.open_shut_off()
        click(row_button(app, main, "TPM 2.0", "Add"))
        wait_for("an emulated TPM 2.0 in the configuration", lambda: re.search(
            r"<tpm[^>]*>\s*<backend type='emulator' version='2.0'", inactive(self.name)))
        click(row_button(app, main, "Random Number Generator", "Add"))
        wait_for("an RNG in the configuration", lambda: "<backend model='random'>/dev/urandom"
                 in inactive(self.name))
        # Each row now offers to remove its device.
        row_button(app, main, "TPM 2.0", "Remove")
        click(row_button(app, main, "Random Number Generator", "Remove"))
        wait_for("the RNG removed", lambda: "<rng" not in inactive(self.name))
        # Showing the devices changed nothing else: the machine still has no video card.
        self.assertNotIn("<video>", inactive(self.name))

    def test_host_devices_are_listed_by_name(self):
        app, main = self.open_shut_off()
        pci = host_devices("pci")
        self.assertTrue(pci, "this host has PCI devices")
        for name, _ in pci:
            app.find(name=name, within=main)
        usb = host_devices("usb_device")
        for name, _ in usb:
            app.find(name=name, within=main)
        if not usb:
            app.find(role="label", name="No USB devices on this host", within=main)

        # Passed through to the shut-off machine (it is never started: libvirt would take
        # the device from this host).
        name, node = pci[-1]
        address = ET.fromstring(session_virsh("nodedev-dumpxml", node)).find("capability")
        bus, slot = (int(address.findtext(k)) for k in ("bus", "slot"))
        click(row_button(app, main, name, "Add"))
        wait_for("the PCI device in the configuration", lambda: re.search(
            rf"<hostdev mode='subsystem' type='pci' managed='yes'>\s*<source>\s*"
            rf"<address domain='0x0000' bus='{bus:#04x}' slot='{slot:#04x}'",
            inactive(self.name)))
        row_button(app, main, name, "Remove")
