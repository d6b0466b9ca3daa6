//! [`VmSpec`]: everything the new-VM wizard decides, as plain serialisable data.
//!
//! Paths are strings because they end up in libvirt XML, which holds text only; they name
//! files on the host of the connection.

use serde::{Deserialize, Serialize};

/// What a new virtual machine should be. [`VmSpec::validate`] checks it against the host,
/// [`crate::spec::domain_xml::domain_xml`] turns it into libvirt XML and
/// [`crate::spec::create::create_vm_on`] makes it real.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmSpec {
    /// The libvirt connection URI the machine is created on.
    pub uri: String,
    /// The domain name (see [`crate::spec::validate::NAME_RULES`]).
    pub name: String,
    /// Hardware-accelerated (`kvm`) or emulated (`qemu`, TCG).
    pub domain_type: DomainType,
    pub install: InstallMethod,
    pub os: OsChoice,
    pub memory_mib: u64,
    pub vcpus: u32,
    pub storage: Storage,
    pub network: Network,
    pub firmware: Firmware,
    /// Start the machine once it is defined.
    pub start_after: bool,
}

/// The libvirt domain type: `<domain type='…'>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainType {
    /// KVM acceleration; needs a usable `/dev/kvm`.
    Kvm,
    /// Plain QEMU emulation (TCG): slow, but works everywhere.
    Qemu,
}

/// Where the guest's operating system comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum InstallMethod {
    /// An ISO image file, attached as a CD-ROM and booted first. On a remote host it is
    /// this computer's file, uploaded before the machine is made into the pool
    /// `upload_pool` there (`None`: the pool named "default").
    LocalIso {
        path: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        upload_pool: Option<String>,
    },
    /// An ISO image that is a volume of a storage pool.
    StorageVolume { pool: String, volume: String },
    /// An existing disk image with an installed system; it becomes the first disk.
    ImportDisk { path: String, format: DiskFormat },
    /// PXE boot from the network.
    NetworkBoot,
    /// No media: the user attaches something later.
    Manual,
}

/// The operating system the machine is for, and the devices it drives well.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsChoice {
    /// The libosinfo id, e.g. `http://debian.org/debian/12`.
    pub id: String,
    /// The name shown to people, e.g. "Debian 12".
    pub name: String,
    pub devices: DeviceModels,
}

/// Device models that suit an operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceModels {
    pub disk_bus: DiskBus,
    pub nic: NicModel,
    pub video: VideoModel,
}

impl DeviceModels {
    /// What every operating system of the last decades drives without extra drivers.
    pub const COMPATIBLE: DeviceModels = DeviceModels {
        disk_bus: DiskBus::Sata,
        nic: NicModel::E1000,
        video: VideoModel::Vga,
    };
    /// Paravirtualised devices for modern Linux guests.
    pub const VIRTIO: DeviceModels = DeviceModels {
        disk_bus: DiskBus::Virtio,
        nic: NicModel::Virtio,
        video: VideoModel::Virtio,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskBus {
    Virtio,
    Sata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NicModel {
    Virtio,
    E1000,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoModel {
    Virtio,
    Qxl,
    Vga,
    Bochs,
}

/// The machine's main disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Storage {
    /// A new qcow2 volume named after the machine ([`VmSpec::new_volume_name`]).
    NewVolume { pool: String, size_gib: u64 },
    /// An existing disk image file or volume path.
    Existing { path: String, format: DiskFormat },
    /// No disk.
    None,
}

/// The machine's network card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Network {
    /// A host bridge, e.g. `br0`: the guest is on the host's LAN.
    Bridge { name: String },
    /// A libvirt virtual network, e.g. the NAT network `default`.
    VirtualNetwork { name: String },
    /// macvtap on a host NIC (bridge mode).
    Macvtap { dev: String },
    /// QEMU's user-mode networking (no privileges needed).
    User,
}

/// The format of a disk image file. libvirt does not guess it (that would be unsafe), so
/// the XML names it; [`DiskFormat::probe`] reads it from a local file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskFormat {
    Raw,
    Qcow2,
}

impl DiskFormat {
    /// qcow2 when the file starts with the qcow2 magic `QFI\xfb`, raw otherwise.
    pub fn probe(path: &std::path::Path) -> std::io::Result<DiskFormat> {
        use std::io::Read;
        let mut magic = [0u8; 4];
        let mut file = std::fs::File::open(path)?;
        match file.read_exact(&mut magic) {
            Ok(()) if magic == *b"QFI\xfb" => Ok(DiskFormat::Qcow2),
            Ok(()) => Ok(DiskFormat::Raw),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(DiskFormat::Raw),
            Err(e) => Err(e),
        }
    }

    /// The name libvirt uses: `<driver type='…'>`.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 => "qcow2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Firmware {
    Bios,
    Uefi,
}

impl VmSpec {
    /// The name of the volume [`Storage::NewVolume`] creates: `<name>.qcow2`.
    pub fn new_volume_name(&self) -> String {
        format!("{}.qcow2", self.name)
    }
}
