"""VNC over TLS on a remote host (tests/remote/host.sh) whose qemu.conf has vnc_tls = 1 and
vnc_tls_x509_verify = 1, with certificates made at test time (tests/tls/certs.sh) for the
host's address. Through the SSH tunnel, the console checks the display's certificate
against libvirt's CA and the URI's host, and shows this computer's client certificate, both
from ~/.pki/libvirt/ (the test's HOME): keys typed reach the guest. With the certificates of
another CA, the page says why, and no key reaches the guest."""

import os
import shutil
import subprocess
import tempfile

from console_ui import READY, open_console, type_line, xdotool
from remote import RemoteHostMixin, start_guest
from vdui import ROOT, UiTestCase

PREFIX = f"vdtest-remote-tls-{os.getpid()}"
INDEX = 63  # the host's address is 198.18.0.(INDEX+1)


class RemoteConsoleTlsTest(RemoteHostMixin, UiTestCase):
    def test_typing_over_tls_and_a_clear_refusal_with_another_ca(self):
        certs = tempfile.mkdtemp(prefix="vdtest-tls-")
        self.addCleanup(shutil.rmtree, certs, ignore_errors=True)
        address = f"198.18.0.{INDEX + 1}"
        subprocess.run([os.path.join(ROOT, "tests", "tls", "certs.sh"), certs, address],
                       check=True)
        host = self.remote_host("rtls", INDEX, qemu_conf={
            "vnc_tls": "1",
            "vnc_tls_x509_verify": "1",
            "vnc_tls_x509_cert_dir": f'"{certs}"',
        })
        self.assertEqual(host.address, address)
        name = f"{PREFIX}-vm"
        remote = start_guest(self, host, name)
        argv = host.inside("cat", f"/var/log/libvirt/qemu/{name}.log").stdout
        self.assertIn("tls-creds-x509", argv, "the host's QEMU runs its VNC with TLS")
        remote.wait_line(READY)

        self.env["HOME"] = os.path.join(certs, "client")
        app, window, screen, wid = open_console(self, remote, uri=host.uri)
        type_line(app, window, screen, wid, remote, "typed over tls")
        app.quit()

        self.env["HOME"] = os.path.join(certs, "other-ca")
        app = self.launch("--connect", host.uri, "--show-domain-console", name)
        window = app.window(f"{name} — Console")
        app.find(contains="not signed by the CA", within=window)
        start = len(remote.log())
        xdotool("type", "--delay", "80", "not sent")
        xdotool("key", "Return")
        self.assertNotIn("TYPED:", remote.log()[start:], "keys reached the guest without TLS")
