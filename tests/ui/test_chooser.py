"""The volume chooser (the Storage page in chooser mode) on qemu:///session. Opened from
the Hardware page's CD-ROM drives of a running machine, a volume of a pool the test makes
fills the image to insert: Insert puts its path in the drive. Opened from the wizard's
source page, a local image uploaded in the chooser and chosen becomes the installation
source. A volume that is no ISO image is not taken. The pool (and its directory) is
removed afterwards."""

import os
import shutil
import subprocess
import tempfile
import time

import pyatspi

from session_domain import SESSION, SessionDomainTestCase
from test_hardware import row_button
from vdui import click, find_all, press, sensitive, showing, wait_for

CHOOSER = "Choose an ISO Image"


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-c", SESSION, *args], capture_output=True, text=True,
                          check=check).stdout


class VolumeChooserTest(SessionDomainTestCase):
    tag = "chooser"

    def setUp(self):
        super().setUp()
        self.pool = f"vdtest-chooser-{os.getpid()}"
        self.dir = tempfile.mkdtemp(prefix=f"{self.pool}-")
        self.addCleanup(self.remove_pool)
        virsh("pool-create-as", self.pool, "dir", "--target", self.dir)
        self.iso = os.path.join(self.dir, "chooser.iso")
        with open(self.iso, "wb") as f:
            f.write(b"\0" * (1 << 20))
        # Not an ISO image: a CD-ROM and the wizard cannot take it.
        with open(os.path.join(self.dir, "notes.img"), "wb") as f:
            f.write(b"\0" * 4096)
        virsh("pool-refresh", self.pool)

    def remove_pool(self):
        virsh("pool-destroy", self.pool, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def choose_in_chooser(self, app, name="chooser.iso", upload=None):
        """In the chooser window: the test's pool, then its volume `name`, uploaded from
        the local file `upload` first when given."""
        chooser = app.window(CHOOSER)
        title = app.find("label", self.pool, within=chooser)
        press(title, chooser, CHOOSER)
        app.find("label", f"Volumes of “{self.pool}”", within=chooser)
        if upload is not None:
            click(app.find("push button", "Upload File…", within=chooser))
            dialog = wait_for("the upload dialog", lambda: next(
                (w for w in find_all(app.app, role="dialog")
                 if find_all(w, role="label", contains="Upload a File to the Pool")), None))
            app.fill("File to upload", upload, within=dialog)
            button = app.find("push button", "Upload", within=dialog)
            wait_for("Upload enabled", lambda: sensitive(button))
            click(button)
        volume = app.find("label", name, within=chooser)
        other = app.find("label", "notes.img", within=chooser)
        # The subpage slides in: its rows are pressed where they stay.
        time.sleep(1)
        press(other, chooser, CHOOSER)
        time.sleep(1)
        self.assertTrue(showing(chooser), "a volume that is no ISO image is not chosen")
        press(volume, chooser, CHOOSER)
        wait_for("the chooser closed", lambda: not [
            w for w in app.app if w is not None and w.name == CHOOSER and showing(w)])

    def test_a_volume_fills_the_cdrom_image_path(self):
        self.define("<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/>"
                    "<readonly/></disk>")
        virsh("start", self.name)
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        app.search(self.name)
        wait_for("the machine listed", lambda: app.rows()[0][:2] == [self.name, "Running"])
        tabs = [a for a in find_all(main, name="Hardware")
                if a.getRoleName() in ("toggle button", "page tab", "push button",
                                       "radio button")]
        self.assertTrue(tabs, "a Hardware switch in the details")
        click(tabs[0])
        click(app.find("push button", "Choose a Volume…", within=main))
        self.choose_in_chooser(app)
        # GTK 4.8 does not show an entry's text to AT-SPI: Insert puts it in the drive.
        click(row_button(app, main, "CD-ROM hdc", "Insert"))
        wait_for("the volume in the drive",
                 lambda: self.iso in virsh("domblklist", self.name))

    def test_a_volume_becomes_the_wizard_source(self):
        app = self.launch("--connect", SESSION, "--show-domain-creator")
        wizard = app.window("New Virtual Machine")
        app.find("label", "Step 1 of 6", within=wizard)
        # The pools were read: the volume is offered, the image file chosen.
        radio = app.find("check box", f"chooser.iso in pool {self.pool}", within=wizard)
        self.assertFalse(radio.getState().contains(pyatspi.STATE_CHECKED))
        # A local image is uploaded into the pool in the chooser, then chosen: a volume
        # the list did not offer.
        local = os.path.join(self.home.name, "uploaded.iso")
        with open(local, "wb") as f:
            f.write(os.urandom(1 << 20))
        click(app.find("push button", "Choose a Volume…", within=wizard))
        self.choose_in_chooser(app, "uploaded.iso", upload=local)
        with open(os.path.join(self.dir, "uploaded.iso"), "rb") as uploaded, \
                open(local, "rb") as original:
            self.assertEqual(uploaded.read(), original.read(), "the upload arrived whole")
        radio = app.find("check box", f"uploaded.iso in pool {self.pool}", within=wizard)
        wait_for("the volume chosen as the source",
                 lambda: radio.getState().contains(pyatspi.STATE_CHECKED))
        image_file = app.find("check box", "None: use the image file above", within=wizard)
        self.assertFalse(image_file.getState().contains(pyatspi.STATE_CHECKED),
                         "the image file is not the source any more")
