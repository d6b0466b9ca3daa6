"""The Storage page of Host Details on the real daemon: a directory pool made through Add
Pool… (a taken name and a relative directory refused on their fields), a volume made
(a size that is not one refused), a file uploaded whose volume has the same checksum (a
missing file refused), and a volume deleted. Everything the test makes has its own name
and is removed afterwards."""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from test_host import flip, open_host_details, virsh
from vdui import UiTestCase, click, find_all, press, sensitive, wait_for

SYSTEM = "qemu:///system"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def volumes(pool):
    out = subprocess.run(["virsh", "-c", SYSTEM, "-q", "vol-list", pool],
                         capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


class StoragePageTest(UiTestCase):
    def setUp(self):
        super().setUp()
        pid = os.getpid()
        self.pool = f"vdtest-storage-ui-{pid}"
        self.base = tempfile.mkdtemp(prefix="vdtest-storage-ui-")
        self.dir = os.path.join(self.base, "pool")
        self.upload = os.path.join(self.base, "upload.bin")
        with open(self.upload, "wb") as f:
            f.write(os.urandom(5 << 20))
        self.addCleanup(self.remove_pool)
        # A pool whose name the dialog must refuse.
        self.taken = f"vdtest-storage-ui-{pid}-taken"
        os.makedirs(os.path.join(self.base, "taken"))
        virsh("pool-create-as", self.taken, "dir", "--target", os.path.join(self.base, "taken"))

    def remove_pool(self):
        subprocess.run(["virsh", "-c", SYSTEM, "pool-destroy", self.taken], capture_output=True)
        subprocess.run(["virsh", "-c", SYSTEM, "pool-destroy", self.pool], capture_output=True)
        subprocess.run(["virsh", "-c", SYSTEM, "pool-undefine", self.pool], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def dialog(self, app, heading_part):
        """The shown dialog whose text contains `heading_part`."""
        return wait_for(f"dialog with {heading_part!r}", lambda: next(
            (w for w in find_all(app.app, role="dialog")
             if find_all(w, role="label", contains=heading_part)), None))

    def test_create_a_pool_then_make_upload_and_delete_volumes(self):
        app, window = open_host_details(self, "Storage")
        taken = self.taken

        click(app.find("push button", "Add Pool…", within=window))
        dialog = self.dialog(app, "Add a Storage Pool")
        create = app.find("push button", "Create Pool", within=dialog)
        app.fill("Pool name", taken, within=dialog)
        app.find("label", f"There is already a pool called “{taken}”.", within=dialog)
        self.assertFalse(sensitive(create), "a taken name is refused")
        app.fill("Pool name", self.pool, within=dialog)
        app.fill("Directory path", "images", within=dialog)
        app.find("label", "The directory must be an absolute path.", within=dialog)
        self.assertFalse(sensitive(create), "a relative directory is refused")
        app.fill("Directory path", self.dir, within=dialog)
        wait_for("Create Pool enabled", lambda: sensitive(create))
        click(create)

        title = app.find("label", self.pool, within=window)
        wait_for("the pool defined and running",
                 lambda: self.pool in virsh("pool-list", "--name").split())
        self.assertTrue(os.path.isdir(self.dir), "the pool's directory was made")
        app.find("label", contains="free of", within=window)

        # The row's switch asks the page's storage action, and libvirt's answer shows.
        flip(app, window, f"Start {self.pool} with the host", "the pool's autostart on",
             lambda: re.search(r"^Autostart:\s+yes$", virsh("pool-info", self.pool), re.M))

        # Its volumes: a subpage.
        press(title, window, "Host Details")
        click(app.find("push button", "New Volume…", within=window))
        dialog = self.dialog(app, "New Volume")
        app.fill("Volume name", "disk1.qcow2", within=dialog)
        app.fill("Size (e.g. 20 GiB, 512 MiB)", "ten", within=dialog)
        app.find("label", contains="Enter a size such as", within=dialog)
        app.fill("Size (e.g. 20 GiB, 512 MiB)", "64 MiB", within=dialog)
        create = app.find("push button", "Create Volume", within=dialog)
        wait_for("Create Volume enabled", lambda: sensitive(create))
        click(create)
        app.find("label", "disk1.qcow2", within=window)
        app.find("label", contains="qcow2 · 67.1", within=window)
        self.assertIn("disk1.qcow2", volumes(self.pool))

        # Upload: a missing file is refused on its field, a real one arrives whole.
        click(app.find("push button", "Upload File…", within=window))
        dialog = self.dialog(app, "Upload a File to the Pool")
        upload = app.find("push button", "Upload", within=dialog)
        missing = os.path.join(self.base, "missing.iso")
        app.fill("File to upload", missing, within=dialog)
        app.find("label", f"“{missing}” does not exist.", within=dialog)
        self.assertFalse(sensitive(upload))
        app.fill("File to upload", self.upload, within=dialog)
        wait_for("Upload enabled", lambda: sensitive(upload))
        click(upload)
        app.find("label", "upload.bin", within=window)
        wait_for("the upload done", lambda: "upload.bin" in volumes(self.pool))
        self.assertEqual(sha256(os.path.join(self.dir, "upload.bin")), sha256(self.upload))

        # Delete a volume, after the question.
        click(app.find("push button", "Delete disk1.qcow2", within=window))
        dialog = self.dialog(app, "Delete Volume “disk1.qcow2”?")
        click(app.find("push button", "Delete", within=dialog))
        wait_for("the volume gone", lambda: "disk1.qcow2" not in volumes(self.pool))
        wait_for("its row gone", lambda: not [
            a for a in find_all(window, role="label", name="disk1.qcow2")])
