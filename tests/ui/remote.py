"""A real remote libvirt host for the UI tests, made by tests/remote/host.sh: a network
namespace on a test LAN (198.18.0.0/24) with its own libvirtd and sshd, reached as
qemu+ssh://root@ADDRESS/system. Root only.

    with RemoteHost("a", 1) as host:          # 198.18.0.2
        app = case.launch("--connect", host.uri)
        ...
        case.assertEqual(host.logins(), 1)    # one SSH login for the whole session

In a unittest.TestCase, RemoteHostMixin.remote_host("a", 1) does the same for one test: the
host goes down when the test ends, even when it fails, and its logs are kept among the UI
artifacts (target/ui-artifacts/remote-NAME/).
"""

import atexit
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import guest
from vdui import ARTIFACTS, ROOT

HOST_SH = os.path.join(ROOT, "tests", "remote", "host.sh")


def host_sh(*args, timeout=120, env=None):
    """Runs tests/remote/host.sh with `args` (and `env` added to the environment); returns
    its output, fails with its errors."""
    done = subprocess.run(
        [HOST_SH, *map(str, args)], capture_output=True, text=True, timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )
    if done.returncode != 0:
        raise AssertionError(f"host.sh {' '.join(map(str, args))} failed:\n{done.stderr}")
    return done.stdout


class RemoteHost:
    """One remote host. `name`: 1 to 8 of [a-z0-9]; `index`: 1 to 250 (its address is
    198.18.0.(index+1)). Hosts up at the same time need different names and indexes; they
    reach each other, so two make a migration pair.

    After up(): `uri` (key file, no host key check, no TTY), `address`, `key` (the SSH
    private key), `password` (root's there) and `password_uri` (no key: ssh asks for the
    password), `state` (its state directory), `hostname`, `host_uuid` (what its libvirt
    reports), `sshd_log`, `libvirtd_log`."""

    def __init__(self, name, index, qemu_conf=None):
        self.name = name
        self.index = index
        self.uri = None
        # Settings for the host's private qemu.conf: {key: value as written there}.
        self.qemu_conf = qemu_conf or {}

    def up(self):
        # Also down when this process ends some other way (Ctrl-C skips unittest cleanups).
        atexit.register(self.down)
        try:
            conf = "\n".join(f"{key}={value}" for key, value in self.qemu_conf.items())
            out = host_sh("up", self.name, self.index, env={"VD_REMOTE_QEMU_CONF": conf})
        except BaseException:
            self.down()
            raise
        info = {}
        for line in out.splitlines():
            key, _, value = line.partition("=")
            info[key] = value.strip("'")
        self.uri = info["URI"]
        self.address = info["ADDRESS"]
        self.key = info["KEY"]
        self.password = info["PASSWORD"]
        self.password_uri = info["PASSWORD_URI"]
        self.sasl_uri = info["SASL_URI"]
        self.sasl_user = info["SASL_USER"]
        self.state = info["STATE"]
        self.hostname = info["HOSTNAME"]
        self.host_uuid = info["HOST_UUID"]
        self.sshd_log = info["SSHD_LOG"]
        self.libvirtd_log = info["LIBVIRTD_LOG"]
        return self

    def down(self):
        """Stops the host and removes all of it; harmless when it is down already."""
        atexit.unregister(self.down)
        host_sh("down", self.name)

    def __enter__(self):
        return self.up()

    def __exit__(self, *_exc):
        self.down()

    def logins(self):
        """How many SSH logins the host has accepted so far."""
        return int(host_sh("logins", self.name))

    def password_logins(self):
        """How many SSH logins with root's password the host has accepted so far."""
        with open(self.sshd_log) as log:
            return sum("Accepted password for root " in line for line in log)

    def virsh(self, *args):
        """Runs `virsh -c URI args` as a program without a terminal would (one SSH login);
        returns its output, fails with its errors."""
        done = subprocess.run(
            ["virsh", "-c", self.uri, *args], capture_output=True, text=True, timeout=60,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        if done.returncode != 0:
            raise AssertionError(f"virsh {' '.join(args)} on {self.name} failed:\n{done.stderr}")
        return done.stdout

    def define(self, xml):
        """Defines a domain from `xml` on the host (one SSH login)."""
        with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
            f.write(xml)
            f.flush()
            self.virsh("define", f.name)

    def inside(self, *cmd, check=True):
        """Runs `cmd` inside the host without SSH (no login counted)."""
        return subprocess.run(
            [HOST_SH, "exec", self.name, *cmd], capture_output=True, text=True, timeout=60,
            check=check, stdin=subprocess.DEVNULL,
        )

    def save_logs(self, directory):
        """Copies the host's sshd and libvirtd logs into `directory`."""
        os.makedirs(directory, exist_ok=True)
        for log in (self.sshd_log, self.libvirtd_log):
            if log and os.path.exists(log):
                shutil.copy(log, directory)


class RemoteHostMixin:
    """For a unittest.TestCase: remote_host() brings a host up for the running test."""

    def remote_host(self, name, index, qemu_conf=None):
        host = RemoteHost(name, index, qemu_conf).up()
        self.addCleanup(host.down)
        # Cleanups run last-in first-out: the logs are saved before the host goes down.
        self.addCleanup(host.save_logs, os.path.join(ARTIFACTS, f"remote-{name}"))
        return host


class GuestLog:
    """Domain `name`'s serial log, in a directory of its own that QEMU (root) may write,
    here or on a remote host (which shares this computer's /tmp)."""

    def __init__(self, case, name):
        self.name = name
        directory = tempfile.mkdtemp(prefix="vd-guest-log-")
        os.chmod(directory, 0o755)
        case.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        self.path = os.path.join(directory, "serial.log")

    def log(self):
        return guest.complete_lines(self.path)

    def wait_line(self, needle, timeout=180, after=0):
        return guest.wait_serial_line(self, needle, timeout, after)


def start_guest(case, host, name, vnc_port=None, serial_shell=False):
    """Defines and starts the test guest (tests/ui/guest.py) `name` on `host` (from inside
    it: no SSH login is counted), or on this computer's qemu:///session when `host` is
    None; removed when `case` ends. `vnc_port`: its VNC at 127.0.0.1:vnc_port instead of a
    port libvirt picks. Returns its GuestLog."""
    log = GuestLog(case, name)
    root = ET.fromstring(guest.domain_xml(name, log.path, guest.build(),
                                          serial_shell=serial_shell))
    if vnc_port is not None:
        graphics = root.find("devices/graphics")
        graphics.set("port", str(vnc_port))
        graphics.set("autoport", "no")
    if host is None:
        def virsh(*args, check=True):
            guest.virsh(*args, check=check)
    else:
        def virsh(*args, check=True):
            host.inside("virsh", "-c", "qemu:///system", *args, check=check)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", dir="/tmp", delete=False) as f:
        f.write(ET.tostring(root, encoding="unicode"))
    os.chmod(f.name, 0o644)
    case.addCleanup(os.unlink, f.name)
    virsh("define", f.name)
    case.addCleanup(virsh, "undefine", name, check=False)
    case.addCleanup(virsh, "destroy", name, check=False)
    virsh("start", name)
    return log
