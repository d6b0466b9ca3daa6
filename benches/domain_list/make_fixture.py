#!/usr/bin/python3
"""Write a libvirt test-driver node file with N domains.

    make_fixture.py N OUT.xml

Domains are named bench-0001 … bench-N (zero-padded to at least four digits,
so name order is index order) and cycle through the run states
running (1), paused (3) and shut off (5).  The file is meant for
`test:///ABS/PATH/OUT.xml` connections of the domain-list benchmark.
"""

import sys
from xml.sax.saxutils import escape

RUNSTATES = (1, 3, 5)  # VIR_DOMAIN_RUNNING, VIR_DOMAIN_PAUSED, VIR_DOMAIN_SHUTOFF

DOMAIN = """\
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>{name}</name>
    <uuid>{uuid}</uuid>
    <memory unit='KiB'>{memory}</memory>
    <currentMemory unit='KiB'>{memory}</currentMemory>
    <vcpu>{vcpu}</vcpu>
    <os>
      <type arch='x86_64'>hvm</type>
      <boot dev='hd'/>
    </os>
    <devices>
      <disk type='file' device='disk'>
        <source file='/var/lib/libvirt/images/{name}.qcow2'/>
        <target dev='vda' bus='virtio'/>
      </disk>
      <interface type='user'>
        <mac address='{mac}'/>
        <model type='virtio'/>
      </interface>
    </devices>
    <test:runstate>{runstate}</test:runstate>
  </domain>
"""


def domain_name(index: int, count: int) -> str:
    """Name of domain `index` (1-based) in a fixture of `count` domains."""
    width = max(4, len(str(count)))
    return f"bench-{index:0{width}d}"


def fixture(count: int) -> str:
    parts = ["<node>\n"]
    for i in range(1, count + 1):
        parts.append(
            DOMAIN.format(
                name=escape(domain_name(i, count)),
                uuid=f"b3e4c000-0000-4000-8000-{i:012x}",
                mac=f"52:54:00:{(i >> 16) & 0xFF:02x}:{(i >> 8) & 0xFF:02x}:{i & 0xFF:02x}",
                memory=(1 + i % 4) * 262144,
                vcpu=1 + i % 4,
                runstate=RUNSTATES[(i - 1) % len(RUNSTATES)],
            )
        )
    parts.append("</node>\n")
    return "".join(parts)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or not argv[1].isdigit() or int(argv[1]) < 1:
        print(f"usage: {argv[0]} N OUT.xml   (N >= 1)", file=sys.stderr)
        return 2
    with open(argv[2], "w", encoding="utf-8") as out:
        out.write(fixture(int(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
