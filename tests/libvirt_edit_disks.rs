//! Disks, boot options, NICs on a bridge and the memory balloon of an existing machine,
//! edited through the connection worker on the real `qemu:///session` daemon. One booted
//! TCG guest takes the live edits: disks plugged in and out (`virsh domblklist`), a NIC
//! plugged onto a bridge of a veth link (a port of the bridge), its memory ballooned
//! (`virsh dommemstat`). A shut-off one takes the boot options (`dumpxml --inactive`).

mod common;

use std::time::Duration;

use virtdeck::libvirt::edit::{Applied, EditFailure};
use virtdeck::libvirt::RequestError;
use virtdeck::spec::edit::boot::{BootKind, BootTarget};
use virtdeck::spec::edit::disks::{DiskBus, DiskCache, DiskSettings, DiskSource};
use virtdeck::spec::edit::tree::Element;
use virtdeck::spec::edit::{DomainEdit, EditError, Hardware};
use virtdeck::spec::{Network, NicModel};

use common::edit::{apply, inactive, read, uuid, worker, TIMEOUT};
use common::guest::{guest_domain_xml, guest_image, GuestOptions, TestGuest};
use common::net::{ip, ports_of, Links};
use common::{virsh_ok, wait_for, DomainGuard, PoolGuard, SESSION_URI};

fn settings(bus: DiskBus) -> DiskSettings {
    DiskSettings {
        bus,
        ..DiskSettings::default()
    }
}

/// The targets `virsh domblklist` lists.
fn blk_targets(name: &str) -> Vec<String> {
    virsh_ok(SESSION_URI, &["domblklist", name])
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

fn disk_targets(root: &Element) -> Vec<String> {
    Hardware::from_xml(&root.to_xml())
        .unwrap()
        .disks
        .into_iter()
        .map(|d| d.target)
        .collect()
}

/// `actual` of `virsh dommemstat`: the balloon's size in KiB.
fn balloon_kib(name: &str) -> Option<u64> {
    virsh_ok(SESSION_URI, &["dommemstat", name])
        .lines()
        .find_map(|l| l.strip_prefix("actual ")?.trim().parse().ok())
}

#[test]
fn live_disks_bridge_nic_and_balloon_on_a_running_guest() {
    let pid = std::process::id() % 100_000;
    let (bridge, nic, peer) = (
        format!("vdt{pid}dkbr"),
        format!("vdt{pid}dkv0"),
        format!("vdt{pid}dkv1"),
    );
    let _links = Links(vec![bridge.clone(), nic.clone()]);
    ip(&["link", "add", &nic, "type", "veth", "peer", "name", &peer]);
    ip(&["link", "add", &bridge, "type", "bridge"]);
    ip(&["link", "set", &nic, "master", &bridge]);
    for link in [&nic, &peer, &bridge] {
        ip(&["link", "set", link, "up"]);
    }
    let pool = PoolGuard::session_dir("dk-pool");
    let kept = pool.create_volume("kept.img");
    let opts = GuestOptions {
        balloon: true,
        ..GuestOptions::default()
    };
    let guest = TestGuest::start(SESSION_URI, "dk-live", &opts);
    let handle = worker();
    let uuid = uuid(&guest.name);
    guest.wait_ready(Duration::from_secs(120));
    let config = read(&handle, &uuid);
    assert!(config.active);
    assert_eq!(blk_targets(&guest.name), ["hdc"]);

    // A new qcow2 volume on virtio and an existing volume on SCSI (with a controller of
    // its own), plugged in live.
    let new_volume = DomainEdit::AddDisk {
        source: DiskSource::NewVolume {
            pool: pool.name.clone(),
            name: "new.qcow2".into(),
            capacity: 64 << 20,
        },
        settings: DiskSettings {
            cache: DiskCache::None,
            ..settings(DiskBus::Virtio)
        },
    };
    let existing = DomainEdit::AddDisk {
        source: DiskSource::File {
            path: kept.to_string_lossy().into_owned(),
            format: None,
        },
        settings: settings(DiskBus::Scsi),
    };
    let applied = apply(&handle, &uuid, vec![new_volume, existing])
        .unwrap_or_else(|e| panic!("add disks: {e}"));
    assert_eq!(applied, Applied::default());
    assert_eq!(blk_targets(&guest.name), ["hdc", "vda", "sda"]);
    assert_eq!(disk_targets(&inactive(&guest.name)), ["vda", "sda"]);
    assert_eq!(pool.volumes(), ["kept.img", "new.qcow2"]);
    let info = virsh_ok(
        SESSION_URI,
        &["vol-info", "--pool", &pool.name, "new.qcow2"],
    );
    assert!(info.contains("64.00 MiB"), "{info}");

    // A SATA disk cannot be plugged into a running machine: it waits for the shutdown.
    let sata = DomainEdit::AddDisk {
        source: DiskSource::File {
            path: kept.to_string_lossy().into_owned(),
            format: None,
        },
        settings: DiskSettings {
            shareable: true,
            ..settings(DiskBus::Sata)
        },
    };
    let applied = apply(&handle, &uuid, vec![sata.clone()]).unwrap();
    assert_eq!(applied.next_shutdown.len(), 1, "{applied:?}");
    assert_eq!(disk_targets(&inactive(&guest.name)), ["vda", "sda", "sdb"]);
    assert_eq!(blk_targets(&guest.name), ["hdc", "vda", "sda"]);
    apply(
        &handle,
        &uuid,
        vec![DomainEdit::RemoveDisk {
            target: "sdb".into(),
            delete_volume: false,
        }],
    )
    .unwrap();

    // Unplugged live: the new volume deleted as asked, the existing one kept.
    let applied = apply(
        &handle,
        &uuid,
        vec![
            DomainEdit::RemoveDisk {
                target: "vda".into(),
                delete_volume: true,
            },
            DomainEdit::RemoveDisk {
                target: "sda".into(),
                delete_volume: false,
            },
        ],
    )
    .unwrap_or_else(|e| panic!("remove disks: {e}"));
    assert_eq!(applied, Applied::default());
    wait_for("the disks to be unplugged", TIMEOUT, || {
        blk_targets(&guest.name) == ["hdc"]
    });
    assert_eq!(disk_targets(&inactive(&guest.name)), Vec::<String>::new());
    assert_eq!(pool.volumes(), ["kept.img"]);
    assert!(kept.exists());

    // A disk the guest has not let go of yet (it is paused, so it cannot answer the unplug
    // request): the removal waits and its volume is kept, not deleted under the guest.
    apply(
        &handle,
        &uuid,
        vec![DomainEdit::AddDisk {
            source: DiskSource::NewVolume {
                pool: pool.name.clone(),
                name: "held.qcow2".into(),
                capacity: 16 << 20,
            },
            settings: settings(DiskBus::Virtio),
        }],
    )
    .unwrap_or_else(|e| panic!("add a disk to hold: {e}"));
    assert_eq!(blk_targets(&guest.name), ["hdc", "vda"]);
    virsh_ok(SESSION_URI, &["suspend", &guest.name]);
    let held = DomainEdit::RemoveDisk {
        target: "vda".into(),
        delete_volume: true,
    };
    let applied = apply(&handle, &uuid, vec![held.clone()]);
    virsh_ok(SESSION_URI, &["resume", &guest.name]);
    let applied = applied.unwrap_or_else(|e| panic!("remove a held disk: {e}"));
    assert_eq!(applied.next_shutdown, [held]);
    assert_eq!(pool.volumes(), ["held.qcow2", "kept.img"]);
    assert_eq!(disk_targets(&inactive(&guest.name)), Vec::<String>::new());
    wait_for("the resumed guest to let the disk go", TIMEOUT, || {
        blk_targets(&guest.name) == ["hdc"]
    });

    // A disk that is no volume cannot have its volume deleted; nothing changes.
    let loose = std::env::temp_dir().join(format!("{}loose.img", common::prefix()));
    std::fs::write(&loose, [0u8; 4096]).unwrap();
    let loose_path = loose.to_string_lossy().into_owned();
    apply(
        &handle,
        &uuid,
        vec![DomainEdit::AddDisk {
            source: DiskSource::File {
                path: loose_path.clone(),
                format: None,
            },
            settings: settings(DiskBus::Usb),
        }],
    )
    .unwrap_or_else(|e| panic!("add a USB disk: {e}"));
    assert_eq!(blk_targets(&guest.name), ["hdc", "sda"]);
    let before = inactive(&guest.name);
    let refused = apply(
        &handle,
        &uuid,
        vec![DomainEdit::RemoveDisk {
            target: "sda".into(),
            delete_volume: true,
        }],
    );
    assert!(
        matches!(refused, Err(RequestError::Edit(EditFailure::NotAVolume(ref p))) if *p == loose_path),
        "{refused:?}"
    );
    assert_eq!(inactive(&guest.name), before);
    // A missing file is refused before anything changes.
    let missing = apply(
        &handle,
        &uuid,
        vec![DomainEdit::AddDisk {
            source: DiskSource::File {
                path: "/nonexistent/disk.img".into(),
                format: None,
            },
            settings: settings(DiskBus::Virtio),
        }],
    );
    assert!(
        matches!(
            missing,
            Err(RequestError::Edit(EditFailure::FileMissing(_)))
        ),
        "{missing:?}"
    );
    assert_eq!(inactive(&guest.name), before);

    // A NIC plugged onto the bridge: its tap becomes a port of the bridge.
    let mac = config.free_mac.clone();
    let applied = apply(
        &handle,
        &uuid,
        vec![DomainEdit::AddNic {
            network: Network::Bridge {
                name: bridge.clone(),
            },
            model: NicModel::Virtio,
            mac: mac.clone(),
        }],
    )
    .unwrap_or_else(|e| panic!("add a bridged NIC: {e}"));
    assert_eq!(applied, Applied::default());
    let iflist = virsh_ok(SESSION_URI, &["domiflist", &guest.name]);
    let tap = iflist
        .lines()
        .find(|l| l.contains(&mac))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no {mac} in {iflist}"))
        .to_owned();
    assert!(iflist.contains(&bridge), "{iflist}");
    let mut ports = ports_of(&bridge);
    ports.sort();
    let mut expected = vec![nic.clone(), tap.clone()];
    expected.sort();
    assert_eq!(ports, expected);
    assert!(std::path::Path::new(&format!("/sys/class/net/{bridge}/brif/{tap}")).exists());
    // A malformed MAC is refused; unplugged, the tap leaves the bridge.
    let refused = apply(
        &handle,
        &uuid,
        vec![DomainEdit::NicSettings {
            mac: mac.clone(),
            network: Network::User,
            model: NicModel::Virtio,
            new_mac: "not-a-mac".into(),
        }],
    );
    assert!(
        matches!(
            refused,
            Err(RequestError::Edit(EditFailure::Invalid(EditError::BadMac(
                _
            ))))
        ),
        "{refused:?}"
    );
    let applied = apply(&handle, &uuid, vec![DomainEdit::RemoveNic { mac }]).unwrap();
    assert_eq!(applied, Applied::default());
    wait_for("the tap to leave the bridge", TIMEOUT, || {
        ports_of(&bridge) == [nic.clone()]
    });

    // The balloon: less memory for the running guest, and in the configuration.
    wait_for("the balloon driver", TIMEOUT, || {
        balloon_kib(&guest.name).is_some()
    });
    let applied = apply(
        &handle,
        &uuid,
        vec![DomainEdit::Memory {
            current_mib: 192,
            max_mib: 256,
        }],
    )
    .unwrap_or_else(|e| panic!("balloon: {e}"));
    assert_eq!(applied, Applied::default());
    wait_for("the guest to give memory back", TIMEOUT, || {
        balloon_kib(&guest.name) == Some(192 * 1024)
    });
    let configured = Hardware::from_xml(&inactive(&guest.name).to_xml()).unwrap();
    assert_eq!(configured.memory_mib, 192);

    handle.quit_and_join();
    drop(guest);
    let _ = std::fs::remove_file(loose);
}

#[test]
fn boot_options_of_a_shut_off_machine() {
    let guard = DomainGuard::session("dk-boot");
    let log = std::env::temp_dir().join(format!("{}.log", guard.name));
    let xml = common::fixture::temp_xml(
        "dk-boot",
        &guest_domain_xml(&guard.name, &log, &GuestOptions::default()),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    let handle = worker();
    let uuid = uuid(&guard.name);
    let config = read(&handle, &uuid);
    let disk = std::env::temp_dir().join(format!("{}boot.img", common::prefix()));
    std::fs::write(&disk, [0u8; 4096]).unwrap();
    let mac = config.free_mac.clone();
    apply(
        &handle,
        &uuid,
        vec![
            DomainEdit::AddDisk {
                source: DiskSource::File {
                    path: disk.to_string_lossy().into_owned(),
                    format: None,
                },
                settings: settings(DiskBus::Virtio),
            },
            DomainEdit::AddNic {
                network: Network::User,
                model: NicModel::Virtio,
                mac: mac.clone(),
            },
        ],
    )
    .unwrap_or_else(|e| panic!("add devices: {e}"));

    // The machine boots its CD-ROM by kind (<os><boot dev='cdrom'/>): read per device.
    let hw = Hardware::from_xml(&read(&handle, &uuid).xml).unwrap();
    let shown: Vec<_> = hw
        .boot_options
        .devices
        .iter()
        .map(|d| (d.target.clone(), d.kind, d.enabled))
        .collect();
    assert_eq!(
        shown,
        [
            (BootTarget::Disk("hdc".into()), BootKind::Cdrom, true),
            (BootTarget::Disk("vda".into()), BootKind::Disk, false),
            (BootTarget::Nic(mac.clone()), BootKind::Nic, false),
        ]
    );

    let image = guest_image();
    let kernel = image.kernel.to_string_lossy().into_owned();
    let applied = apply(
        &handle,
        &uuid,
        vec![
            DomainEdit::DeviceBootOrder(vec![
                BootTarget::Disk("vda".into()),
                BootTarget::Nic(mac.clone()),
                BootTarget::Disk("hdc".into()),
            ]),
            DomainEdit::BootMenu(true),
            DomainEdit::DirectKernel {
                kernel: kernel.clone(),
                initrd: image.initrd.to_string_lossy().into_owned(),
                cmdline: "console=ttyS0".into(),
            },
        ],
    )
    .unwrap_or_else(|e| panic!("boot options: {e}"));
    assert_eq!(applied, Applied::default());
    let root = inactive(&guard.name);
    let os = root.child("os").unwrap();
    assert!(os.child("boot").is_none(), "{}", os.to_xml());
    assert_eq!(os.child("bootmenu").unwrap().attr("enable"), Some("yes"));
    assert_eq!(os.child("kernel").unwrap().text(), kernel);
    assert_eq!(os.child("cmdline").unwrap().text(), "console=ttyS0");
    let orders: Vec<_> = root
        .child("devices")
        .unwrap()
        .elements()
        .filter_map(|d| {
            let order = d.child("boot")?.attr("order")?.to_owned();
            let name = d
                .child("target")
                .and_then(|t| t.attr("dev"))
                .or_else(|| d.child("mac")?.attr("address"))?;
            Some((name.to_owned(), order))
        })
        .collect();
    assert_eq!(
        orders,
        [
            ("hdc".to_owned(), "3".to_owned()),
            ("vda".to_owned(), "1".to_owned()),
            (mac.clone(), "2".to_owned()),
        ]
    );

    // Back to the firmware; a device that is not there is refused and changes nothing.
    apply(
        &handle,
        &uuid,
        vec![
            DomainEdit::BootMenu(false),
            DomainEdit::DirectKernel {
                kernel: String::new(),
                initrd: String::new(),
                cmdline: String::new(),
            },
        ],
    )
    .unwrap();
    let before = inactive(&guard.name);
    let os = before.child("os").unwrap();
    assert!(os.child("kernel").is_none() && os.child("bootmenu").is_none());
    let refused = apply(
        &handle,
        &uuid,
        vec![DomainEdit::DeviceBootOrder(vec![BootTarget::Disk(
            "vdq".into(),
        )])],
    );
    assert!(
        matches!(
            refused,
            Err(RequestError::Edit(EditFailure::Invalid(
                EditError::NoBootDevice(_)
            )))
        ),
        "{refused:?}"
    );
    assert_eq!(inactive(&guard.name), before);

    // The CD-ROM moved from IDE to SATA with a cache mode and shareable, still read-only,
    // and back to IDE (this i440FX machine has it); VirtIO is refused, changing nothing.
    let cdrom = |bus, cache| DomainEdit::CdromSettings {
        target: if bus == DiskBus::Sata { "hdc" } else { "sda" }.into(),
        settings: DiskSettings {
            bus,
            cache,
            readonly: false,
            shareable: bus == DiskBus::Sata,
        },
    };
    apply(
        &handle,
        &uuid,
        vec![cdrom(DiskBus::Sata, DiskCache::Writeback)],
    )
    .unwrap_or_else(|e| panic!("CD-ROM to SATA: {e}"));
    let drives = Hardware::from_xml(&read(&handle, &uuid).xml)
        .unwrap()
        .cdrom_drives;
    assert_eq!(drives.len(), 1);
    let drive = &drives[0];
    assert_eq!(drive.target, "sda");
    assert_eq!(
        (drive.bus, drive.cache, drive.readonly, drive.shareable),
        (Some(DiskBus::Sata), DiskCache::Writeback, true, true)
    );
    let before = inactive(&guard.name);
    let refused = apply(
        &handle,
        &uuid,
        vec![cdrom(DiskBus::Virtio, DiskCache::None)],
    );
    assert!(
        matches!(
            refused,
            Err(RequestError::Edit(EditFailure::Invalid(
                EditError::CdromOnVirtio
            )))
        ),
        "{refused:?}"
    );
    assert_eq!(inactive(&guard.name), before);
    apply(
        &handle,
        &uuid,
        vec![cdrom(DiskBus::Ide, DiskCache::Default)],
    )
    .unwrap_or_else(|e| panic!("CD-ROM back to IDE: {e}"));
    assert_eq!(
        Hardware::from_xml(&read(&handle, &uuid).xml)
            .unwrap()
            .cdrom_drives[0]
            .bus,
        Some(DiskBus::Ide)
    );
    // A second, empty drive on SCSI (with a controller); an empty one on USB, which QEMU
    // refuses, is refused first.
    let refused = apply(
        &handle,
        &uuid,
        vec![DomainEdit::AddCdrom(settings(DiskBus::Usb))],
    );
    assert!(
        matches!(
            refused,
            Err(RequestError::Edit(EditFailure::Invalid(
                EditError::EmptyUsbCdrom
            )))
        ),
        "{refused:?}"
    );
    apply(
        &handle,
        &uuid,
        vec![DomainEdit::AddCdrom(settings(DiskBus::Scsi))],
    )
    .unwrap_or_else(|e| panic!("add a CD-ROM drive: {e}"));
    let drives = Hardware::from_xml(&read(&handle, &uuid).xml)
        .unwrap()
        .cdrom_drives;
    let scsi = drives
        .iter()
        .find(|d| d.bus == Some(DiskBus::Scsi))
        .unwrap();
    assert_eq!((scsi.target.as_str(), scsi.readonly), ("sda", true));
    assert!(scsi.source.is_empty());

    handle.quit_and_join();
    let _ = std::fs::remove_file(disk);
}
