"""The Add Connection dialog: the fields follow the kind of connection chosen, and "Add"
waits for input that makes a libvirt URI."""

import os

from vdui import (ROOT, UiTestCase, click, find_all, keys_to, press, sensitive, showing,
                  wait_for)

FIXTURE = "test://" + os.path.join(ROOT, "tests", "fixtures", "states.xml")


class AddConnectionTest(UiTestCase):
    def test_custom_uri_is_checked_then_added(self):
        app = self.launch("--connect", "test:///default")
        click(app.find("push button", "Main Menu"))
        click(app.find("menu item", contains="Add Connection"))
        dialog = app.window("Add Connection")
        kind = app.find(name="Hypervisor", within=dialog)
        self.assertFalse([e for e in find_all(dialog, name="URI") if showing(e)])

        # The last kind: open the drop-down, then five down and Enter.
        press(kind, dialog, "Add Connection")
        app.find(contains="Custom URI", role="label")
        keys_to("Add Connection", *["Down"] * 5, "Return")
        app.find(name="URI", within=dialog)
        app.find("label", contains="Enter a libvirt URI", within=dialog)
        add = app.find("push button", "Add", within=dialog)
        self.assertFalse(sensitive(add), "Add is enabled without a URI")

        app.fill("URI", FIXTURE, within=dialog)
        wait_for("the hint gone", lambda: not [
            l for l in find_all(dialog, role="label", contains="Enter a libvirt URI") if showing(l)])
        wait_for("Add enabled", lambda: sensitive(add))
        click(add)
        keyfile = os.path.join(self.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")

        def saved():
            with open(keyfile) as f:
                return FIXTURE in f.read()
        wait_for("the connection saved in GSettings", saved)
