"""The application shell: window, menu, About, command line and single instance."""

import configparser
import os
import subprocess
import unittest

from vdui import UiTestCase, click, find_all, showing, wait_for


class ShellTest(UiTestCase):
    def test_window_has_header_actions_and_the_requested_connection(self):
        app = self.launch("--connect", "test:///default")
        app.window("Virtdeck")
        app.find("push button", "New Virtual Machine")
        app.find("push button", "Main Menu")
        app.find("label", "Test")

    def test_second_launch_hands_its_arguments_to_the_running_instance(self):
        app = self.launch("--connect", "test:///default")
        app.find("label", "Test")
        second = self.run_once("--connect", "qemu:///session")
        self.assertEqual(second.returncode, 0, second.stderr)
        app.find("label", "QEMU/KVM User session")
        frames = [w for w in find_all(app.app, role="frame", name="Virtdeck") if showing(w)]
        self.assertEqual(len(frames), 1, "a second launch must not open a second window")

    def test_primary_menu_opens_about(self):
        app = self.launch("--connect", "test:///default")
        click(app.find("push button", "Main Menu"))
        for label in ("New Virtual Machine", "Add Connection…", "Keyboard Shortcuts"):
            app.find(contains=label.replace("…", ""))
        click(app.find("menu item", contains="About Virtdeck"))
        about = wait_for(
            "the About window",
            lambda: [w for w in find_all(app.app, contains="About") if w.getRoleName() in ("frame", "dialog")],
        )
        self.assertTrue(about)
        app.find(name="Virtdeck", role="label")

    def test_keyboard_shortcuts_window_lists_new_vm(self):
        app = self.launch("--connect", "test:///default")
        click(app.find("push button", "Main Menu"))
        click(app.find("menu item", contains="Keyboard Shortcuts"))
        app.find(contains="New virtual machine")

    def test_add_connection_dialog_adds_and_remembers_the_system_connection(self):
        app = self.launch("--connect", "test:///default")
        click(app.find("push button", "Main Menu"))
        click(app.find("menu item", contains="Add Connection"))
        dialog = app.window("Add Connection")
        # The dialog's default choice is the system connection. (Other pages have "Add"
        # buttons too: the dialog's own.)
        click(app.find("push button", "Add", within=dialog))
        app.find("label", "QEMU/KVM")
        keyfile = os.path.join(self.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile")
        wait_for("the connection saved in GSettings",
                 lambda: "qemu:///system" in open(keyfile).read())

    def test_window_speaks_simplified_chinese(self):
        self.env.update({"LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN", "LC_ALL": "zh_CN.UTF-8"})
        app = self.launch("--connect", "test:///default")
        app.find("push button", "新建虚拟机")
        app.find("push button", "主菜单")

    def test_second_launch_routes_the_creator_and_console_flags(self):
        app = self.launch("--connect", "test:///default")
        app.window()
        self.assertEqual(self.run_once("--show-domain-creator").returncode, 0)
        wizard = app.window("New Virtual Machine")
        click(app.find("push button", "Cancel", within=wizard))
        self.assertEqual(self.run_once("--show-domain-console", "a&b <vm>").returncode, 0)
        app.find(contains="“a&b <vm>”")

    def test_window_size_is_remembered(self):
        app = self.launch("--connect", "test:///default")
        app.window()
        wid = wait_for("the X window", lambda: subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "^Virtdeck$"],
            capture_output=True, text=True).stdout.split())[0]
        subprocess.run(["xdotool", "windowsize", wid, "812", "534"], check=True)
        wait_for("the resize", lambda: "812x534" in subprocess.run(
            ["xdotool", "getwindowgeometry", wid], capture_output=True, text=True).stdout)
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], check=True)
        subprocess.run(["xdotool", "key", "ctrl+q"], check=True)
        self.assertEqual(app.proc.wait(timeout=20), 0)
        keyfile = configparser.ConfigParser()
        keyfile.read(os.path.join(self.env["XDG_CONFIG_HOME"], "glib-2.0", "settings", "keyfile"))
        section = keyfile["io/github/virtdeck/Virtdeck"]
        self.assertEqual(section["window-width"], "812")
        self.assertEqual(section["window-height"], "534")


class CommandLineTest(unittest.TestCase):
    def test_version_and_help(self):
        from vdui import BINARY

        version = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=20)
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout, r"^virtdeck \d+\.\d+\.\d+")
        help_text = subprocess.run([BINARY, "--help"], capture_output=True, text=True, timeout=20)
        for flag in ("--connect", "--show-domain-console", "--show-domain-creator", "--version"):
            self.assertIn(flag, help_text.stdout)


if __name__ == "__main__":
    unittest.main()
