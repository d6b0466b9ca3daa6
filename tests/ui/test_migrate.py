"""Migrate… between two real hosts of the remote rig (tests/remote/host.sh): the machine's
menu opens the dialog, the other connected host is the destination, and the machine ends up
running there, gone from the first; the outcome is a toast. A migration a pre-check refuses
names the cause in the dialog and leaves the machine running where it was, and so does
Cancel while a bandwidth-limited copy of its disk is under way."""

import os
import subprocess
import tempfile
import unittest

import xml.etree.ElementTree as ET

from remote import RemoteHostMixin
from test_remote_fixture import tiny_domain
from vdui import (ROOT, UiTestCase, click, find_all, label_texts, press, showing, wait_for)

NAME = f"vdtest-mig-{os.getpid()}"


class MigrateDialogTest(RemoteHostMixin, UiTestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)

    def inside_virsh(self, host, *args):
        return host.inside("virsh", "-c", "qemu:///system", *args).stdout

    def define(self, host, name):
        with tempfile.NamedTemporaryFile("w", suffix=".xml", dir="/tmp") as f:
            f.write(tiny_domain(name))
            f.flush()
            host.inside("virsh", "-c", "qemu:///system", "define", f.name)

    def open_dialog(self, a, b, menu=True):
        """Runs Virtdeck on both hosts and opens Migrate… for NAME on A: from its context
        menu, or (`menu` false) with the details' Migrate button."""
        app = self.launch("--connect", a.uri, "--connect", b.uri)
        main = app.window("Virtdeck")
        view = app.find(name="Virtual machines", role="tree table")
        row = wait_for(f"{NAME} listed", lambda: next(
            (r for r in find_all(view, role="table row")
             if label_texts(r)[:1] == [NAME] and showing(r)), None), timeout=90)
        if menu:
            press(row, main, "Virtdeck", button=3)
            click(app.find("menu item", contains="Migrate", within=main))
        else:
            click(row)
            click(app.find("push button", "Migrate", within=main))
        return app, main, app.window(f"Migrate “{NAME}”")

    def test_a_pre_check_refuses_and_names_the_cause(self):
        a = self.remote_host("uca", 45)
        b = self.remote_host("ucb", 46)
        self.define(a, NAME)
        self.inside_virsh(a, "start", NAME)
        self.define(b, NAME)
        app, _main, dialog = self.open_dialog(a, b, menu=False)
        click(app.find("push button", "Migrate", within=dialog))
        wait_for("the cause in the dialog", lambda: [
            label for label in find_all(dialog, role="label")
            if f"The destination already has a machine called “{NAME}”." in (label.name or "")
            and showing(label)], timeout=60)
        self.assertIn("running", self.inside_virsh(a, "domstate", NAME))
        self.assertIn("shut off", self.inside_virsh(b, "domstate", NAME))

    def test_cancel_midway_leaves_the_machine_on_its_host(self):
        a = self.remote_host("uxa", 47)
        b = self.remote_host("uxb", 48)
        # A 64 MiB disk in A's private images directory, which B has as a pool too: at
        # 1 MiB/s its copy takes a minute.
        for host in (a, b):
            self.inside_virsh(host, "pool-create-as", "mg-images", "dir", "--target",
                              "/var/lib/libvirt/images", "--build")
        self.inside_virsh(a, "vol-create-as", "mg-images", f"{NAME}.img", "64M",
                          "--format", "raw")
        domain = ET.fromstring(tiny_domain(NAME))
        devices = ET.SubElement(domain, "devices")
        disk = ET.SubElement(devices, "disk", type="file", device="disk")
        ET.SubElement(disk, "driver", name="qemu", type="raw")
        ET.SubElement(disk, "source", file=f"/var/lib/libvirt/images/{NAME}.img")
        ET.SubElement(disk, "target", dev="vda", bus="virtio")
        with tempfile.NamedTemporaryFile("w", suffix=".xml", dir="/tmp") as f:
            f.write(ET.tostring(domain, encoding="unicode"))
            f.flush()
            a.inside("virsh", "-c", "qemu:///system", "define", f.name)
        self.inside_virsh(a, "start", NAME)

        app, _main, dialog = self.open_dialog(a, b)
        app.fill("Bandwidth Limit", "1", within=dialog)
        click(app.find("push button", "Migrate", within=dialog))
        bar = app.find("progress bar", "Migration Progress", within=dialog)
        wait_for("data sent", lambda: showing(bar) and bar.queryValue().currentValue > 0,
                 timeout=60)
        self.assertIn(NAME, self.inside_virsh(b, "vol-list", "mg-images"),
                      "the disk's volume was not made on B")
        click(app.find("push button", "Cancel", within=dialog))
        wait_for("the cancellation in the dialog", lambda: [
            label for label in find_all(dialog, role="label")
            if "The migration was cancelled." in (label.name or "") and showing(label)],
                 timeout=60)
        self.assertIn("running", self.inside_virsh(a, "domstate", NAME))
        self.assertEqual(self.inside_virsh(b, "list", "--all", "--name").strip(), "")
        self.assertNotIn(NAME, self.inside_virsh(b, "vol-list", "mg-images"))

    def test_the_menu_migrates_a_running_machine_to_the_other_host(self):
        a = self.remote_host("uma", 43)
        b = self.remote_host("umb", 44)
        self.define(a, NAME)
        self.inside_virsh(a, "start", NAME)
        app, main, dialog = self.open_dialog(a, b)
        # The destination offered is the other host; the machine has no disks to copy.
        click(app.find("push button", "Migrate", within=dialog))
        wait_for(f"{NAME} running on B", lambda: "running" in subprocess.run(
            [os.path.join(ROOT, "tests", "remote", "host.sh"), "exec", b.name, "virsh", "-c",
             "qemu:///system", "domstate", NAME], capture_output=True, text=True).stdout,
                 timeout=60)
        # The toast comes when the migration has finished, the source's copy undefined.
        wait_for("the toast", lambda: [
            label for label in find_all(main, role="label")
            if f"“{NAME}” now runs on" in (label.name or "") and showing(label)], timeout=30)
        self.assertNotIn(NAME, self.inside_virsh(a, "list", "--all", "--name"))
        self.assertIn(NAME, self.inside_virsh(b, "list", "--persistent", "--name"))


if __name__ == "__main__":
    unittest.main()
