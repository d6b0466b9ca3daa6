//! [`VmSpec`] → libvirt domain XML. The XML is the serialisation of structs that mirror
//! its elements (the private `model` module), written by quick-xml, which escapes every
//! name and path.

mod model;

use quick_xml::se::Serializer;
use serde::Serialize;

use super::vm_spec::{
    DiskBus, DiskFormat, DomainType, Firmware, InstallMethod, Network, NicModel, Storage,
    VideoModel, VmSpec,
};
use model::*;

use super::install;

/// The namespace of libosinfo's domain metadata, as virt-manager and GNOME Boxes write it.
pub const LIBOSINFO_NS: &str = "http://libosinfo.org/xmlns/libvirt/domain/1.0";

/// The guest architecture and machine type of every domain made here.
const ARCH: &str = "x86_64";
const MACHINE: &str = "q35";

#[derive(Debug, thiserror::Error)]
#[error("Could not write the virtual machine's description: {0}")]
pub struct XmlError(#[from] quick_xml::SeError);

/// The libvirt domain XML for `spec`, indented by two spaces.
pub fn domain_xml(spec: &VmSpec) -> Result<String, XmlError> {
    serialize(&build(spec))
}

/// The volume XML of a new qcow2 volume called `name` of `size_gib` GiB.
pub fn volume_xml(name: &str, size_gib: u64) -> Result<String, XmlError> {
    let volume = Volume {
        name,
        capacity: Sized {
            unit: "GiB",
            value: size_gib,
        },
        target: VolumeTarget {
            format: Format { kind: "qcow2" },
        },
    };
    serialize(&volume)
}

/// The XML of a directory storage pool `name` at `path`.
pub fn dir_pool_xml(name: &str, path: &str) -> Result<String, XmlError> {
    let pool = Pool {
        kind: "dir",
        name,
        target: PoolTarget { path },
    };
    serialize(&pool)
}

fn serialize(value: &impl Serialize) -> Result<String, XmlError> {
    let mut out = String::new();
    let mut ser = Serializer::new(&mut out);
    ser.indent(' ', 2);
    value.serialize(ser)?;
    out.push('\n');
    Ok(out)
}

fn build(spec: &VmSpec) -> Domain<'_> {
    let models = spec.os.devices;
    let memory = Sized {
        unit: "MiB",
        value: spec.memory_mib,
    };
    let kvm = spec.domain_type == DomainType::Kvm;
    let install_phase = has_install_phase(spec);
    Domain {
        kind: if kvm { "kvm" } else { "qemu" },
        name: &spec.name,
        metadata: Metadata {
            libosinfo: LibOsInfo {
                xmlns: LIBOSINFO_NS,
                os: OsId { id: &spec.os.id },
            },
            install: install_phase.then_some(InstallMark {
                xmlns: install::INSTALL_NS,
                step: install::FINISH_STEP,
            }),
        },
        memory,
        current_memory: memory,
        vcpu: spec.vcpus,
        os: Os {
            firmware: (spec.firmware == Firmware::Uefi).then_some("efi"),
            os_type: OsType {
                arch: ARCH,
                machine: MACHINE,
                value: "hvm",
            },
            boot: boot_order(&spec.install),
        },
        features: Features { acpi: (), apic: () },
        cpu: kvm.then_some(Cpu {
            mode: "host-passthrough",
            check: "none",
        }),
        clock: Clock {
            offset: if is_windows(&spec.os.id) {
                "localtime"
            } else {
                "utc"
            },
        },
        on_poweroff: "destroy",
        // The installer's reboot ends its run, so that the machine is redefined to boot
        // what was installed ([`install`]).
        on_reboot: if install_phase { "destroy" } else { "restart" },
        on_crash: "destroy",
        devices: Devices {
            disk: disks(spec),
            interface: vec![interface(&spec.network, models.nic)],
            serial: Serial {
                kind: "pty",
                target: SerialTarget { port: 0 },
            },
            console: Console {
                kind: "pty",
                target: ConsoleTarget {
                    kind: "serial",
                    port: 0,
                },
            },
            channel: vec![
                Channel {
                    kind: "unix",
                    source: None,
                    target: ChannelTarget {
                        kind: "virtio",
                        name: "org.qemu.guest_agent.0",
                    },
                },
                // The clipboard between the console and a guest running a SPICE agent
                // (spice-vdagent), with QEMU itself at the other end: VNC consoles too.
                Channel {
                    kind: "qemu-vdagent",
                    source: Some(ChannelSource {
                        clipboard: Clipboard { copypaste: "yes" },
                    }),
                    target: ChannelTarget {
                        kind: "virtio",
                        name: "com.redhat.spice.0",
                    },
                },
            ],
            input: Input {
                kind: "tablet",
                bus: "usb",
            },
            graphics: Graphics {
                kind: "vnc",
                port: -1,
                autoport: "yes",
                listen: Listen {
                    kind: "address",
                    address: "127.0.0.1",
                },
            },
            video: Video {
                model: Model {
                    kind: video_name(models.video),
                },
            },
            rng: (models.disk_bus == DiskBus::Virtio).then_some(Rng {
                model: "virtio",
                backend: RngBackend {
                    model: "random",
                    value: "/dev/urandom",
                },
            }),
        },
    }
}

fn is_windows(os_id: &str) -> bool {
    os_id.starts_with("http://microsoft.com/win")
}

/// Whether the machine first runs an installer that writes to its disk: it boots install
/// media (an ISO or the network) and has a disk. Then that first run boots the media, and
/// the final configuration the disk. Without a disk (a live system, a diskless network
/// client) the media stay first for good.
pub fn has_install_phase(spec: &VmSpec) -> bool {
    let installs = matches!(
        spec.install,
        InstallMethod::LocalIso { .. }
            | InstallMethod::StorageVolume { .. }
            | InstallMethod::NetworkBoot
    );
    installs && spec.storage != Storage::None
}

fn boot_order(install: &InstallMethod) -> Vec<Boot> {
    let devs: &[&'static str] = match install {
        InstallMethod::LocalIso { .. } | InstallMethod::StorageVolume { .. } => &["cdrom", "hd"],
        InstallMethod::NetworkBoot => &["network", "hd"],
        InstallMethod::ImportDisk { .. } | InstallMethod::Manual => &["hd"],
    };
    devs.iter().map(|dev| Boot { dev }).collect()
}

/// Hands out target device names per bus: vda, vdb… and sda, sdb…
#[derive(Default)]
struct TargetNames {
    virtio: u8,
    sata: u8,
}

impl TargetNames {
    fn next(&mut self, bus: DiskBus) -> String {
        let (prefix, count) = match bus {
            DiskBus::Virtio => ("vd", &mut self.virtio),
            DiskBus::Sata => ("sd", &mut self.sata),
        };
        let letter = char::from(b'a' + *count);
        *count += 1;
        format!("{prefix}{letter}")
    }
}

fn disks(spec: &VmSpec) -> Vec<Disk<'_>> {
    let bus = spec.os.devices.disk_bus;
    let mut names = TargetNames::default();
    let mut disks = Vec::new();
    if let InstallMethod::ImportDisk { path, format } = &spec.install {
        disks.push(disk(DiskSource::file(path), *format, bus, &mut names));
    }
    match &spec.storage {
        Storage::NewVolume { pool, .. } => {
            // Named after the machine, as `create` makes it.
            let source = DiskSource::volume(pool, spec.new_volume_name());
            disks.push(disk(source, DiskFormat::Qcow2, bus, &mut names));
        }
        Storage::Existing { path, format } => {
            disks.push(disk(DiskSource::file(path), *format, bus, &mut names))
        }
        Storage::None => {}
    }
    let cdrom_source = match &spec.install {
        InstallMethod::LocalIso { path, .. } => Some(DiskSource::file(path)),
        InstallMethod::StorageVolume { pool, volume } => {
            Some(DiskSource::volume(pool, volume.clone()))
        }
        _ => None,
    };
    if let Some(source) = cdrom_source {
        let mut cdrom = disk(source, DiskFormat::Raw, DiskBus::Sata, &mut names);
        cdrom.device = "cdrom";
        cdrom.readonly = Some(());
        disks.push(cdrom);
    }
    disks
}

fn disk<'a>(
    source: DiskSource<'a>,
    format: DiskFormat,
    bus: DiskBus,
    names: &mut TargetNames,
) -> Disk<'a> {
    Disk {
        kind: source.kind(),
        device: "disk",
        driver: Driver::qemu(format),
        source,
        target: Target {
            dev: names.next(bus),
            bus: bus_name(bus),
        },
        readonly: None,
    }
}

fn bus_name(bus: DiskBus) -> &'static str {
    match bus {
        DiskBus::Virtio => "virtio",
        DiskBus::Sata => "sata",
    }
}

fn video_name(video: VideoModel) -> &'static str {
    match video {
        VideoModel::Virtio => "virtio",
        VideoModel::Qxl => "qxl",
        VideoModel::Vga => "vga",
        VideoModel::Bochs => "bochs",
    }
}

/// The `<interface>` XML of a NIC on `network`, as the wizard makes it, with `mac` when
/// given (else libvirt picks one): what [`crate::spec::edit`] adds to a machine.
pub fn interface_xml(
    network: &Network,
    nic: NicModel,
    mac: Option<&str>,
) -> Result<String, XmlError> {
    let mut interface = interface(network, nic);
    interface.mac = mac.map(|address| Mac { address });
    serialize(&interface)
}

fn interface(network: &Network, nic: NicModel) -> Interface<'_> {
    let empty = InterfaceSource::default();
    let (kind, source) = match network {
        Network::Bridge { name } => (
            "bridge",
            Some(InterfaceSource {
                bridge: Some(name),
                ..empty
            }),
        ),
        Network::VirtualNetwork { name } => (
            "network",
            Some(InterfaceSource {
                network: Some(name),
                ..empty
            }),
        ),
        Network::Macvtap { dev } => (
            "direct",
            Some(InterfaceSource {
                dev: Some(dev),
                mode: Some("bridge"),
                ..empty
            }),
        ),
        Network::User => ("user", None),
    };
    Interface {
        kind,
        mac: None,
        source,
        model: Model {
            kind: match nic {
                NicModel::Virtio => "virtio",
                NicModel::E1000 => "e1000",
            },
        },
    }
}
