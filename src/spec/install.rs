//! The install phase of a new machine, as virt-manager has it: the wizard defines a
//! machine that installs from an ISO or the network with its install configuration (boot
//! the media first, `on_reboot` destroy) and marks the step still to do in the domain's
//! metadata, under Virtdeck's namespace:
//!
//! ```xml
//! <metadata><virtdeck:install xmlns:virtdeck="…/install/1.0" step="finish"/></metadata>
//! ```
//!
//! When that first run ends, [`finished_xml`] is its final configuration: boot from the
//! disk, every CD-ROM kept but empty, `on_reboot` restart, the mark gone. The mark lives in
//! the domain, not in a local file, so whichever Virtdeck sees the machine shut off first
//! finishes the job (`crate::libvirt::install`).

use super::edit::tree::{Element, TreeError};

/// The namespace of Virtdeck's install mark in domain metadata. libvirt keeps one element
/// per namespace (`virDomainSetMetadata`), hence a namespace of its own.
pub const INSTALL_NS: &str = "https://virtdeck.github.io/xmlns/libvirt/domain/install/1.0";
/// The `step` of the mark: redefine with the final configuration.
pub const FINISH_STEP: &str = "finish";

/// Whether the domain XML carries the install mark. A cheap look for the namespace first,
/// since this runs for every domain the connection reads.
pub fn is_pending(xml: &str) -> bool {
    if !xml.contains(INSTALL_NS) {
        return false;
    }
    Element::parse(xml).is_ok_and(|root| {
        root.child("metadata")
            .is_some_and(|m| m.elements().any(is_install_mark))
    })
}

fn is_install_mark(element: &Element) -> bool {
    element
        .attributes
        .iter()
        .any(|(name, value)| name.starts_with("xmlns") && value == INSTALL_NS)
}

/// The final configuration of a machine whose install run ended, from its (inactive)
/// domain XML: the disk boots, CD-ROMs are empty, a reboot restarts, the mark is gone.
pub fn finished_xml(xml: &str) -> Result<String, TreeError> {
    let mut root = Element::parse(xml)?;
    if let Some(metadata) = root.child_mut("metadata") {
        metadata.remove_children(is_install_mark);
    }
    root.remove_children(|e| e.name == "metadata" && e.elements().next().is_none());
    root.child_or_insert("on_reboot").set_text("restart");
    if let Some(os) = root.child_mut("os") {
        if os.remove_children(|e| e.name == "boot") > 0 {
            os.insert_after(
                &["type", "firmware", "loader", "nvram"],
                Element::new("boot").with_attr("dev", "hd"),
            );
        }
    }
    if let Some(devices) = root.child_mut("devices") {
        for device in devices.elements_mut() {
            let cdrom = device.name == "disk" && device.attr("device") == Some("cdrom");
            if cdrom {
                device.set_attr("type", "file");
                device.remove_children(|e| e.name == "source");
            }
            if cdrom || device.name == "interface" {
                // A device boot order of the install media goes too; the disk's stays.
                device.remove_children(|e| e.name == "boot");
            }
        }
    }
    Ok(root.to_xml())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTALLING: &str = r#"<domain type='qemu'>
  <name>deb</name>
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <libosinfo:os id="http://debian.org/debian/12"/>
    </libosinfo:libosinfo>
    <virtdeck:install xmlns:virtdeck="https://virtdeck.github.io/xmlns/libvirt/domain/install/1.0" step="finish"/>
  </metadata>
  <os>
    <type arch='x86_64' machine='pc-q35-10.0'>hvm</type>
    <boot dev='cdrom'/>
    <boot dev='hd'/>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <disk type='volume' device='disk'>
      <source pool='default' volume='deb.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='volume' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source pool='isos' volume='debian.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
  </devices>
</domain>"#;

    #[test]
    fn the_mark_is_found_only_in_metadata() {
        assert!(is_pending(INSTALLING));
        assert!(!is_pending("<domain><name>x</name></domain>"));
        let elsewhere = format!("<domain><description>{INSTALL_NS}</description></domain>");
        assert!(!is_pending(&elsewhere));
    }

    #[test]
    fn the_final_configuration_boots_the_disk_with_an_empty_cdrom() {
        let finished = finished_xml(INSTALLING).unwrap();
        assert_eq!(
            finished,
            r#"<domain type="qemu">
  <name>deb</name>
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <libosinfo:os id="http://debian.org/debian/12"/>
    </libosinfo:libosinfo>
  </metadata>
  <os>
    <type arch="x86_64" machine="pc-q35-10.0">hvm</type>
    <boot dev="hd"/>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <devices>
    <disk type="volume" device="disk">
      <source pool="default" volume="deb.qcow2"/>
      <target dev="vda" bus="virtio"/>
    </disk>
    <disk type="file" device="cdrom">
      <driver name="qemu" type="raw"/>
      <target dev="sda" bus="sata"/>
      <readonly/>
    </disk>
  </devices>
</domain>
"#
        );
        assert!(!is_pending(&finished));
    }

    #[test]
    fn metadata_left_empty_goes_and_device_boot_orders_of_the_media_too() {
        let xml = format!(
            "<domain><metadata><v:install xmlns:v='{INSTALL_NS}' step='finish'/></metadata>\
             <os><type>hvm</type></os><devices>\
             <disk device='disk'><boot order='2'/></disk>\
             <interface type='user'><boot order='1'/></interface></devices></domain>"
        );
        assert_eq!(
            finished_xml(&xml).unwrap(),
            "<domain>\n  <os>\n    <type>hvm</type>\n  </os>\n  <devices>\n    \
             <disk device=\"disk\">\n      <boot order=\"2\"/>\n    </disk>\n    \
             <interface type=\"user\"/>\n  </devices>\n  <on_reboot>restart</on_reboot>\n\
             </domain>\n"
        );
    }
}
