"""The details' Performance page: four graphs of a running machine, each with its value in
words as its accessible description, following the statistics as they come."""

import re

import os

from guest import Guest, NatNetwork
from session_domain import SESSION, SessionDomainTestCase
from vdui import click, find_all, screenshot, wait_for

# The IP Address cell among a list row's label texts: the Tags column comes after it (the
# CPU History column draws, it has no label).
IP_CELL = -2

GRAPHS = ("CPU usage graph", "Memory in use graph", "Disk activity graph",
          "Network activity graph")


def description(acc):
    try:
        return acc.description or ""
    except Exception:
        return ""


def has_room(acc):
    import pyatspi
    try:
        box = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        return box.width > 0 and box.height > 0
    except Exception:
        return False


def open_page(test, main, title):
    tabs = [a for a in find_all(main, name=title)
            if a.getRoleName() in ("toggle button", "page tab", "push button", "radio button")]
    test.assertTrue(tabs, f"a {title} switch in the details")
    click(tabs[0])


def shown_graph(main, name):
    for acc in find_all(main, role="image", name=name):
        if has_room(acc):
            return acc
    return None


class PerformancePageTest(SessionDomainTestCase):
    tag = "perf"
    stats_interval = 1

    def open_performance(self, app, main):
        open_page(self, main, "Performance")

    def graph(self, app, main, name):
        return shown_graph(main, name)

    def test_four_graphs_show_values_of_a_running_machine(self):
        app, main = self.launch_running()
        self.open_performance(app, main)
        graphs = {name: wait_for(f"the {name} shown", lambda n=name: self.graph(app, main, n))
                  for name in GRAPHS}

        cpu = wait_for("a CPU value",
                       lambda: re.match(r"^\d+\.\d %$", description(graphs[GRAPHS[0]])))
        seen = {cpu.group(0)}
        for name in GRAPHS[2:]:
            value = wait_for(f"a value for the {name}",
                             lambda n=name: "/s" in description(graphs[n]) and description(graphs[n]))
            self.assertRegex(value, r"/s .*, .*/s ")
        # The memory figure needs a balloon driver in the guest, which SeaBIOS has not: the
        # graph says it has no sample rather than nothing.
        self.assertTrue(description(graphs[GRAPHS[1]]), "the memory graph says something")
        # The words beside each graph are the same as its description.
        labels = {a.name for a in find_all(main, role="label")}
        for name in GRAPHS:
            self.assertIn(description(graphs[name]), labels, name)

        def changed():
            seen.add(description(graphs[GRAPHS[0]]))
            return len(seen) > 1
        wait_for("the CPU value to follow the machine", changed, timeout=60)
        # The list's CPU history column draws the same figures small.
        view = app.find(name="Virtual machines", role="tree table")
        wait_for("a sparkline in the list", lambda: [
            a for a in find_all(view, role="image")
            if re.match(r"^\d+\.\d %$", description(a))])
        print("CPU values:", sorted(seen), "memory:", description(graphs[GRAPHS[1]]))
        screenshot("performance-page")

    def test_a_stopped_machine_says_so(self):
        self.define()
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        app.search(self.name)
        wait_for("the machine listed", lambda: app.rows()[0][:2] == [self.name, "Shut off"])
        self.open_performance(app, main)
        cpu = wait_for("the CPU graph shown", lambda: self.graph(app, main, GRAPHS[0]))
        wait_for("'Not running'", lambda: description(cpu) == "Not running")


class GuestAddressesTest(SessionDomainTestCase):
    """A running machine without a guest agent or a lease: the details say so and how to
    get an agent; the list's IP column has a dash."""

    tag = "addr"
    stats_interval = 1

    def test_no_agent_says_how_to_get_one(self):
        app, main = self.launch_running()
        wait_for("the agent hint", lambda: find_all(
            main, role="label", name="Install qemu-guest-agent in the guest to see more"))
        wait_for("the reason", lambda: find_all(main, contains="No addresses known"))
        self.assertEqual(app.rows()[0][IP_CELL], "—")


class BusyGuestTest(SessionDomainTestCase):
    """The test guest on a NAT network of its own, without an agent, taking a DHCP lease,
    pinging its router and writing to its disk (tests/guest/README.md): the list's IP
    column fills in from the lease, the details say where the address came from and that
    there is no agent, and the Performance page's disk and network graphs show traffic."""

    tag = "busy"
    stats_interval = 1

    def setUp(self):
        super().setUp()
        self.network = NatNetwork(f"insight-ui-{os.getpid()}")
        self.addCleanup(self.network.remove)
        disk = os.path.join(self.home.name, "scratch.raw")
        with open(disk, "wb") as f:
            f.truncate(16 << 20)
        os.chmod(self.home.name, 0o755)
        self.guest = Guest(self.name, extra_cmdline="virtdeck.net=dhcp virtdeck.disk=write",
                           network=self.network.name, disk=disk)
        # Removed before the network (cleanups run last in, first out).
        self.addCleanup(self.guest.remove)

    def test_lease_address_and_traffic_of_a_guest_without_agent(self):
        self.guest.wait_line("DHCP: eth0 1")
        line = next(l for l in self.guest.log().splitlines() if l.startswith("DHCP: eth0 1"))
        address = line.split()[2].split("/")[0]
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        app.search(self.name)
        wait_for("the machine running", lambda: app.rows()[0][:2] == [self.name, "Running"])
        wait_for(f"the IP column to show {address}", lambda: app.rows()[0][IP_CELL] == address,
                 timeout=90)

        wait_for("the address's source", lambda: find_all(
            main, contains="From the DHCP lease of its virtual network"))
        nic = f"Virtual network {self.network.name}"
        wait_for("the address's interface named after the machine's NIC", lambda: [
            row for group in find_all(main, name="Guest addresses")
            for row in find_all(group, name=nic)])
        wait_for("'no agent'", lambda: find_all(main, contains="No guest agent answered"))
        wait_for("the agent hint", lambda: find_all(
            main, role="label", name="Install qemu-guest-agent in the guest to see more"))
        screenshot("details-busy-guest")

        open_page(self, main, "Performance")
        graphs = {name: wait_for(f"the {name} shown", lambda n=name: shown_graph(main, n))
                  for name in GRAPHS}
        wait_for("a CPU value", lambda: re.match(r"^\d+\.\d %$", description(graphs[GRAPHS[0]])))
        self.assertTrue(description(graphs[GRAPHS[1]]), "the memory graph says something")

        def moving(name, pattern):
            match = re.search(pattern, description(graphs[name]))
            return match and float(match.group(1)) > 0 and description(graphs[name])
        disk = wait_for("disk writes in the graph", lambda: moving(
            GRAPHS[2], r"([\d.]+)\s\S+/s written"), timeout=60)
        net = wait_for("received traffic in the graph", lambda: moving(
            GRAPHS[3], r"([\d.]+)\s\S+/s received"), timeout=60)
        print("disk:", disk, "network:", net)
        screenshot("performance-busy-guest")
