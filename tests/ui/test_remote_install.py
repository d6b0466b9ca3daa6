"""The New Virtual Machine wizard on a remote host (tests/remote/host.sh: a real sshd and
libvirtd in a network namespace): it offers that host's bridges, and a local ISO (the test
guest's) is uploaded into the host's default pool before the machine is made there with
its CD-ROM on the uploaded volume, never on a path of this computer."""

import os
import re
import subprocess

import test_wizard
from remote import RemoteHostMixin
from vdui import ROOT, UiTestCase, click, find_all, sensitive, showing, wait_for

PREFIX = f"vdtest-rinst-{os.getpid()}"
REMOTE_BRIDGE = "br-vdtriu"


class RemoteInstallTest(RemoteHostMixin, UiTestCase):
    # The wizard's page-by-page helpers, shared with test_wizard.
    find = test_wizard.WizardTest.find
    fill = test_wizard.WizardTest.fill
    forward = test_wizard.WizardTest.forward
    choose = test_wizard.WizardTest.choose
    source_page = test_wizard.WizardTest.source_page
    resources_page = test_wizard.WizardTest.resources_page
    set_start = test_wizard.WizardTest.set_start
    is_checked = staticmethod(test_wizard.WizardTest.is_checked)

    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)
        cls.iso = test_wizard.guest_iso()

    def setUp(self):
        super().setUp()
        self.env["VIRTDECK_FORCE_EMULATION"] = "1"

    def rig_virsh(self, host, *args):
        """virsh inside the host, without SSH."""
        return host.inside("virsh", "-c", "qemu:///system", *args).stdout

    def test_local_iso_is_uploaded_and_the_remote_bridge_offered(self):
        host = self.remote_host("rinstu", 79)
        host.inside("ip", "link", "add", REMOTE_BRIDGE, "type", "bridge")
        name = f"{PREFIX}-vm"
        volume = os.path.basename(self.iso)

        self.app = self.launch("--connect", host.uri, "--show-domain-creator")
        self.wizard = self.app.window("New Virtual Machine")
        self.find("label", contains="the image is uploaded into its pool “default”")
        self.source_page("Local install media (ISO image)", self.iso)
        self.find("label", contains="was not recognised")
        self.forward()
        self.resources_page()
        self.choose("No disk")
        self.forward()
        # The network page: the remote host's bridge, said to be there.
        self.find("label", contains="A bridge on the remote host")
        self.choose(REMOTE_BRIDGE)
        self.forward()
        self.fill("Name of the virtual machine", name)
        self.find("label", contains=f"Host bridge {REMOTE_BRIDGE}")
        self.set_start(False)
        self.forward("Finish")
        wait_for("the wizard closed",
                 lambda: not self.app.find_all_windows("New Virtual Machine"), timeout=180)

        # On the host: the uploaded volume, the same bytes, and the machine's CD-ROM on it.
        pool_dir = "/var/lib/libvirt/images"
        uploaded = f"{pool_dir}/{volume}"
        self.assertIn(volume, self.rig_virsh(host, "vol-list", "default"))
        blocks = host.virsh("domblklist", name, "--details")
        self.assertRegex(blocks, rf"(?m)^\s*volume\s+cdrom\s+\S+\s+{re.escape(volume)}\s*$")
        self.assertNotIn(self.iso, blocks)
        self.assertEqual(self.rig_virsh(host, "vol-path", volume, "--pool", "default").strip(),
                         uploaded)
        remote_sum = host.inside("sha256sum", uploaded).stdout.split()[0]
        local_sum = subprocess.run(["sha256sum", self.iso], capture_output=True, text=True,
                                   check=True).stdout.split()[0]
        self.assertEqual(remote_sum, local_sum)
        xml = self.rig_virsh(host, "dumpxml", name)
        self.assertRegex(xml, rf"(?s)<disk type='volume' device='cdrom'>(?:(?!</disk>).)*"
                              rf"<source pool='default' volume='{re.escape(volume)}'/>")
        self.assertIn(f"<source bridge='{REMOTE_BRIDGE}'/>", xml)

        # A second machine: on a remote host the pool's ISO volume is chosen first. The
        # same local file again would clash with it in the pool: said on the first page,
        # and Forward stays disabled.
        click(self.app.find("push button", "New Virtual Machine", within=self.app.window()))
        self.wizard = self.app.window("New Virtual Machine")
        self.find("label", "Step 1 of 6")
        offered = self.find("check box", f"{volume} in pool default")
        wait_for("the ISO volume chosen", lambda: self.is_checked(offered))
        self.choose("None: use the image file above")
        self.fill("Image file path", self.iso)
        self.find("label", contains=f"already has a volume called “{volume}”")
        self.assertFalse(sensitive(self.find("push button", "Forward")))

    def test_a_host_with_no_network_says_so_and_makes_the_default_one(self):
        # A fresh host: no bridge, no virtual network.
        host = self.remote_host("rinstn", 81)
        name = f"{PREFIX}-nonet"

        self.app = self.launch("--connect", host.uri, "--show-domain-creator")
        self.wizard = self.app.window("New Virtual Machine")
        self.source_page("Local install media (ISO image)", self.iso)
        self.forward()
        self.resources_page()
        self.choose("No disk")
        self.forward()
        self.find("label", "Step 5 of 6")
        self.find("label", "This host has no bridge and no virtual network.")
        self.find("label", contains="User-mode networking works as it is")
        # What works as it is is offered and chosen: QEMU's own user-mode networking.
        user = self.find("check box", "User-mode networking")
        wait_for("user-mode networking chosen", lambda: self.is_checked(user))
        self.assertTrue(sensitive(self.find("push button", "Forward")))

        click(self.find("push button", "Create Default Network"))
        default = self.find("check box", "Virtual network “default”")
        wait_for("the new network chosen", lambda: self.is_checked(default), timeout=60)
        networks = self.rig_virsh(host, "net-list", "--all")
        self.assertRegex(networks, r"(?m)^\s*default\s+active\s+yes\s+yes\s*$")
        self.assertEqual(self.rig_virsh(host, "net-dumpxml", "default").count("192.168.122.1"), 1)
        wait_for("the explanation gone", lambda: not [
            label for label in find_all(self.wizard, "label",
                                        "This host has no bridge and no virtual network.")
            if showing(label)])

        self.forward()
        self.fill("Name of the virtual machine", name)
        self.find("label", contains="Virtual network “default”")
        self.set_start(False)
        self.forward("Finish")
        wait_for("the wizard closed",
                 lambda: not self.app.find_all_windows("New Virtual Machine"), timeout=180)
        self.assertIn("<source network='default'/>", self.rig_virsh(host, "dumpxml", name))

    def test_the_upload_goes_into_the_chosen_pool(self):
        host = self.remote_host("rinstp", 82)
        pool = f"{PREFIX}-isos"
        folder = f"/var/lib/libvirt/{pool}"
        host.inside("mkdir", "-p", folder)
        self.rig_virsh(host, "pool-define-as", pool, "dir", "--target", folder)
        self.rig_virsh(host, "pool-start", pool)
        name = f"{PREFIX}-pool"
        volume = os.path.basename(self.iso)

        self.app = self.launch("--connect", host.uri, "--show-domain-creator")
        self.wizard = self.app.window("New Virtual Machine")
        self.find("label", "Step 1 of 6")
        self.choose("Local install media (ISO image)")
        # The pool called "default" is chosen first; the host's other pools are offered.
        self.find("label", contains="the image is uploaded into its pool “default”")
        self.assertTrue(self.is_checked(self.find("check box", "default")))
        self.choose(pool)
        self.find("label", contains=f"the image is uploaded into its pool “{pool}”")
        self.fill("Image file path", self.iso)
        self.forward()
        self.find("label", "Step 2 of 6")
        self.find("label", contains="was not recognised")
        self.forward()
        self.resources_page()
        self.choose("No disk")
        self.forward()
        self.find("label", "Step 5 of 6")
        self.forward()
        self.fill("Name of the virtual machine", name)
        self.set_start(False)
        self.forward("Finish")
        # Where it went is said once the machine is made.
        self.app.find("label", f"The image “{volume}” was uploaded into the pool “{pool}” of the host.")
        self.assertIn(volume, self.rig_virsh(host, "vol-list", pool))
        self.assertNotIn(volume, self.rig_virsh(host, "vol-list", "default"))
        xml = self.rig_virsh(host, "dumpxml", name)
        self.assertIn(f"<source pool='{pool}' volume='{volume}'/>", xml)

    def test_cancelled_upload_leaves_nothing_behind(self):
        host = self.remote_host("rinstc", 80)
        # A fresh host has no virtual network: its bridge is the machine's network.
        host.inside("ip", "link", "add", REMOTE_BRIDGE, "type", "bridge")
        name = f"{PREFIX}-cancel"
        # Big enough that the upload is still running when Cancel Upload is pressed;
        # sparse here, and cancelled long before it fills the host's memory-backed pool.
        big = f"/var/tmp/{PREFIX}-big.iso"
        with open(big, "wb") as f:
            f.truncate(4 << 30)
        self.addCleanup(os.remove, big)

        self.app = self.launch("--connect", host.uri, "--show-domain-creator")
        self.wizard = self.app.window("New Virtual Machine")
        self.source_page("Local install media (ISO image)", big)
        self.forward()
        self.resources_page()
        self.choose("No disk")
        self.forward()
        self.find("label", "Step 5 of 6")
        self.choose(REMOTE_BRIDGE)
        self.forward()
        self.fill("Name of the virtual machine", name)
        self.set_start(False)
        self.forward("Finish")
        self.find("label", contains=f"Uploading “{os.path.basename(big)}”")
        click(self.find("push button", "Cancel Upload"))
        self.find("label", contains="The upload was cancelled and the virtual machine was not created")
        self.assertTrue(self.app.find_all_windows("New Virtual Machine"), "the wizard stays open")
        self.assertNotIn(os.path.basename(big), self.rig_virsh(host, "vol-list", "default"))
        self.assertNotIn(name, self.rig_virsh(host, "list", "--all", "--name"))


if __name__ == "__main__":
    import unittest
    unittest.main()
