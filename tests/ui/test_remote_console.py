"""A console on a remote host (tests/remote/host.sh: a real sshd and libvirtd in a network
namespace) over qemu+ssh://: the keys typed into the window reach the guest on that host,
whose VNC listens on the host's own 127.0.0.1, and not a local guest whose VNC listens on
this computer's 127.0.0.1 at the same port. The connection and the console are one SSH
login."""

import os
import socket
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import guest
from console_ui import READY, open_console, type_line
from remote import RemoteHostMixin
from vdui import ROOT, UiTestCase, wait_for

PREFIX = f"vdtest-remote-console-{os.getpid()}"


def free_local_port():
    """A TCP port nothing listens on at this computer's 127.0.0.1 just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def guest_xml(name, serial_log, vnc_port):
    """The test guest (tests/ui/guest.py) with its VNC at 127.0.0.1:`vnc_port`."""
    root = ET.fromstring(guest.domain_xml(name, serial_log, guest.build()))
    graphics = root.find("devices/graphics")
    graphics.set("port", str(vnc_port))
    graphics.set("autoport", "no")
    return ET.tostring(root, encoding="unicode")


class SerialLog:
    """Domain `name`'s serial log, in a directory of its own that QEMU (root) may write."""

    def __init__(self, case, name):
        self.name = name
        directory = tempfile.mkdtemp(prefix="vd-remote-console-")
        os.chmod(directory, 0o755)
        case.addCleanup(subprocess.run, ["rm", "-rf", directory])
        self.path = os.path.join(directory, "serial.log")

    def log(self):
        try:
            with open(self.path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_line(self, needle, timeout=180, after=0):
        wait_for(f"{needle!r} on the guest's serial port",
                       lambda: needle in self.log()[after:], timeout=timeout, step=0.2)


class RemoteConsoleTest(RemoteHostMixin, UiTestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)

    def define_xml(self, run, xml):
        with tempfile.NamedTemporaryFile("w", suffix=".xml", dir="/tmp", delete=False) as f:
            f.write(xml)
        self.addCleanup(os.unlink, f.name)
        os.chmod(f.name, 0o644)
        run("define", f.name)

    def test_typing_reaches_the_remote_guest_not_a_local_one_on_the_same_port(self):
        host = self.remote_host("rcon", 62)
        port = free_local_port()
        name = f"{PREFIX}-vm"

        # Here: a guest of this computer's libvirt with its VNC on 127.0.0.1:port.
        local_name = f"{PREFIX}-local"
        local = SerialLog(self, local_name)

        def local_virsh(*args):
            return guest.virsh(*args)
        self.define_xml(local_virsh, guest_xml(local_name, local.path, port))
        self.addCleanup(guest.virsh, "undefine", local_name, check=False)
        self.addCleanup(guest.virsh, "destroy", local_name, check=False)
        local_virsh("start", local_name)

        # There: the remote host's guest, same name pattern, same port on its own loopback;
        # defined from inside, so that no SSH login is counted.
        remote = SerialLog(self, name)

        def remote_virsh(*args):
            return host.inside("virsh", "-c", "qemu:///system", *args)
        self.define_xml(remote_virsh, guest_xml(name, remote.path, port))
        remote_virsh("start", name)
        listening = host.inside("ss", "-Hltn", f"sport = :{port}").stdout
        self.assertIn(f"127.0.0.1:{port}", listening, "the remote VNC is on its own loopback")
        remote.wait_line(READY)
        local.wait_line(READY)
        self.assertEqual(host.logins(), 0)

        app, window, screen, wid = open_console(self, remote, uri=host.uri)
        type_line(app, window, screen, wid, remote, "typed over ssh")
        self.assertNotIn("TYPED:", local.log(), "the local guest on the same port got keys")
        self.assertEqual(host.logins(), 1, "one SSH login for the connection and the console")

