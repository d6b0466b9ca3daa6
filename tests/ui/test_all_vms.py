"""Many hosts in one window: "All Virtual Machines" lists every connected host's machines
with a Host column, searches, sorts and acts on the right host; the list filters and
groups by tag; several selected machines start at once after one confirmation, with each
one's result; a machine dragged onto another host in the sidebar opens Migrate… towards it,
and several selected machines dragged there are refused in words (Migrate… moves one).

The hosts are libvirt test driver files written by each test (and qemu:///session where a
start must really fail)."""

import os
import subprocess
import time
import xml.etree.ElementTree as ET

import pyatspi

from vdui import (ROOT, UiTestCase, click, drag, find_all, label_of, label_texts, press,
                  showing, wait_for)

DEFAULT = "test:///default"
SESSION = "qemu:///session"
TAGS_NS = "https://github.com/virtdeck/virtdeck/xmlns/tags/1.0"
TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
PREFIX = "vdtest-allvms"
SHUT_OFF = 5
RUNNING = 1


def write_fixture(path, machines):
    """A test driver file with `machines`: (name, runstate, tags)."""
    ET.register_namespace("test", TEST_NS)
    node = ET.Element("node")
    for name, runstate, tags in machines:
        domain = ET.SubElement(node, "domain", type="test")
        ET.SubElement(domain, "name").text = name
        ET.SubElement(domain, "memory", unit="KiB").text = "65536"
        ET.SubElement(domain, "vcpu").text = "1"
        ET.SubElement(ET.SubElement(domain, "os"), "type").text = "hvm"
        if tags:
            element = ET.SubElement(ET.SubElement(domain, "metadata"), f"{{{TAGS_NS}}}tags")
            for tag in tags:
                ET.SubElement(element, f"{{{TAGS_NS}}}tag").text = tag
        ET.SubElement(domain, f"{{{TEST_NS}}}runstate").text = str(runstate)
    ET.ElementTree(node).write(path, encoding="unicode")
    return "test://" + path


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True,
                          check=True).stdout


def focus_main_window():
    wid = wait_for("the main X window", lambda: xdotool(
        "search", "--onlyvisible", "--name", "^Virtdeck$").split())[-1]
    xdotool("windowfocus", "--sync", wid)


class AllMachinesTest(UiTestCase):
    def fixture(self, name, machines):
        return write_fixture(os.path.join(self.home.name, name), machines)

    def sidebar_row(self, app, label):
        sidebar = app.find(name="Connections")
        return app.find("label", label, within=sidebar)

    def show_all(self, app):
        window = app.window("Virtdeck")
        press(self.sidebar_row(app, "All Virtual Machines"), window, "Virtdeck")
        wait_for("the Host column", lambda: app.find(name="Host"))

    def row(self, app, name):
        return next((r for r in app.rows() if r and r[0] == name), None)

    def test_all_machines_of_two_hosts_with_their_host_searched_sorted_and_acted_on(self):
        uri = self.fixture("a.xml", [(f"{PREFIX}-a1", RUNNING, []),
                                     (f"{PREFIX}-a2", SHUT_OFF, [])])
        app = self.launch("--connect", DEFAULT, "--connect", uri)
        wait_for("both hosts connected", lambda: len([
            label for label in label_texts(app.find(name="Connections"))
            if label == "Connected"]) == 2)
        self.show_all(app)
        # Both hosts are called "Test": the Host column and the sidebar tell them apart by
        # their URIs.
        host_a, host_default = f"Test ({uri})", f"Test ({DEFAULT})"
        wait_for("the machines of both hosts, each with its host", lambda: (
            host_default in self.row(app, "test") and host_a in self.row(app, f"{PREFIX}-a1")))
        self.sidebar_row(app, host_a)
        self.sidebar_row(app, host_default)
        self.sidebar_row(app, "3 virtual machines")

        # The same search as a host's list.
        app.search(PREFIX)
        wait_for("only the two machines of a.xml", lambda: [r[0] for r in app.rows()] == [
            f"{PREFIX}-a1", f"{PREFIX}-a2"] and all(host_a in r for r in app.rows()))
        # The same sorting: Name again sorts backwards.
        window = app.window("Virtdeck")
        view = app.find(name="Virtual machines", role="tree table")
        press(next(h for h in find_all(view, name="Name") if showing(h)), window, "Virtdeck")
        wait_for("sorted by name, backwards", lambda: [r[0] for r in app.rows()] == [
            f"{PREFIX}-a2", f"{PREFIX}-a1"])
        app.search("")
        press(next(h for h in find_all(view, name="Host") if showing(h)), window, "Virtdeck")
        wait_for("sorted by host", lambda: [
            host_default in r for r in app.rows()] == [True, False, False])

        # An action reaches the machine's own host: Force Off a1 (test:///default's "test"
        # runs too, and keeps running).
        app.search(f"{PREFIX}-a1")
        wait_for("a1 alone, running", lambda: [
            "Running" in r for r in app.rows()] == [True])
        focus_main_window()
        xdotool("key", "ctrl+shift+f")
        wait_for("a1 shut off", lambda: ["Shut off" in r for r in app.rows()] == [True])
        app.search("")
        wait_for("test still running", lambda: "Running" in self.row(app, "test"))

    def test_hosts_join_and_leave_the_list_as_they_connect(self):
        uri = self.fixture("b.xml", [(f"{PREFIX}-b1", SHUT_OFF, [])])
        app = self.launch("--connect", DEFAULT, "--connect", uri)
        self.show_all(app)
        wait_for("b1 listed", lambda: self.row(app, f"{PREFIX}-b1"))
        window = app.window("Virtdeck")
        press(self.sidebar_row(app, f"Test ({uri})"), window, "Virtdeck", button=3)
        click(wait_for("Disconnect in the row's menu", lambda: [
            m for m in find_all(app.app, role="menu item", name="Disconnect") if showing(m)])[0])
        press(self.sidebar_row(app, "All Virtual Machines"), window, "Virtdeck")
        wait_for("b1 gone, test still there", lambda: self.row(app, "test")
                 and not self.row(app, f"{PREFIX}-b1"))

    def test_the_list_filters_and_groups_by_tag(self):
        uri = self.fixture("t.xml", [
            ("web1", SHUT_OFF, ["web"]),
            ("both", SHUT_OFF, ["db", "web"]),
            ("db1", SHUT_OFF, ["db"]),
            ("plain", SHUT_OFF, []),
        ])
        app = self.launch("--connect", uri)
        wait_for("four machines", lambda: len(app.rows()) == 4)

        def choose(item):
            click(next(a for a in find_all(app.app, name="Tags")
                       if showing(a) and "button" in a.getRoleName()))
            click(wait_for(f"{item!r} in the tag menu", lambda: next(
                (m for m in find_all(app.app, name=item) if showing(m)
                 and m.getRoleName() in ("radio menu item", "check menu item", "menu item")),
                None)))

        choose("web")
        wait_for("the machines tagged web", lambda: sorted(
            r[0] for r in app.rows()) == ["both", "web1"])
        app.find(name="Tag: web")
        choose("All Machines")
        wait_for("all four again", lambda: len(app.rows()) == 4)

        # Grouped: by first tag (db: both, db1; web: web1), the untagged last, with the
        # Tags column first so that each group reads under its tag.
        choose("Group by Tag")
        names = ("both", "db1", "web1", "plain")
        wait_for("grouped by tag", lambda: [
            next(n for n in names if n in r) for r in app.rows()] == list(names))
        # Each group reads under its tag: the Tags column comes first.
        view = app.find(name="Virtual machines", role="tree table")

        def left_of(name):
            header = next(h for h in find_all(view, name=name) if showing(h))
            return header.queryComponent().getExtents(pyatspi.WINDOW_COORDS).x

        wait_for("the Tags column first", lambda: left_of("Tags") < left_of("Name"))

        # A tag in the Tags column is a link to the same filter: db1's "db".
        press(app.find("label", "db", within=view), app.window("Virtdeck"), "Virtdeck")
        wait_for("the machines tagged db", lambda: sorted(
            next(n for n in names if n in r) for r in app.rows()) == ["both", "db1"])
        app.find(name="Tag: db")

    def test_several_machines_start_at_once_with_each_ones_result(self):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)
        broken = f"{PREFIX}-broken-{os.getpid()}"
        xml = os.path.join(self.home.name, "broken.xml")
        with open(xml, "w") as f:
            # Its disk is not there: libvirt refuses to start it.
            f.write(f"""<domain type='qemu'><name>{broken}</name><memory unit='MiB'>32</memory>
<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/nonexistent/{broken}.qcow2'/>
<target dev='vda' bus='virtio'/></disk></devices></domain>""")
        subprocess.run(["virsh", "-c", SESSION, "define", xml], check=True, capture_output=True)
        self.addCleanup(subprocess.run, ["virsh", "-c", SESSION, "undefine", broken],
                        capture_output=True)
        uri = self.fixture("m.xml", [(f"{PREFIX}-m1", SHUT_OFF, []),
                                     (f"{PREFIX}-m2", SHUT_OFF, []),
                                     (f"{PREFIX}-m3", RUNNING, [])])
        app = self.launch("--connect", uri, "--connect", SESSION)
        self.show_all(app)
        app.search(PREFIX)
        wait_for("the four machines", lambda: len(app.rows()) == 4)
        focus_main_window()
        window = app.window("Virtdeck")
        first = app.find("label", f"{PREFIX}-m1", within=app.find(
            name="Virtual machines", role="tree table"))
        press(first, window, "Virtdeck")
        xdotool("key", "ctrl+a")
        # The details show one machine only: here they say how many are selected.
        app.find(name="4 Virtual Machines Selected")
        xdotool("key", "ctrl+shift+r")
        # One question names the three that can start, and the running one left alone.
        dialog = app.find("dialog", "Start 3 virtual machines?")
        texts = " ".join(label_texts(dialog))
        for name in (f"{PREFIX}-m1", f"{PREFIX}-m2", broken):
            self.assertIn(name, texts)
        self.assertIn(f"Left alone, as they cannot do this now: {PREFIX}-m3", texts)
        click(app.find("push button", contains="Start", within=dialog))
        result = app.find("dialog", "2 of 3 succeeded")
        texts = label_texts(result)
        body = next(t for t in texts if broken in t)
        self.assertIn(f"{PREFIX}-m1: done", body)
        self.assertIn(f"{PREFIX}-m2: done", body)
        self.assertRegex(body, f"{broken}: failed — .*{broken}.qcow2")
        click(app.find("push button", contains="Close", within=result))
        wait_for("m1 and m2 running, broken still shut off", lambda: {
            r[0]: "Running" in r for r in app.rows()} == {
            f"{PREFIX}-m1": True, f"{PREFIX}-m2": True, f"{PREFIX}-m3": True, broken: False})

    def test_a_machine_dragged_onto_another_host_opens_migrate_towards_it(self):
        source = self.fixture("s.xml", [(f"{PREFIX}-s1", RUNNING, [])])
        other = self.fixture("d.xml", [])
        app = self.launch("--connect", DEFAULT, "--connect", source, "--connect", other)
        window = app.window("Virtdeck")
        sidebar = app.find(name="Connections")
        wait_for("three hosts connected", lambda: len([
            label for label in label_texts(sidebar) if label == "Connected"]) == 3)
        tests = [self.sidebar_row(app, f"Test ({host})") for host in (DEFAULT, source, other)]
        press(tests[1], window, "Virtdeck")
        view = app.find(name="Virtual machines", role="tree table")
        machine = app.find("label", f"{PREFIX}-s1", within=view)
        # Onto its own host: nothing.
        drag(machine, tests[1], window, "Virtdeck")
        time.sleep(1)
        self.assertFalse(app.find_all_windows(f"Migrate “{PREFIX}-s1”"))
        drag(machine, tests[2], window, "Virtdeck")
        dialog = app.window(f"Migrate “{PREFIX}-s1”")
        wait_for("d.xml chosen as the destination", lambda: f"Test ({other})" in [
            label_of(a) for a in find_all(dialog, role="label") if showing(a)])
        click(app.find("push button", "Cancel", within=dialog))

    def test_several_selected_machines_dragged_onto_another_host_are_refused_in_words(self):
        source = self.fixture("s.xml", [(f"{PREFIX}-s1", RUNNING, []),
                                        (f"{PREFIX}-s2", SHUT_OFF, [])])
        other = self.fixture("d.xml", [])
        app = self.launch("--connect", source, "--connect", other)
        window = app.window("Virtdeck")
        sidebar = app.find(name="Connections")
        wait_for("two hosts connected", lambda: len([
            label for label in label_texts(sidebar) if label == "Connected"]) == 2)
        press(self.sidebar_row(app, f"Test ({source})"), window, "Virtdeck")
        destination = self.sidebar_row(app, f"Test ({other})")
        wait_for("the two machines", lambda: len(app.rows()) == 2)
        focus_main_window()
        view = app.find(name="Virtual machines", role="tree table")
        press(app.find("label", f"{PREFIX}-s1", within=view), window, "Virtdeck")
        xdotool("key", "ctrl+a")
        app.find(name="2 Virtual Machines Selected")
        drag(app.find("label", f"{PREFIX}-s2", within=view), destination, window, "Virtdeck")
        dialog = app.find("dialog", "Migrate One Machine at a Time")
        texts = " ".join(label_texts(dialog))
        self.assertIn(f"2 machines are selected ({PREFIX}-s1, {PREFIX}-s2)", texts)
        self.assertIn(f"drag a single machine onto “Test ({other})”", texts)
        self.assertFalse(app.find_all_windows(f"Migrate “{PREFIX}-s1”"))
        self.assertFalse(app.find_all_windows(f"Migrate “{PREFIX}-s2”"))
        click(app.find("push button", contains="Close", within=dialog))
        # One machine selected again: dragged alone, it goes to Migrate… as before. The
        # first click after the dialog closed may only give the window back its focus.
        focus_main_window()

        def one_selected():
            return not [a for a in find_all(app.app, name="2 Virtual Machines Selected")
                        if showing(a)]

        for attempt in range(3):
            press(app.find("label", f"{PREFIX}-s1", within=view), window, "Virtdeck")
            try:
                wait_for("one machine selected", one_selected, timeout=5)
                break
            except AssertionError:
                if attempt == 2:
                    raise
        drag(app.find("label", f"{PREFIX}-s1", within=view), destination, window, "Virtdeck")
        dialog = app.window(f"Migrate “{PREFIX}-s1”")
        click(app.find("push button", "Cancel", within=dialog))
