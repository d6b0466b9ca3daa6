//! [`Hardware`]: what the hardware page shows of a domain XML, read from the same tree
//! the edits change, so each field names what an edit takes.

use super::tree::{Element, TreeError};
use super::{BootDevice, DisplayKind, InputKind};

/// A CD-ROM drive and the image in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cdrom {
    /// `sda`, `hdc`, …: what [`super::DomainEdit::InsertMedia`] names.
    pub target: String,
    /// The image file, `None` when empty (or not a file).
    pub source: Option<String>,
}

/// A network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nic {
    pub mac: String,
    /// `<interface type>`: `network`, `bridge`, `direct`, `user`, …
    pub kind: String,
    /// The network, bridge or device name; empty for user-mode networking.
    pub source: String,
    pub model: String,
    pub link_up: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hardware {
    pub memory_mib: u64,
    pub max_memory_mib: u64,
    pub vcpus: u32,
    pub max_vcpus: u32,
    pub cdroms: Vec<Cdrom>,
    pub nics: Vec<Nic>,
    /// Every `<graphics>` protocol, in order; other protocols (RDP, D-Bus) are left out.
    pub displays: Vec<DisplayKind>,
    /// The listen address of the first display, empty when it has none.
    pub listen: String,
    /// The first display asks for a password (only seen in XML read with its secrets).
    pub display_password: bool,
    /// USB input devices.
    pub usb_inputs: Vec<InputKind>,
    pub boot: Vec<BootDevice>,
    pub title: String,
    pub description: String,
    /// The processor's model and topology.
    pub cpu: super::cpu::CpuConfig,
    /// Video, single devices and host devices.
    pub devices: super::devices::Devices,
    /// Hard disks (not CD-ROMs).
    pub disks: Vec<super::disks::Disk>,
    /// The CD-ROM drives' bus, cache mode and flags, in the order of `cdroms`.
    pub cdrom_drives: Vec<super::disks::Disk>,
    /// The machine type has an IDE bus to put drives on.
    pub ide_bus: bool,
    /// The boot order of every bootable device, the boot menu and direct kernel boot.
    pub boot_options: super::boot::BootOptions,
}

impl Hardware {
    pub fn from_xml(xml: &str) -> Result<Hardware, TreeError> {
        let root = Element::parse(xml)?;
        let text = |name| root.child(name).map(Element::text).unwrap_or_default();
        let max_memory_mib = root.child("memory").map_or(0, mib);
        let memory_mib = root.child("currentMemory").map_or(max_memory_mib, mib);
        let vcpu = root.child("vcpu");
        let max_vcpus = vcpu.and_then(|v| v.text().trim().parse().ok()).unwrap_or(1);
        let vcpus = vcpu
            .and_then(|v| v.attr("current"))
            .and_then(|c| c.parse().ok())
            .unwrap_or(max_vcpus);
        let boot = root
            .child("os")
            .map(|os| {
                os.elements()
                    .filter(|e| e.name == "boot")
                    .filter_map(|e| BootDevice::from_name(e.attr("dev")?))
                    .collect()
            })
            .unwrap_or_default();
        let mut hardware = Hardware {
            memory_mib,
            max_memory_mib,
            vcpus,
            max_vcpus,
            boot,
            title: text("title"),
            description: text("description"),
            cpu: super::cpu::CpuConfig::read(&root),
            devices: super::devices::Devices::read(&root),
            boot_options: super::boot::read(&root),
            ide_bus: super::disks::machine_has_ide(&root),
            ..Hardware::default()
        };
        let Some(devices) = root.child("devices") else {
            return Ok(hardware);
        };
        hardware.disks = super::disks::read(devices);
        hardware.cdrom_drives = super::disks::read_cdroms(devices);
        for device in devices.elements() {
            match device.name.as_str() {
                "disk" if device.attr("device") == Some("cdrom") => {
                    let Some(target) = device.child("target").and_then(|t| t.attr("dev")) else {
                        continue;
                    };
                    hardware.cdroms.push(Cdrom {
                        target: target.to_owned(),
                        source: device
                            .child("source")
                            .and_then(|s| s.attr("file"))
                            .map(str::to_owned),
                    });
                }
                "interface" => {
                    let Some(mac) = device.child("mac").and_then(|m| m.attr("address")) else {
                        continue;
                    };
                    let source = device.child("source").and_then(|s| {
                        ["network", "bridge", "dev"]
                            .iter()
                            .find_map(|name| s.attr(name))
                    });
                    hardware.nics.push(Nic {
                        mac: mac.to_owned(),
                        kind: device.attr("type").unwrap_or_default().to_owned(),
                        source: source.unwrap_or_default().to_owned(),
                        model: device
                            .child("model")
                            .and_then(|m| m.attr("type"))
                            .unwrap_or_default()
                            .to_owned(),
                        link_up: device.child("link").and_then(|l| l.attr("state")) != Some("down"),
                    });
                }
                "graphics" => {
                    let kind = match device.attr("type") {
                        Some("vnc") => DisplayKind::Vnc,
                        Some("spice") => DisplayKind::Spice,
                        _ => continue,
                    };
                    if hardware.displays.is_empty() {
                        hardware.display_password =
                            device.attr("passwd").is_some_and(|p| !p.is_empty());
                        hardware.listen = device
                            .child("listen")
                            .and_then(|l| l.attr("address"))
                            .or(device.attr("listen"))
                            .unwrap_or_default()
                            .to_owned();
                    }
                    hardware.displays.push(kind);
                }
                "input" if device.attr("bus") == Some("usb") => {
                    let kind = match device.attr("type") {
                        Some("tablet") => InputKind::Tablet,
                        Some("keyboard") => InputKind::Keyboard,
                        Some("mouse") => InputKind::Mouse,
                        _ => continue,
                    };
                    hardware.usb_inputs.push(kind);
                }
                _ => {}
            }
        }
        Ok(hardware)
    }

    /// Its display is SPICE and nothing else: a VNC console cannot show it.
    pub fn is_spice_only(&self) -> bool {
        self.displays.contains(&DisplayKind::Spice) && !self.displays.contains(&DisplayKind::Vnc)
    }
}

/// An element's size (`<memory unit='KiB'>`) in MiB.
fn mib(element: &Element) -> u64 {
    let value: u64 = element.text().trim().parse().unwrap_or(0);
    let bytes_per_unit: u64 = match element.attr("unit").unwrap_or("KiB") {
        "b" | "bytes" => 1,
        "KB" => 1000,
        "MB" => 1_000_000,
        "MiB" | "M" => 1 << 20,
        "GB" => 1_000_000_000,
        "GiB" | "G" => 1 << 30,
        "TiB" | "T" => 1 << 40,
        _ => 1 << 10,
    };
    value.saturating_mul(bytes_per_unit) >> 20
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_page_shows() {
        let xml = "<domain><title>Web</title><memory unit='KiB'>1048576</memory>\
                   <currentMemory unit='KiB'>524288</currentMemory>\
                   <vcpu placement='static' current='1'>4</vcpu>\
                   <os><type>hvm</type><boot dev='hd'/><boot dev='cdrom'/></os><devices>\
                   <disk type='file' device='cdrom'><source file='/a.iso'/><target dev='sda'/></disk>\
                   <disk type='file' device='cdrom'><target dev='sdb'/></disk>\
                   <interface type='network'><mac address='52:54:00:01:02:03'/>\
                   <source network='default'/><model type='virtio'/><link state='down'/></interface>\
                   <input type='tablet' bus='usb'/><input type='mouse' bus='ps2'/>\
                   <graphics type='spice' autoport='yes' listen='0.0.0.0'>\
                   <listen type='address' address='0.0.0.0'/></graphics></devices></domain>";
        let hw = Hardware::from_xml(xml).unwrap();
        assert_eq!((hw.memory_mib, hw.max_memory_mib), (512, 1024));
        assert_eq!((hw.vcpus, hw.max_vcpus), (1, 4));
        assert_eq!(hw.boot, [BootDevice::Hd, BootDevice::Cdrom]);
        assert_eq!(hw.title, "Web");
        assert_eq!(
            hw.cdroms,
            [
                Cdrom {
                    target: "sda".into(),
                    source: Some("/a.iso".into())
                },
                Cdrom {
                    target: "sdb".into(),
                    source: None
                }
            ]
        );
        assert_eq!(
            hw.nics,
            [Nic {
                mac: "52:54:00:01:02:03".into(),
                kind: "network".into(),
                source: "default".into(),
                model: "virtio".into(),
                link_up: false,
            }]
        );
        assert_eq!(hw.usb_inputs, [InputKind::Tablet]);
        assert_eq!(hw.displays, [DisplayKind::Spice]);
        assert_eq!(hw.listen, "0.0.0.0");
        assert!(hw.is_spice_only());
    }

    #[test]
    fn sizes_in_other_units() {
        let hw = Hardware::from_xml("<domain><memory unit='GiB'>2</memory></domain>").unwrap();
        assert_eq!((hw.memory_mib, hw.max_memory_mib), (2048, 2048));
        assert!(!hw.is_spice_only());
    }
}
