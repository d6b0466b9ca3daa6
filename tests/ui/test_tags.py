"""Tags: a machine's tags are read from its own domain XML (Virtdeck's metadata namespace,
as another Virtdeck or virsh left them there), shown in the list's Tags column, and found by
the list's search."""

import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from test_remote_fixture import tiny_domain
from vdui import ROOT, UiTestCase, wait_for

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
