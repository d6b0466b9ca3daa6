"""Virtual networks on the Networking page: Add Network… refuses a subnet that overlaps a
host route (naming the route and its card) and a DHCP range outside the subnet, then
makes an isolated network; its details show the bridge and the mode, and Delete Network
removes it. The network has the test's own name and is removed afterwards."""

import os
import subprocess

from test_host import open_host_details, virsh
from vdui import UiTestCase, click, find_all, press, sensitive, wait_for

SYSTEM = "qemu:///system"


def host_route():
    """A route of this computer to a subnet through a card that is not a libvirt bridge:
    (its destination as a.b.c.d/len, the card)."""
    bridges = set()
    for net in virsh("net-list", "--all", "--name").split():
        for line in virsh("net-info", net).splitlines():
            if line.startswith("Bridge:"):
                bridges.add(line.split(":", 1)[1].strip())
    out = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        words = line.split()
        if "/" in words[0] and "dev" in words:
            device = words[words.index("dev") + 1]
            if device not in bridges:
                return words[0], device
    raise AssertionError(f"no route to a subnet on this host:\n{out}")


class VirtualNetworkCreateTest(UiTestCase):
    def setUp(self):
        super().setUp()
        self.net = f"vdtest-{os.getpid()}-vnet"
        self.addCleanup(self.remove_network)

    def remove_network(self):
        for verb in ("net-destroy", "net-undefine"):
            subprocess.run(["virsh", "-c", SYSTEM, verb, self.net], capture_output=True)

    def dialog(self, app, text):
        return wait_for(f"dialog with {text!r}", lambda: next(
            (w for w in find_all(app.app, role="dialog")
             if find_all(w, role="label", contains=text)), None))

    def test_add_a_nat_network_refusing_clashes_then_delete_it(self):
        app, window = open_host_details(self, "Networking")
        click(app.find("push button", "Add Network…", within=window))
        dialog = self.dialog(app, "Add a Virtual Network")
        create = app.find("push button", "Create Network", within=dialog)
        app.fill("Network name", self.net, within=dialog)

        route, device = host_route()
        first = route.split("/")[0].rsplit(".", 1)
        on_route = f"{first[0]}.{int(first[1]) + 1}/{route.split('/')[1]}"
        app.fill("IPv4 address and prefix", on_route, within=dialog)
        app.fill("DHCP range start (empty: no DHCP)", "", within=dialog)
        app.fill("DHCP range end", "", within=dialog)
        app.find("label", contains=f"overlaps the host's route to {route} (via {device})",
                 within=dialog)
        self.assertFalse(sensitive(create), "a subnet on a host route is refused")

        tag = os.getpid() % 250
        app.fill("IPv4 address and prefix", f"172.29.{tag}.1/24", within=dialog)
        app.fill("DHCP range start (empty: no DHCP)", f"172.29.{tag}.100", within=dialog)
        app.fill("DHCP range end", f"172.29.{(tag + 1) % 250}.9", within=dialog)
        app.find("label", contains=f"The DHCP range must lie inside 172.29.{tag}.0/24",
                 within=dialog)
        self.assertFalse(sensitive(create))
        app.fill("DHCP range end", f"172.29.{tag}.199", within=dialog)
        wait_for("Create Network enabled", lambda: sensitive(create))
        click(create)

        wait_for("the network defined and running",
                 lambda: self.net in virsh("net-list", "--name").split())
        xml = virsh("net-dumpxml", self.net)
        self.assertIn(f"start='172.29.{tag}.100'", xml)
        self.assertIn("<forward mode='nat'", xml)

        # Its details, then Delete Network.
        title = app.find("label", self.net, within=window)
        press(title, window, "Host Details")
        dialog = self.dialog(app, f"Virtual Network “{self.net}”")
        app.find("label", contains="Mode: NAT", within=dialog)
        app.find("label", contains="Bridge: ", within=dialog)
        app.find("label", "No machine on it holds a lease", within=dialog)
        click(app.find("push button", "Delete Network", within=dialog))
        wait_for("the network gone",
                 lambda: self.net not in virsh("net-list", "--all", "--name").split())


class LeaseInDetailsTest(UiTestCase):
    """The test guest with its DHCP client on (virtdeck.net=dhcp) on an isolated network
    with DHCP: the network's details show its lease, held by the guest."""

    def setUp(self):
        super().setUp()
        import xml.etree.ElementTree as ET

        import guest

        pid = os.getpid()
        tag = (pid + 11) % 250
        self.net = f"vdtest-{pid}-lease"
        self.vm = f"vdtest-{pid}-lease-guest"
        self.subnet = f"172.27.{tag}"
        net_xml = os.path.join(self.home.name, "net.xml")
        with open(net_xml, "w") as f:
            f.write(f"<network><name>{self.net}</name><ip address='{self.subnet}.1' "
                    f"prefix='24'><dhcp><range start='{self.subnet}.100' "
                    f"end='{self.subnet}.199'/></dhcp></ip></network>")
        virsh("net-create", net_xml)
        self.addCleanup(lambda: subprocess.run(
            ["virsh", "-c", SYSTEM, "net-destroy", self.net], capture_output=True))

        self.serial = os.path.join(self.home.name, "serial.log")
        domain = ET.fromstring(guest.domain_xml(self.vm, self.serial, guest.build()))
        cmdline = domain.find("os/cmdline")
        cmdline.text += " virtdeck.net=dhcp"
        card = ET.SubElement(domain.find("devices"), "interface", type="network")
        ET.SubElement(card, "source", network=self.net)
        ET.SubElement(card, "model", type="virtio")
        dom_xml = os.path.join(self.home.name, "domain.xml")
        with open(dom_xml, "w") as f:
            f.write(ET.tostring(domain, encoding="unicode"))
        self.addCleanup(lambda: [subprocess.run(["virsh", "-c", SYSTEM, verb, self.vm],
                                                capture_output=True)
                                 for verb in ("destroy", "undefine")])
        virsh("define", dom_xml)
        virsh("start", self.vm)

    def serial_text(self):
        try:
            with open(self.serial, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def test_the_guest_s_lease_is_in_the_network_s_details(self):
        line = wait_for("the guest's DHCP lease", lambda: next(
            (l for l in self.serial_text().splitlines()
             if l.startswith(f"DHCP: eth0 {self.subnet}.")), None), timeout=180)
        address = line.split()[2].split("/")[0]
        app, window = open_host_details(self, "Networking")
        title = app.find("label", self.net, within=window)
        press(title, window, "Host Details")
        dialog = wait_for("the details", lambda: next(
            (w for w in find_all(app.app, role="dialog")
             if find_all(w, role="label", contains=f"Virtual Network “{self.net}”")), None))
        app.find("label", contains=f"{address}/", within=dialog)
        app.find("label", contains=f"Held by {self.vm}", within=dialog)
        # Deleting it is refused while the guest runs, naming the guest.
        click(app.find("push button", "Delete Network", within=dialog))
        app.find("label", contains="was not deleted")
        self.assertIn(self.net, virsh("net-list", "--name").split())
