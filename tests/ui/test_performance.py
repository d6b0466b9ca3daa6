"""The details' Performance page: four graphs of a running machine, each with its value in
words as its accessible description, following the statistics as they come."""

import re

from session_domain import SESSION, SessionDomainTestCase
from vdui import click, find_all, screenshot, wait_for

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


class PerformancePageTest(SessionDomainTestCase):
    tag = "perf"
    stats_interval = 1

    def open_performance(self, app, main):
        tabs = [a for a in find_all(main, name="Performance")
                if a.getRoleName() in ("toggle button", "page tab", "push button", "radio button")]
        self.assertTrue(tabs, "a Performance switch in the details")
        click(tabs[0])

    def graph(self, app, main, name):
        for acc in find_all(main, role="image", name=name):
            if has_room(acc):
                return acc
        return None

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
        self.assertEqual(app.rows()[0][-1], "—")
