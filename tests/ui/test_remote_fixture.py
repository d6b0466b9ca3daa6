"""The remote host fixture (tests/remote/host.sh, remote.py) is a real, separate libvirt
host: reached over SSH with one login per connection, with its own domains and identity,
two at once reach each other, and `down` leaves nothing behind."""

import os
import subprocess
import unittest
import xml.etree.ElementTree as ET

from remote import RemoteHost, RemoteHostMixin
from vdui import ROOT

SYSTEM = "qemu:///system"


def local_virsh(*args, stdin=None):
    return subprocess.run(
        ["virsh", "-c", SYSTEM, *args], input=stdin, capture_output=True, text=True, check=True
    ).stdout


def names(listing):
    return {line.strip() for line in listing.splitlines() if line.strip()}


def tiny_domain(name):
    """A TCG domain without disks: it starts (and idles in the firmware) in a moment."""
    d = ET.Element("domain", type="qemu")
    ET.SubElement(d, "name").text = name
    ET.SubElement(d, "memory", unit="MiB").text = "32"
    ET.SubElement(d, "vcpu").text = "1"
    os_ = ET.SubElement(d, "os")
    ET.SubElement(os_, "type", arch="x86_64").text = "hvm"
    return ET.tostring(d, encoding="unicode")


class RemoteFixtureTest(RemoteHostMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)

    def setUp(self):
        self.prefix = f"vdtest-remote-{os.getpid()}"

    def test_remote_host_is_a_separate_libvirt_host_over_ssh(self):
        local = f"{self.prefix}-local"
        local_virsh("define", "/dev/stdin", stdin=tiny_domain(local))
        self.addCleanup(subprocess.run, ["virsh", "-c", SYSTEM, "undefine", local],
                        capture_output=True)

        host = self.remote_host("fx", 1)
        logins = host.logins()

        # None of this machine's domains (such as `local`) is there.
        self.assertEqual(names(host.virsh("list", "--all", "--name")), set())
        self.assertEqual(host.logins(), logins + 1)

        caps = ET.fromstring(host.virsh("capabilities"))
        self.assertEqual(host.logins(), logins + 2)
        uuid = caps.findtext("host/uuid")
        self.assertEqual(uuid, host.host_uuid)
        self.assertNotEqual(uuid, ET.fromstring(local_virsh("capabilities")).findtext("host/uuid"))
        self.assertTrue(caps.findall("guest/arch[@name='x86_64']"), "no x86_64 guests offered")

        remote = f"{self.prefix}-remote"
        host.define(tiny_domain(remote))
        self.assertEqual(host.logins(), logins + 3)
        self.assertEqual(names(host.virsh("list", "--all", "--name")), {remote})
        self.assertEqual(host.logins(), logins + 4)
        self.assertNotIn(remote, names(local_virsh("list", "--all", "--name")))
        # The libvirtd that SSH reaches is the one inside the host.
        inside = host.inside("virsh", "-c", SYSTEM, "list", "--all", "--name").stdout
        self.assertEqual(names(inside), {remote})
        self.assertEqual(host.virsh("hostname").strip(), host.hostname)
        self.assertEqual(host.logins(), logins + 5)

    def test_two_hosts_at_once_reach_each_other(self):
        a = self.remote_host("fxa", 2)
        b = self.remote_host("fxb", 3)
        self.assertNotEqual(a.address, b.address)
        self.assertEqual(a.virsh("hostname").strip(), "vd-remote-fxa")
        self.assertEqual(b.virsh("hostname").strip(), "vd-remote-fxb")
        # A migration goes from one host to the other directly: a reaches b's sshd.
        banner = a.inside("bash", "-c", f"exec 3<>/dev/tcp/{b.address}/22; head -c 8 <&3")
        self.assertEqual(banner.stdout, "SSH-2.0-")
        self.assertEqual((a.logins(), b.logins()), (1, 1))

    def test_down_stops_everything_and_leaves_the_local_daemon(self):
        host = RemoteHost("fxd", 4).up()
        self.addCleanup(host.down)
        guest = f"{self.prefix}-guest"
        host.define(tiny_domain(guest))
        host.virsh("start", guest)
        state = os.path.dirname(host.key)
        ours = lambda: subprocess.run(["pgrep", "-f", state], capture_output=True,
                                      text=True).stdout.split()
        qemu = host.inside("pgrep", "-f", f"guest={guest}").stdout.split()
        self.assertTrue(qemu, "the guest's QEMU does not run")
        self.assertGreaterEqual(len(ours()), 3, "virtlogd, libvirtd and sshd of the host")

        host.down()
        host.down()  # idempotent

        self.assertEqual(ours(), [])
        self.assertFalse(os.path.exists(state))
        netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        self.assertNotIn("vdr-fxd", netns)
        guests = subprocess.run(["pgrep", "-f", f"guest={guest}"], capture_output=True)
        self.assertNotEqual(guests.returncode, 0, "the remote guest's QEMU still runs")
        known = subprocess.run(["ssh-keygen", "-F", host.address], capture_output=True)
        self.assertNotEqual(known.returncode, 0, "the host key is still in known_hosts")
        self.assertEqual(local_virsh("uri").strip(), SYSTEM)


if __name__ == "__main__":
    unittest.main()
