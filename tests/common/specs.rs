//! Example [`VmSpec`]s: the golden-file cases and the base of the creation tests.

use virtdeck::spec::create::Progress;
use virtdeck::spec::{
    DeviceModels, DiskFormat, DomainType, Firmware, InstallMethod, Network, OsChoice, Storage,
    VideoModel, VmSpec,
};

/// A modern Linux from an ISO onto a new disk, bridged, emulated.
pub fn linux_iso_bridge() -> VmSpec {
    VmSpec {
        uri: "qemu:///session".into(),
        name: "debian-desktop".into(),
        domain_type: DomainType::Qemu,
        install: InstallMethod::LocalIso {
            path: "/var/lib/libvirt/images/debian-12.5.0-amd64-netinst.iso".into(),
            upload_pool: None,
        },
        os: OsChoice {
            id: "http://debian.org/debian/12".into(),
            name: "Debian 12".into(),
            devices: DeviceModels::VIRTIO,
        },
        memory_mib: 2048,
        vcpus: 2,
        storage: Storage::NewVolume {
            pool: "default".into(),
            size_gib: 20,
        },
        network: Network::Bridge { name: "br0".into() },
        firmware: Firmware::Bios,
        start_after: true,
    }
}

/// Windows from an ISO volume, UEFI, on the NAT network, with KVM and compatible devices.
pub fn windows_uefi_network() -> VmSpec {
    VmSpec {
        uri: "qemu:///system".into(),
        name: "win10".into(),
        domain_type: DomainType::Kvm,
        install: InstallMethod::StorageVolume {
            pool: "isos".into(),
            volume: "Win10_22H2_English_x64.iso".into(),
        },
        os: OsChoice {
            id: "http://microsoft.com/win/10".into(),
            name: "Microsoft Windows 10".into(),
            devices: DeviceModels {
                video: VideoModel::Bochs,
                ..DeviceModels::COMPATIBLE
            },
        },
        memory_mib: 4096,
        vcpus: 2,
        storage: Storage::NewVolume {
            pool: "default".into(),
            size_gib: 64,
        },
        network: Network::VirtualNetwork {
            name: "default".into(),
        },
        firmware: Firmware::Uefi,
        start_after: false,
    }
}

/// Network boot with no disk and user networking.
pub fn netboot_user() -> VmSpec {
    VmSpec {
        uri: "qemu:///session".into(),
        name: "pxe".into(),
        domain_type: DomainType::Qemu,
        install: InstallMethod::NetworkBoot,
        os: OsChoice {
            id: "http://libosinfo.org/unknown".into(),
            name: "Generic OS".into(),
            devices: DeviceModels::COMPATIBLE,
        },
        memory_mib: 256,
        vcpus: 1,
        storage: Storage::None,
        network: Network::User,
        firmware: Firmware::Bios,
        start_after: true,
    }
}

/// An imported qcow2 image plus an existing raw data disk, on macvtap.
pub fn import_macvtap() -> VmSpec {
    VmSpec {
        uri: "qemu:///system".into(),
        name: "imported".into(),
        domain_type: DomainType::Kvm,
        install: InstallMethod::ImportDisk {
            path: "/srv/images/fedora-cloud.qcow2".into(),
            format: DiskFormat::Qcow2,
        },
        os: OsChoice {
            id: "http://fedoraproject.org/fedora/37".into(),
            name: "Fedora 37".into(),
            devices: DeviceModels::VIRTIO,
        },
        memory_mib: 1024,
        vcpus: 1,
        storage: Storage::Existing {
            path: "/srv/images/data.img".into(),
            format: DiskFormat::Raw,
        },
        network: Network::Macvtap {
            dev: "enp1s0".into(),
        },
        firmware: Firmware::Bios,
        start_after: false,
    }
}

/// Every golden case with its file stem.
pub fn golden() -> Vec<(&'static str, VmSpec)> {
    vec![
        ("linux-iso-bridge", linux_iso_bridge()),
        ("windows-uefi-network", windows_uefi_network()),
        ("netboot-user", netboot_user()),
        ("import-macvtap", import_macvtap()),
    ]
}

/// The steps creating a machine with a new disk that starts after reports, in order.
pub fn new_disk_and_start_steps() -> [Progress; 5] {
    [
        Progress::PreparingStorage,
        Progress::AllocatingDisk { fraction: 0.0 },
        Progress::AllocatingDisk { fraction: 1.0 },
        Progress::Defining,
        Progress::Starting,
    ]
}
