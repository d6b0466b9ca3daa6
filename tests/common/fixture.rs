//! Generates libvirt `test:///` node files: many domains in every run state, with awkward
//! names, and small QEMU domains for the daemon-backed tests.
//!
//! The committed `tests/fixtures/states.xml` is `node_xml(STATES_FIXTURE_COUNT)`; a test
//! checks that they agree (`VIRTDECK_WRITE_FIXTURES=1 cargo test` rewrites it).

use std::io;
use std::path::PathBuf;

use quick_xml::events::BytesText;
use quick_xml::Writer;
use virtdeck::libvirt::DomainState;

/// Domains in the committed fixture.
pub const STATES_FIXTURE_COUNT: usize = 40;

const TEST_NS: &str = "http://libvirt.org/schemas/domain/test/1.0";
const OSINFO_NS: &str = "http://libosinfo.org/xmlns/libvirt/domain/1.0";

/// Names that trip up escaping, quoting and column parsing. libvirt refuses only `/`.
const ODD_NAMES: &[&str] = &[
    "Ünïcødé 测试",
    "a&b",
    "<tag>",
    "double \"quoted\"",
    "single 'quoted'",
    "name with  spaces",
    "emoji 🚀 box",
    "semi;colon,comma=equals",
];

/// One domain of a generated node file, as the test driver will report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureDomain {
    pub name: String,
    pub uuid: String,
    pub state: DomainState,
    pub persistent: bool,
    pub vcpus: u32,
    pub memory_kib: u64,
    pub os_id: Option<&'static str>,
}

/// `count` domains (at least 9): states cycle through all eight `virDomainState`s, the
/// first ones have [`ODD_NAMES`], and the last one is a transient running domain.
pub fn fixture_domains(count: usize) -> Vec<FixtureDomain> {
    assert!(
        count >= 9,
        "need room for every state plus a transient domain"
    );
    (0..count)
        .map(|i| {
            let transient = i == count - 1;
            let name = if transient {
                "transient vm".to_owned()
            } else if let Some(odd) = ODD_NAMES.get(i) {
                (*odd).to_owned()
            } else {
                format!("vm-{i:04}")
            };
            FixtureDomain {
                name,
                uuid: format!("5eed0000-0000-4000-8000-{i:012x}"),
                state: if transient {
                    DomainState::Running
                } else {
                    DomainState::ALL[i % DomainState::ALL.len()]
                },
                persistent: !transient,
                vcpus: 1 + (i % 4) as u32,
                memory_kib: 65536 * (1 + (i % 4) as u64),
                os_id: match i % 3 {
                    0 => Some("http://debian.org/debian/12"),
                    1 => Some("http://fedoraproject.org/fedora/40"),
                    _ => None,
                },
            }
        })
        .collect()
}

/// The node XML for [`fixture_domains`]`(count)`.
pub fn node_xml(count: usize) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.create_element("node")
        .write_inner_content(|w| {
            for (i, d) in fixture_domains(count).iter().enumerate() {
                write_test_domain(w, i, d)?;
            }
            Ok(())
        })
        .expect("writing to memory cannot fail");
    let mut xml = String::from_utf8(w.into_inner()).expect("UTF-8");
    xml.push('\n');
    xml
}

fn write_test_domain(w: &mut Writer<Vec<u8>>, i: usize, d: &FixtureDomain) -> io::Result<()> {
    w.create_element("domain")
        .with_attribute(("type", "test"))
        .with_attribute(("xmlns:test", TEST_NS))
        .write_inner_content(|w| {
            text(w, "name", &d.name)?;
            text(w, "uuid", &d.uuid)?;
            if let Some(os) = d.os_id {
                w.create_element("metadata").write_inner_content(|w| {
                    w.create_element("libosinfo:libosinfo")
                        .with_attribute(("xmlns:libosinfo", OSINFO_NS))
                        .write_inner_content(|w| {
                            w.create_element("libosinfo:os")
                                .with_attribute(("id", os))
                                .write_empty()?;
                            Ok(())
                        })?;
                    Ok(())
                })?;
            }
            w.create_element("memory")
                .with_attribute(("unit", "KiB"))
                .write_text_content(BytesText::new(&d.memory_kib.to_string()))?;
            text(w, "vcpu", &d.vcpus.to_string())?;
            w.create_element("os").write_inner_content(|w| {
                text(w, "type", "hvm")?;
                Ok(())
            })?;
            w.create_element("devices").write_inner_content(|w| {
                let image = format!("/var/lib/libvirt/images/vm-{i:04}.qcow2");
                w.create_element("disk")
                    .with_attribute(("type", "file"))
                    .with_attribute(("device", "disk"))
                    .write_inner_content(|w| {
                        w.create_element("source")
                            .with_attribute(("file", image.as_str()))
                            .write_empty()?;
                        target(w, "vda", "virtio")
                    })?;
                if i % 2 == 0 {
                    w.create_element("disk")
                        .with_attribute(("type", "file"))
                        .with_attribute(("device", "cdrom"))
                        .write_inner_content(|w| {
                            target(w, "hdc", "ide")?;
                            w.create_element("readonly").write_empty()?;
                            Ok(())
                        })?;
                }
                let mac = format!("52:54:00:5e:{:02x}:{:02x}", (i >> 8) & 0xff, i & 0xff);
                let (kind, source_attr, source) = if i % 2 == 0 {
                    ("network", "network", "default")
                } else {
                    ("bridge", "bridge", "br0")
                };
                w.create_element("interface")
                    .with_attribute(("type", kind))
                    .write_inner_content(|w| {
                        w.create_element("mac")
                            .with_attribute(("address", mac.as_str()))
                            .write_empty()?;
                        w.create_element("source")
                            .with_attribute((source_attr, source))
                            .write_empty()?;
                        w.create_element("model")
                            .with_attribute(("type", "virtio"))
                            .write_empty()?;
                        Ok(())
                    })?;
                w.create_element("graphics")
                    .with_attribute(("type", if i % 2 == 0 { "vnc" } else { "spice" }))
                    .with_attribute(("port", "-1"))
                    .with_attribute(("autoport", "yes"))
                    .with_attribute(("listen", "127.0.0.1"))
                    .write_empty()?;
                Ok(())
            })?;
            text(w, "test:runstate", &d.state.to_raw().to_string())?;
            if !d.persistent {
                w.create_element("test:transient").write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

pub fn text(w: &mut Writer<Vec<u8>>, tag: &str, value: &str) -> io::Result<()> {
    w.create_element(tag)
        .write_text_content(BytesText::new(value))?;
    Ok(())
}

pub fn target(w: &mut Writer<Vec<u8>>, dev: &str, bus: &str) -> io::Result<()> {
    w.create_element("target")
        .with_attribute(("dev", dev))
        .with_attribute(("bus", bus))
        .write_empty()?;
    Ok(())
}

/// `<type arch='x86_64' machine='pc'>hvm</type>` of `<os>`.
pub fn pc_hvm_type(w: &mut Writer<Vec<u8>>) -> io::Result<()> {
    w.create_element("type")
        .with_attribute(("arch", "x86_64"))
        .with_attribute(("machine", "pc"))
        .write_text_content(BytesText::new("hvm"))?;
    Ok(())
}

/// A raw image file as a `disk` or a read-only `cdrom`.
pub fn raw_file_disk(
    w: &mut Writer<Vec<u8>>,
    device: &str,
    path: &str,
    dev: &str,
    bus: &str,
) -> io::Result<()> {
    w.create_element("disk")
        .with_attribute(("type", "file"))
        .with_attribute(("device", device))
        .write_inner_content(|w| {
            w.create_element("driver")
                .with_attribute(("name", "qemu"))
                .with_attribute(("type", "raw"))
                .write_empty()?;
            w.create_element("source")
                .with_attribute(("file", path))
                .write_empty()?;
            target(w, dev, bus)?;
            if device == "cdrom" {
                w.create_element("readonly").write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}

/// VNC graphics on 127.0.0.1, port chosen by libvirt.
pub fn local_vnc(w: &mut Writer<Vec<u8>>) -> io::Result<()> {
    w.create_element("graphics")
        .with_attribute(("type", "vnc"))
        .with_attribute(("port", "-1"))
        .with_attribute(("autoport", "yes"))
        .with_attribute(("listen", "127.0.0.1"))
        .write_empty()?;
    Ok(())
}

/// Writes `node_xml(count)` to a temporary file and returns its absolute path.
pub fn write_node_file(count: usize) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("virtdeck-node-{count}-{}.xml", std::process::id()));
    std::fs::write(&path, node_xml(count)).expect("write node fixture");
    path
}

/// The committed fixture, `tests/fixtures/states.xml`.
pub fn states_fixture() -> PathBuf {
    super::fixtures_dir().join("states.xml")
}

/// A small QEMU (TCG) domain that starts without any disk: it only tries to boot from
/// the network, which keeps the firmware busy. `disk` adds a raw disk image.
pub fn tiny_qemu_domain_xml(name: &str, disk: Option<&str>) -> String {
    let disks = disk.as_slice();
    tiny_domain(
        name,
        &Extras {
            disks,
            ..Extras::default()
        },
        false,
    )
}

/// What [`acpi_qemu_domain_xml`] adds to the tiny domain.
#[derive(Debug, Default, Clone, Copy)]
pub struct Extras<'a> {
    /// Raw disk images, as `vda`, `vdb`, …
    pub disks: &'a [&'a str],
    /// Boot OVMF; libvirt keeps the UEFI variables in a file of its own (NVRAM).
    pub uefi: bool,
    /// An emulated TPM 2.0 (swtpm), whose state libvirt keeps on the host.
    pub tpm: bool,
}

/// [`tiny_qemu_domain_xml`] with ACPI, which PCI hot-plug and UEFI need, and `extras`.
pub fn acpi_qemu_domain_xml(name: &str, extras: Extras) -> String {
    tiny_domain(name, &extras, true)
}

fn tiny_domain(name: &str, extras: &Extras, acpi: bool) -> String {
    let Extras { disks, uefi, tpm } = *extras;
    qemu_domain_xml(name, 48, |w| {
        if acpi {
            w.create_element("features").write_inner_content(|w| {
                w.create_element("acpi").write_empty()?;
                Ok(())
            })?;
        }
        w.create_element("os").write_inner_content(|w| {
            pc_hvm_type(w)?;
            if uefi {
                w.create_element("loader")
                    .with_attribute(("readonly", "yes"))
                    .with_attribute(("type", "pflash"))
                    .write_text_content(BytesText::new(OVMF_CODE))?;
                w.create_element("nvram")
                    .with_attribute(("template", OVMF_VARS))
                    .write_empty()?;
            }
            w.create_element("boot")
                .with_attribute(("dev", "network"))
                .write_empty()?;
            Ok(())
        })?;
        w.create_element("devices").write_inner_content(|w| {
            text(w, "emulator", "/usr/bin/qemu-system-x86_64")?;
            for (i, path) in disks.iter().enumerate() {
                let dev = format!("vd{}", char::from(b'a' + i as u8));
                raw_file_disk(w, "disk", path, &dev, "virtio")?;
            }
            if tpm {
                w.create_element("tpm")
                    .with_attribute(("model", "tpm-tis"))
                    .write_inner_content(|w| {
                        w.create_element("backend")
                            .with_attribute(("type", "emulator"))
                            .with_attribute(("version", "2.0"))
                            .write_empty()?;
                        Ok(())
                    })?;
            }
            local_vnc(w)?;
            Ok(())
        })?;
        Ok(())
    })
}

/// Debian's OVMF (package ovmf), without Secure Boot, which a `pc` machine can boot.
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.fd";
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.fd";

/// A TCG domain (`type='qemu'`) with one vCPU and `memory_mib` of memory; `rest` writes
/// the elements after `<vcpu>`.
pub fn qemu_domain_xml(
    name: &str,
    memory_mib: u32,
    rest: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>,
) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.create_element("domain")
        .with_attribute(("type", "qemu"))
        .write_inner_content(|w| {
            text(w, "name", name)?;
            w.create_element("memory")
                .with_attribute(("unit", "MiB"))
                .write_text_content(BytesText::new(&memory_mib.to_string()))?;
            text(w, "vcpu", "1")?;
            rest(w)
        })
        .expect("writing to memory cannot fail");
    String::from_utf8(w.into_inner()).expect("UTF-8")
}

/// Writes `xml` to a temporary file for `virsh define`/`create`, named after the domain
/// `prefix() + tag` so that its [`super::DomainGuard`] removes it.
pub fn temp_xml(tag: &str, xml: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("{}{tag}.xml", super::prefix()));
    std::fs::write(&path, xml).expect("write domain XML");
    path
}
