//! Golden XML of passing host devices through, and host devices read from node device XML.

use crate::spec::edit::tests::{edited, refused, BASE};
use crate::spec::edit::tree::Element;
use crate::spec::edit::{apply, devices::Devices, DomainEdit, EditError, Limits, Touched};

use super::*;

const PCI: HostdevSource = HostdevSource::Pci {
    domain: 0,
    bus: 0,
    slot: 0x1f,
    function: 2,
};

const USB: HostdevSource = HostdevSource::Usb {
    vendor: 0x046d,
    product: 0xc52b,
};

#[test]
fn pci_added_and_removed() {
    let (root, touched) = edited(DomainEdit::AddHostdev(PCI));
    let expected = "<hostdev mode=\"subsystem\" type=\"pci\" managed=\"yes\">\n  <source>\n    \
                    <address domain=\"0x0000\" bus=\"0x00\" slot=\"0x1f\" function=\"0x2\"/>\n  \
                    </source>\n</hostdev>\n";
    assert_eq!(touched, Touched::Added(Element::parse(expected).unwrap()));
    let hostdev = root
        .child("devices")
        .unwrap()
        .child("hostdev")
        .unwrap()
        .to_xml();
    assert_eq!(hostdev, expected);
    assert_eq!(Devices::read(&root).hostdevs, [PCI]);
    assert_eq!(PCI.address(), "0000:00:1f.2");

    let mut again = root.clone();
    assert_eq!(
        apply(&mut again, &DomainEdit::AddHostdev(PCI), &Limits::default()),
        Err(EditError::HostdevExists("0000:00:1f.2".into()))
    );
    let mut removed = root.clone();
    apply(
        &mut removed,
        &DomainEdit::RemoveHostdev(PCI),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(removed, Element::parse(BASE).unwrap());
    assert_eq!(
        refused(DomainEdit::RemoveHostdev(PCI)),
        EditError::NoHostdev("0000:00:1f.2".into())
    );
}

#[test]
fn usb_added_by_vendor_and_product() {
    let (root, _) = edited(DomainEdit::AddHostdev(USB));
    let devices = root.child("devices").unwrap();
    assert_eq!(
        devices.child("hostdev").unwrap().to_xml(),
        "<hostdev mode=\"subsystem\" type=\"usb\" managed=\"yes\">\n  <source>\n    \
         <vendor id=\"0x046d\"/>\n    <product id=\"0xc52b\"/>\n  </source>\n</hostdev>\n"
    );
    let names: Vec<&str> = devices.elements().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names.join(" "),
        "emulator disk interface input graphics video hostdev"
    );
    assert_eq!(USB.address(), "046d:c52b");
}

#[test]
fn host_devices_from_node_device_xml() {
    let pci = "<device><name>pci_0000_00_03_0</name><parent>computer</parent>\
        <driver><name>e1000</name></driver><capability type='pci'><class>0x020000</class>\
        <domain>0</domain><bus>0</bus><slot>3</slot><function>0</function>\
        <product id='0x100e'>82540EM Gigabit Ethernet Controller</product>\
        <vendor id='0x8086'>Intel Corporation</vendor></capability></device>";
    assert_eq!(
        HostDevice::from_nodedev_xml(pci),
        Some(HostDevice {
            source: HostdevSource::Pci {
                domain: 0,
                bus: 0,
                slot: 3,
                function: 0
            },
            name: "Intel Corporation 82540EM Gigabit Ethernet Controller".into(),
            usb_port: None,
        })
    );
    let usb = "<device><name>usb_1_2</name><capability type='usb_device'><bus>1</bus>\
        <device>2</device><product id='0xc52b'/>\
        <vendor id='0x046d'>Logitech, Inc.</vendor></capability></device>";
    assert_eq!(
        HostDevice::from_nodedev_xml(usb),
        Some(HostDevice {
            source: USB,
            name: "Logitech, Inc.".into(),
            usb_port: Some((1, 2)),
        })
    );
    let unnamed = "<device><capability type='usb_device'><bus>1</bus><device>1</device>\
        <product id='0x0002'/><vendor id='0x1d6b'/></capability></device>";
    assert_eq!(
        HostDevice::from_nodedev_xml(unnamed).unwrap().name,
        "1d6b:0002"
    );
    let net = "<device><name>net_lo</name><capability type='net'><interface>lo</interface>\
        </capability></device>";
    assert_eq!(HostDevice::from_nodedev_xml(net), None);
}
