"""Host readiness: Host Details (hypervisor, processors, the virtualization check), the
status page when the libvirt daemon is stopped, and the bridges of the networking page.

The bridge tests make their own bridge on a veth pair in the host's namespace (never
touching eth0) and remove it afterwards."""

import json
import os
import re
import subprocess

from vdui import ROOT, UiTestCase, click, find_all, label_of, showing, wait_for

SYSTEM = "qemu:///system"
CHECK_ITEMS = (
    "Hardware virtualization in the processor",
    "KVM kernel modules",
    "Access to /dev/kvm",
)


def ensure_libvirt():
    subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)


def virsh(*args):
    return subprocess.run(
        ["virsh", "-c", SYSTEM, *args], capture_output=True, text=True, check=True
    ).stdout


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def link(name):
    """The link `name` as `ip -j -d addr show` has it, or None."""
    out = ip("-j", "-d", "addr", "show", "dev", name, check=False)
    if out.returncode != 0:
        return None
    return json.loads(out.stdout)[0]


def addresses(name):
    found = link(name)
    return [f"{a['local']}/{a['prefixlen']}" for a in (found or {}).get("addr_info", [])
            if a.get("family") == "inet"]


def mark_of(title):
    """The ✓ or ✗ in the row of the check item titled `title`: the nearest ancestor with
    a mark is the row."""
    current = title
    while current is not None:
        marks = [label_of(a) for a in find_all(current, role="label") if label_of(a) in ("✓", "✗")]
        if marks:
            return marks[0]
        current = current.parent
    raise AssertionError(f"no mark near {title.name!r}")


def row_of(node, marker):
    """The nearest ancestor of `node` below which some widget is named `marker`."""
    current = node
    while current is not None:
        if find_all(current, name=marker):
            return current
        current = current.parent
    raise AssertionError(f"no {marker!r} around {node.name!r}")


class HostDetailsTest(UiTestCase):
    def open_host_details(self, app):
        click(app.find("push button", "Main Menu"))
        click(app.find("menu item", contains="Host Details"))
        return app.window("Host Details")

    def test_host_details_show_hypervisor_processors_and_the_check(self):
        ensure_libvirt()
        app = self.launch("--connect", SYSTEM)
        app.find("label", "Connected")
        window = self.open_host_details(app)

        running = re.search(r"Running hypervisor: (\S+ \S+)", virsh("version")).group(1)
        app.find("label", running, within=window)
        cpus = re.search(r"CPU\(s\):\s+(\d+)", virsh("nodeinfo")).group(1)
        app.find("label", contains=f"{cpus} (", within=window)
        app.find("label", "Processor", within=window)
        app.find("label", "Memory", within=window)

        usable = os.access("/dev/kvm", os.R_OK | os.W_OK)
        app.find("label", contains="VMs will use KVM" if usable else "Without KVM, VMs are created with QEMU emulation", within=window)
        marks = {item: mark_of(app.find("label", item, within=window)) for item in CHECK_ITEMS}
        # /dev/kvm is the item this process can judge by itself.
        self.assertEqual(marks["Access to /dev/kvm"], "✓" if usable else "✗", marks)


class DaemonStoppedTest(UiTestCase):
    def test_stopped_daemon_shows_the_fix_and_try_again_connects(self):
        self.addCleanup(ensure_libvirt)
        subprocess.run(["pkill", "-x", "libvirtd"], check=True)
        gone = lambda: subprocess.run(["pgrep", "-x", "libvirtd"], capture_output=True).returncode != 0
        try:
            wait_for("libvirtd stopping", gone, timeout=10)
        except AssertionError:
            # Still busy shutting down: the test needs it gone, not a clean exit.
            subprocess.run(["pkill", "-KILL", "-x", "libvirtd"])
            wait_for("libvirtd gone", gone)
        app = self.launch("--connect", SYSTEM)
        app.find("label", contains="The libvirt daemon is installed but not running")
        fix = app.find("label", contains="libvirtd -d")
        self.assertIn("libvirtd", label_of(fix))
        app.find("push button", "Use My User Session Instead")
        # No bare connect button: the page says what to do.
        self.assertFalse([b for b in find_all(app.app, role="push button", name="Connect")
                          if showing(b)])
        ensure_libvirt()
        click(app.find("push button", "Try Again"))
        app.find("label", "Connected")


class HostNetworkingTest(UiTestCase):
    """A bridge with a veth member and a test address, made and removed by the test."""

    def setUp(self):
        super().setUp()
        pid = os.getpid()
        self.bridge = f"vdtestbr{pid}"
        self.member = f"vdtv{pid}a"
        self.peer = f"vdtv{pid}b"
        self.address = f"198.18.{pid % 250}.1/24"
        self.addCleanup(self.remove_links)
        ip("link", "add", self.bridge, "type", "bridge", "stp_state", "0")
        ip("link", "add", self.member, "type", "veth", "peer", "name", self.peer)
        ip("link", "set", self.member, "master", self.bridge)
        ip("addr", "add", self.address, "dev", self.bridge)
        for name in (self.bridge, self.member, self.peer):
            ip("link", "set", name, "up")

    def remove_links(self):
        for name in (self.bridge, self.member):
            ip("link", "del", name, check=False)

    def open_networking(self):
        ensure_libvirt()
        app = self.launch("--connect", SYSTEM)
        app.find("label", "Connected")
        click(app.find("push button", "Main Menu"))
        click(app.find("menu item", contains="Host Details"))
        window = app.window("Host Details")
        click(app.find(name="Networking", within=window))
        return app, window

    def bridge_row(self, app, window):
        title = app.find("label", self.bridge, within=window)
        return row_of(title, "Delete")

    def delete_bridge(self, app, window):
        title = f"Delete Bridge “{self.bridge}”?"

        def dialog_after_click():
            # GTK drops the activation of a button that is not realized yet (the page
            # may still be switching in): click again until the dialog is there.
            click(app.find("push button", "Delete", within=self.bridge_row(app, window)))
            return wait_for("the delete dialog", lambda: [
                w for w in find_all(app.app, name=title)
                if w.getRoleName() == "dialog"], timeout=3)

        dialog = wait_for("the delete dialog after a click", lambda: dialog_after_click())[0]
        click(app.find("push button", "Delete Bridge", within=dialog))
        return app.window("Keep this configuration?")

    def assert_bridged(self):
        wait_for("the bridge back with its member", lambda: (link(self.member) or {}).get("master") == self.bridge)
        wait_for("the address back on the bridge", lambda: self.address in addresses(self.bridge))
        self.assertNotIn(self.address, addresses(self.member))

    def test_bridges_are_listed_with_member_stp_and_address(self):
        app, window = self.open_networking()
        row = self.bridge_row(app, window)
        app.find("label", contains=f"Members: {self.member}", within=row)
        app.find("label", contains="STP off", within=row)
        app.find("label", contains=self.address, within=row)
        app.find("label", "Virtual Networks", within=window)

    def test_delete_then_revert_restores_the_bridge(self):
        app, window = self.open_networking()
        dialog = self.delete_bridge(app, window)
        wait_for("the bridge gone", lambda: link(self.bridge) is None)
        self.assertIn(self.address, addresses(self.member))
        first = label_of(app.find("label", contains="seconds", within=dialog))
        wait_for("the countdown to move", lambda: label_of(
            app.find("label", contains="comes back in", within=dialog)) != first, timeout=5)
        click(app.find("push button", "Revert", within=dialog))
        self.assert_bridged()
        app.find("label", "The previous configuration is back")
        app.find("label", self.bridge, within=window)

    def test_delete_then_keep_gives_the_address_to_the_member(self):
        app, window = self.open_networking()
        dialog = self.delete_bridge(app, window)
        click(app.find("push button", "Keep", within=dialog))
        app.find("label", "The new configuration is kept")
        self.assertIsNone(link(self.bridge))
        self.assertIn(self.address, addresses(self.member))
        wait_for("the bridge gone from the page", lambda: not [
            a for a in find_all(window, role="label", name=self.bridge) if showing(a)])

    def test_unanswered_countdown_restores_the_bridge(self):
        app, window = self.open_networking()
        self.delete_bridge(app, window)
        wait_for("the bridge gone", lambda: link(self.bridge) is None)
        wait_for("the countdown to run out", lambda: find_all(
            app.app, role="label", contains="not confirmed in time"), timeout=45)
        self.assert_bridged()
