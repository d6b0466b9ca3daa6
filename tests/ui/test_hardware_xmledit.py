"""The details' XML page and the Hardware page's Overview group on qemu:///session: XML that
is not well-formed or that libvirt's schema refuses shows the error (the line it names
marked, the cursor on it) and leaves `virsh dumpxml` unchanged; valid XML typed in is
applied; a shut-off machine is renamed, a name with a slash is refused on the field."""

import subprocess

from session_domain import SESSION, SessionDomainTestCase, session_virsh
from vdui import click, open_details_page, press, sensitive, text_of, wait_for


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, check=True).stdout


class XmlEditorTest(SessionDomainTestCase):
    tag = "xmledit"

    def open_xml(self):
        """Defines the machine, launches Virtdeck and waits for its XML page."""
        self.define()
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        open_details_page(app, main, self.name, "Shut off", "XML")
        view = app.find(name="Domain XML", within=main)
        wait_for("the XML shown", lambda: f"<name>{self.name}</name>" in text_of(view))
        return app, main, view

    def type_after_first_line(self, main, view, text):
        """Types `text` on a new line after `<domain …>`, with real keys."""
        # Into the text, past the line numbers.
        press(view, main, "Virtdeck", from_left=200)
        xdotool("key", "ctrl+Home", "End", "Return")
        xdotool("type", "--delay", "15", text)
        wait_for(f"{text!r} in the text", lambda: text in text_of(view))

    def apply(self, app, main):
        click(app.find(name="Apply XML", role="push button", within=main))

    def test_invalid_xml_shows_the_error_and_changes_nothing(self):
        app, main, view = self.open_xml()
        before = session_virsh("dumpxml", "--inactive", self.name)
        live_before = session_virsh("dumpxml", self.name)

        # Not well-formed: the element typed is never closed; the error names the last line.
        self.type_after_first_line(main, view, "<oops>")
        self.apply(app, main)
        lines = text_of(view).count("\n") + (0 if text_of(view).endswith("\n") else 1)
        app.find(role="label", contains=f"Line {lines}:", within=main)

        def caret_line():
            text = view.queryText()
            return text.getText(0, text.caretOffset).count("\n") + 1
        wait_for(f"the cursor on line {lines}", lambda: caret_line() == lines)
        self.assertEqual(session_virsh("dumpxml", "--inactive", self.name), before)

        # Well-formed but refused by libvirt's schema: its message is shown.
        click(app.find(name="Revert XML", role="push button", within=main))
        wait_for("the XML reverted", lambda: "<oops>" not in text_of(view))
        self.type_after_first_line(main, view, "<bogus/>")
        self.apply(app, main)
        app.find(role="label", contains="validate", within=main)
        self.assertEqual(session_virsh("dumpxml", "--inactive", self.name), before)
        self.assertEqual(session_virsh("dumpxml", self.name), live_before)

    def test_valid_xml_is_applied(self):
        app, main, view = self.open_xml()
        self.type_after_first_line(main, view, "<title>Typed as XML</title>")
        self.apply(app, main)
        wait_for("the title in the configuration", lambda: session_virsh(
            "desc", "--config", "--title", self.name).strip() == "Typed as XML")
        # Applied: the page shows libvirt's XML again, with nothing left to apply.
        wait_for("the XML read again", lambda: "  <title>Typed as XML</title>" in text_of(view))
        apply = app.find(name="Apply XML", role="push button", within=main)
        wait_for("Apply XML disabled", lambda: not sensitive(apply))

    def define_elsewhere(self, element):
        """Another program redefines the machine with `element` after its name."""
        xml = session_virsh("dumpxml", "--inactive", self.name).replace(
            "</name>", f"</name>\n  {element}", 1)
        path = f"{self.home.name}/elsewhere.xml"
        with open(path, "w") as f:
            f.write(xml)
        session_virsh("define", path)

    def test_a_change_elsewhere_is_offered_as_reload(self):
        app, main, view = self.open_xml()
        banner = "This virtual machine was changed elsewhere."
        # The list hears of changes to what it shows, such as the title: the banner comes.
        self.type_after_first_line(main, view, "<!-- unapplied -->")
        self.define_elsewhere("<title>Changed elsewhere</title>")
        app.find(role="label", name=banner, within=main)
        self.assertIn("<!-- unapplied -->", text_of(view))
        click(app.find(name="Reload", role="push button", within=main))
        wait_for("the machine's XML read again", lambda: "Changed elsewhere" in text_of(view)
                 and "<!-- unapplied -->" not in text_of(view))

        # A change the list does not show (the description) is caught by Apply, which
        # overwrites nothing and offers Reload.
        self.type_after_first_line(main, view, "<!-- unapplied -->")
        self.define_elsewhere("<description>Described elsewhere</description>")
        before = session_virsh("dumpxml", "--inactive", self.name)
        self.apply(app, main)
        app.find(role="label", contains="changed elsewhere since its XML was read", within=main)
        self.assertEqual(session_virsh("dumpxml", "--inactive", self.name), before)
        click(app.find(name="Reload", role="push button", within=main))
        wait_for("the machine's XML read again", lambda: "Described elsewhere" in text_of(view)
                 and "<!-- unapplied -->" not in text_of(view))


class OverviewTest(SessionDomainTestCase):
    tag = "overview"

    def setUp(self):
        super().setUp()
        self.new_name = f"{self.name}-renamed"
        self.addCleanup(lambda: subprocess.run(
            ["virsh", "-c", SESSION, "undefine", self.new_name], capture_output=True))

    def test_rename_a_shut_off_machine(self):
        self.define()
        # The metadata the wizard writes for the guest OS.
        xml = session_virsh("dumpxml", "--inactive", self.name).replace("</uuid>", (
            "</uuid>\n  <metadata><libosinfo:libosinfo "
            "xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>"
            "<libosinfo:os id='http://debian.org/debian/12'/></libosinfo:libosinfo></metadata>"
        ), 1)
        path = f"{self.home.name}/osinfo.xml"
        with open(path, "w") as f:
            f.write(xml)
        session_virsh("define", path)
        uuid = session_virsh("domuuid", self.name).strip()
        app = self.launch("--connect", SESSION)
        main = app.window("Virtdeck")
        open_details_page(app, main, self.name, "Shut off", "Hardware")
        # What the configuration says of the machine.
        app.find(role="label", name=uuid, within=main)
        app.find(role="label", name="BIOS", within=main)
        app.find(role="label", name="Debian 12 (http://debian.org/debian/12)", within=main)
        app.find(role="label", contains="pc-i440fx", within=main)

        before = session_virsh("dumpxml", "--inactive", self.name)
        app.fill("Virtual Machine Name", "has/slash", within=main)
        click(app.find(name="Rename", role="push button", within=main))
        app.find(role="label", contains="must not contain “/”", within=main)
        self.assertEqual(session_virsh("dumpxml", "--inactive", self.name), before)

        app.fill("Virtual Machine Name", self.new_name, within=main)
        click(app.find(name="Rename", role="push button", within=main))
        wait_for("the machine renamed",
                 lambda: session_virsh("domname", uuid).strip() == self.new_name)
        app.search(self.new_name)
        wait_for("the list shows the new name",
                 lambda: app.rows() and app.rows()[0][0] == self.new_name)
