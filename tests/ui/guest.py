"""The tiny test guest (tests/guest) booted on qemu:///session for UI tests."""

import os
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

from vdui import ROOT, wait_for

SESSION = "qemu:///session"


def build():
    """Builds (or reuses) the guest; returns {'GUEST_ISO': …, 'GUEST_KERNEL': …, …}."""
    out = subprocess.run(
        [os.path.join(ROOT, "tests", "guest", "build.sh")],
        capture_output=True, text=True, check=True,
    ).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


# The guest paints changing pixels on a 1920×1080 framebuffer (tests/guest/README.md).
PAINTING_CMDLINE = "virtdeck.mode=fb video=1920x1080"


def domain_xml(name, serial_log, image, painting=False, tablet=True, vnc_password=None,
               paint_rows=None, extra_cmdline="", network=None, disk=None, serial_shell=False,
               vdagent=False, display="vnc"):
    """A TCG domain booting the guest kernel directly, with VNC, USB tablet and keyboard,
    and its serial port written to `serial_log`. `painting`: bochs video and the guest's
    framebuffer-painting mode at 1920×1080 (as GuestBoot::painting() in tests/common),
    repainting bands of `paint_rows` lines (the guest's default: 64).
    Without `tablet` the pointer is QEMU's PS/2 mouse (relative motion). `vnc_password`
    protects the VNC display. `network`: a virtio NIC on that libvirt network; `disk`: a raw
    file as the virtio disk vda; `extra_cmdline`: more kernel switches (virtdeck.net=dhcp,
    virtdeck.disk=write: tests/guest/README.md). `serial_shell`: a second serial port (a
    pseudo terminal, what libvirt's serial console opens) with the guest's shell on it
    (virtdeck.shell=ttyS1). `vdagent`: QEMU's clipboard agent peer (a qemu-vdagent channel, as
    the wizard adds) and the guest's agent for it (virtdeck.vdagent=1). `display`: the
    graphics type, "vnc" or "spice" (with `painting` off: SPICE needs video vga)."""
    d = ET.Element("domain", type="qemu")
    ET.SubElement(d, "name").text = name
    ET.SubElement(d, "memory", unit="MiB").text = "256"
    ET.SubElement(d, "vcpu").text = "1"
    os_ = ET.SubElement(d, "os")
    ET.SubElement(os_, "type", arch="x86_64", machine="pc").text = "hvm"
    ET.SubElement(os_, "kernel").text = image["GUEST_KERNEL"]
    ET.SubElement(os_, "initrd").text = image["GUEST_INITRD"]
    cmdline = "console=tty1 console=ttyS0"
    if painting:
        cmdline = f"{PAINTING_CMDLINE} {cmdline}"
        if paint_rows:
            cmdline += f" virtdeck.rows={paint_rows}"
    if extra_cmdline:
        cmdline = f"{extra_cmdline} {cmdline}"
    if serial_shell:
        cmdline = f"virtdeck.shell=ttyS1 {cmdline}"
    if vdagent:
        cmdline = f"virtdeck.vdagent=1 {cmdline}"
    ET.SubElement(os_, "cmdline").text = cmdline
    features = ET.SubElement(d, "features")
    ET.SubElement(features, "acpi")
    dev = ET.SubElement(d, "devices")
    ET.SubElement(dev, "emulator").text = "/usr/bin/qemu-system-x86_64"
    ET.SubElement(dev, "controller", type="usb", model="qemu-xhci")
    if disk:
        d_ = ET.SubElement(dev, "disk", type="file", device="disk")
        ET.SubElement(d_, "driver", name="qemu", type="raw")
        ET.SubElement(d_, "source", file=disk)
        ET.SubElement(d_, "target", dev="vda", bus="virtio")
    if network:
        nic = ET.SubElement(dev, "interface", type="network")
        ET.SubElement(nic, "source", network=network)
        ET.SubElement(nic, "model", type="virtio")
    for kind in ("serial", "console"):
        port = ET.SubElement(dev, kind, type="file")
        # Appended, so that the log goes on across a restart of the domain.
        ET.SubElement(port, "source", path=serial_log, append="on")
        if kind == "console":
            ET.SubElement(port, "target", type="serial")
        else:
            # Port 0 (ttyS0) said, so that a second serial port cannot take it.
            ET.SubElement(port, "target", port="0")
    if serial_shell:
        shell = ET.SubElement(dev, "serial", type="pty")
        ET.SubElement(shell, "target", port="1")
    if vdagent:
        channel = ET.SubElement(dev, "channel", type="qemu-vdagent")
        ET.SubElement(ET.SubElement(channel, "source"), "clipboard", copypaste="yes")
        ET.SubElement(channel, "target", type="virtio", name="com.redhat.spice.0")
    for kind in ("tablet", "keyboard") if tablet else ("keyboard",):
        ET.SubElement(dev, "input", type=kind, bus="usb")
    graphics = ET.SubElement(dev, "graphics", type=display, port="-1", autoport="yes", listen="127.0.0.1")
    if vnc_password is not None:
        graphics.set("passwd", vnc_password)
    ET.SubElement(graphics, "listen", type="address", address="127.0.0.1")
    video = ET.SubElement(dev, "video")
    ET.SubElement(video, "model", type="bochs" if painting else "vga", vram="32768")
    ET.SubElement(dev, "memballoon", model="none")
    return ET.tostring(d, encoding="unicode")


def complete_lines(path):
    """The serial log at `path` up to its last line ending ("" before QEMU creates it). A
    line still being written (QEMU flushes the port in pieces) is left out, so no test reads
    half a line."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return text[:text.rfind("\n") + 1]


def wait_serial_line(log, needle, timeout, after):
    """Waits until `log.log()` holds `needle` after offset `after`."""
    return wait_for(f"{needle!r} on the guest's serial port",
                    lambda: needle in log.log()[after:], timeout=timeout, step=0.2)


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-c", SESSION, *args], capture_output=True, text=True, check=check)


class Guest:
    """A booted test guest; `remove()` destroys and undefines it and deletes its directory
    (its XML and serial log)."""

    def __init__(self, name, painting=False, tablet=True, vnc_password=None, paint_rows=None,
                 extra_cmdline="", network=None, disk=None, serial_shell=False, vdagent=False,
                 display="vnc"):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="vd-guest-")
        os.chmod(self.dir, 0o755)
        self.serial = os.path.join(self.dir, "serial.log")
        image = build()
        xml = os.path.join(self.dir, "domain.xml")
        with open(xml, "w") as f:
            f.write(domain_xml(name, self.serial, image, painting, tablet, vnc_password,
                               paint_rows, extra_cmdline, network, disk, serial_shell, vdagent,
                               display))
        virsh("define", xml)
        virsh("start", name)

    def vnc_address(self):
        """The VNC display's TCP address, `127.0.0.1:<port>`."""
        host, display = virsh("vncdisplay", self.name).stdout.strip().rsplit(":", 1)
        return f"{host}:{5900 + int(display)}"

    def log(self):
        return complete_lines(self.serial)

    def wait_line(self, needle, timeout=180, after=0):
        return wait_serial_line(self, needle, timeout, after)

    def remove(self):
        virsh("destroy", self.name, check=False)
        virsh("undefine", self.name, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


class NatNetwork:
    """A transient libvirt NAT network with DHCP on a free 10.x.y.0/24; `remove()` destroys
    it (as tests/common/vnet.rs)."""

    def __init__(self, name):
        self.name = name
        refusals = []
        for attempt in range(16):
            n = os.getpid() + attempt * 7919
            b, c = 200 + n // 256 % 50, n % 256
            self.gateway = f"10.{b}.{c}.1"
            xml = (f"<network><name>{name}</name><forward mode='nat'/>"
                   f"<ip address='{self.gateway}' netmask='255.255.255.0'><dhcp>"
                   f"<range start='10.{b}.{c}.100' end='10.{b}.{c}.200'/></dhcp></ip></network>")
            with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
                f.write(xml)
            out = virsh("net-create", f.name, check=False)
            os.unlink(f.name)
            if out.returncode == 0:
                return
            refusals.append(out.stderr.strip())
        raise AssertionError(f"could not create the network {name}: {refusals}")

    def remove(self):
        virsh("net-destroy", self.name, check=False)
