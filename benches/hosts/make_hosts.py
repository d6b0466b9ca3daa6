#!/usr/bin/python3
"""Domain XML for the many-hosts benchmark: test-driver fixtures, one per "host".

    make_hosts.py HOSTS DOMAINS OUTDIR     writes OUTDIR/host-01.xml … host-HOSTS.xml

Each host's domains are named hNN-vm-0001 …, with UUIDs unique across hosts, and look
like real machines: memory, vCPUs, a libosinfo id, a qcow2 disk and a CD-ROM, a NIC on a
network, a VNC display, a serial console and a USB tablet. Their run states cycle through
running, paused and shut off (`<test:runstate>`), as in the domain-list benchmark.
The same XML, without the run state, is what measure.py defines on a shared host.
"""

import os
import sys
from xml.sax.saxutils import escape

RUNSTATES = (1, 3, 5)  # VIR_DOMAIN_RUNNING, VIR_DOMAIN_PAUSED, VIR_DOMAIN_SHUTOFF
OS_IDS = (
    "http://debian.org/debian/12",
    "http://fedoraproject.org/fedora/39",
    "http://ubuntu.com/ubuntu/22.04",
    "http://microsoft.com/win/10",
)

DOMAIN = """\
  <domain type='test'>
    <name>{name}</name>
    <uuid>{uuid}</uuid>
    <title>{name} ({os})</title>
    <metadata>
      <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>
        <libosinfo:os id='{os_id}'/>
      </libosinfo:libosinfo>
    </metadata>
    <memory unit='KiB'>{memory}</memory>
    <currentMemory unit='KiB'>{memory}</currentMemory>
    <vcpu>{vcpu}</vcpu>
    <os>
      <type arch='x86_64'>hvm</type>
      <boot dev='hd'/>
    </os>
    <features><acpi/><apic/></features>
    <devices>
      <disk type='file' device='disk'>
        <driver name='qemu' type='qcow2'/>
        <source file='/var/lib/libvirt/images/{name}.qcow2'/>
        <target dev='vda' bus='virtio'/>
      </disk>
      <disk type='file' device='cdrom'>
        <target dev='sda' bus='sata'/>
        <readonly/>
      </disk>
      <interface type='network'>
        <mac address='{mac}'/>
        <source network='default'/>
        <model type='virtio'/>
      </interface>
      <serial type='pty'><target port='0'/></serial>
      <input type='tablet' bus='usb'/>
      <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>
      <video><model type='virtio'/></video>
    </devices>{extra}
  </domain>
"""


def domain_name(host: int, index: int) -> str:
    return f"h{host:02d}-vm-{index:04d}"


def runstate(index: int) -> int:
    """The run state of domain `index` (1-based)."""
    return RUNSTATES[(index - 1) % len(RUNSTATES)]


def domain_xml(host: int, index: int, runstate_element: bool = True) -> str:
    name = domain_name(host, index)
    os_id = OS_IDS[index % len(OS_IDS)]
    extra = ""
    if runstate_element:
        extra = (
            "\n    <test:runstate xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
            f"{runstate(index)}</test:runstate>"
        )
    return DOMAIN.format(
        name=escape(name),
        uuid=f"b3e4c000-{host:04x}-4000-8000-{index:012x}",
        os=os_id.rsplit("/", 2)[-2],
        os_id=os_id,
        mac=f"52:54:{host:02x}:{(index >> 16) & 0xFF:02x}:{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}",
        memory=(1 + index % 4) * 262144,
        vcpu=1 + index % 4,
        extra=extra,
    )


def fixture(host: int, count: int) -> str:
    return "<node>\n" + "".join(domain_xml(host, i) for i in range(1, count + 1)) + "</node>\n"


def main(argv: list[str]) -> int:
    if len(argv) != 4 or not argv[1].isdigit() or not argv[2].isdigit():
        print(f"usage: {argv[0]} HOSTS DOMAINS OUTDIR", file=sys.stderr)
        return 2
    os.makedirs(argv[3], exist_ok=True)
    for host in range(1, int(argv[1]) + 1):
        with open(os.path.join(argv[3], f"host-{host:02d}.xml"), "w", encoding="utf-8") as out:
            out.write(fixture(host, int(argv[2])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
