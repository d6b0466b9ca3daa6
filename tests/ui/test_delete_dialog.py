"""The Delete dialog lists the machine's disk images with a check box each; one that
another machine also uses starts unchecked and says so, the UEFI variables and TPM state
are offered unchecked, and Delete removes exactly the checked image."""

import os
import shutil
import subprocess

import pyatspi

from session_domain import SESSION, SessionDomainTestCase, session_virsh
from vdui import click, find_all, label_texts, press, wait_for


def checked(acc):
    try:
        return acc.getState().contains(pyatspi.STATE_CHECKED)
    except Exception:
        return False


def domain_xml(name, disks, uefi_tpm=False):
    devices = "".join(
        f"""<disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='{path}'/><target dev='vd{chr(ord("a") + i)}' bus='virtio'/></disk>"""
        for i, path in enumerate(disks)
    )
    firmware = ""
    if uefi_tpm:
        firmware = """<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/>"""
        devices += "<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>"
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <features><acpi/></features>
  <os><type arch='x86_64' machine='pc'>hvm</type>{firmware}</os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>{devices}</devices>
</domain>"""


class DeleteDialogTest(SessionDomainTestCase):
    tag = "delete"

    def setUp(self):
        super().setUp()
        self.other = f"vdui-{os.getpid()}-sharer"
        self.pool = f"{self.name}-pool"
        self.pool_dir = os.path.join("/var/tmp", self.pool)
        self.addCleanup(self.remove_the_rest)
        os.makedirs(self.pool_dir)
        session_virsh("pool-create-as", self.pool, "dir", "--target", self.pool_dir)
        for volume in ("own.img", "shared.img"):
            session_virsh("vol-create-as", self.pool, volume, "1M", "--format", "raw")
        self.own = os.path.join(self.pool_dir, "own.img")
        self.shared = os.path.join(self.pool_dir, "shared.img")
        self.define(self.name, [self.own, self.shared], uefi_tpm=True)
        self.define(self.other, [self.shared])

    def define(self, name, disks, uefi_tpm=False):
        xml = os.path.join(self.home.name, f"{name}.xml")
        with open(xml, "w") as f:
            f.write(domain_xml(name, disks, uefi_tpm))
        session_virsh("define", xml)

    def remove_the_rest(self):
        # The UEFI variables and TPM state this test keeps on purpose.
        subprocess.run(["virsh", "-c", SESSION, "undefine", "--nvram", "--tpm", self.name],
                       capture_output=True)
        subprocess.run(["virsh", "-c", SESSION, "undefine", self.other], capture_output=True)
        subprocess.run(["virsh", "-c", SESSION, "pool-destroy", self.pool], capture_output=True)
        shutil.rmtree(self.pool_dir, ignore_errors=True)

    def volumes(self):
        session_virsh("pool-refresh", self.pool)
        listed = session_virsh("vol-list", self.pool).splitlines()[2:]
        return sorted(line.split()[0] for line in listed if line.strip())

    def test_one_check_box_per_image_and_only_the_checked_one_is_deleted(self):
        app = self.launch("--connect", SESSION)
        app.find("label", contains="virtual machine")
        app.search(self.name)
        wait_for("the machine alone in the list",
                 lambda: [r[0] for r in app.rows()] == [self.name])
        main = app.window("Virtdeck")
        click(app.find("push button", "Delete", within=main))
        title = f"Delete “{self.name}”?"
        dialog = app.window(title)

        boxes = {path: app.find("check box", path, within=dialog)
                 for path in (self.own, self.shared)}
        images = [b for b in find_all(dialog, role="check box") if b.name.startswith("/")]
        self.assertEqual(len(images), 2, [b.name for b in images])
        self.assertTrue(checked(boxes[self.own]), "the machine's own image starts checked")
        self.assertFalse(checked(boxes[self.shared]), "the shared image starts unchecked")
        notes = label_texts(dialog)
        self.assertIn(f"Also used by “{self.other}”", notes)
        # The UEFI variables and the TPM state have boxes of their own, unchecked, and say
        # what losing them means.
        for words in ("Delete its UEFI variables", "Delete its TPM state"):
            self.assertFalse(checked(app.find("check box", words, within=dialog)), words)
        self.assertIn("BitLocker or other disks sealed to the TPM will not unlock. "
                      "Kept unless checked.", notes)

        # Nothing is deleted unless the storage is asked for.
        also = app.find("check box", "Also delete its storage:", within=dialog)
        self.assertFalse(checked(also))
        press(also, dialog, title)
        wait_for("the storage asked for", lambda: checked(also))
        click(app.find("push button", "Delete", within=dialog))

        wait_for("the machine gone", lambda: app.rows() == [] or None)
        wait_for("own.img deleted", lambda: self.volumes() == ["shared.img"])
        self.assertIn(self.other, session_virsh("list", "--all", "--name").split())
