"""The details' Snapshots page on a running qemu:///session machine with a qcow2 disk: take
two snapshots through the dialog (the second a child of the first, marked current), revert
to the first after the question (the marker follows), delete both with "Delete With
Children". libvirt is asked after each step, so the page shows what libvirt has. And Save
(managed save): the list says Saved, Discard Saved State is offered, Start restores."""

import os
import subprocess

from session_domain import SESSION, SessionDomainTestCase, session_virsh
from vdui import click, find_all, label_texts, press, screenshot, showing, wait_for


class QcowDomainTestCase(SessionDomainTestCase):
    """The session machine with a qcow2 disk in the test's home directory."""

    def define(self):
        disk = os.path.join(self.home.name, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"], check=True)
        xml = os.path.join(self.home.name, "domain.xml")
        with open(xml, "w") as f:
            f.write(
                f"""<domain type='qemu'>
  <name>{self.name}</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    <video><model type='vga'/></video>
  </devices>
</domain>"""
            )
        session_virsh("define", xml)

    def remove_domain(self):
        for command in (["destroy", self.name],
                        ["undefine", "--snapshots-metadata", self.name]):
            subprocess.run(["virsh", "-c", SESSION, *command], capture_output=True)


class SnapshotsPageTest(QcowDomainTestCase):
    tag = "snapshots"

    def snapshot_row(self, main, name):
        """The shown row of snapshot `name` in the page's list."""
        lists = [a for a in find_all(main, name="Snapshots", role="list") if showing(a)]
        for row in find_all(lists[0], role="list item") if lists else []:
            if showing(row) and name in label_texts(row):
                return row
        return None

    def current(self, main):
        """The names of the rows marked Current."""
        lists = [a for a in find_all(main, name="Snapshots", role="list") if showing(a)]
        marked = []
        for row in find_all(lists[0], role="list item") if lists else []:
            texts = label_texts(row)
            if showing(row) and "Current" in texts:
                marked.append(texts[0])
        return marked

    def take(self, app, main, name):
        click(app.find("push button", "Take Snapshot…", within=main))
        dialog = app.window("Take Snapshot")
        app.fill("Snapshot name", name, within=dialog)
        app.fill("Snapshot description", f"the {name} one", within=dialog)
        click(app.find("push button", "Take Snapshot", within=dialog))
        wait_for(f"“{name}” listed", lambda: self.snapshot_row(main, name), timeout=90)

    def test_tree_current_marker_revert_and_delete(self):
        app, main = self.launch_running()
        tabs = [a for a in find_all(main, name="Snapshots")
                if a.getRoleName() in ("toggle button", "page tab", "push button", "radio button")]
        self.assertTrue(tabs, "a Snapshots switch in the details")
        click(tabs[0])
        app.find("label", "New snapshots are internal (in the qcow2 disks) and keep the memory.",
                 within=main)
        app.find("label", contains="No snapshots yet", within=main)

        self.take(app, main, "first")
        self.take(app, main, "second")
        wait_for("“second” current", lambda: self.current(main) == ["second"])
        self.assertEqual(session_virsh("snapshot-current", "--name", self.name).strip(), "second")
        self.assertEqual(
            session_virsh("snapshot-parent", "--snapshotname", "second", self.name).strip(), "first")
        first = self.snapshot_row(main, "first")
        second = self.snapshot_row(main, "second")
        # The child is indented under its parent; both show the screen when taken.
        x = lambda row: find_all(row, role="image")[0].queryComponent().getExtents(0).x
        self.assertGreater(x(second), x(first), "the child is indented")
        for name in ("first", "second"):
            row = self.snapshot_row(main, name)
            images = [f"{a.name} {a.description}" for a in find_all(row, role="image")]
            self.assertTrue([i for i in images if f"Screen of “{name}”" in i], images)
            self.assertTrue(any(f"the {name} one" in t for t in label_texts(row)), label_texts(row))
        screenshot("snapshots-tree")

        click(app.find("push button", "Revert…", within=first))
        dialog = app.window("Revert to “first”?")
        self.assertIn("Its current state is lost unless you snapshot it.",
                      " ".join(label_texts(dialog)))
        click(app.find("push button", "Revert", within=dialog))
        wait_for("“first” current", lambda: self.current(main) == ["first"], timeout=90)
        self.assertEqual(session_virsh("snapshot-current", "--name", self.name).strip(), "first")

        click(app.find("push button", "Delete", within=self.snapshot_row(main, "first")))
        click(app.find("menu item", "Delete With Children"))
        wait_for("no snapshots listed", lambda: app.find("label", contains="No snapshots yet",
                                                          within=main), timeout=90)
        self.assertEqual(session_virsh("snapshot-list", "--name", self.name).strip(), "")

    def test_save_shows_saved_and_start_restores(self):
        app, main = self.launch_running()
        actions = app.find(name="Actions", within=main)
        click(app.find("push button", "Save", within=actions))
        wait_for("the list saying Saved",
                 lambda: app.rows()[0][:2] == [self.name, "Saved"], timeout=90)
        self.assertIn("saved", session_virsh("domstate", "--reason", self.name))
        discard = app.find("push button", "Discard Saved State", within=actions)
        self.assertTrue(showing(discard))
        click(app.find("push button", "Start", within=actions))
        wait_for("the machine running again",
                 lambda: app.rows()[0][:2] == [self.name, "Running"], timeout=90)
        self.assertIn("restored", session_virsh("domstate", "--reason", self.name))
        wait_for("Discard Saved State hidden", lambda: not [
            b for b in find_all(actions, role="push button", name="Discard Saved State")
            if showing(b)])


class CloneDialogTest(QcowDomainTestCase):
    """Clone… on a shut-off machine whose disk is in a pool: the name is checked as it is
    typed, a full clone appears in the list shut off; a linked clone makes the source a
    Template whose Start is off, until Unmark as Template."""

    tag = "clone"

    def setUp(self):
        super().setUp()
        self.pool = f"vdui-{os.getpid()}-clonepool"
        session_virsh("pool-create-as", self.pool, "dir", "--target", self.home.name)
        self.addCleanup(lambda: subprocess.run(
            ["virsh", "-c", SESSION, "pool-destroy", self.pool], capture_output=True))

    def remove_domain(self):
        for suffix in ("-full", "-linked"):
            subprocess.run(["virsh", "-c", SESSION, "undefine", self.name + suffix],
                           capture_output=True)
        super().remove_domain()

    def clone(self, app, main, suffix, linked):
        actions = app.find(name="Actions", within=main)
        click(app.find("push button", "Clone", within=actions))
        dialog = app.window(f"Clone “{self.name}”")
        app.fill("Name of the clone", self.name, within=dialog)
        app.find("label", f"There is already a virtual machine called “{self.name}”.",
                 within=dialog)
        app.fill("Name of the clone", self.name + suffix, within=dialog)
        wait_for("the name accepted", lambda: not [
            a for a in find_all(dialog, role="label", contains="There is already") if showing(a)])
        if linked:
            # GTK 4.8 offers no AT-SPI action on check buttons: click it.
            press(app.find(contains="Linked clone", within=dialog), dialog, f"Clone “{self.name}”")
        click(app.find("push button", "Clone", within=dialog))
        wait_for(f"{self.name + suffix} listed shut off",
                 lambda: [self.name + suffix, "Shut off"] in [r[:2] for r in app.rows()],
                 timeout=90)

    def test_full_and_linked_clone(self):
        self.define()
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        app.search(self.name)
        wait_for("the machine", lambda: [self.name, "Shut off"] in [r[:2] for r in app.rows()])
        self.clone(app, main, "-full", linked=False)
        blocks = session_virsh("domblklist", self.name + "-full")
        self.assertIn(f"{self.name}-full-vda.qcow2", blocks)

        app.search(self.name)
        rows = lambda: [r[:2] for r in app.rows()]
        wait_for("the source again", lambda: [self.name, "Shut off"] in rows())
        # Select the source, not the clone.
        self.clone(app, main, "-linked", linked=True)
        wait_for("the source a template", lambda: [self.name, "Template"] in rows())
        screenshot("clone-template")
        actions = app.find(name="Actions", within=main)
        click(app.find("push button", "Unmark as Template", within=actions))
        wait_for("the source unmarked", lambda: [self.name, "Shut off"] in rows())
