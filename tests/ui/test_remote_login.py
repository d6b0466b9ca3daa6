"""Logins to a remote host ask their questions in the window, never in a terminal: ssh's
password, a key's passphrase and an unknown host key through Virtdeck's askpass program,
and the credentials of libvirt's own logins (the libssh transport, SASL over TCP) through its
authentication callback.
The host is tests/remote/host.sh's (a real sshd and libvirtd in a network namespace); the
password is typed into the dialog through AT-SPI. A password to remember goes to the Secret
Service on the session bus (tests/ui/secret_service.py) once the login has worked."""

import os
import subprocess
import json
import tempfile

import pyatspi

from remote import RemoteHost
from test_remote_fixture import tiny_domain
from vdui import (ROOT, UiTestCase, _has_editable_text, click, find_all, keys_to, label_of,
                  press, sensitive, showing, wait_for)

PREFIX = f"vdtest-hosts-login-{os.getpid()}"
DOMAIN = f"{PREFIX}-vm"


def known_hosts():
    return os.path.expanduser("~/.ssh/known_hosts")


class RemoteLoginTest(UiTestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run([os.path.join(ROOT, "build-aux", "ensure-libvirt.sh")], check=True)
        cls.host = RemoteHost("hlogin", 41).up()
        try:
            with tempfile.NamedTemporaryFile("w", suffix=".xml", dir="/tmp") as f:
                f.write(tiny_domain(DOMAIN))
                f.flush()
                cls.host.inside("virsh", "-c", "qemu:///system", "define", f.name)
        except BaseException:
            cls.host.down()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.host.down()

    def dialog(self, app, heading):
        """The shown login dialog whose heading is `heading`. ssh sometimes takes tens of
        seconds to ask on this busy machine (seen before it reaches the askpass program)."""
        return wait_for(f"the dialog {heading!r}", lambda: next(
            (w for w in find_all(app.app, role="dialog")
             if showing(w) and (w.name or "").startswith(heading)), None), timeout=90)

    def answer(self, app, dialog, text):
        """Types `text` into the dialog's field (as AT-SPI types) and logs in."""
        entry = wait_for("the dialog's text field", lambda: next(
            (a for a in find_all(dialog) if showing(a) and _has_editable_text(a)), None))
        entry.queryEditableText().setTextContents(text)
        click(app.find("push button", "Log In", within=dialog))

    def keyring(self):
        """Starts a Secret Service on the session bus for this test; returns a function
        giving the items it holds."""
        folder = tempfile.TemporaryDirectory(prefix="vd-keyring-")
        self.addCleanup(folder.cleanup)
        store = os.path.join(folder.name, "items.json")
        service = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(ROOT, "tests", "ui", "secret_service.py"), store],
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(service.wait, 10)
        self.addCleanup(service.terminate)
        self.assertEqual(service.stdout.readline().strip(), "ready")

        def items():
            with open(store) as f:
                return json.load(f)
        return items

    def tick_remember(self, app, dialog):
        remember = app.find("check box", contains="Remember", within=dialog)
        press(remember, dialog, dialog.name)
        wait_for("Remember ticked", lambda: remember.getState().contains(pyatspi.STATE_CHECKED))

    def no_password_dialog(self, app):
        return not any(showing(w) and (w.name or "").startswith("Password for")
                       for w in find_all(app.app, role="dialog"))

    def wait_listed(self, app):
        wait_for(f"{DOMAIN} listed", lambda: any(DOMAIN in row for row in app.rows()))

    def assert_not_kept(self, secret):
        """`secret` is in none of the files the app writes (settings, state, askpass)."""
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        askpass = os.path.join(runtime, "virtdeck") if runtime else f"/tmp/virtdeck-{os.getuid()}"
        for top in (self.home.name, askpass):
            for folder, _, files in os.walk(top):
                for name in files:
                    path = os.path.join(folder, name)
                    try:
                        with open(path, "rb") as f:
                            self.assertNotIn(secret.encode(), f.read(), path)
                    except OSError:
                        pass

    def test_password_login_through_the_dialog(self):
        before = self.host.password_logins()
        app = self.launch("--connect", self.host.password_uri)
        dialog = self.dialog(app, f"Password for root@{self.host.address}")
        # Until the login ends, the host's page says it is connecting: a spinner, and no
        # Connect button to press meanwhile.
        self.assertTrue(showing(app.find(name="Connecting")))
        self.assertFalse([b for b in find_all(app.app, role="push button", name="Connect")
                          if showing(b)])
        self.answer(app, dialog, self.host.password)
        self.wait_listed(app)
        self.assertEqual(self.host.password_logins(), before + 1)
        self.assert_not_kept(self.host.password)

    def test_remembered_password_is_kept_once_it_worked_and_used_next_time(self):
        items = self.keyring()
        before = self.host.password_logins()
        app = self.launch("--connect", self.host.password_uri)
        dialog = self.dialog(app, f"Password for root@{self.host.address}")
        self.tick_remember(app, dialog)
        self.answer(app, dialog, self.host.password)
        self.wait_listed(app)
        kept = wait_for("the password in the keyring", items)
        self.assertEqual(len(kept), 1)
        self.assertEqual(kept[0]["secret"], self.host.password)
        self.assertEqual(kept[0]["attributes"]["target"], f"root@{self.host.address}")
        self.assertEqual(kept[0]["attributes"]["kind"], "ssh-password")
        self.assert_not_kept(self.host.password)  # and nowhere else
        app.quit()

        # Next time the keyring answers ssh: no dialog.
        app = self.launch("--connect", self.host.password_uri)
        self.wait_listed(app)
        self.assertTrue(self.no_password_dialog(app))
        self.assertEqual(self.host.password_logins(), before + 2)

    def test_wrong_password_says_so_and_nothing_is_kept(self):
        items = self.keyring()
        before = self.host.password_logins()
        wrong = "not-" + self.host.password
        app = self.launch("--connect", self.host.password_uri)
        heading = f"Password for root@{self.host.address}"
        dialog = self.dialog(app, heading)
        self.tick_remember(app, dialog)
        self.answer(app, dialog, wrong)
        # ssh asks again: the dialog says the password was refused.
        app.find("label", "The password was not accepted. Try again.")
        again = self.dialog(app, heading)
        click(app.find("push button", "Cancel", within=again))
        wait_for("the connection to say it cannot connect", lambda: any(
            "Cannot connect" in label_of(a) for a in find_all(app.app, role="label") if showing(a)
        ))
        self.assertEqual(self.host.password_logins(), before)
        self.assertEqual(items(), [], "a refused password is not remembered")
        self.assert_not_kept(wrong)

    def test_key_passphrase_through_the_dialog(self):
        with tempfile.TemporaryDirectory(prefix="vd-key-") as folder:
            key = os.path.join(folder, "id_ed25519")
            subprocess.run(["cp", self.host.key, key], check=True)
            subprocess.run(["ssh-keygen", "-q", "-p", "-P", "", "-N", "open sesame", "-f", key],
                           check=True, capture_output=True)
            logins = self.host.logins()
            uri = f"qemu+ssh://root@{self.host.address}/system?keyfile={key}"
            app = self.launch("--connect", uri)
            dialog = self.dialog(app, "Unlock SSH Key")
            app.find("label", contains=key, within=dialog)
            self.answer(app, dialog, "open sesame")
            self.wait_listed(app)
            self.assertEqual(self.host.logins(), logins + 1)

    def test_unknown_host_key_trusted_in_the_dialog(self):
        subprocess.run(["ssh-keygen", "-R", self.host.address, "-f", known_hosts()],
                       check=True, capture_output=True)
        fingerprint = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f",
             os.path.join(self.host.state, "ssh_host_ed25519_key.pub")],
            check=True, capture_output=True, text=True,
        ).stdout.split()[1]
        uri = f"qemu+ssh://root@{self.host.address}/system?keyfile={self.host.key}"
        app = self.launch("--connect", uri)
        dialog = self.dialog(app, "Unknown Host Key")
        app.find("label", f"ED25519 {fingerprint}", within=dialog)
        click(app.find("push button", "Trust this host", within=dialog))
        self.wait_listed(app)
        # ssh keeps the key it was told to trust (hashed, as Debian's ssh_config asks).
        subprocess.run(["ssh-keygen", "-F", self.host.address, "-f", known_hosts()],
                       check=True, capture_output=True)

    def test_sasl_login_is_asked_remembered_and_used_next_time(self):
        items = self.keyring()
        uri = self.host.sasl_uri
        app = self.launch("--connect", uri)
        self.answer(app, self.dialog(app, "User Name for"), self.host.sasl_user)
        dialog = self.dialog(app, "Password for")
        self.tick_remember(app, dialog)
        self.answer(app, dialog, self.host.password)
        self.wait_listed(app)
        kept = wait_for("the login in the keyring", lambda: len(items()) == 2 and items())
        self.assertEqual(
            sorted((k["attributes"]["kind"], k["attributes"]["target"], k["secret"]) for k in kept),
            [("libvirt-password", uri, self.host.password),
             ("libvirt-user", uri, self.host.sasl_user)])
        self.assert_not_kept(self.host.password)
        app.quit()

        # Next time the keyring answers libvirt: no dialog.
        app = self.launch("--connect", uri)
        self.wait_listed(app)
        self.assertFalse(any(showing(w) and " for " in (w.name or "")
                             for w in find_all(app.app, role="dialog")))

    def test_sasl_connection_added_in_the_dialog(self):
        app = self.launch("--connect", "test:///default")
        click(app.find("push button", "Main Menu"))
        click(app.find("menu item", contains="Add Connection"))
        dialog = app.window("Add Connection")
        press(app.find(name="Hypervisor", within=dialog), dialog, "Add Connection")
        app.find(contains="Remote host over TCP (SASL login)", role="label")
        keys_to("Add Connection", *["Down"] * 3, "Return")
        app.fill("User and host", self.host.address, within=dialog)
        add = app.find("push button", "Add", within=dialog)
        wait_for("Add enabled", lambda: sensitive(add))
        click(add)
        self.answer(app, self.dialog(app, "User Name for"), self.host.sasl_user)
        self.answer(app, self.dialog(app, "Password for"), self.host.password)
        # The new host's row in the sidebar: connected, with the host's one machine.
        sidebar = app.find(name="Connections")
        press(app.find("label", f"QEMU/KVM: {self.host.address}", within=sidebar),
              app.window(), "Virtdeck")
        self.wait_listed(app)

    def test_sasl_wrong_password_is_refused_and_not_kept(self):
        items = self.keyring()
        wrong = "not-" + self.host.password
        app = self.launch("--connect", self.host.sasl_uri)
        self.answer(app, self.dialog(app, "User Name for"), self.host.sasl_user)
        dialog = self.dialog(app, "Password for")
        self.tick_remember(app, dialog)
        self.answer(app, dialog, wrong)
        wait_for("the connection to say it cannot connect", lambda: any(
            "Cannot connect" in label_of(a) for a in find_all(app.app, role="label") if showing(a)
        ))
        self.assertEqual(items(), [], "a refused password is not remembered")
        self.assert_not_kept(wrong)

    def test_libssh_transport_asks_through_libvirt_authentication(self):
        with tempfile.TemporaryDirectory(prefix="vd-known-") as folder:
            known = os.path.join(folder, "known_hosts")
            uri = (f"qemu+libssh://root@{self.host.address}/system"
                   f"?known_hosts={known}&sshauth=password")
            before = self.host.password_logins()
            app = self.launch("--connect", uri)
            dialog = self.dialog(app, "Unknown Host Key")
            click(app.find("push button", "Trust this host", within=dialog))
            dialog = self.dialog(app, "Password for")
            self.answer(app, dialog, self.host.password)
            self.wait_listed(app)
            self.assertEqual(self.host.password_logins(), before + 1)
