//! Boot options of an existing machine: the order its disks, CD-ROMs and NICs are tried
//! in (per device, `<boot order='n'/>`), the firmware's boot menu, and direct kernel boot.
//! A machine that still names device kinds (`<os><boot dev='hd'/>`) is shown in the
//! order those kinds give, and written per device once the order is changed.

use serde::{Deserialize, Serialize};

use super::tree::Element;
use super::{devices, devices_mut, EditError};

/// A device that can boot: a disk or CD-ROM by target, a NIC by MAC address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BootTarget {
    Disk(String),
    Nic(String),
}

/// What kind of device a [`Bootable`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootKind {
    Disk,
    Cdrom,
    Nic,
}

/// A device in the boot list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootable {
    pub target: BootTarget,
    pub kind: BootKind,
    /// It is tried at boot.
    pub enabled: bool,
}

/// The boot options as the hardware page shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootOptions {
    /// Every disk, CD-ROM and NIC: those that boot first, in their order, then the rest in
    /// the order of the devices.
    pub devices: Vec<Bootable>,
    pub menu: bool,
    /// The host path of a kernel to boot directly; empty when the firmware boots a device.
    pub kernel: String,
    pub initrd: String,
    pub cmdline: String,
}

impl BootOptions {
    /// The devices that boot, in order.
    pub fn order(&self) -> Vec<BootTarget> {
        self.devices
            .iter()
            .filter(|d| d.enabled)
            .map(|d| d.target.clone())
            .collect()
    }
}

fn bootable(device: &Element) -> Option<(BootTarget, BootKind)> {
    match device.name.as_str() {
        "disk" => {
            let kind = match device.attr("device").unwrap_or("disk") {
                "disk" => BootKind::Disk,
                "cdrom" => BootKind::Cdrom,
                _ => return None,
            };
            let target = device.child("target")?.attr("dev")?;
            Some((BootTarget::Disk(target.to_owned()), kind))
        }
        "interface" => {
            let mac = device.child("mac")?.attr("address")?;
            Some((BootTarget::Nic(mac.to_owned()), BootKind::Nic))
        }
        _ => None,
    }
}

/// Reads the boot options of a domain XML.
pub fn read(root: &Element) -> BootOptions {
    let os = root.child("os");
    let os_text = |name| {
        os.and_then(|os| os.child(name))
            .map(Element::text)
            .unwrap_or_default()
    };
    let mut options = BootOptions {
        menu: os
            .and_then(|os| os.child("bootmenu"))
            .and_then(|m| m.attr("enable"))
            == Some("yes"),
        kernel: os_text("kernel"),
        initrd: os_text("initrd"),
        cmdline: os_text("cmdline"),
        devices: Vec::new(),
    };
    let Some(devices) = root.child("devices") else {
        return options;
    };
    let mut all: Vec<(Bootable, Option<u32>)> = devices
        .elements()
        .filter_map(|device| {
            let (target, kind) = bootable(device)?;
            let order = device
                .child("boot")
                .and_then(|b| b.attr("order"))
                .and_then(|o| o.parse().ok());
            Some((
                Bootable {
                    target,
                    kind,
                    enabled: order.is_some(),
                },
                order,
            ))
        })
        .collect();
    if all.iter().all(|(_, order)| order.is_none()) {
        // The kinds of <os><boot dev>, each kind's devices in their order.
        let kinds: Vec<BootKind> = os
            .map(|os| {
                os.elements()
                    .filter(|e| e.name == "boot")
                    .filter_map(|e| match e.attr("dev")? {
                        "hd" => Some(BootKind::Disk),
                        "cdrom" => Some(BootKind::Cdrom),
                        "network" => Some(BootKind::Nic),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut next = 1;
        for kind in kinds {
            for (device, order) in all
                .iter_mut()
                .filter(|(d, o)| d.kind == kind && o.is_none())
            {
                device.enabled = true;
                *order = Some(next);
                next += 1;
            }
        }
    }
    // Stable: devices that do not boot keep their order at the end.
    all.sort_by_key(|(_, order)| order.unwrap_or(u32::MAX));
    options.devices = all.into_iter().map(|(device, _)| device).collect();
    options
}

pub fn check_order(root: &Element, order: &[BootTarget]) -> Result<(), EditError> {
    if order.is_empty() {
        return Err(EditError::BootEmpty);
    }
    let devices = devices(root)?;
    for wanted in order {
        if !devices
            .elements()
            .any(|e| bootable(e).is_some_and(|(target, _)| same(&target, wanted)))
        {
            let name = match wanted {
                BootTarget::Disk(name) | BootTarget::Nic(name) => name.clone(),
            };
            return Err(EditError::NoBootDevice(name));
        }
    }
    Ok(())
}

fn same(a: &BootTarget, b: &BootTarget) -> bool {
    match (a, b) {
        (BootTarget::Disk(a), BootTarget::Disk(b)) => a == b,
        (BootTarget::Nic(a), BootTarget::Nic(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Boots the devices of `order`, in that order, and no other: `<boot order>` on each,
/// none in `<os>`.
pub fn set_order(root: &mut Element, order: &[BootTarget]) -> Result<(), EditError> {
    if let Some(os) = root.child_mut("os") {
        os.remove_children(|e| e.name == "boot");
    }
    for device in devices_mut(root)?.elements_mut() {
        device.remove_children(|e| e.name == "boot");
        let Some((target, _)) = bootable(device) else {
            continue;
        };
        if let Some(position) = order.iter().position(|t| same(t, &target)) {
            let boot = Element::new("boot").with_attr("order", &(position + 1).to_string());
            // After the elements that name the device, as libvirt writes it.
            device.insert_after(
                &[
                    "driver",
                    "source",
                    "mac",
                    "target",
                    "model",
                    "readonly",
                    "shareable",
                    "link",
                ],
                boot,
            );
        }
    }
    Ok(())
}

pub fn set_menu(root: &mut Element, enabled: bool) -> Result<(), EditError> {
    let os = root.child_mut("os").ok_or(EditError::Missing("os"))?;
    os.remove_children(|e| e.name == "bootmenu");
    if enabled {
        os.insert_after(
            &["type", "firmware", "loader", "nvram", "boot"],
            Element::new("bootmenu").with_attr("enable", "yes"),
        );
    }
    Ok(())
}

pub fn check_kernel(kernel: &str, initrd: &str, cmdline: &str) -> Result<(), EditError> {
    if kernel.trim().is_empty() && !(initrd.trim().is_empty() && cmdline.trim().is_empty()) {
        return Err(EditError::KernelMissing);
    }
    Ok(())
}

/// Boots `kernel` with `initrd` and `cmdline` straight from the host; an empty `kernel`
/// boots through the firmware again.
pub fn set_kernel(
    root: &mut Element,
    kernel: &str,
    initrd: &str,
    cmdline: &str,
) -> Result<(), EditError> {
    let os = root.child_mut("os").ok_or(EditError::Missing("os"))?;
    let mut after = vec![
        "type", "firmware", "loader", "nvram", "boot", "bootmenu", "smbios", "bios",
    ];
    for (name, value) in [("kernel", kernel), ("initrd", initrd), ("cmdline", cmdline)] {
        os.remove_children(|e| e.name == name);
        let value = value.trim();
        if !value.is_empty() && !kernel.trim().is_empty() {
            os.insert_after(&after, Element::new(name).with_text(value));
        }
        after.push(name);
    }
    Ok(())
}
