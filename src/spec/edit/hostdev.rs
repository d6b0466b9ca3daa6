//! Host devices passed through to a machine (`<hostdev>`): a USB device named by its
//! vendor and product ids, a PCI device by its address; and [`HostDevice`], a device of
//! the host as `virNodeListAllDevices` describes it, with the names people know it by.

use serde::{Deserialize, Serialize};

use super::devices::insert_device;
use super::tree::Element;
use super::{EditError, Touched};

/// Which host device a `<hostdev>` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HostdevSource {
    Usb {
        vendor: u16,
        product: u16,
    },
    Pci {
        domain: u32,
        bus: u8,
        slot: u8,
        function: u8,
    },
}

impl HostdevSource {
    /// The source of a `<hostdev mode='subsystem'>` element; `None` for anything else.
    pub fn read(e: &Element) -> Option<HostdevSource> {
        if e.name != "hostdev" || e.attr("mode").unwrap_or("subsystem") != "subsystem" {
            return None;
        }
        let source = e.child("source")?;
        match e.attr("type")? {
            "usb" => Some(Self::Usb {
                vendor: hex(source.child("vendor")?.attr("id")?)? as u16,
                product: hex(source.child("product")?.attr("id")?)? as u16,
            }),
            "pci" => {
                let address = source.child("address")?;
                let field = |name| address.attr(name).and_then(hex);
                Some(Self::Pci {
                    domain: field("domain").unwrap_or(0),
                    bus: field("bus")? as u8,
                    slot: field("slot")? as u8,
                    function: field("function").unwrap_or(0) as u8,
                })
            }
            _ => None,
        }
    }

    /// The `<hostdev>` element; libvirt detaches the device from its host driver.
    pub fn element(&self) -> Element {
        let hostdev = Element::new("hostdev")
            .with_attr("mode", "subsystem")
            .with_attr("type", self.bus())
            .with_attr("managed", "yes");
        let source = match *self {
            Self::Usb { vendor, product } => Element::new("source")
                .with_child(Element::new("vendor").with_attr("id", &format!("{vendor:#06x}")))
                .with_child(Element::new("product").with_attr("id", &format!("{product:#06x}"))),
            Self::Pci {
                domain,
                bus,
                slot,
                function,
            } => Element::new("source").with_child(
                Element::new("address")
                    .with_attr("domain", &format!("{domain:#06x}"))
                    .with_attr("bus", &format!("{bus:#04x}"))
                    .with_attr("slot", &format!("{slot:#04x}"))
                    .with_attr("function", &format!("{function:#x}")),
            ),
        };
        hostdev.with_child(source)
    }

    /// `usb` or `pci`.
    pub fn bus(&self) -> &'static str {
        match self {
            Self::Usb { .. } => "usb",
            Self::Pci { .. } => "pci",
        }
    }

    /// How people write it: `1d6b:0002` for USB, `0000:00:1f.2` for PCI.
    pub fn address(&self) -> String {
        match *self {
            Self::Usb { vendor, product } => format!("{vendor:04x}:{product:04x}"),
            Self::Pci {
                domain,
                bus,
                slot,
                function,
            } => format!("{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"),
        }
    }
}

/// A number written in hex (`0x1af4`) or, as the node device XML does for PCI addresses,
/// in decimal.
fn hex(text: &str) -> Option<u32> {
    match text.strip_prefix("0x") {
        Some(digits) => u32::from_str_radix(digits, 16).ok(),
        None => text.parse().ok(),
    }
}

/// A USB or PCI device of the host, from its node device XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDevice {
    pub source: HostdevSource,
    /// Vendor and product as the ids database names them ("Intel Corp. 82540EM Gigabit
    /// Ethernet Controller"); the ids where it has no names.
    pub name: String,
    /// A USB device's bus and device number; `None` for PCI, whose address is its source.
    pub usb_port: Option<(u32, u32)>,
}

impl HostDevice {
    /// The device `xml` (`virsh nodedev-dumpxml`) describes, if it is a USB device or a
    /// PCI function.
    pub fn from_nodedev_xml(xml: &str) -> Option<HostDevice> {
        let root = Element::parse(xml).ok()?;
        let capability = root.elements().find(|e| {
            e.name == "capability" && matches!(e.attr("type"), Some("usb_device" | "pci"))
        })?;
        let number = |name| capability.child(name).and_then(|e| hex(e.text().trim()));
        let id = |name| capability.child(name).and_then(|e| hex(e.attr("id")?));
        let text = |name| {
            capability
                .child(name)
                .map(|e| e.text().trim().to_owned())
                .unwrap_or_default()
        };
        let (vendor, product) = (id("vendor")?, id("product")?);
        let (source, usb_port) = if capability.attr("type") == Some("pci") {
            let source = HostdevSource::Pci {
                domain: number("domain").unwrap_or(0),
                bus: number("bus")? as u8,
                slot: number("slot")? as u8,
                function: number("function").unwrap_or(0) as u8,
            };
            (source, None)
        } else {
            let source = HostdevSource::Usb {
                vendor: vendor as u16,
                product: product as u16,
            };
            let port = (number("bus").unwrap_or(0), number("device").unwrap_or(0));
            (source, Some(port))
        };
        let words: Vec<String> = [text("vendor"), text("product")]
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect();
        let name = if words.is_empty() {
            format!("{vendor:04x}:{product:04x}")
        } else {
            words.join(" ")
        };
        Some(HostDevice {
            source,
            name,
            usb_port,
        })
    }
}

pub(super) fn check_add(root: &Element, source: &HostdevSource) -> Result<(), EditError> {
    if hostdevs(root)?.any(|s| s == *source) {
        return Err(EditError::HostdevExists(source.address()));
    }
    Ok(())
}

pub(super) fn check_remove(root: &Element, source: &HostdevSource) -> Result<(), EditError> {
    if !hostdevs(root)?.any(|s| s == *source) {
        return Err(EditError::NoHostdev(source.address()));
    }
    Ok(())
}

fn hostdevs(root: &Element) -> Result<impl Iterator<Item = HostdevSource> + '_, EditError> {
    let devices = root.child("devices").ok_or(EditError::Missing("devices"))?;
    Ok(devices.elements().filter_map(HostdevSource::read))
}

pub(super) fn add(root: &mut Element, source: &HostdevSource) -> Result<Touched, EditError> {
    let devices = root
        .child_mut("devices")
        .ok_or(EditError::Missing("devices"))?;
    let hostdev = source.element();
    insert_device(devices, hostdev.clone());
    Ok(Touched::Added(hostdev))
}

pub(super) fn remove(root: &mut Element, source: &HostdevSource) -> Result<Touched, EditError> {
    let devices = root
        .child_mut("devices")
        .ok_or(EditError::Missing("devices"))?;
    let old = devices
        .elements()
        .find(|e| HostdevSource::read(e) == Some(*source))
        .cloned()
        .ok_or_else(|| EditError::NoHostdev(source.address()))?;
    devices.remove_children(|e| HostdevSource::read(e) == Some(*source));
    Ok(Touched::Removed(old))
}

#[cfg(test)]
#[path = "hostdev_tests.rs"]
mod tests;
