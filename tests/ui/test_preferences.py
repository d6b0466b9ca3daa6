"""The Preferences window changes the settings it shows."""

import configparser
import os

import pyatspi

from vdui import UiTestCase, click, press, wait_for


class PreferencesTest(UiTestCase):
    def setting(self, key):
        keyfile = configparser.ConfigParser()
        keyfile.read(os.path.join(self.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile"))
        return keyfile["io/github/virtdeck/Virtdeck"].get(key) if keyfile.has_section(
            "io/github/virtdeck/Virtdeck") else None

    def test_scale_to_fit_switch_changes_the_setting(self):
        app = self.launch("--connect", "test:///default")
        click(app.find("push button", "Main Menu"))
        click(app.find("menu item", contains="Preferences"))
        window = app.window("Preferences")
        app.find("label", "Statistics interval", within=window)
        switch = app.find("check box", contains="Scale to fit the window", within=window)
        # The default is on.
        self.assertTrue(switch.getState().contains(pyatspi.STATE_CHECKED))
        press(switch, window, "Preferences")
        wait_for("the setting saved", lambda: self.setting("console-scale-to-fit") == "false")
