//! Golden XML of the disk, boot option and NIC settings edits.

use super::boot::{BootKind, BootTarget};
use super::disks::{DiskBus, DiskCache, DiskSettings, DiskSource};
use super::*;
use crate::spec::DiskFormat;

const BASE: &str = r#"<domain type='qemu'>
  <name>vm</name>
  <os>
    <type arch='x86_64' machine='pc-q35-10.0'>hvm</type>
    <boot dev='cdrom'/>
    <boot dev='hd'/>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/vm.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <controller type='usb' index='0' model='qemu-xhci'/>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source network='default'/>
      <model type='virtio'/>
      <link state='down'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
  </devices>
</domain>"#;

fn edited(edit: DomainEdit) -> (Element, Touched) {
    super::tests::edited_from(BASE, edit)
}

fn refused(edit: DomainEdit) -> EditError {
    super::tests::refused_on(BASE, edit)
}

fn devices(root: &Element) -> Vec<String> {
    root.child("devices")
        .unwrap()
        .elements()
        .map(Element::to_xml)
        .collect()
}

fn settings(bus: DiskBus) -> DiskSettings {
    DiskSettings {
        bus,
        ..DiskSettings::default()
    }
}

#[test]
fn add_a_file_on_the_next_virtio_target() {
    let (root, touched) = edited(DomainEdit::AddDisk {
        source: DiskSource::File {
            path: "/srv/data.img".into(),
            format: Some(DiskFormat::Raw),
        },
        settings: DiskSettings {
            cache: DiskCache::None,
            shareable: true,
            ..settings(DiskBus::Virtio)
        },
    });
    let disk = "<disk type=\"file\" device=\"disk\">\n  <driver name=\"qemu\" type=\"raw\" \
                cache=\"none\"/>\n  <source file=\"/srv/data.img\"/>\n  <target dev=\"vdb\" \
                bus=\"virtio\"/>\n  <shareable/>\n</disk>\n";
    // After the other disks, before the controllers.
    assert_eq!(devices(&root)[3], disk);
    assert_eq!(touched, Touched::Added(Element::parse(disk).unwrap()));
}

#[test]
fn add_a_new_volume_on_scsi_adds_a_controller() {
    let (root, touched) = edited(DomainEdit::AddDisk {
        source: DiskSource::NewVolume {
            pool: "default".into(),
            name: "vm-1.qcow2".into(),
            capacity: 1 << 30,
        },
        settings: DiskSettings {
            readonly: true,
            ..settings(DiskBus::Scsi)
        },
    });
    let controller = "<controller type=\"scsi\" index=\"0\" model=\"virtio-scsi\"/>\n";
    // sda is the CD-ROM's: SATA and SCSI disks share the sd names.
    let disk = "<disk type=\"volume\" device=\"disk\">\n  <driver name=\"qemu\" \
                type=\"qcow2\"/>\n  <source pool=\"default\" volume=\"vm-1.qcow2\"/>\n  \
                <target dev=\"sdb\" bus=\"scsi\"/>\n  <readonly/>\n</disk>\n";
    let all = devices(&root);
    // The controller after the others.
    assert_eq!((all[3].as_str(), all[5].as_str()), (disk, controller));
    assert_eq!(
        touched,
        Touched::AddedAll(vec![
            Element::parse(controller).unwrap(),
            Element::parse(disk).unwrap()
        ])
    );
    // A second SCSI disk uses that controller.
    let mut root = root;
    let touched = apply(
        &mut root,
        &DomainEdit::AddDisk {
            source: DiskSource::File {
                path: "/srv/b.img".into(),
                format: None,
            },
            settings: settings(DiskBus::Scsi),
        },
        &super::tests::limits(),
    )
    .unwrap();
    assert!(
        matches!(&touched, Touched::Added(d) if d.child("target").unwrap().attr("dev") == Some("sdc")),
        "{touched:?}"
    );
}

#[test]
fn free_targets_run_past_z() {
    let mut xml = String::from("<devices>");
    for n in 0..27 {
        let name = disks::free_target(
            &Element::parse(&(xml.clone() + "</devices>")).unwrap(),
            DiskBus::Virtio,
            None,
        );
        assert_eq!(name.len(), if n < 26 { 3 } else { 4 });
        xml += &format!("<disk><target dev='{name}'/></disk>");
    }
    let devices = Element::parse(&(xml + "</devices>")).unwrap();
    assert_eq!(disks::free_target(&devices, DiskBus::Virtio, None), "vdab");
    assert_eq!(disks::free_target(&devices, DiskBus::Usb, None), "sda");
}

#[test]
fn remove_keeps_the_rest() {
    let (root, touched) = edited(DomainEdit::RemoveDisk {
        target: "vda".into(),
        delete_volume: false,
    });
    assert!(
        matches!(touched, Touched::Removed(d) if d.child("source").unwrap().attr("file") == Some("/var/lib/libvirt/images/vm.qcow2"))
    );
    assert!(devices(&root)[1].contains("cdrom"));
    assert_eq!(
        refused(DomainEdit::RemoveDisk {
            target: "sda".into(),
            delete_volume: false
        }),
        EditError::NoDisk("sda".into()),
        "a CD-ROM is not removed as a disk"
    );
}

#[test]
fn settings_move_a_disk_to_another_bus() {
    let (root, touched) = edited(DomainEdit::DiskSettings {
        target: "vda".into(),
        settings: DiskSettings {
            bus: DiskBus::Sata,
            cache: DiskCache::Writeback,
            readonly: true,
            shareable: false,
        },
    });
    let disk = "<disk type=\"file\" device=\"disk\">\n  <driver name=\"qemu\" type=\"qcow2\" \
                cache=\"writeback\"/>\n  <source file=\"/var/lib/libvirt/images/vm.qcow2\"/>\n  \
                <target dev=\"sdb\" bus=\"sata\"/>\n  <readonly/>\n</disk>\n";
    assert_eq!(devices(&root)[1], disk);
    assert_eq!(touched, Touched::Updated(Element::parse(disk).unwrap()));
    // Same bus: the name and address stay; flags go again.
    let (root, _) = edited(DomainEdit::DiskSettings {
        target: "vda".into(),
        settings: settings(DiskBus::Virtio),
    });
    assert!(devices(&root)[1].contains("dev=\"vda\""));
    assert!(devices(&root)[1].contains("<address"));
    assert_eq!(
        refused(DomainEdit::DiskSettings {
            target: "vdz".into(),
            settings: settings(DiskBus::Virtio)
        }),
        EditError::NoDisk("vdz".into())
    );
}

#[test]
fn bad_new_disks_are_refused() {
    let file = |path: &str| DomainEdit::AddDisk {
        source: DiskSource::File {
            path: path.into(),
            format: None,
        },
        settings: DiskSettings::default(),
    };
    assert_eq!(refused(file(" ")), EditError::NoDiskImage);
    let volume = |pool: &str, name: &str, capacity| DomainEdit::AddDisk {
        source: DiskSource::NewVolume {
            pool: pool.into(),
            name: name.into(),
            capacity,
        },
        settings: DiskSettings::default(),
    };
    assert_eq!(refused(volume("", "a", 1)), EditError::NoPool);
    assert_eq!(refused(volume("p", "", 1)), EditError::NoVolumeName);
    assert_eq!(refused(volume("p", "a", 0)), EditError::DiskSizeZero);
}

#[test]
fn boot_order_is_read_from_the_device_kinds() {
    let options = boot::read(&Element::parse(BASE).unwrap());
    let kinds: Vec<_> = options
        .devices
        .iter()
        .map(|d| (d.target.clone(), d.kind, d.enabled))
        .collect();
    assert_eq!(
        kinds,
        [
            (BootTarget::Disk("sda".into()), BootKind::Cdrom, true),
            (BootTarget::Disk("vda".into()), BootKind::Disk, true),
            (
                BootTarget::Nic("52:54:00:aa:bb:cc".into()),
                BootKind::Nic,
                false
            ),
        ]
    );
    assert!(!options.menu);
}

#[test]
fn boot_order_per_device() {
    let order = vec![
        BootTarget::Nic("52:54:00:AA:BB:CC".into()),
        BootTarget::Disk("vda".into()),
    ];
    let (root, touched) = edited(DomainEdit::DeviceBootOrder(order));
    assert_eq!(touched, Touched::Values);
    assert_eq!(
        root.child("os").unwrap().to_xml(),
        "<os>\n  <type arch=\"x86_64\" machine=\"pc-q35-10.0\">hvm</type>\n</os>\n"
    );
    let all = devices(&root);
    assert!(
        all[1].contains("<target dev=\"vda\" bus=\"virtio\"/>\n  <boot order=\"2\"/>\n  <address"),
        "{}",
        all[1]
    );
    assert!(!all[2].contains("<boot"));
    assert!(
        all[4].contains("<link state=\"down\"/>\n  <boot order=\"1\"/>\n  <address"),
        "{}",
        all[4]
    );
    let options = boot::read(&root);
    assert_eq!(
        options.order(),
        [
            BootTarget::Nic("52:54:00:aa:bb:cc".into()),
            BootTarget::Disk("vda".into())
        ]
    );
    assert!(!options.devices[2].enabled);
    assert_eq!(
        refused(DomainEdit::DeviceBootOrder(vec![])),
        EditError::BootEmpty
    );
    assert_eq!(
        refused(DomainEdit::DeviceBootOrder(vec![BootTarget::Disk(
            "vdq".into()
        )])),
        EditError::NoBootDevice("vdq".into())
    );
}

#[test]
fn boot_menu_and_direct_kernel() {
    let mut root = Element::parse(BASE).unwrap();
    for edit in [
        DomainEdit::BootMenu(true),
        DomainEdit::DirectKernel {
            kernel: "/boot/vmlinuz".into(),
            initrd: "/boot/initrd.img".into(),
            cmdline: "console=ttyS0 quiet".into(),
        },
    ] {
        apply(&mut root, &edit, &super::tests::limits()).unwrap();
    }
    assert_eq!(
        root.child("os").unwrap().to_xml(),
        "<os>\n  <type arch=\"x86_64\" machine=\"pc-q35-10.0\">hvm</type>\n  <boot dev=\"cdrom\"/>\n  \
         <boot dev=\"hd\"/>\n  <bootmenu enable=\"yes\"/>\n  <kernel>/boot/vmlinuz</kernel>\n  \
         <initrd>/boot/initrd.img</initrd>\n  <cmdline>console=ttyS0 quiet</cmdline>\n</os>\n"
    );
    let options = boot::read(&root);
    assert!(options.menu);
    assert_eq!(options.cmdline, "console=ttyS0 quiet");
    for edit in [
        DomainEdit::BootMenu(false),
        DomainEdit::DirectKernel {
            kernel: String::new(),
            initrd: String::new(),
            cmdline: String::new(),
        },
    ] {
        apply(&mut root, &edit, &super::tests::limits()).unwrap();
    }
    assert_eq!(root, Element::parse(BASE).unwrap());
    assert_eq!(
        refused(DomainEdit::DirectKernel {
            kernel: " ".into(),
            initrd: "/boot/initrd.img".into(),
            cmdline: String::new(),
        }),
        EditError::KernelMissing
    );
}

#[test]
fn nic_settings_keep_link_and_address() {
    let (root, touched) = edited(DomainEdit::NicSettings {
        mac: "52:54:00:aa:bb:cc".into(),
        network: Network::Bridge { name: "br0".into() },
        model: NicModel::E1000,
        new_mac: "52:54:00:12:34:56".into(),
    });
    let nic = "<interface type=\"bridge\">\n  <mac address=\"52:54:00:12:34:56\"/>\n  \
               <source bridge=\"br0\"/>\n  <model type=\"e1000\"/>\n  <link state=\"down\"/>\n  \
               <address type=\"pci\" domain=\"0x0000\" bus=\"0x01\" slot=\"0x00\" function=\"0x0\"/>\n\
               </interface>\n";
    assert_eq!(devices(&root)[4], nic);
    assert_eq!(touched, Touched::Updated(Element::parse(nic).unwrap()));
    // Its own MAC is no conflict.
    let (root, _) = edited(DomainEdit::NicSettings {
        mac: "52:54:00:aa:bb:cc".into(),
        network: Network::Macvtap { dev: "eth1".into() },
        model: NicModel::Virtio,
        new_mac: "52:54:00:AA:BB:CC".into(),
    });
    assert!(devices(&root)[4].contains("<source dev=\"eth1\" mode=\"bridge\"/>"));
}

#[test]
fn bad_nic_settings_are_refused() {
    let settings = |network, new_mac: &str| DomainEdit::NicSettings {
        mac: "52:54:00:aa:bb:cc".into(),
        network,
        model: NicModel::Virtio,
        new_mac: new_mac.into(),
    };
    assert_eq!(
        refused(settings(Network::User, "52:54:00:00:00:01")),
        EditError::MacInUse("52:54:00:00:00:01".into())
    );
    assert_eq!(
        refused(settings(Network::User, "01:54:00:00:00:01")),
        EditError::BadMac("01:54:00:00:00:01".into())
    );
    assert_eq!(
        refused(settings(
            Network::VirtualNetwork { name: " ".into() },
            "52:54:00:aa:bb:cc"
        )),
        EditError::NoNicSource
    );
    // A new NIC on a bridge needs the bridge's name too.
    assert_eq!(
        refused(DomainEdit::AddNic {
            network: Network::Bridge { name: "".into() },
            model: NicModel::Virtio,
            mac: "52:54:00:77:77:77".into(),
        }),
        EditError::NoNicSource
    );
    let mut other = settings(Network::User, "52:54:00:aa:bb:cc");
    if let DomainEdit::NicSettings { mac, .. } = &mut other {
        *mac = "52:54:00:99:99:99".into();
    }
    assert_eq!(refused(other), EditError::NoNic("52:54:00:99:99:99".into()));
}

/// The CD-ROM's element in an edited tree.
fn cdrom_xml(root: &Element) -> String {
    devices(root)
        .into_iter()
        .find(|d| d.contains("device=\"cdrom\""))
        .unwrap()
}

#[test]
fn cdrom_settings_move_it_to_usb_and_keep_it_read_only() {
    // With an image in it: QEMU's USB storage needs a medium.
    let with_image = BASE.replace(
        "<target dev='sda' bus='sata'/>",
        "<source file='/srv/install.iso'/><target dev='sda' bus='sata'/>",
    );
    let to_usb = DomainEdit::CdromSettings {
        target: "sda".into(),
        settings: DiskSettings {
            bus: DiskBus::Usb,
            cache: DiskCache::None,
            // A CD-ROM cannot be written to, whatever the form says.
            readonly: false,
            shareable: true,
        },
    };
    assert_eq!(refused(to_usb.clone()), EditError::EmptyUsbCdrom);
    let (root, touched) = super::tests::edited_from(&with_image, to_usb);
    let cdrom = "<disk type=\"file\" device=\"cdrom\">\n  <driver name=\"qemu\" type=\"raw\" \
                 cache=\"none\"/>\n  <source file=\"/srv/install.iso\"/>\n  <target \
                 dev=\"sda\" bus=\"usb\"/>\n  <shareable/>\n  <readonly/>\n</disk>\n";
    assert_eq!(cdrom_xml(&root), cdrom);
    assert_eq!(touched, Touched::Updated(Element::parse(cdrom).unwrap()));
    // The hard disk is not touched.
    assert!(devices(&root)[1].contains("dev=\"vda\" bus=\"virtio\""));
    let hw = Hardware::from_xml(&root.to_xml()).unwrap();
    assert_eq!(hw.cdrom_drives[0].bus, Some(DiskBus::Usb));
    assert!(hw.cdrom_drives[0].readonly && hw.cdrom_drives[0].shareable);
}

#[test]
fn cdrom_on_scsi_gets_a_controller() {
    let (root, touched) = edited(DomainEdit::CdromSettings {
        target: "sda".into(),
        settings: settings(DiskBus::Scsi),
    });
    assert!(cdrom_xml(&root).contains("<target dev=\"sda\" bus=\"scsi\"/>"));
    assert!(devices(&root)
        .contains(&"<controller type=\"scsi\" index=\"0\" model=\"virtio-scsi\"/>\n".to_owned()));
    assert!(matches!(touched, Touched::Updated(_)));
}

#[test]
fn ide_only_where_the_machine_type_has_it() {
    let i440fx = BASE.replace("pc-q35-10.0", "pc-i440fx-7.2");
    let (root, _) = super::tests::edited_from(
        &i440fx,
        DomainEdit::CdromSettings {
            target: "sda".into(),
            settings: settings(DiskBus::Ide),
        },
    );
    // IDE's own names: the first free one.
    assert!(cdrom_xml(&root).contains("<target dev=\"hda\" bus=\"ide\"/>"));
    assert!(Hardware::from_xml(&i440fx).unwrap().ide_bus);
    assert!(!Hardware::from_xml(BASE).unwrap().ide_bus);
    assert_eq!(
        DiskBus::offered(true, false),
        [DiskBus::Sata, DiskBus::Scsi, DiskBus::Usb]
    );
    assert_eq!(
        DiskBus::offered(false, true),
        [
            DiskBus::Virtio,
            DiskBus::Sata,
            DiskBus::Scsi,
            DiskBus::Usb,
            DiskBus::Ide
        ]
    );
    // Q35 has none, for CD-ROMs and disks alike.
    assert_eq!(
        refused(DomainEdit::CdromSettings {
            target: "sda".into(),
            settings: settings(DiskBus::Ide),
        }),
        EditError::NoIdeBus
    );
    assert_eq!(
        refused(DomainEdit::DiskSettings {
            target: "vda".into(),
            settings: settings(DiskBus::Ide),
        }),
        EditError::NoIdeBus
    );
}

#[test]
fn bad_cdrom_settings_are_refused() {
    assert_eq!(
        refused(DomainEdit::CdromSettings {
            target: "sda".into(),
            settings: settings(DiskBus::Virtio),
        }),
        EditError::CdromOnVirtio
    );
    // A hard disk is not a CD-ROM.
    assert_eq!(
        refused(DomainEdit::CdromSettings {
            target: "vda".into(),
            settings: settings(DiskBus::Sata),
        }),
        EditError::NoCdrom("vda".into())
    );
}

#[test]
fn add_an_empty_cdrom_drive() {
    let (root, touched) = edited(DomainEdit::AddCdrom(DiskSettings {
        readonly: false,
        ..settings(DiskBus::Sata)
    }));
    // The next SATA name after the CD-ROM sda; read-only; after the other drives.
    let cdrom = "<disk type=\"file\" device=\"cdrom\">\n  <driver name=\"qemu\" \
                 type=\"raw\"/>\n  <target dev=\"sdb\" bus=\"sata\"/>\n  <readonly/>\n</disk>\n";
    assert_eq!(devices(&root)[3], cdrom);
    assert_eq!(touched, Touched::Added(Element::parse(cdrom).unwrap()));
    let hw = Hardware::from_xml(&root.to_xml()).unwrap();
    assert_eq!(hw.cdroms.len(), 2);
    assert_eq!(
        refused(DomainEdit::AddCdrom(settings(DiskBus::Virtio))),
        EditError::CdromOnVirtio
    );
    assert_eq!(
        refused(DomainEdit::AddCdrom(settings(DiskBus::Ide))),
        EditError::NoIdeBus
    );
    assert_eq!(
        refused(DomainEdit::AddCdrom(settings(DiskBus::Usb))),
        EditError::EmptyUsbCdrom
    );
}
