"""A remote host over qemu+ssh:// (tests/remote/host.sh: a real sshd and libvirtd in a
network namespace) costs one SSH login however many screens ask it something: the list,
Host Details with its Networking page, and the New Virtual Machine wizard are all served
by the connection's worker."""

import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from remote import RemoteHostMixin
from test_remote_fixture import tiny_domain
from vdui import ROOT, UiTestCase, click, find_all, label_of, showing, wait_for

PREFIX = f"vdtest-remote-ui-{os.getpid()}"


def isolated_network(name):
    """A libvirt network with no forward mode and no addresses: defining it touches no
    link; it only has to be listed."""
    net = ET.Element("network")
    ET.SubElement(net, "name").text = name
    ET.SubElement(net, "bridge", name="vdrnet0")
    return ET.tostring(net, encoding="unicode")


class RemoteConnectionTest(RemoteHostMixin, UiTestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)

    def define_inside(self, host, what, xml):
        """Defines a domain or network on the host from inside it, without SSH, so that
        no login is counted."""
        with tempfile.NamedTemporaryFile("w", suffix=".xml", dir="/tmp") as f:
            f.write(xml)
            f.flush()
            host.inside("virsh", "-c", "qemu:///system", what, f.name)

    def test_one_ssh_login_serves_list_host_details_networking_and_wizard(self):
        host = self.remote_host("ui", 20)
        domain, network = f"{PREFIX}-vm", f"{PREFIX}-net"
        self.define_inside(host, "define", tiny_domain(domain))
        self.define_inside(host, "net-define", isolated_network(network))
        self.assertEqual(host.logins(), 0)

        app = self.launch("--connect", host.uri)
        wait_for(f"{domain} listed", lambda: any(domain in row for row in app.rows()))

        # Host Details: the remote host's own name, and its virtual network.
        click(app.find("push button", "Main Menu"))
        click(app.find("menu item", contains="Host Details"))
        details = app.window("Host Details")
        app.find("label", host.hostname, within=details)
        click(app.find(name="Networking", within=details))
        app.find("label", network, within=details)

        # The wizard reads the host's resources, pools and networks.
        window = app.window()
        click(app.find("push button", "New Virtual Machine", within=window))
        wizard = app.window("New Virtual Machine")
        app.find("label", "Step 1 of 6", within=wizard)
        # The default pool is made on the remote host when the wizard needs it.
        wait_for("the default pool on the remote host", lambda: "default" in host.inside(
            "virsh", "-c", "qemu:///system", "pool-list", "--all", "--name").stdout)

        self.assertEqual(host.logins(), 1, "one SSH login for the whole session")
