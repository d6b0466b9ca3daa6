"""Host readiness: Host Details (hypervisor, processors, the virtualization check), the
status page when the libvirt daemon is stopped, and the bridges of the networking page.

The bridge tests make their own bridge on a veth pair in the host's namespace (never
touching eth0) and remove it afterwards; the create/delete test runs the app against a
network namespace of its own through VIRTDECK_NETNS."""

import json
import os
import re
import subprocess

import pyatspi

from vdui import (ROOT, UiTestCase, click, find_all, label_of, press, screenshot, sensitive,
                  showing, wait_for)

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


def flip(app, window, label, what, done):
    """Presses the Host Details switch called `label` until `done()` holds (`what`): the
    page reloads its rows after each change, so the switch is looked up anew."""
    def pressed():
        switch = app.find("check box", contains=label, within=window)
        if not done():
            press(switch, window, "Host Details")
        return wait_for(what, done, timeout=5)
    wait_for(f"{label} pressed", pressed)


def open_host_details(case, page=None):
    """Launches the app on the system connection and opens Host Details (on `page`)."""
    ensure_libvirt()
    app = case.launch("--connect", SYSTEM)
    app.find("label", "Connected")
    click(app.find("push button", "Main Menu"))
    click(app.find("menu item", contains="Host Details"))
    window = app.window("Host Details")
    if page:
        tab = app.find(name=page, within=window)
        click(tab)
        # The page's buttons take clicks only once it is shown.
        wait_for(f"the {page} page shown",
                 lambda: tab.getState().contains(pyatspi.STATE_SELECTED))
    return app, window


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
    def test_host_details_show_hypervisor_processors_and_the_check(self):
        app, window = open_host_details(self)

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

    def test_the_overview_shows_memory_committed_and_each_pool_s_use(self):
        app, window = open_host_details(self)
        running = len(virsh("list", "--name").split())
        app.find("label", "Memory of running machines", within=window)
        app.find("label", contains=f"· {running} running", within=window)
        app.find("label", "Memory in use", within=window)
        pools = app.find(name="Storage pools", within=window)
        # Other tests make and remove pools of their own meanwhile: look for the default one.
        self.assertIn("default", virsh("pool-list", "--all", "--name").split())
        app.find("label", "default", within=pools)
        app.find("label", contains="used of", within=pools)


    def test_the_overview_graphs_the_host_s_cpu_and_memory_use(self):
        app, window = open_host_details(self)
        cpu = app.find("image", "Host CPU usage graph", within=window)
        memory = app.find("image", "Host memory in use graph", within=window)

        def description(acc):
            try:
                return acc.description or ""
            except Exception:
                return ""
        # The second sample (3 s, the default interval) gives the first CPU figure.
        first = wait_for("a host CPU value", lambda: re.match(r"^\d+\.\d %$", description(cpu)))
        used = wait_for("a host memory value", lambda: " of " in description(memory) and description(memory))
        total_kib = int(re.search(r"total\s*:\s*(\d+) KiB", virsh("nodememstats")).group(1))
        self.assertRegex(used, r" of \d+(\.\d)? [GM]iB$")
        self.assertIn(f"{total_kib / 1024 / 1024:.1f}".removesuffix(".0"), used)
        # The words beside each graph are its description.
        labels = {a.name for a in find_all(window, role="label")}
        self.assertIn(description(cpu), labels)
        self.assertIn(used, labels)
        app.find("label", contains="running machine", within=window)
        print("host CPU:", first.group(0), "memory:", used)
        screenshot("host-overview")


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
        # The tests run as root, who is told the command without sudo.
        self.assertEqual(os.geteuid(), 0)
        self.assertNotIn("sudo", label_of(fix))
        app.find("push button", "Use My User Session Instead")
        # No bare connect button: the page says what to do.
        self.assertFalse([b for b in find_all(app.app, role="push button", name="Connect")
                          if showing(b)])
        # Found while the daemon is down: the connection also retries by itself (0.5 s …
        # 10 s apart) and may leave the page before a search after the restart would end.
        try_again = app.find("push button", "Try Again")
        ensure_libvirt()
        click(try_again)
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
        return open_host_details(self, "Networking")

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


class BridgeInNamespaceTest(UiTestCase):
    """Create Bridge and Delete Bridge through the window, acting on a network namespace the
    test makes (VIRTDECK_NETNS): a veth end `vdnic0` with 198.51.100.2/24 plays the NIC, its
    peer sits in a second namespace playing the LAN. Both are deleted afterwards."""

    NIC = "vdnic0"
    ADDRESS = "198.51.100.2/24"

    def setUp(self):
        super().setUp()
        self.ns = f"vdtest-{os.getpid()}-ui"
        self.lan = f"{self.ns}-lan"
        self.addCleanup(self.remove_namespaces)
        for name in (self.ns, self.lan):
            ip("netns", "add", name)
        ip("-n", self.ns, "link", "add", self.NIC, "type", "veth", "peer", "name", "vdpeer0",
           "netns", self.lan)
        ip("-n", self.ns, "addr", "add", self.ADDRESS, "dev", self.NIC)
        ip("-n", self.lan, "addr", "add", "198.51.100.1/24", "dev", "vdpeer0")
        for ns, name in ((self.ns, "lo"), (self.ns, self.NIC), (self.lan, "vdpeer0")):
            ip("-n", ns, "link", "set", name, "up")
        self.env["VIRTDECK_NETNS"] = self.ns

    def remove_namespaces(self):
        for name in (self.ns, self.lan):
            ip("netns", "del", name, check=False)

    def links(self):
        """{name: (master, [IPv4 addresses], STP state or None)} of the namespace, from the
        kernel."""
        out = ip("-n", self.ns, "-j", "-d", "addr", "show").stdout
        return {
            l["ifname"]: (
                l.get("master"),
                [f"{a['local']}/{a['prefixlen']}" for a in l.get("addr_info", [])
                 if a.get("family") == "inet"],
                l.get("linkinfo", {}).get("info_data", {}).get("stp_state"),
            )
            for l in json.loads(out)
        }

    def routes(self):
        return sorted(ip("-n", self.ns, "-4", "route", "show").stdout.splitlines())

    def assert_original(self):
        wait_for("the original configuration", lambda: self.links() == self.original
                 and self.routes() == self.original_routes, timeout=10)

    def assert_bridged(self, bridge="br0"):
        def bridged():
            links = self.links()
            return (links.get(bridge) == (None, [self.ADDRESS], 0)
                    and links[self.NIC][:2] == (bridge, []))
        wait_for("the address on the bridge, the NIC its port, STP off", bridged, timeout=10)
        self.assertIn(f"dev {bridge}", ip("-n", self.ns, "route", "show", "198.51.100.0/24").stdout)

    def open_networking(self):
        app, window = open_host_details(self, "Networking")
        app.find("label", contains=f"Only network namespace “{self.ns}”", within=window)
        return app, window

    def dialog(self, app, title, open_it):
        """Calls `open_it` until the dialog `title` shows: GTK drops the activation of a
        button that is not realized yet (the page may still be switching in)."""
        def opened():
            open_it()
            return wait_for(f"dialog {title!r}", lambda: app.find_all_windows(title), timeout=3)
        return wait_for(f"dialog {title!r} after a click", opened)[0]

    def answer_countdown(self, app, button):
        dialog = wait_for("the countdown", lambda: app.find_all_windows("Keep this configuration?"))[0]
        app.find("label", contains="comes back in", within=dialog)
        click(app.find("push button", button, within=dialog))
        wait_for("the countdown closed", lambda: not app.find_all_windows("Keep this configuration?"))

    def create_bridge(self, app, window):
        row = row_of(app.find("label", self.NIC, within=window), "Create Bridge…")
        button = app.find("push button", "Create Bridge…", within=row)
        title = f"Create a Bridge from “{self.NIC}”?"
        # A real pointer click on the row's button, as a person would.
        dialog = self.dialog(app, title, lambda: press(button, window, "Host Details"))
        # GTK 4.8 does not expose the entry's text: the kernel shows the default name
        # (br0) and STP off once the bridge is made.
        app.find(name="Bridge name", within=dialog)
        stp = app.find("check box", contains="Spanning tree protocol (STP)", within=dialog)
        states = stp.getState()
        self.assertFalse(states.contains(pyatspi.STATE_CHECKED)
                         or states.contains(pyatspi.STATE_PRESSED), "STP is on")
        click(app.find("push button", "Create Bridge", within=dialog))

    def delete_bridge(self, app, window, bridge="br0"):
        def open_it():
            row = row_of(app.find("label", bridge, within=window), "Delete")
            click(app.find("push button", "Delete", within=row))
        dialog = self.dialog(app, f"Delete Bridge “{bridge}”?", open_it)
        click(app.find("push button", "Delete Bridge", within=dialog))

    def test_create_keep_delete_and_revert_act_on_the_namespace_only(self):
        self.original = self.links()
        self.original_routes = self.routes()
        self.assertEqual(self.original[self.NIC], (None, [self.ADDRESS], None))
        app, window = self.open_networking()
        row = row_of(app.find("label", self.NIC, within=window), "Create Bridge…")
        app.find("label", contains=self.ADDRESS, within=row)
        # Only the namespace is seen: the host's own card is never offered.
        self.assertFalse([a for a in find_all(window, name="eth0")],
                         "eth0 is on the page of a namespace")

        # Round 1: create br0 and keep it.
        self.create_bridge(app, window)
        self.answer_countdown(app, "Keep")
        app.find("label", "The new configuration is kept")
        self.assert_bridged()
        bridge_row = row_of(app.find("label", "br0", within=window), "Delete")
        app.find("label", contains=f"Members: {self.NIC}", within=bridge_row)
        app.find("label", contains="STP off", within=bridge_row)

        # Delete it and keep that: the NIC has its address back.
        self.delete_bridge(app, window)
        self.answer_countdown(app, "Keep")
        self.assert_original()
        wait_for("br0 gone from the page", lambda: not [
            a for a in find_all(window, role="label", name="br0") if showing(a)])

        # Round 2: create again, then revert.
        self.create_bridge(app, window)
        wait_for("br0 made", lambda: "br0" in self.links())
        self.answer_countdown(app, "Revert")
        app.find("label", "The previous configuration is back")
        self.assert_original()


    def test_default_route_warning_and_bridges_of_other_software_left_alone(self):
        # The NIC carries the namespace's default route; a bridge no card joined, not
        # made by Virtdeck, stands for docker0.
        ip("-n", self.ns, "route", "add", "default", "via", "198.51.100.1", "dev", self.NIC)
        ip("-n", self.ns, "link", "add", "vdother0", "type", "bridge")
        app, window = self.open_networking()
        row = row_of(app.find("label", "vdother0", within=window), "Delete")
        app.find("label", contains="Made by other software", within=row)
        delete = app.find("push button", "Delete", within=row)
        self.assertFalse(sensitive(delete), "Delete is offered for another program's bridge")

        row = row_of(app.find("label", self.NIC, within=window), "Create Bridge…")
        button = app.find("push button", "Create Bridge…", within=row)
        title = f"Create a Bridge from “{self.NIC}”?"
        dialog = self.dialog(app, title, lambda: press(button, window, "Host Details"))
        app.find("label", contains="Your connection to the network moves to the bridge; if it "
                 "does not come back in 30 seconds, the change is undone.", within=dialog)
        click(app.find("push button", "Cancel", within=dialog))
        wait_for("the dialog closed", lambda: not app.find_all_windows(title))
        self.assertEqual(ip("-n", self.ns, "route", "show", "default").stdout.split()[4],
                         self.NIC, "nothing changed")

class VirtualNetworkTest(UiTestCase):
    """The Running and Autostart switches of a virtual network, pressed with the pointer,
    on an isolated network the test defines on the system connection (no DNS, no DHCP)
    and removes afterwards."""

    def setUp(self):
        super().setUp()
        ensure_libvirt()
        pid = os.getpid()
        self.net = f"vdtest-{pid}-net"
        xml = os.path.join(self.home.name, "net.xml")
        with open(xml, "w") as f:
            f.write(f"<network><name>{self.net}</name><bridge name='vdtn{pid}' stp='off'/>"
                    f"<dns enable='no'/><ip address='198.19.{pid % 250}.1' "
                    "netmask='255.255.255.0'/></network>")
        self.addCleanup(self.remove_network)
        virsh("net-define", xml)

    def remove_network(self):
        for verb in ("net-destroy", "net-undefine"):
            subprocess.run(["virsh", "-c", SYSTEM, verb, self.net], capture_output=True)

    def info(self):
        out = virsh("net-info", self.net)
        return {k.strip(): v.strip() for k, v in
                (line.split(":", 1) for line in out.splitlines() if ":" in line)}

    def flip(self, app, window, label, key, expected):
        """Presses the switch called `label` until libvirt reports `key` as `expected`."""
        flip(app, window, label, f"{key} {expected}", lambda: self.info()[key] == expected)

    def test_start_autostart_and_stop_a_virtual_network(self):
        app, window = open_host_details(self, "Networking")
        row = row_of(app.find("label", self.net, within=window), "Running")
        app.find("label", contains="Inactive", within=row)
        self.assertEqual((self.info()["Active"], self.info()["Autostart"]), ("no", "no"))

        self.flip(app, window, f"Run {self.net}", "Active", "yes")
        row = row_of(app.find("label", self.net, within=window), "Running")
        app.find("label", contains="Active", within=row)
        self.assertIsNotNone(link(f"vdtn{os.getpid()}"), "the network's bridge is up")
        self.flip(app, window, f"Start {self.net} with the host", "Autostart", "yes")
        self.flip(app, window, f"Run {self.net}", "Active", "no")
        self.assertEqual(self.info()["Autostart"], "yes")
        self.flip(app, window, f"Start {self.net} with the host", "Autostart", "no")

    def test_the_bridge_of_a_virtual_network_is_not_offered_for_deletion(self):
        virsh("net-start", self.net)
        app, window = open_host_details(self, "Networking")
        bridge = f"vdtn{os.getpid()}"
        row = row_of(app.find("label", bridge, within=window), "Delete")
        app.find("label", contains=f"Belongs to virtual network “{self.net}”", within=row)
        self.assertFalse(sensitive(app.find("push button", "Delete", within=row)),
                         "Delete is offered for a virtual network's bridge")
