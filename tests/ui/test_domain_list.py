"""The list of virtual machines: names and states as libvirt has them, live."""

import os
import subprocess
import sys
import tempfile

from session_domain import SESSION, SessionDomainTestCase
from vdui import ROOT, UiTestCase, click, wait_for

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "states.xml")
FIXTURE_URI = "test://" + FIXTURE

# virsh's state words, and the list's.
STATE_WORDS = {
    "running": "Running",
    "idle": "Blocked",
    "paused": "Paused",
    "in shutdown": "Shutting down",
    "shut off": "Shut off",
    "crashed": "Crashed",
    "pmsuspended": "Suspended",
    "no state": "No state",
}


def virsh(*args, uri=FIXTURE_URI):
    return subprocess.run(
        ["virsh", "-c", uri, *args], capture_output=True, text=True, check=True
    ).stdout


def virsh_domains(uri=FIXTURE_URI):
    names = [n for n in virsh("list", "--all", "--name", uri=uri).splitlines() if n.strip()]
    return {name: STATE_WORDS[virsh("domstate", name, uri=uri).strip()] for name in names}


class DomainListTest(UiTestCase):
    def test_every_fixture_domain_is_listed_with_its_state(self):
        expected = virsh_domains()
        self.assertGreaterEqual(len(expected), 30)
        self.assertEqual(set(expected.values()), set(STATE_WORDS.values()))
        app = self.launch("--connect", FIXTURE_URI)
        app.find("label", f"{len(expected)} virtual machines")
        for name, state in expected.items():
            app.search(name)
            row = wait_for(
                f"the row of {name!r}",
                lambda: next((r for r in app.rows() if r and r[0] == name), None),
            )
            self.assertEqual(row[1], state, f"state of {name!r}")
        # Nothing more than libvirt has: a name that is not there shows no row.
        app.search("no-such-domain-anywhere")
        wait_for("an empty list", lambda: app.rows() == [] or None)

    def test_a_long_list_is_filled_in_after_its_first_look(self):
        """From 200 machines on, names and states show first and each machine's details
        (vCPUs, memory, tags) are filled into the same rows once read."""
        sys.path.insert(0, os.path.join(ROOT, "benches", "hosts"))
        sys.dont_write_bytecode = True  # no __pycache__ in the source tree
        from make_hosts import fixture  # the benchmark's fixture maker

        tag = ("<vd:tags xmlns:vd='https://github.com/virtdeck/virtdeck/xmlns/tags/1.0'>"
               "<vd:tag>edge</vd:tag></vd:tags>")
        # h01-vm-0007's metadata gets a tag; it is the one machine the search finds by it.
        head, rest = fixture(1, 250).split("<name>h01-vm-0007</name>", 1)
        rest = rest.replace("</metadata>", tag + "</metadata>", 1)
        with tempfile.NamedTemporaryFile("w", prefix="vdtest-list-", suffix=".xml") as f:
            f.write(head + "<name>h01-vm-0007</name>" + rest)
            f.flush()
            app = self.launch("--connect", "test://" + f.name)
            app.find("label", "250 virtual machines")
            app.search("edge")
            row = wait_for("h01-vm-0007 found by its tag, in full", lambda: next(
                (r for r in app.rows() if r and r[0] == "h01-vm-0007" and "edge" in r), None))
            # index 7: 4 vCPUs, 4 × 256 MiB (make_hosts.py)
            self.assertIn("4", row)
            self.assertIn("1 GiB", row)
            self.assertEqual(len(app.rows()), 1, app.rows())

    def test_power_actions_change_the_state_in_the_list(self):
        app = self.launch("--connect", FIXTURE_URI)
        app.find("label", contains=" virtual machines")
        app.search("vm-0009")
        wait_for("vm-0009 running", lambda: app.rows()[0][:2] == ["vm-0009", "Running"])
        # The only match is selected; its details offer the actions.
        click(app.find("push button", "Pause"))
        wait_for("vm-0009 paused", lambda: app.rows()[0][1] == "Paused")
        click(app.find("push button", "Resume"))
        wait_for("vm-0009 running again", lambda: app.rows()[0][1] == "Running")
        click(app.find("push button", "Force Off"))
        wait_for("vm-0009 shut off", lambda: app.rows()[0][1] == "Shut off")

    def test_delete_asks_first_then_removes_the_domain(self):
        total = len(virsh_domains())
        app = self.launch("--connect", FIXTURE_URI)
        app.find("label", f"{total} virtual machines")
        app.search("a&b")
        wait_for("a&b shown", lambda: app.rows()[0][0] == "a&b")
        main = app.window("Virtdeck")
        click(app.find("push button", "Delete", within=main))
        dialog = app.window("Delete “a&b”?")
        click(app.find("push button", "Cancel", within=dialog))
        app.find("label", f"{total} virtual machines")
        self.assertEqual(app.rows()[0][0], "a&b")
        click(app.find("push button", "Delete", within=main))
        dialog = app.window("Delete “a&b”?")
        click(app.find("push button", "Delete", within=dialog))
        app.find("label", f"{total - 1} virtual machines")
        wait_for("a&b gone", lambda: app.rows() == [] or None)


class LiveEventsTest(SessionDomainTestCase):
    """Another process changes domains; the window follows through libvirt's events."""

    tag = "live"
    # No statistics polling: only events can bring the changes.
    stats_interval = 0

    def state_in(self, app):
        rows = [r for r in app.rows() if r and r[0] == self.name]
        return rows[0][1] if rows else None

    def test_define_start_destroy_undefine_from_virsh(self):
        app = self.launch("--connect", SESSION)
        app.find("label", contains="virtual machine")
        app.search(self.name)

        def state():
            return self.state_in(app)

        self.define()
        wait_for("the defined domain", lambda: state() == "Shut off")
        virsh("start", self.name, uri=SESSION)
        wait_for("the started domain", lambda: state() == "Running")
        virsh("destroy", self.name, uri=SESSION)
        wait_for("the destroyed domain", lambda: state() == "Shut off")
        virsh("undefine", self.name, uri=SESSION)
        wait_for("the undefined domain gone", lambda: state() is None)

    def test_daemon_restart_reconnects_and_restores_the_list(self):
        self.define()
        app = self.launch("--connect", SESSION)
        app.search(self.name)
        wait_for("the domain listed", lambda: self.state_in(app) == "Shut off")
        subprocess.run(["pkill", "-KILL", "-x", "libvirtd"], check=True)
        wait_for("libvirtd gone", lambda: subprocess.run(
            ["pgrep", "-x", "libvirtd"], capture_output=True).returncode != 0)
        try:
            app.find("label", "Disconnected — reconnecting")
        finally:
            subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)
        app.find("label", "Connected")
        wait_for("the list restored", lambda: self.state_in(app) == "Shut off", timeout=30)
