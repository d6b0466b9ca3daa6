//! Typed edits of an existing machine ([`DomainEdit`]), applied to its domain XML as a
//! parsed tree ([`tree`]), never by splicing strings. [`apply`] changes the tree of the
//! persistent configuration and says which device, if any, the edit touched, so that the
//! connection worker can make the same change to the running machine
//! (`crate::libvirt::edit`). Bad input is refused before anything changes.
//!
//! - [`tree`]: the small mutable XML tree every edit works on.
//! - [`hardware`]: [`Hardware`], what the hardware page shows, read from the same tree.
//! - [`overview`]: the Overview section's UUID, firmware and machine type, and the check
//!   of a domain XML typed in the XML editor.

pub mod boot;
pub mod cpu;
pub mod devices;
pub mod disks;
pub mod hardware;
pub mod hostdev;
pub mod nics;
pub mod overview;
pub mod tree;

pub use cpu::{CpuModel, DeviceChoices, Topology};
pub use devices::{Device, DeviceKind, SoundModel, VideoModel, WatchdogAction, WatchdogModel};
pub use hardware::Hardware;
pub use hostdev::{HostDevice, HostdevSource};

use serde::{Deserialize, Serialize};

use super::domain_xml::interface_xml;
use super::vm_spec::{Network, NicModel};
use tree::{Element, Node, TreeError};

/// A device that boots: `<boot dev='…'/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootDevice {
    Hd,
    Cdrom,
    Network,
}

impl BootDevice {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hd => "hd",
            Self::Cdrom => "cdrom",
            Self::Network => "network",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "hd" => Some(Self::Hd),
            "cdrom" => Some(Self::Cdrom),
            "network" => Some(Self::Network),
            _ => None,
        }
    }
}

/// The remote display protocol of `<graphics>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DisplayKind {
    Vnc,
    Spice,
}

impl DisplayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vnc => "vnc",
            Self::Spice => "spice",
        }
    }
}

/// A USB input device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    Tablet,
    Keyboard,
    Mouse,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tablet => "tablet",
            Self::Keyboard => "keyboard",
            Self::Mouse => "mouse",
        }
    }
}

/// One change to a machine. NICs are named by MAC address, CD-ROMs by target (`sda`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DomainEdit {
    /// Current (balloon) and maximum memory, in MiB.
    Memory {
        current_mib: u64,
        max_mib: u64,
    },
    /// Virtual CPUs: `current` of `max` plugged in.
    Vcpus {
        current: u32,
        max: u32,
    },
    /// Put the ISO image at `path` into the CD-ROM `target`.
    InsertMedia {
        target: String,
        path: String,
    },
    /// Empty the CD-ROM `target`.
    EjectMedia {
        target: String,
    },
    /// A new NIC on the same sources as the wizard offers, with this MAC address.
    AddNic {
        network: Network,
        model: NicModel,
        mac: String,
    },
    RemoveNic {
        mac: String,
    },
    /// Plug the NIC's virtual cable in or pull it out.
    LinkState {
        mac: String,
        up: bool,
    },
    /// The one remote display: its protocol and the address it listens on.
    Display {
        kind: DisplayKind,
        listen: String,
    },
    /// The password every display asks for (`passwd`); `None` takes it away.
    DisplayPassword(Option<String>),
    AddInput(InputKind),
    RemoveInput(InputKind),
    /// The firmware's boot order; the first device is tried first.
    BootOrder(Vec<BootDevice>),
    /// A short title; empty removes it.
    Title(String),
    /// A longer description; empty removes it.
    Description(String),
    // Devices: the processor, single devices, host devices.
    /// The processor model.
    CpuModel(CpuModel),
    /// Sockets × cores × threads, which must be the maximum number of virtual CPUs.
    CpuTopology(Topology),
    /// The model of the one video card.
    Video(VideoModel),
    AddDevice(Device),
    RemoveDevice(DeviceKind),
    /// Pass a host's USB or PCI device through.
    AddHostdev(HostdevSource),
    RemoveHostdev(HostdevSource),
    // ----- disks, boot options and NIC settings ([`disks`], [`boot`], [`nics`]) -----
    /// A new disk, on the first free target of its bus.
    AddDisk {
        source: disks::DiskSource,
        settings: disks::DiskSettings,
    },
    /// Remove disk `target`; the worker deletes its volume too when `delete_volume`.
    RemoveDisk {
        target: String,
        delete_volume: bool,
    },
    /// Change disk `target`'s bus, cache mode and flags.
    DiskSettings {
        target: String,
        settings: disks::DiskSettings,
    },
    /// Boot these devices, in this order, and no other.
    DeviceBootOrder(Vec<boot::BootTarget>),
    /// Show the firmware's boot menu.
    BootMenu(bool),
    /// Boot a kernel from the host directly; an empty `kernel` boots the firmware's way.
    DirectKernel {
        kernel: String,
        initrd: String,
        cmdline: String,
    },
    /// Put NIC `mac` on another source, with a model and MAC address.
    NicSettings {
        mac: String,
        network: Network,
        model: NicModel,
        new_mac: String,
    },
    /// Change CD-ROM `target`'s bus, cache mode and shareable flag (it stays read-only).
    CdromSettings {
        target: String,
        settings: disks::DiskSettings,
    },
    /// A new, empty CD-ROM drive on the first free target of its bus.
    AddCdrom(disks::DiskSettings),
}

/// What an edit is checked against, read from the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// The host's memory; `None` when unknown.
    pub host_memory_mib: Option<u64>,
    /// MAC addresses of every NIC of every machine on the connection, lower case.
    pub macs_in_use: Vec<String>,
}

/// Why an edit is refused. Each message is a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("The memory must be more than 0 MiB.")]
    MemoryZero,
    #[error("The current memory ({current} MiB) cannot be more than the maximum ({max} MiB).")]
    MemoryOverMax { current: u64, max: u64 },
    #[error("{requested} MiB of memory is more than the host has in total ({total} MiB).")]
    MemoryOverHost { requested: u64, total: u64 },
    #[error("The machine needs at least one virtual CPU.")]
    VcpusZero,
    #[error("{current} virtual CPUs cannot be more than the maximum of {max}.")]
    VcpusOverMax { current: u32, max: u32 },
    #[error("The machine has no CD-ROM “{0}”.")]
    NoCdrom(String),
    #[error("No installation image was chosen.")]
    NoImage,
    #[error("“{0}” is not a MAC address such as 52:54:00:12:34:56.")]
    BadMac(String),
    #[error("The MAC address {0} is already used by a network interface on this connection.")]
    MacInUse(String),
    #[error("The machine has no network interface with the MAC address {0}.")]
    NoNic(String),
    #[error("The listen address must not be empty.")]
    ListenEmpty,
    #[error("The machine has no display to protect with a password.")]
    NoDisplay,
    #[error("A display password cannot be empty: clear it instead.")]
    PasswordEmpty,
    #[error("A VNC password has at most 8 characters; VNC ignores the rest.")]
    VncPasswordLong,
    #[error("The machine already has a USB {0}.")]
    InputExists(&'static str),
    #[error("The machine has no USB {0}.")]
    NoInput(&'static str),
    #[error("Choose at least one device to boot from.")]
    BootEmpty,
    #[error("The title must be one line.")]
    TitleLines,
    #[error("The machine's description has no <{0}> element.")]
    Missing(&'static str),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("The network interface could not be described: {0}")]
    Interface(String),
    // Devices.
    #[error("Choose a CPU model.")]
    CpuModelEmpty,
    #[error("Sockets, cores and threads must each be at least 1.")]
    TopologyZero,
    #[error(
        "{sockets} sockets × {cores} cores × {threads} threads is not the maximum of {max} virtual CPUs."
    )]
    TopologyMismatch {
        sockets: u32,
        cores: u32,
        threads: u32,
        max: u32,
    },
    #[error("The machine already has a {0}.")]
    DeviceExists(&'static str),
    #[error("The machine has no {0}.")]
    NoDevice(&'static str),
    #[error("The host device {0} is already passed through.")]
    HostdevExists(String),
    #[error("The host device {0} is not passed through.")]
    NoHostdev(String),
    // XML editor (xmledit).
    #[error("The XML is not well-formed (line {line}): {message}")]
    XmlMalformed { message: String, line: u32 },
    #[error("The XML must describe a <domain>.")]
    XmlNotDomain,
    #[error("The XML must keep the machine’s UUID {0}; another UUID would make a new machine.")]
    XmlUuid(String),
    // ----- disks, boot options and NIC settings -----
    #[error("No disk image was chosen.")]
    NoDiskImage,
    #[error("Choose a storage pool for the new volume.")]
    NoPool,
    #[error("The new volume needs a name.")]
    NoVolumeName,
    #[error("The new disk must be larger than 0 bytes.")]
    DiskSizeZero,
    #[error("The machine has no disk “{0}”.")]
    NoDisk(String),
    #[error("The machine has no device “{0}” to boot from.")]
    NoBootDevice(String),
    #[error("An initrd or a kernel command line needs a kernel to boot.")]
    KernelMissing,
    #[error("Choose the bridge, network or host device the interface is on.")]
    NoNicSource,
    #[error("A CD-ROM cannot be on the VirtIO bus: choose SATA, SCSI or USB.")]
    CdromOnVirtio,
    #[error("This machine type has no IDE bus: choose SATA, SCSI or USB.")]
    NoIdeBus,
    #[error(
        "An empty CD-ROM drive cannot be on USB: choose SATA or SCSI, or insert an image first."
    )]
    EmptyUsbCdrom,
}

/// The device an edit touched, for the same change on the running machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// Nothing beyond the element values ([`DomainEdit::Memory`], titles, …).
    Values,
    /// This device was added.
    Added(Element),
    /// This device was changed; its new XML.
    Updated(Element),
    /// This device was removed; its old XML.
    Removed(Element),
    /// These devices were added, to be attached in this order (a controller, then its
    /// disk).
    AddedAll(Vec<Element>),
}

/// Applies `edit` to the domain XML `root` after checking it against `limits`. On an error
/// `root` is unchanged.
pub fn apply(root: &mut Element, edit: &DomainEdit, limits: &Limits) -> Result<Touched, EditError> {
    check(root, edit, limits)?;
    match edit {
        DomainEdit::Memory {
            current_mib,
            max_mib,
        } => {
            for (name, mib) in [("memory", max_mib), ("currentMemory", current_mib)] {
                let element = root.child_or_insert(name);
                element.attributes = vec![("unit".into(), "KiB".into())];
                element.set_text(&(mib * 1024).to_string());
            }
            // A memory size above the maximum of hot-pluggable memory is left to libvirt.
            Ok(Touched::Values)
        }
        DomainEdit::Vcpus { current, max } => {
            let vcpu = root.child_or_insert("vcpu");
            vcpu.set_text(&max.to_string());
            if current < max {
                vcpu.set_attr("current", &current.to_string());
            } else {
                vcpu.remove_attr("current");
            }
            // The per-CPU list and a topology for another count would contradict it.
            root.remove_children(|e| e.name == "vcpus");
            if let Some(topology) = root
                .child_mut("cpu")
                .and_then(|cpu| cpu.child_mut("topology"))
            {
                let number = |name| topology.attr(name).and_then(|v| v.parse::<u32>().ok());
                let per_socket = number("dies").unwrap_or(1)
                    * number("clusters").unwrap_or(1)
                    * number("cores").unwrap_or(1)
                    * number("threads").unwrap_or(1);
                if max % per_socket == 0 {
                    topology.set_attr("sockets", &(max / per_socket).to_string());
                } else {
                    for name in ["dies", "clusters", "cores", "threads"] {
                        if topology.attr(name).is_some() {
                            topology.set_attr(name, "1");
                        }
                    }
                    topology.set_attr("sockets", &max.to_string());
                }
            }
            Ok(Touched::Values)
        }
        DomainEdit::InsertMedia { target, path } => {
            let cdrom = cdrom_mut(root, target)?;
            cdrom.set_attr("type", "file");
            cdrom.remove_children(|e| e.name == "source");
            let position = cdrom
                .children
                .iter()
                .position(|n| matches!(n, Node::Element(e) if e.name == "target"))
                .unwrap_or(cdrom.children.len());
            cdrom.children.insert(
                position,
                Node::Element(Element::new("source").with_attr("file", path)),
            );
            Ok(Touched::Updated(cdrom.clone()))
        }
        DomainEdit::EjectMedia { target } => {
            let cdrom = cdrom_mut(root, target)?;
            cdrom.set_attr("type", "file");
            cdrom.remove_children(|e| e.name == "source");
            Ok(Touched::Updated(cdrom.clone()))
        }
        DomainEdit::AddNic {
            network,
            model,
            mac,
        } => {
            let xml = interface_xml(network, *model, Some(mac))
                .map_err(|e| EditError::Interface(e.to_string()))?;
            let nic = Element::parse(&xml)?;
            devices_mut(root)?.insert_after(
                &["emulator", "disk", "controller", "filesystem", "interface"],
                nic.clone(),
            );
            Ok(Touched::Added(nic))
        }
        DomainEdit::RemoveNic { mac } => {
            let devices = devices_mut(root)?;
            let nic = nic_mut(devices, mac)?.clone();
            devices.remove_children(|e| is_nic(e, mac));
            Ok(Touched::Removed(nic))
        }
        DomainEdit::LinkState { mac, up } => {
            let nic = nic_mut(devices_mut(root)?, mac)?;
            nic.child_or_insert("link")
                .set_attr("state", if *up { "up" } else { "down" });
            Ok(Touched::Updated(nic.clone()))
        }
        DomainEdit::Display { kind, listen } => {
            let devices = devices_mut(root)?;
            let password = devices
                .elements()
                .find(|e| e.name == "graphics")
                .and_then(|g| g.attr("passwd"))
                .map(str::to_owned);
            devices.remove_children(|e| e.name == "graphics");
            let mut graphics = Element::new("graphics")
                .with_attr("type", kind.as_str())
                .with_attr("port", "-1")
                .with_attr("autoport", "yes");
            if let Some(password) = password {
                graphics.set_attr("passwd", &password);
            }
            let graphics = graphics.with_child(
                Element::new("listen")
                    .with_attr("type", "address")
                    .with_attr("address", listen),
            );
            devices.insert_after(
                &[
                    "emulator",
                    "disk",
                    "controller",
                    "interface",
                    "serial",
                    "console",
                    "channel",
                    "input",
                ],
                graphics,
            );
            // libvirt gives every SPICE machine SPICE audio, and refuses it without a
            // SPICE display: the sound keeps its backend id but plays nowhere.
            // SPICE's own channels (the agent's, USB redirection) need a SPICE display too;
            // virt-manager's machines have them: they go with it.
            if *kind != DisplayKind::Spice {
                for audio in devices.elements_mut() {
                    if audio.name == "audio" && audio.attr("type") == Some("spice") {
                        audio.set_attr("type", "none");
                    }
                }
                devices.remove_children(|e| {
                    matches!(e.name.as_str(), "channel" | "redirdev")
                        && e.attr("type") == Some("spicevmc")
                });
            }
            Ok(Touched::Values)
        }
        DomainEdit::DisplayPassword(password) => {
            let devices = devices_mut(root)?;
            let mut first = None;
            for graphics in devices.elements_mut().filter(|e| e.name == "graphics") {
                match password {
                    Some(password) => graphics.set_attr("passwd", password),
                    None => graphics.remove_attr("passwd"),
                }
                first.get_or_insert_with(|| graphics.clone());
            }
            // libvirt changes a running display's password in place.
            Ok(first.map_or(Touched::Values, Touched::Updated))
        }
        DomainEdit::AddInput(kind) => {
            let input = Element::new("input")
                .with_attr("type", kind.as_str())
                .with_attr("bus", "usb");
            devices_mut(root)?.insert_after(
                &[
                    "emulator",
                    "disk",
                    "controller",
                    "interface",
                    "serial",
                    "console",
                    "channel",
                    "input",
                ],
                input.clone(),
            );
            Ok(Touched::Added(input))
        }
        DomainEdit::RemoveInput(kind) => {
            let devices = devices_mut(root)?;
            let input = devices
                .elements()
                .find(|e| is_usb_input(e, *kind))
                .cloned()
                .ok_or(EditError::NoInput(kind.as_str()))?;
            devices.remove_children(|e| is_usb_input(e, *kind));
            Ok(Touched::Removed(input))
        }
        DomainEdit::BootOrder(order) => {
            for device in devices_mut(root)?.elements_mut() {
                device.remove_children(|e| e.name == "boot");
            }
            let os = root.child_mut("os").ok_or(EditError::Missing("os"))?;
            os.remove_children(|e| e.name == "boot");
            let mut after = vec!["type", "firmware", "loader", "nvram"];
            for device in order {
                os.insert_after(
                    &after,
                    Element::new("boot").with_attr("dev", device.as_str()),
                );
                after = vec!["boot"];
            }
            Ok(Touched::Values)
        }
        DomainEdit::Title(text) => {
            set_optional_text(root, "title", text, &["name", "uuid", "genid"]);
            Ok(Touched::Values)
        }
        DomainEdit::Description(text) => {
            set_optional_text(
                root,
                "description",
                text,
                &["name", "uuid", "genid", "title"],
            );
            Ok(Touched::Values)
        }
        DomainEdit::CpuModel(model) => Ok(cpu::set_model(root, model)),
        DomainEdit::CpuTopology(topology) => Ok(cpu::set_topology(root, topology)),
        DomainEdit::Video(model) => devices::set_video(root, *model),
        DomainEdit::AddDevice(device) => devices::add(root, device),
        DomainEdit::RemoveDevice(kind) => devices::remove(root, *kind),
        DomainEdit::AddHostdev(source) => hostdev::add(root, source),
        DomainEdit::RemoveHostdev(source) => hostdev::remove(root, source),
        DomainEdit::AddDisk { source, settings } => disks::add(root, source, settings),
        DomainEdit::RemoveDisk { target, .. } => disks::remove(root, target),
        DomainEdit::DiskSettings { target, settings } => disks::change(root, target, settings),
        DomainEdit::DeviceBootOrder(order) => {
            boot::set_order(root, order).map(|()| Touched::Values)
        }
        DomainEdit::BootMenu(on) => boot::set_menu(root, *on).map(|()| Touched::Values),
        DomainEdit::DirectKernel {
            kernel,
            initrd,
            cmdline,
        } => boot::set_kernel(root, kernel, initrd, cmdline).map(|()| Touched::Values),
        DomainEdit::NicSettings {
            mac,
            network,
            model,
            new_mac,
        } => nics::change(root, mac, network, *model, new_mac),
        DomainEdit::CdromSettings { target, settings } => {
            disks::change_cdrom(root, target, settings)
        }
        DomainEdit::AddCdrom(settings) => disks::add_cdrom(root, settings),
    }
}

/// Every refusal of [`apply`], before anything changes.
fn check(root: &Element, edit: &DomainEdit, limits: &Limits) -> Result<(), EditError> {
    match edit {
        DomainEdit::Memory {
            current_mib,
            max_mib,
        } => {
            if *current_mib == 0 || *max_mib == 0 {
                return Err(EditError::MemoryZero);
            }
            if current_mib > max_mib {
                return Err(EditError::MemoryOverMax {
                    current: *current_mib,
                    max: *max_mib,
                });
            }
            if let Some(total) = limits.host_memory_mib.filter(|total| max_mib > total) {
                return Err(EditError::MemoryOverHost {
                    requested: *max_mib,
                    total,
                });
            }
        }
        DomainEdit::Vcpus { current, max } => {
            if *current == 0 {
                return Err(EditError::VcpusZero);
            }
            if current > max {
                return Err(EditError::VcpusOverMax {
                    current: *current,
                    max: *max,
                });
            }
        }
        DomainEdit::InsertMedia { target, path } => {
            if path.trim().is_empty() {
                return Err(EditError::NoImage);
            }
            cdrom(root, target)?;
        }
        DomainEdit::EjectMedia { target } => {
            cdrom(root, target)?;
        }
        DomainEdit::AddNic { mac, network, .. } => {
            nics::check_source(network)?;
            if !is_mac(mac) {
                return Err(EditError::BadMac(mac.clone()));
            }
            if limits
                .macs_in_use
                .iter()
                .any(|m| m.eq_ignore_ascii_case(mac))
            {
                return Err(EditError::MacInUse(mac.clone()));
            }
        }
        DomainEdit::RemoveNic { mac } | DomainEdit::LinkState { mac, .. } => {
            devices(root)?
                .elements()
                .find(|e| is_nic(e, mac))
                .ok_or_else(|| EditError::NoNic(mac.clone()))?;
        }
        DomainEdit::Display { listen, .. } => {
            if listen.trim().is_empty() {
                return Err(EditError::ListenEmpty);
            }
        }
        DomainEdit::DisplayPassword(password) => {
            let displays: Vec<_> = devices(root)?
                .elements()
                .filter(|e| e.name == "graphics")
                .collect();
            if displays.is_empty() {
                return Err(EditError::NoDisplay);
            }
            match password {
                Some(p) if p.is_empty() => return Err(EditError::PasswordEmpty),
                Some(p)
                    if p.chars().count() > 8
                        && displays.iter().any(|g| g.attr("type") == Some("vnc")) =>
                {
                    return Err(EditError::VncPasswordLong)
                }
                _ => {}
            }
        }
        DomainEdit::AddInput(kind) => {
            if devices(root)?.elements().any(|e| is_usb_input(e, *kind)) {
                return Err(EditError::InputExists(kind.as_str()));
            }
        }
        DomainEdit::RemoveInput(_) => {}
        DomainEdit::BootOrder(order) => {
            if order.is_empty() {
                return Err(EditError::BootEmpty);
            }
        }
        DomainEdit::Title(text) => {
            if text.contains('\n') {
                return Err(EditError::TitleLines);
            }
        }
        DomainEdit::Description(_) => {}
        DomainEdit::CpuModel(model) => cpu::check_model(model)?,
        DomainEdit::CpuTopology(topology) => cpu::check_topology(root, topology)?,
        DomainEdit::Video(_) => {
            devices(root)?;
        }
        DomainEdit::AddDevice(device) => devices::check_add(root, device)?,
        DomainEdit::RemoveDevice(kind) => devices::check_remove(root, *kind)?,
        DomainEdit::AddHostdev(source) => hostdev::check_add(root, source)?,
        DomainEdit::RemoveHostdev(source) => hostdev::check_remove(root, source)?,
        DomainEdit::AddDisk { source, settings } => {
            disks::check_add(source)?;
            disks::check_bus(root, settings.bus, false)?;
        }
        DomainEdit::RemoveDisk { target, .. } => disks::check_exists(root, target)?,
        DomainEdit::DiskSettings { target, settings } => {
            disks::check_exists(root, target)?;
            disks::check_bus(root, settings.bus, false)?;
        }
        DomainEdit::DeviceBootOrder(order) => boot::check_order(root, order)?,
        DomainEdit::BootMenu(_) => root
            .child("os")
            .map(|_| ())
            .ok_or(EditError::Missing("os"))?,
        DomainEdit::DirectKernel {
            kernel,
            initrd,
            cmdline,
        } => boot::check_kernel(kernel, initrd, cmdline)?,
        DomainEdit::NicSettings {
            mac,
            network,
            new_mac,
            ..
        } => nics::check(root, mac, network, new_mac, limits)?,
        DomainEdit::CdromSettings { target, settings } => {
            disks::check_cdrom(root, target, settings)?
        }
        DomainEdit::AddCdrom(settings) => {
            disks::check_bus(root, settings.bus, true)?;
            // A new drive is empty, and QEMU's USB storage needs a medium.
            if settings.bus == disks::DiskBus::Usb {
                return Err(EditError::EmptyUsbCdrom);
            }
        }
    }
    Ok(())
}

/// `52:54:00:ab:cd:ef`: six hex pairs, unicast.
pub fn is_mac(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
        && u8::from_str_radix(parts[0], 16).is_ok_and(|first| first & 1 == 0)
}

/// A MAC address in QEMU's range (52:54:00) from `random` bits, not in `in_use`.
pub fn new_mac(random: impl Fn() -> u64, in_use: &[String]) -> String {
    loop {
        let bits = random().to_le_bytes();
        let mac = format!("52:54:00:{:02x}:{:02x}:{:02x}", bits[0], bits[1], bits[2]);
        if !in_use.iter().any(|m| m.eq_ignore_ascii_case(&mac)) {
            return mac;
        }
    }
}

/// The MAC addresses of the NICs in a domain XML, lower case.
pub fn macs(xml: &str) -> Vec<String> {
    let Ok(root) = Element::parse(xml) else {
        return Vec::new();
    };
    let Some(devices) = root.child("devices") else {
        return Vec::new();
    };
    devices
        .elements()
        .filter(|e| e.name == "interface")
        .filter_map(|e| e.child("mac")?.attr("address"))
        .map(str::to_ascii_lowercase)
        .collect()
}

pub(super) fn devices(root: &Element) -> Result<&Element, EditError> {
    root.child("devices").ok_or(EditError::Missing("devices"))
}

pub(super) fn devices_mut(root: &mut Element) -> Result<&mut Element, EditError> {
    root.child_mut("devices")
        .ok_or(EditError::Missing("devices"))
}

fn is_cdrom(e: &Element, target: &str) -> bool {
    e.name == "disk"
        && e.attr("device") == Some("cdrom")
        && e.child("target").and_then(|t| t.attr("dev")) == Some(target)
}

fn cdrom<'a>(root: &'a Element, target: &str) -> Result<&'a Element, EditError> {
    devices(root)?
        .elements()
        .find(|e| is_cdrom(e, target))
        .ok_or_else(|| EditError::NoCdrom(target.to_owned()))
}

fn cdrom_mut<'a>(root: &'a mut Element, target: &str) -> Result<&'a mut Element, EditError> {
    devices_mut(root)?
        .elements_mut()
        .find(|e| is_cdrom(e, target))
        .ok_or_else(|| EditError::NoCdrom(target.to_owned()))
}

pub(super) fn is_nic(e: &Element, mac: &str) -> bool {
    e.name == "interface"
        && e.child("mac")
            .and_then(|m| m.attr("address"))
            .is_some_and(|a| a.eq_ignore_ascii_case(mac))
}

fn nic_mut<'a>(devices: &'a mut Element, mac: &str) -> Result<&'a mut Element, EditError> {
    devices
        .elements_mut()
        .find(|e| is_nic(e, mac))
        .ok_or_else(|| EditError::NoNic(mac.to_owned()))
}

fn is_usb_input(e: &Element, kind: InputKind) -> bool {
    e.name == "input" && e.attr("type") == Some(kind.as_str()) && e.attr("bus") == Some("usb")
}

fn set_optional_text(root: &mut Element, name: &str, text: &str, after: &[&str]) {
    if text.is_empty() {
        root.remove_children(|e| e.name == name);
    } else if let Some(element) = root.child_mut(name) {
        element.set_text(text);
    } else {
        root.insert_after(after, Element::new(name).with_text(text));
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod disks_tests;
