"""The New Virtual Machine wizard, driven in the real window against qemu:///session: a
guest that boots from the test ISO on a test bridge, network boot, import of a disk
image, and bad input that is refused in words and leaves nothing behind."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import tty
import unittest

from vdui import ROOT, UiTestCase, click, find_all, press, sensitive, wait_for

URI = "qemu:///session"
PID = os.getpid()
PREFIX = f"vdtest-{PID}"
BRIDGE = f"vdtbr{PID}"
VETH = f"vdtv{PID}"
BRIDGE_CONF = "/etc/qemu/bridge.conf"
POOL_DIR = os.path.expanduser("~/.local/share/libvirt/images")
# The guest boots under TCG; READY comes after ~10 s on an idle machine.
BOOT_DEADLINE = 180


def run(*args, check=True):
    return subprocess.run(args, capture_output=True, text=True, check=check)


def virsh(*args, check=True):
    return run("virsh", "-c", URI, *args, check=check)


def ensure_default_pool():
    """The session's default pool where virt-manager puts it, so that the wizard (which
    runs with a throwaway XDG_DATA_HOME) finds it rather than making one there."""
    if virsh("pool-info", "default", check=False).returncode != 0:
        virsh("pool-define-as", "default", "dir", "--target", POOL_DIR)
        virsh("pool-build", "default")
        virsh("pool-autostart", "default")
    if "running" not in virsh("pool-info", "default").stdout:
        virsh("pool-start", "default")


def guest_iso():
    out = run(os.path.join(ROOT, "tests", "guest", "build.sh")).stdout
    match = re.search(r"^GUEST_ISO=(.+)$", out, re.M)
    if not match:
        raise AssertionError(f"build.sh printed no GUEST_ISO: {out}")
    return match.group(1)


def make_bridge(allow=True):
    """A bridge on a veth pair of its own, allowed for session guests unless not `allow`."""
    run("ip", "link", "add", BRIDGE, "type", "bridge")
    run("ip", "link", "add", VETH + "a", "type", "veth", "peer", "name", VETH + "b")
    run("ip", "link", "set", VETH + "a", "master", BRIDGE)
    for link in (BRIDGE, VETH + "a", VETH + "b"):
        run("ip", "link", "set", link, "up")
    if allow:
        os.makedirs(os.path.dirname(BRIDGE_CONF), exist_ok=True)
        with open(BRIDGE_CONF, "a") as conf:
            conf.write(f"allow {BRIDGE}\n")


def read_bridge_conf():
    try:
        with open(BRIDGE_CONF, "rb") as conf:
            return conf.read()
    except FileNotFoundError:
        return None


def restore_bridge_conf(saved):
    if saved is None:
        if os.path.exists(BRIDGE_CONF):
            os.remove(BRIDGE_CONF)
    else:
        with open(BRIDGE_CONF, "wb") as conf:
            conf.write(saved)


def make_iso_pool(iso):
    """A directory pool holding a copy of `iso` as guest.iso; returns its name. Removed,
    with its directory, in cleanup."""
    pool = f"{PREFIX}-isos"
    target = tempfile.mkdtemp(prefix=f"{PREFIX}-isos-")
    virsh("pool-define-as", pool, "dir", "--target", target)
    virsh("pool-build", pool)
    virsh("pool-start", pool)
    shutil.copy(iso, os.path.join(target, "guest.iso"))
    virsh("pool-refresh", pool)
    return pool, target


def remove_iso_pool(pool, target):
    virsh("pool-destroy", pool, check=False)
    virsh("pool-undefine", pool, check=False)
    shutil.rmtree(target, ignore_errors=True)


def remove_bridge():
    run("ip", "link", "del", VETH + "a", check=False)
    run("ip", "link", "del", BRIDGE, check=False)


def cleanup():
    """Removes every domain and volume of this run, the bridge and its allow line."""
    names = virsh("list", "--all", "--name", check=False).stdout.split()
    for name in names:
        if name.startswith(PREFIX):
            virsh("destroy", name, check=False)
            virsh("undefine", name, "--nvram", check=False)
    for volume in volumes():
        deleted = virsh("vol-delete", volume, "--pool", "default", check=False)
        if deleted.returncode != 0:
            print(f"could not delete volume {volume}: {deleted.stderr}")
    remove_bridge()
    if os.path.exists(BRIDGE_CONF):
        with open(BRIDGE_CONF) as conf:
            lines = [l for l in conf if l.strip() != f"allow {BRIDGE}"]
        with open(BRIDGE_CONF, "w") as conf:
            conf.writelines(lines)


def domains():
    return [n for n in virsh("list", "--all", "--name").stdout.split() if n.startswith(PREFIX)]


def volumes():
    virsh("pool-refresh", "default", check=False)
    return [l.split()[0] for l in virsh("vol-list", "default").stdout.splitlines()
            if l.split() and l.split()[0].startswith(PREFIX)]


def read_serial_until(pty_path, text, timeout):
    """Reads the guest's serial pty until `text` appears; returns what was read."""
    fd = os.open(pty_path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    seen = b""
    end = time.monotonic() + timeout
    try:
        while text.encode() not in seen:
            if time.monotonic() > end:
                raise AssertionError(f"no {text!r} on the serial port in {timeout} s: {seen[-2000:]!r}")
            try:
                seen += os.read(fd, 4096)
            except BlockingIOError:
                time.sleep(0.1)
    finally:
        os.close(fd)
    return seen.decode(errors="replace")


class WizardTest(UiTestCase):
    @classmethod
    def setUpClass(cls):
        ensure_default_pool()
        cls.iso = guest_iso()

    def setUp(self):
        super().setUp()
        self.env["VIRTDECK_FORCE_EMULATION"] = "1"
        cleanup()
        self.addCleanup(cleanup)

    # Helpers: one wizard, page by page.
    def open_wizard(self):
        self.app = self.launch("--connect", URI, "--show-domain-creator")
        self.wizard = self.app.window("New Virtual Machine")
        return self.wizard

    def find(self, role=None, name=None, contains=None):
        return self.app.find(role, name, contains, within=self.wizard)

    def fill(self, name, text):
        self.app.fill(name, text, within=self.wizard)

    def forward(self, button="Forward"):
        forward = self.find("push button", button)
        wait_for(f"{button} enabled", lambda: sensitive(forward))
        click(forward)

    def refused(self, sentence, button="Forward"):
        """`sentence` is shown and Forward (or Finish) stays disabled."""
        self.find("label", contains=sentence)
        self.assertFalse(sensitive(self.find("push button", button)),
                         f"{button} must be disabled while “{sentence}” is shown")

    def choose(self, label):
        # GTK 4.8 calls grouped check buttons "check box" too.
        # A press while the page is still being laid out can miss: press again.
        radio = self.find("check box", label)
        for attempt in range(3):
            press(radio, self.wizard, "New Virtual Machine")
            try:
                wait_for(f"“{label}” chosen", lambda: self.is_checked(radio), timeout=5)
                return
            except AssertionError:
                if attempt == 2:
                    raise

    def source_page(self, method, path=None):
        self.find("label", "Step 1 of 6")
        self.choose(method)
        if path is not None:
            self.fill("Image file path", path)
        self.forward()
        # A button activated through AT-SPI clicks 250 ms later and ignores activations
        # meanwhile: the next page is there before Forward is pressed again.
        self.find("label", "Step 2 of 6")

    def resources_page(self, memory="256", vcpus="1"):
        self.find("label", "Step 3 of 6")
        self.fill("Memory in MiB", memory)
        self.fill("Virtual CPUs", vcpus)
        self.forward()
        self.find("label", "Step 4 of 6")

    def set_start(self, on):
        switch = wait_for("the start switch", lambda: next(
            (a for a in find_all(self.wizard, name="Start the VM and open its console")
             if a.getRoleName() not in ("label", "panel", "list item")), None))
        if self.is_checked(switch) != on:
            press(switch, self.wizard, "New Virtual Machine")
            wait_for("the switch toggled", lambda: self.is_checked(switch) == on)

    @staticmethod
    def is_checked(acc):
        import pyatspi
        states = acc.getState()
        return states.contains(pyatspi.STATE_CHECKED) or states.contains(pyatspi.STATE_PRESSED)

    def finish_without_starting(self, name):
        """Network page on user-mode networking, then the summary: name, no start,
        Finish. Returns the new domain's XML."""
        self.choose("User-mode networking")
        self.forward()
        self.fill("Name of the virtual machine", name)
        # Without KVM (forced here) the summary says the machine is emulated, and slow.
        self.find("label", contains="Acceleration: QEMU emulation without KVM (slow)")
        self.set_start(False)
        self.forward("Finish")
        return self.dumpxml(name)

    def dumpxml(self, name):
        def defined():
            done = virsh("dumpxml", name, check=False)
            return done.stdout if done.returncode == 0 else None

        return wait_for(f"{name} defined", defined, timeout=120)

    # The tests.
    def test_iso_install_on_a_bridge_boots_the_guest(self):
        make_bridge()
        name = f"{PREFIX}-wiz"
        self.open_wizard()
        self.source_page("Local install media (ISO image)", self.iso)
        self.find("label", contains="was not recognised")
        self.forward()
        self.resources_page()
        self.find("label", "Step 4 of 6")
        self.choose("Create a new disk")
        self.fill("Disk size in GiB", "1")
        self.forward()
        self.find("label", contains="members: " + VETH + "a")
        self.choose(BRIDGE)
        self.forward()
        self.fill("Name of the virtual machine", name)
        self.find("label", contains=f"Host bridge {BRIDGE}")
        self.forward("Finish")
        wait_for("the wizard closed", lambda: not self.app.find_all_windows("New Virtual Machine"),
                 timeout=120)
        xml = self.dumpxml(name)
        self.assertIn(f"<source bridge='{BRIDGE}'/>", xml)
        self.assertRegex(xml, r"<graphics type='vnc'[^>]*listen='127.0.0.1'")
        self.assertIn("<input type='tablet' bus='usb'>", xml)
        self.assertRegex(xml, rf"<driver name='qemu' type='qcow2'/>\s*<source pool='default' volume='{name}.qcow2'")
        self.assertIn(f"{name}.qcow2", volumes())
        info = virsh("vol-info", f"{name}.qcow2", "--pool", "default", "--bytes").stdout
        self.assertIn("Capacity:       1073741824", info)
        # The new machine is selected in the list of the main window.
        self.app.find("label", name)
        xml = wait_for("a running domain with a serial pty",
                       lambda: re.search(r"<serial type='pty'>\s*<source path='([^']+)'",
                                         virsh("dumpxml", name).stdout))
        read_serial_until(xml.group(1), "VIRTDECK-GUEST READY", BOOT_DEADLINE)

    def test_network_boot_without_disk(self):
        name = f"{PREFIX}-pxe"
        self.open_wizard()
        self.source_page("Network boot (PXE)")
        self.find("label", contains="Choose the operating system")
        self.forward()
        self.resources_page()
        self.choose("No disk")
        self.forward()
        xml = self.finish_without_starting(name)
        self.assertIn("<boot dev='network'/>", xml)
        self.assertNotIn("device='disk'", xml)
        self.assertIn("<interface type='user'>", xml)
        self.assertEqual(virsh("domstate", name).stdout.strip(), "shut off")
        self.assertEqual(volumes(), [])

    def test_import_an_existing_disk_image(self):
        name = f"{PREFIX}-import"
        image = os.path.join(POOL_DIR, f"{PREFIX}-import-src.qcow2")
        run("qemu-img", "create", "-f", "qcow2", image, "64M")
        self.addCleanup(lambda: os.path.exists(image) and os.remove(image))
        self.open_wizard()
        self.source_page("Import an existing disk image", image)
        self.forward()
        self.resources_page()
        self.find("label", "Step 4 of 6")
        self.forward()
        xml = self.finish_without_starting(name)
        self.assertRegex(xml, rf"<driver name='qemu' type='qcow2'/>\s*<source file='{re.escape(image)}'")
        self.assertIn("<boot dev='hd'/>", xml)
        self.assertNotIn("device='cdrom'", xml)
        self.assertEqual(domains(), [name])

    def test_install_from_an_iso_volume_of_a_pool(self):
        name = f"{PREFIX}-vol"
        pool = f"{PREFIX}-isos"
        target = None
        try:
            pool, target = make_iso_pool(self.iso)
        finally:
            self.addCleanup(lambda: remove_iso_pool(pool, target or "/nonexistent"))
        self.open_wizard()
        self.find("label", "Step 1 of 6")
        self.choose(f"guest.iso in pool {pool}")
        self.forward()
        # Detection read the volume's file: the test guest is no OS osinfo knows.
        self.find("label", contains="was not recognised")
        self.forward()
        self.resources_page()
        self.choose("No disk")
        self.forward()
        xml = self.finish_without_starting(name)
        self.assertRegex(xml, rf"(?s)<disk type='volume' device='cdrom'>(?:(?!</disk>).)*"
                              rf"<source pool='{pool}' volume='guest.iso'/>")
        self.assertIn("<boot dev='cdrom'/>", xml)

    def test_session_bridge_not_allowed_for_the_helper(self):
        saved = read_bridge_conf()
        self.addCleanup(restore_bridge_conf, saved)
        if saved is not None:
            restore_bridge_conf(b"".join(l for l in saved.splitlines(True)
                                         if l.strip() != f"allow {BRIDGE}".encode()))
        make_bridge(allow=False)
        self.open_wizard()
        self.source_page("Network boot (PXE)")
        self.forward()
        self.resources_page()
        self.find("label", "Step 4 of 6")
        self.choose("No disk")
        self.forward()
        self.find("label", "Step 5 of 6")
        self.find("label", contains="members: " + VETH + "a")
        self.choose(BRIDGE)
        self.find("label", contains=f"which does not allow “{BRIDGE}” yet")
        click(self.find("push button", "Allow This Bridge"))
        wait_for("the allow line", lambda: f"allow {BRIDGE}\n".encode() in (read_bridge_conf() or b""))

    def test_bad_input_is_refused_in_words_and_leaves_nothing(self):
        make_bridge()
        taken = f"{PREFIX}-taken"
        xml = os.path.join(self.home.name, "taken.xml")
        with open(xml, "w") as f:
            f.write(f"<domain type='qemu'><name>{taken}</name><memory unit='MiB'>64</memory>"
                    "<os><type arch='x86_64'>hvm</type></os></domain>")
        virsh("define", xml)
        self.open_wizard()
        # A missing ISO.
        missing = f"/nonexistent/{PREFIX}.iso"
        self.fill("Image file path", missing)
        self.refused(f"The file “{missing}” does not exist.")
        self.source_page("Local install media (ISO image)", self.iso)
        self.forward()
        # No memory, and more than any host has.
        self.find("label", "Step 3 of 6")
        self.fill("Virtual CPUs", "1")
        self.fill("Memory in MiB", "0")
        self.refused("The memory must be more than 0 MiB.")
        self.fill("Memory in MiB", str(10 * 1024 * 1024))
        self.refused("10485760 MiB of memory is more than the host has in total")
        self.resources_page()
        # A disk larger than the pool.
        self.fill("Disk size in GiB", "100000")
        self.refused("A 100000 GiB disk does not fit in the storage pool “default”")
        self.fill("Disk size in GiB", "1")
        self.forward()
        self.choose(BRIDGE)
        self.forward()
        # Names: illegal, taken.
        self.fill("Name of the virtual machine", "a/b")
        self.refused("The name must not contain “/”.", button="Finish")
        self.fill("Name of the virtual machine", taken)
        self.refused(f"A virtual machine called “{taken}” already exists on this connection.",
                     button="Finish")
        # The bridge vanishes between choosing it and Finish.
        name = f"{PREFIX}-bad"
        self.fill("Name of the virtual machine", name)
        remove_bridge()
        self.forward("Finish")
        self.find("label", contains=f"The host has no bridge called “{BRIDGE}”.")
        self.assertTrue(self.app.find_all_windows("New Virtual Machine"), "the wizard stays open")
        self.assertEqual(domains(), [taken])
        self.assertEqual(volumes(), [])


if __name__ == "__main__":
    unittest.main()
