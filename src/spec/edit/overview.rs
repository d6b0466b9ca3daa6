//! The Overview section's facts about a machine that no edit changes ([`Overview`]: its
//! UUID, firmware and machine type), and the check of a whole domain XML typed in the XML
//! editor before libvirt is asked to define it ([`check_domain_xml`]).

use super::tree::{Element, TreeError};
use super::EditError;

/// The firmware a machine boots with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Firmware {
    #[default]
    Bios,
    Uefi {
        secure_boot: bool,
    },
}

/// What the Overview section shows beside the editable name, title and description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overview {
    pub uuid: String,
    pub firmware: Firmware,
    /// `<type machine='…'>`, such as `pc-q35-10.0`; empty when libvirt picks it at start.
    pub machine: String,
}

impl Overview {
    pub fn from_xml(xml: &str) -> Result<Overview, TreeError> {
        let root = Element::parse(xml)?;
        let uuid = root.child("uuid").map(Element::text).unwrap_or_default();
        let os = root.child("os");
        let machine = os
            .and_then(|os| os.child("type"))
            .and_then(|t| t.attr("machine"))
            .unwrap_or_default()
            .to_owned();
        Ok(Overview {
            uuid: uuid.trim().to_owned(),
            firmware: os.map(firmware).unwrap_or_default(),
            machine,
        })
    }
}

/// UEFI when libvirt picks an EFI firmware (`<os firmware='efi'>`) or the loader is a
/// pflash image; Secure Boot when its feature is asked for or the loader is a secure one.
fn firmware(os: &Element) -> Firmware {
    let loader = os.child("loader");
    let uefi = os.attr("firmware") == Some("efi")
        || loader.is_some_and(|l| l.attr("type") == Some("pflash"));
    if !uefi {
        return Firmware::Bios;
    }
    let feature = os.child("firmware").and_then(|f| {
        f.elements()
            .find(|e| e.name == "feature" && e.attr("name") == Some("secure-boot"))
    });
    let secure_boot = match feature {
        Some(feature) => feature.attr("enabled") == Some("yes"),
        None => loader.is_some_and(|l| l.attr("secure") == Some("yes")),
    };
    Firmware::Uefi { secure_boot }
}

/// Refuses a domain XML from the XML editor that is not well-formed (naming its line), is
/// not a `<domain>`, or does not keep the machine's UUID `uuid`: defining it would make
/// another machine instead of changing this one. What libvirt refuses is left to it.
pub fn check_domain_xml(xml: &str, uuid: &str) -> Result<(), EditError> {
    let document = roxmltree::Document::parse(xml).map_err(|error| EditError::XmlMalformed {
        message: error.to_string(),
        line: error.pos().row,
    })?;
    let root = document.root_element();
    if root.tag_name().name() != "domain" {
        return Err(EditError::XmlNotDomain);
    }
    let found = root
        .children()
        .find(|n| n.has_tag_name("uuid"))
        .and_then(|n| n.text())
        .unwrap_or_default();
    if uuid_digits(found) != uuid_digits(uuid) {
        return Err(EditError::XmlUuid(uuid.to_owned()));
    }
    Ok(())
}

/// A UUID's hex digits, lower case: libvirt reads it with or without dashes.
fn uuid_digits(uuid: &str) -> String {
    uuid.trim()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "4dea22b3-1d52-d8f3-2516-782e98ab3fa0";

    #[test]
    fn bios_machine() {
        let xml = "<domain><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid><os>\
                   <type arch='x86_64' machine='pc-q35-10.0'>hvm</type></os></domain>";
        let overview = Overview::from_xml(xml).unwrap();
        assert_eq!(
            overview,
            Overview {
                uuid: UUID.into(),
                firmware: Firmware::Bios,
                machine: "pc-q35-10.0".into(),
            }
        );
    }

    #[test]
    fn uefi_chosen_by_libvirt() {
        let xml = "<domain><os firmware='efi'><type>hvm</type><firmware>\
                   <feature enabled='yes' name='secure-boot'/>\
                   <feature enabled='yes' name='enrolled-keys'/></firmware></os></domain>";
        let overview = Overview::from_xml(xml).unwrap();
        assert_eq!(overview.firmware, Firmware::Uefi { secure_boot: true });
        assert_eq!(overview.machine, "");

        let xml = "<domain><os firmware='efi'><type>hvm</type><firmware>\
                   <feature enabled='no' name='secure-boot'/></firmware>\
                   <loader secure='yes'/></os></domain>";
        let overview = Overview::from_xml(xml).unwrap();
        assert_eq!(overview.firmware, Firmware::Uefi { secure_boot: false });
    }

    #[test]
    fn uefi_from_a_loader() {
        let xml = "<domain><os><type>hvm</type><loader readonly='yes' secure='yes' \
                   type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.ms.fd</loader></os></domain>";
        let overview = Overview::from_xml(xml).unwrap();
        assert_eq!(overview.firmware, Firmware::Uefi { secure_boot: true });
        let xml = "<domain><os><type>hvm</type><loader type='pflash'>/x.fd</loader>\
                   </os></domain>";
        let overview = Overview::from_xml(xml).unwrap();
        assert_eq!(overview.firmware, Firmware::Uefi { secure_boot: false });
    }

    #[test]
    fn the_same_machine_passes() {
        let xml =
            format!("<domain type='qemu'>\n  <name>vm</name>\n  <uuid>{UUID}</uuid>\n</domain>");
        assert_eq!(check_domain_xml(&xml, UUID), Ok(()));
        let upper = UUID.to_uppercase().replace('-', "");
        let xml = format!("<domain><uuid>{upper}</uuid></domain>");
        assert_eq!(check_domain_xml(&xml, UUID), Ok(()));
    }

    #[test]
    fn malformed_xml_names_its_line() {
        let xml = format!(
            "<domain type='qemu'>\n  <uuid>{UUID}</uuid>\n  <devices>\n  </device>\n</domain>"
        );
        match check_domain_xml(&xml, UUID) {
            Err(EditError::XmlMalformed { line, .. }) => assert_eq!(line, 4),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn another_machine_is_refused() {
        let other = "<domain><uuid>00000000-1d52-d8f3-2516-782e98ab3fa0</uuid></domain>";
        assert_eq!(
            check_domain_xml(other, UUID),
            Err(EditError::XmlUuid(UUID.into()))
        );
        assert_eq!(
            check_domain_xml("<domain><name>vm</name></domain>", UUID),
            Err(EditError::XmlUuid(UUID.into()))
        );
        assert_eq!(
            check_domain_xml(&format!("<network><uuid>{UUID}</uuid></network>"), UUID),
            Err(EditError::XmlNotDomain)
        );
    }
}
