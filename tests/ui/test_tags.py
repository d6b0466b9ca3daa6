"""Tags: a machine's tags are read from its own domain XML (Virtdeck's metadata namespace,
as another Virtdeck or virsh left them there), shown in the list's Tags column, found by
the list's search, and edited in the Tags dialog (Ctrl+Shift+T, or the list's menu), which
stores them back in the domain's metadata."""

import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from test_remote_fixture import tiny_domain
from vdui import ROOT, UiTestCase, _has_editable_text, click, find_all, wait_for

SESSION = "qemu:///session"
NAMESPACE = "https://github.com/virtdeck/virtdeck/xmlns/tags/1.0"
NAME = f"vdtest-hosts-tags-{os.getpid()}"


def virsh(*args):
    return subprocess.run(["virsh", "-c", SESSION, *args], capture_output=True, text=True,
                          check=True).stdout


class TagsTest(UiTestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)

    def setUp(self):
        super().setUp()
        domain = ET.fromstring(tiny_domain(NAME))
        metadata = ET.SubElement(domain, "metadata")
        tags = ET.SubElement(metadata, f"{{{NAMESPACE}}}tags")
        for tag in ("web", "db"):
            ET.SubElement(tags, f"{{{NAMESPACE}}}tag").text = tag
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(ET.tostring(domain, encoding="unicode"))
            f.flush()
            virsh("define", f.name)
        self.addCleanup(subprocess.run, ["virsh", "-c", SESSION, "undefine", NAME],
                        capture_output=True)

    def test_tags_from_the_metadata_are_listed_and_searched(self):
        app = self.launch("--connect", SESSION)
        app.search("web")
        row = wait_for(f"{NAME} found by its tag",
                       lambda: next((r for r in app.rows() if r and r[0] == NAME), None))
        self.assertIn("db, web", row)
        app.search("no-such-tag-anywhere")
        wait_for("an empty list", lambda: app.rows() == [] or None)

    def test_tags_edited_in_the_dialog_are_kept_in_the_domain(self):
        app = self.launch("--connect", SESSION)
        app.search(NAME)
        # The only match is selected: the Tags action acts on it.
        wait_for(f"{NAME} listed", lambda: any(r and r[0] == NAME for r in app.rows()))
        wid = wait_for("the main X window", lambda: subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "^Virtdeck$"],
            capture_output=True, text=True).stdout.split())[-1]
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], check=True)
        subprocess.run(["xdotool", "key", "ctrl+shift+t"], check=True)
        dialog = app.window(f"Tags of {NAME}")
        entry = wait_for("the tags field", lambda: next(
            (a for a in find_all(dialog) if _has_editable_text(a)), None))
        entry.queryEditableText().setTextContents("web, cache , db")
        click(app.find("push button", "Save", within=dialog))
        wait_for("the new tags in the list", lambda: any(
            r and r[0] == NAME and "cache, db, web" in r for r in app.rows()))
        stored = virsh("metadata", NAME, "--uri", NAMESPACE, "--config")
        for tag in ("cache", "db", "web"):
            self.assertIn(f"<tag>{tag}</tag>", stored)
