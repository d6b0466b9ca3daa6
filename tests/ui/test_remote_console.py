"""A console on a remote host (tests/remote/host.sh: a real sshd and libvirtd in a network
namespace) over qemu+ssh://: the keys typed into the window reach the guest on that host,
whose VNC listens on the host's own 127.0.0.1, and not a local guest whose VNC listens on
this computer's 127.0.0.1 at the same port. The connection and the console are one SSH
login."""

import os
import socket
import subprocess

from console_ui import READY, open_console, type_line
from remote import RemoteHostMixin, start_guest
from vdui import ROOT, UiTestCase

PREFIX = f"vdtest-remote-console-{os.getpid()}"


def free_local_port():
    """A TCP port nothing listens on at this computer's 127.0.0.1 just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RemoteConsoleTest(RemoteHostMixin, UiTestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)

    def test_typing_reaches_the_remote_guest_not_a_local_one_on_the_same_port(self):
        host = self.remote_host("rcon", 62)
        port = free_local_port()
        name = f"{PREFIX}-vm"

        # Here: a guest of this computer's libvirt with its VNC on 127.0.0.1:port.
        local = start_guest(self, None, f"{PREFIX}-local", vnc_port=port)
        # There: the remote host's guest, same port on its own loopback; defined from inside,
        # so that no SSH login is counted.
        remote = start_guest(self, host, name, vnc_port=port)
        listening = host.inside("ss", "-Hltn", f"sport = :{port}").stdout
        self.assertIn(f"127.0.0.1:{port}", listening, "the remote VNC is on its own loopback")
        remote.wait_line(READY)
        local.wait_line(READY)
        self.assertEqual(host.logins(), 0)

        app, window, screen, wid = open_console(self, remote, uri=host.uri)
        type_line(app, window, screen, wid, remote, "typed over ssh")
        self.assertNotIn("TYPED:", local.log(), "the local guest on the same port got keys")
        self.assertEqual(host.logins(), 1, "one SSH login for the connection and the console")

