//! Disks of an existing machine: add one (an image file, an existing volume, or a new
//! qcow2 volume the worker makes), remove one, change its bus, cache mode, read-only and
//! shareable flags. Disks are named by their target (`vda`, `sdb`), which stays unique:
//! a new or moved disk takes the first free name of its bus's family.

use serde::{Deserialize, Serialize};

use super::tree::Element;
use super::{devices, devices_mut, EditError, Touched};
use crate::spec::DiskFormat;

/// The bus a disk is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskBus {
    Virtio,
    Sata,
    Scsi,
    Usb,
    /// Only on machine types with an IDE controller (i440FX), see [`machine_has_ide`].
    Ide,
}

impl DiskBus {
    /// The buses a hard disk is offered on, IDE aside.
    pub const ALL: [DiskBus; 4] = [Self::Virtio, Self::Sata, Self::Scsi, Self::Usb];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Virtio => "virtio",
            Self::Sata => "sata",
            Self::Scsi => "scsi",
            Self::Usb => "usb",
            Self::Ide => "ide",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Ide])
            .find(|b| b.as_str() == name)
    }

    /// The buses offered for a hard disk or, with `cdrom`, a CD-ROM (never on VirtIO);
    /// IDE where the machine has it (`ide`).
    pub fn offered(cdrom: bool, ide: bool) -> Vec<DiskBus> {
        Self::ALL
            .into_iter()
            .filter(|bus| !(cdrom && *bus == Self::Virtio))
            .chain(ide.then_some(Self::Ide))
            .collect()
    }

    /// The prefix of its targets: `vd` for virtio, `sd` for the buses Linux shows as SCSI.
    fn prefix(self) -> &'static str {
        match self {
            Self::Virtio => "vd",
            Self::Sata | Self::Scsi | Self::Usb => "sd",
            Self::Ide => "hd",
        }
    }

    /// libvirt can plug a disk on this bus into a running machine.
    pub fn hot_pluggable(self) -> bool {
        !matches!(self, Self::Sata | Self::Ide)
    }
}

/// `<driver cache='…'>`; `Default` leaves it to the hypervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskCache {
    Default,
    None,
    Writethrough,
    Writeback,
    Directsync,
    Unsafe,
}

impl DiskCache {
    pub const ALL: [DiskCache; 6] = [
        Self::Default,
        Self::None,
        Self::Writethrough,
        Self::Writeback,
        Self::Directsync,
        Self::Unsafe,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::None => "none",
            Self::Writethrough => "writethrough",
            Self::Writeback => "writeback",
            Self::Directsync => "directsync",
            Self::Unsafe => "unsafe",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// What a disk's settings can be changed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskSettings {
    pub bus: DiskBus,
    pub cache: DiskCache,
    pub readonly: bool,
    pub shareable: bool,
}

impl Default for DiskSettings {
    fn default() -> Self {
        Self {
            bus: DiskBus::Virtio,
            cache: DiskCache::Default,
            readonly: false,
            shareable: false,
        }
    }
}

/// Where a new disk's data is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskSource {
    /// An image file (or the path of an existing volume). Without a format the worker
    /// reads it from the file.
    File {
        path: String,
        format: Option<DiskFormat>,
    },
    /// A new qcow2 volume `name` of `capacity` bytes in pool `pool`; the worker makes it
    /// when the edit is applied.
    NewVolume {
        pool: String,
        name: String,
        capacity: u64,
    },
}

/// A disk as the hardware page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    pub target: String,
    /// The file, device or `pool/volume`; empty when none.
    pub source: String,
    /// `bus` is `None` for a bus this page does not offer (IDE, …).
    pub bus: Option<DiskBus>,
    pub cache: DiskCache,
    pub readonly: bool,
    pub shareable: bool,
}

impl Disk {
    pub fn settings(&self) -> DiskSettings {
        DiskSettings {
            bus: self.bus.unwrap_or(DiskBus::Virtio),
            cache: self.cache,
            readonly: self.readonly,
            shareable: self.shareable,
        }
    }
}

/// The hard disks (not CD-ROMs or floppies) of a `<devices>` element.
pub fn read(devices: &Element) -> Vec<Disk> {
    read_drives(devices, is_hard_disk)
}

/// The CD-ROM drives of a `<devices>` element, with their settings.
pub fn read_cdroms(devices: &Element) -> Vec<Disk> {
    read_drives(devices, is_cdrom)
}

fn read_drives(devices: &Element, kind: fn(&Element) -> bool) -> Vec<Disk> {
    devices
        .elements()
        .filter(|e| kind(e))
        .filter_map(|disk| {
            let target = disk.child("target")?;
            let source = disk.child("source").map_or(String::new(), |s| {
                match (s.attr("pool"), s.attr("volume")) {
                    (Some(pool), Some(volume)) => format!("{pool}/{volume}"),
                    _ => ["file", "dev", "name", "dir"]
                        .iter()
                        .find_map(|name| s.attr(name))
                        .unwrap_or_default()
                        .to_owned(),
                }
            });
            let driver = disk.child("driver");
            Some(Disk {
                target: target.attr("dev")?.to_owned(),
                source,
                bus: target.attr("bus").and_then(DiskBus::from_name),
                cache: driver
                    .and_then(|d| d.attr("cache"))
                    .and_then(DiskCache::from_name)
                    .unwrap_or(DiskCache::Default),
                readonly: disk.child("readonly").is_some(),
                shareable: disk.child("shareable").is_some(),
            })
        })
        .collect()
}

fn is_hard_disk(e: &Element) -> bool {
    e.name == "disk" && e.attr("device").unwrap_or("disk") == "disk"
}

fn is_cdrom(e: &Element) -> bool {
    e.name == "disk" && e.attr("device") == Some("cdrom")
}

/// Whether the machine type of the domain `root` has an IDE controller: QEMU's i440FX PCs
/// (`pc`, `pc-i440fx-…`) and the ISA PC do, Q35 and the rest do not.
pub fn machine_has_ide(root: &Element) -> bool {
    let machine = root
        .child("os")
        .and_then(|os| os.child("type"))
        .and_then(|t| t.attr("machine"))
        .unwrap_or_default();
    machine == "pc" || machine == "isapc" || machine.starts_with("pc-i440fx-")
}

/// Refuses a bus the drive cannot be on: VirtIO for a CD-ROM, IDE on a machine without it.
pub fn check_bus(root: &Element, bus: DiskBus, cdrom: bool) -> Result<(), EditError> {
    if cdrom && bus == DiskBus::Virtio {
        return Err(EditError::CdromOnVirtio);
    }
    if bus == DiskBus::Ide && !machine_has_ide(root) {
        return Err(EditError::NoIdeBus);
    }
    Ok(())
}

/// Refusals of [`DomainEdit::CdromSettings`](super::DomainEdit::CdromSettings).
pub fn check_cdrom(root: &Element, target: &str, settings: &DiskSettings) -> Result<(), EditError> {
    let cdrom = devices(root)?
        .elements()
        .find(|e| is_cdrom(e) && target_of(e) == Some(target))
        .ok_or_else(|| EditError::NoCdrom(target.to_owned()))?;
    check_bus(root, settings.bus, true)?;
    // QEMU's USB storage needs a medium.
    if settings.bus == DiskBus::Usb && cdrom.child("source").is_none() {
        return Err(EditError::EmptyUsbCdrom);
    }
    Ok(())
}

fn target_of(e: &Element) -> Option<&str> {
    e.child("target")?.attr("dev")
}

fn is_disk(e: &Element, target: &str) -> bool {
    is_hard_disk(e) && target_of(e) == Some(target)
}

/// The first free target of `bus`'s family (`vda`, `vdb`, … `vdz`, `vdaa`, …) among every
/// disk, CD-ROM and floppy, leaving out `except`.
pub fn free_target(devices: &Element, bus: DiskBus, except: Option<&str>) -> String {
    let taken: Vec<&str> = devices
        .elements()
        .filter(|e| e.name == "disk")
        .filter_map(target_of)
        .filter(|t| Some(*t) != except)
        .collect();
    (0..)
        .map(|n| format!("{}{}", bus.prefix(), drive_letters(n)))
        .find(|t| !taken.contains(&t.as_str()))
        .expect("an endless list has a free name")
}

/// `a`…`z`, `aa`…: Linux's names for the disk numbered `n` from 0.
fn drive_letters(mut n: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// Refusals of the disk edits, before anything changes.
pub fn check_add(source: &DiskSource) -> Result<(), EditError> {
    match source {
        DiskSource::File { path, .. } if path.trim().is_empty() => Err(EditError::NoDiskImage),
        DiskSource::NewVolume { pool, .. } if pool.is_empty() => Err(EditError::NoPool),
        DiskSource::NewVolume { name, .. } if name.trim().is_empty() => {
            Err(EditError::NoVolumeName)
        }
        DiskSource::NewVolume { capacity: 0, .. } => Err(EditError::DiskSizeZero),
        _ => Ok(()),
    }
}

pub fn check_exists(root: &Element, target: &str) -> Result<(), EditError> {
    devices(root)?
        .elements()
        .any(|e| is_disk(e, target))
        .then_some(())
        .ok_or_else(|| EditError::NoDisk(target.to_owned()))
}

/// Adds a disk (and a virtio-scsi controller for a SCSI disk when there is none).
pub fn add(
    root: &mut Element,
    source: &DiskSource,
    settings: &DiskSettings,
) -> Result<Touched, EditError> {
    let devices = devices_mut(root)?;
    let target = free_target(devices, settings.bus, None);
    let (kind, format, source) = match source {
        DiskSource::File { path, format } => (
            "file",
            format.unwrap_or(DiskFormat::Raw),
            Element::new("source").with_attr("file", path),
        ),
        DiskSource::NewVolume { pool, name, .. } => (
            "volume",
            DiskFormat::Qcow2,
            Element::new("source")
                .with_attr("pool", pool)
                .with_attr("volume", name),
        ),
    };
    let mut disk = Element::new("disk")
        .with_attr("type", kind)
        .with_attr("device", "disk")
        .with_child(
            Element::new("driver")
                .with_attr("name", "qemu")
                .with_attr("type", format.as_str()),
        )
        .with_child(source)
        .with_child(Element::new("target").with_attr("dev", &target));
    set_settings(&mut disk, settings, &target);
    Ok(plug(devices, disk, settings.bus))
}

/// Puts the new drive `drive` after the other drives, with a SCSI controller for it when
/// its `bus` needs one, and says what was added, in the order to attach.
fn plug(devices: &mut Element, drive: Element, bus: DiskBus) -> Touched {
    let mut added: Vec<Element> = scsi_controller_for(devices, bus).into_iter().collect();
    devices.insert_after(&["emulator", "disk"], drive.clone());
    added.push(drive);
    match added.len() {
        1 => Touched::Added(added.remove(0)),
        _ => Touched::AddedAll(added),
    }
}

/// Adds an empty CD-ROM drive on the first free target of its bus (and a virtio-scsi
/// controller for SCSI when there is none); it is read-only whatever `settings` say.
pub fn add_cdrom(root: &mut Element, settings: &DiskSettings) -> Result<Touched, EditError> {
    let devices = devices_mut(root)?;
    let target = free_target(devices, settings.bus, None);
    let mut cdrom = Element::new("disk")
        .with_attr("type", "file")
        .with_attr("device", "cdrom")
        .with_child(
            Element::new("driver")
                .with_attr("name", "qemu")
                .with_attr("type", DiskFormat::Raw.as_str()),
        )
        .with_child(Element::new("target").with_attr("dev", &target));
    let settings = DiskSettings {
        readonly: true,
        ..*settings
    };
    set_settings(&mut cdrom, &settings, &target);
    Ok(plug(devices, cdrom, settings.bus))
}

/// A disk on the SCSI bus needs a SCSI controller: adds a virtio-scsi one when `bus` is
/// SCSI and there is none, and returns it.
fn scsi_controller_for(devices: &mut Element, bus: DiskBus) -> Option<Element> {
    let is_scsi = |e: &Element| e.name == "controller" && e.attr("type") == Some("scsi");
    if bus != DiskBus::Scsi || devices.elements().any(is_scsi) {
        return None;
    }
    let controller = Element::new("controller")
        .with_attr("type", "scsi")
        .with_attr("index", "0")
        .with_attr("model", "virtio-scsi");
    devices.insert_after(&["emulator", "disk", "controller"], controller.clone());
    Some(controller)
}

/// Removes disk `target`; its data stays (the worker deletes a volume when asked).
pub fn remove(root: &mut Element, target: &str) -> Result<Touched, EditError> {
    let devices = devices_mut(root)?;
    let disk = devices
        .elements()
        .find(|e| is_disk(e, target))
        .cloned()
        .ok_or_else(|| EditError::NoDisk(target.to_owned()))?;
    devices.remove_children(|e| is_disk(e, target));
    Ok(Touched::Removed(disk))
}

/// Changes disk `target`'s bus, cache mode and flags. A new bus gives it a new target of
/// that bus's family, and drops its guest address (the bus decides it).
pub fn change(
    root: &mut Element,
    target: &str,
    settings: &DiskSettings,
) -> Result<Touched, EditError> {
    change_drive(root, target, settings, is_hard_disk)
        .ok_or_else(|| EditError::NoDisk(target.to_owned()))?
}

/// Changes CD-ROM `target`'s bus, cache mode and shareable flag, as [`change`] does a
/// disk's; a CD-ROM stays read-only.
pub fn change_cdrom(
    root: &mut Element,
    target: &str,
    settings: &DiskSettings,
) -> Result<Touched, EditError> {
    let settings = DiskSettings {
        readonly: true,
        ..*settings
    };
    change_drive(root, target, &settings, is_cdrom)
        .ok_or_else(|| EditError::NoCdrom(target.to_owned()))?
}

/// [`change`] for the drive `target` of `kind`; `None` when there is none.
fn change_drive(
    root: &mut Element,
    target: &str,
    settings: &DiskSettings,
    kind: fn(&Element) -> bool,
) -> Option<Result<Touched, EditError>> {
    let is_drive = |e: &Element| kind(e) && target_of(e) == Some(target);
    let devices = match devices_mut(root) {
        Ok(devices) => devices,
        Err(error) => return Some(Err(error)),
    };
    let bus_changes = devices
        .elements()
        .find(|e| is_drive(e))?
        .child("target")
        .and_then(|t| t.attr("bus"))
        != Some(settings.bus.as_str());
    let new_target = if bus_changes {
        free_target(devices, settings.bus, Some(target))
    } else {
        target.to_owned()
    };
    scsi_controller_for(devices, settings.bus);
    let disk = devices
        .elements_mut()
        .find(|e| is_drive(e))
        .expect("found above");
    if bus_changes {
        disk.remove_children(|e| e.name == "address");
    }
    set_settings(disk, settings, &new_target);
    Some(Ok(Touched::Updated(disk.clone())))
}

/// Writes `settings` and `target` into a `<disk>`.
fn set_settings(disk: &mut Element, settings: &DiskSettings, target: &str) {
    let element = disk.child_or_insert("target");
    element.set_attr("dev", target);
    element.set_attr("bus", settings.bus.as_str());
    let driver = disk.child_or_insert("driver");
    match settings.cache {
        DiskCache::Default => driver.remove_attr("cache"),
        cache => driver.set_attr("cache", cache.as_str()),
    }
    for (name, on) in [
        ("readonly", settings.readonly),
        ("shareable", settings.shareable),
    ] {
        if !on {
            disk.remove_children(|e| e.name == name);
        } else if disk.child(name).is_none() {
            disk.insert_after(
                &["driver", "source", "target", "backingStore"],
                Element::new(name),
            );
        }
    }
}
