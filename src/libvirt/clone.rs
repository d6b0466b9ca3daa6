//! Cloning a shut-off machine, all or nothing.
//!
//! - **Full**: every writable disk is copied into a new volume of the same pool
//!   (`virStorageVolCreateXMLFrom`), its growth reported as progress; CD-ROMs and read-only
//!   or shareable disks are shared.
//! - **Linked**: every writable disk gets a qcow2 overlay backed by the source's disk, in
//!   seconds. The source must then not change, so it is marked as a template in its
//!   metadata ([`TEMPLATE_NS`]); the worker refuses to start a template until it is
//!   unmarked.
//!
//! The clone gets a new name, UUID and MAC addresses (libvirt makes them) and is shut off.
//! Its UEFI variables (boot entries, Secure Boot keys) are a copy of the source's, made
//! like a disk copy in the pool that holds them (a directory pool is made for their
//! directory when none does); a source that never started has none, and the clone's then
//! start from the firmware's template as its source's would.
//! Whatever fails or is cancelled midway, the volumes made so far are deleted again; a
//! failure names anything that could not be removed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use virt::connect::Connect;
use virt::domain::Domain;
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;
use virt::sys;

use super::error::{describe, is_no_domain};
use super::requests::{Reply, RequestError};
use super::snapshots::{writable_disks, WritableDisk};
use super::storage::{self, PoolSource, PoolSpec};
use super::worker::Refresher;
use crate::spec::edit::tree::Element;

/// The namespace of Virtdeck's own domain metadata; `<virtdeck:template/>` in it marks a
/// machine that linked clones are backed by.
pub const TEMPLATE_NS: &str = "https://github.com/virtdeck/virtdeck/template/1";

/// How a new machine shares its source's disks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloneKind {
    Full,
    Linked,
}

/// How far a clone is: disk `disk` of `disks` (1-based), `done` of `total` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloneProgress {
    pub disk: usize,
    pub disks: usize,
    pub target: String,
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloneError {
    #[error("A virtual machine needs a name.")]
    EmptyName,
    #[error("A name cannot contain “/”.")]
    BadName,
    #[error("There is already a virtual machine called “{0}”.")]
    NameTaken(String),
    #[error(
        "Shut the machine down first: a running machine’s disks change while they are copied."
    )]
    Running,
    #[error("The disk {0} is not in a storage pool, so it cannot be copied there.")]
    NotInPool(String),
    #[error("The clone was cancelled.")]
    Cancelled,
    #[error("{0}")]
    Libvirt(String),
    #[error("Could not write the clone’s description: {0}")]
    Xml(String),
}

/// A clone that did not happen, and what of it could not be removed again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct CloneFailure {
    pub error: CloneError,
    /// Paths of volumes that were made but could not be deleted, with libvirt's reason.
    pub left_behind: Vec<(String, String)>,
}

impl From<virt::error::Error> for CloneError {
    fn from(error: virt::error::Error) -> Self {
        Self::Libvirt(describe(&error))
    }
}

/// Requests about cloning; machines are named by UUID.
#[derive(Debug)]
pub enum CloneRequest {
    /// Clone the shut-off machine `uuid` as `name`; answers the clone's UUID. Progress
    /// goes to `progress`; setting `cancel` stops it at the next step and removes what
    /// was made.
    Clone {
        uuid: String,
        name: String,
        kind: CloneKind,
        progress: async_channel::Sender<CloneProgress>,
        cancel: Arc<AtomicBool>,
        reply: Reply<String>,
    },
    /// Whether `name` is free for a new machine (`Err` with the reason when not).
    CheckName { name: String, reply: Reply<()> },
    /// Mark or unmark machine `uuid` as a template of linked clones.
    SetTemplate {
        uuid: String,
        template: bool,
        reply: Reply<()>,
    },
}

impl CloneRequest {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Clone { .. } => "Clone::Clone",
            Self::CheckName { .. } => "Clone::CheckName",
            Self::SetTemplate { .. } => "Clone::SetTemplate",
        }
    }
}

/// Answers `request` on `conn`: a clone on a thread of its own (copying disks takes
/// minutes), the rest at once. Marking a template sends no event, so the source is
/// re-read through `refresher` once it may have changed, before the answer goes out.
pub(super) fn serve(conn: Option<&Connect>, refresher: &Refresher, request: CloneRequest) {
    match request {
        CloneRequest::Clone {
            uuid,
            name,
            kind,
            progress,
            cancel,
            reply,
        } => {
            let refresher = refresher.clone();
            reply.answer_in_background(conn, "virtdeck-clone", move |c| {
                let report = |step| {
                    let _ = progress.try_send(step);
                };
                let cloned = clone_vm(c, &uuid, name.trim(), kind, &cancel, &report);
                refresher.domains(vec![uuid]);
                Ok(cloned?)
            });
        }
        CloneRequest::CheckName { name, reply } => reply.answer(conn, |c| {
            check_name(c, name.trim()).map_err(|error| {
                RequestError::Clone(CloneFailure {
                    error,
                    left_behind: Vec::new(),
                })
            })
        }),
        CloneRequest::SetTemplate {
            uuid,
            template,
            reply,
        } => reply.answer(conn, |c| {
            let domain = c.lookup_domain_by_uuid_string(&uuid)?;
            let marked = set_template(&domain, template);
            refresher.domains(vec![uuid]);
            Ok(marked?)
        }),
    }
}

/// Whether `name` can be a new machine's name on `conn`.
pub fn check_name(conn: &Connect, name: &str) -> Result<(), CloneError> {
    if name.is_empty() {
        return Err(CloneError::EmptyName);
    }
    if name.contains('/') {
        return Err(CloneError::BadName);
    }
    match conn.lookup_domain_by_name(name) {
        Ok(_) => Err(CloneError::NameTaken(name.to_owned())),
        Err(e) if is_no_domain(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Marks (or unmarks) `domain` as the template of linked clones, in its configuration.
pub fn set_template(domain: &Domain, template: bool) -> Result<(), virt::error::Error> {
    let flags = sys::VIR_DOMAIN_AFFECT_CONFIG;
    let kind = sys::VIR_DOMAIN_METADATA_ELEMENT as i32;
    if template {
        domain.set_metadata(
            kind,
            Some("<template/>"),
            Some("virtdeck"),
            Some(TEMPLATE_NS),
            flags,
        )
    } else {
        domain.set_metadata(kind, None, None, Some(TEMPLATE_NS), flags)
    }
}

/// Clones `uuid` as `name` (see the module documentation). Blocks.
pub fn clone_vm(
    conn: &Connect,
    uuid: &str,
    name: &str,
    kind: CloneKind,
    cancel: &AtomicBool,
    report: &(dyn Fn(CloneProgress) + Sync),
) -> Result<String, CloneFailure> {
    let mut made: Vec<StorageVol> = Vec::new();
    match clone_steps(conn, uuid, name, kind, cancel, report, &mut made) {
        Ok(uuid) => Ok(uuid),
        Err(error) => {
            let left_behind = made
                .iter()
                .filter_map(|vol| {
                    let path = vol.path().unwrap_or_default();
                    vol.delete(0).err().map(|e| (path, describe(&e)))
                })
                .collect();
            Err(CloneFailure { error, left_behind })
        }
    }
}

fn clone_steps(
    conn: &Connect,
    uuid: &str,
    name: &str,
    kind: CloneKind,
    cancel: &AtomicBool,
    report: &(dyn Fn(CloneProgress) + Sync),
    made: &mut Vec<StorageVol>,
) -> Result<String, CloneError> {
    let source = conn.lookup_domain_by_uuid_string(uuid)?;
    if source.is_active()? {
        return Err(CloneError::Running);
    }
    check_name(conn, name)?;
    let xml = source.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)?;
    let disks = writable_disks(&xml).map_err(|e| CloneError::Xml(e.to_string()))?;
    let mut sources = HashMap::new();
    for (index, disk) in disks.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(CloneError::Cancelled);
        }
        let Some(path) = &disk.source else { continue };
        let vol = conn
            .lookup_storage_vol_by_path(path)
            .or_else(|_| {
                // A file put into a pool's directory is found after a refresh.
                refresh_pools(conn);
                conn.lookup_storage_vol_by_path(path)
            })
            .map_err(|_| CloneError::NotInPool(path.clone()))?;
        let pool = vol.lookup_storage_pool()?;
        let total = vol.info()?.capacity;
        let step = |done| CloneProgress {
            disk: index + 1,
            disks: disks.len(),
            target: disk.target.clone(),
            done,
            total,
        };
        report(step(0));
        let new = match kind {
            CloneKind::Linked => {
                let xml = volume_xml(&volume_name(name, disk, kind), total, "qcow2", Some(disk))?;
                StorageVol::create_xml(&pool, &xml, 0)?
            }
            CloneKind::Full => {
                let new_name = volume_name(name, disk, kind);
                let xml = volume_xml(&new_name, total, &disk.format, None)?;
                copy_with_progress(&pool, &vol, &new_name, &xml, &|done| report(step(done)))?
            }
        };
        made.push(new);
        let new_path = made.last().expect("just made").path()?;
        sources.insert(path.clone(), new_path);
        report(step(total));
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(CloneError::Cancelled);
    }
    let nvram = copy_nvram(conn, &xml, name, made)?;
    let new_xml = clone_xml(&xml, name, &sources, nvram.as_deref())?;
    let clone = conn.define_domain_xml(&new_xml)?;
    if kind == CloneKind::Linked {
        if let Err(error) = set_template(&source, true) {
            let _ = clone.undefine_flags(sys::VIR_DOMAIN_UNDEFINE_NVRAM);
            return Err(error.into());
        }
    }
    Ok(clone.uuid_string()?)
}

/// The path of the UEFI variables of the domain described by `xml`, if it has a file.
fn nvram_path(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let os = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("os"))?;
    let path = os
        .children()
        .find(|n| n.has_tag_name("nvram"))?
        .text()?
        .trim();
    (!path.is_empty()).then(|| path.to_owned())
}

/// The storage volume at `path`, found after a refresh of the pools if need be.
fn volume_at(conn: &Connect, path: &str) -> Option<StorageVol> {
    conn.lookup_storage_vol_by_path(path).ok().or_else(|| {
        refresh_pools(conn);
        conn.lookup_storage_vol_by_path(path).ok()
    })
}

/// Copies the source's UEFI variables into `<clone>_VARS.fd` beside them and answers the
/// copy's path; `None` when the source has no variables file yet (it never started).
/// When no pool holds their directory, a directory pool is made for it (`nvram`, or
/// `nvram-2`… when that name is taken), as it stays useful for every later clone.
fn copy_nvram(
    conn: &Connect,
    xml: &str,
    clone: &str,
    made: &mut Vec<StorageVol>,
) -> Result<Option<String>, CloneError> {
    let Some(path) = nvram_path(xml) else {
        return Ok(None);
    };
    let vol = match volume_at(conn, &path) {
        Some(vol) => vol,
        None => {
            let Some(dir) = std::path::Path::new(&path).parent() else {
                return Ok(None);
            };
            let name = std::iter::once("nvram".to_owned())
                .chain((2..).map(|n| format!("nvram-{n}")))
                .find(|n| conn.lookup_storage_pool_by_name(n).is_err())
                .expect("an unused name");
            let spec = PoolSpec {
                name,
                source: PoolSource::Dir {
                    path: dir.to_string_lossy().into_owned(),
                },
                autostart: true,
            };
            storage::create_pool(conn, &spec).map_err(|e| CloneError::Libvirt(e.to_string()))?;
            match volume_at(conn, &path) {
                Some(vol) => vol,
                // Named in the XML but never written: the clone's start from the template.
                None => return Ok(None),
            }
        }
    };
    let pool = vol.lookup_storage_pool()?;
    let xml = volume_xml(
        &format!("{clone}_VARS.fd"),
        vol.info()?.capacity,
        "raw",
        None,
    )?;
    let copy = StorageVol::create_xml_from(&pool, &xml, &vol, 0)?;
    let copy_path = copy.path()?;
    made.push(copy);
    Ok(Some(copy_path))
}

/// Refreshes every active pool's list of volumes.
fn refresh_pools(conn: &Connect) {
    let pools = conn
        .list_all_storage_pools(sys::VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        .unwrap_or_default();
    for pool in pools {
        let _ = pool.refresh(0);
    }
}

/// `<clone>-<target>.<ext>`: qcow2 for overlays and qcow2 copies, `img` otherwise.
fn volume_name(clone: &str, disk: &WritableDisk, kind: CloneKind) -> String {
    let ext = if kind == CloneKind::Linked || disk.format == "qcow2" {
        "qcow2"
    } else {
        "img"
    };
    format!("{clone}-{}.{ext}", disk.target)
}

/// Copies `source` into a new volume `name` of `pool`, telling how much is written every
/// half second while libvirt copies.
fn copy_with_progress(
    pool: &StoragePool,
    source: &StorageVol,
    name: &str,
    xml: &str,
    report: &(dyn Fn(u64) + Sync),
) -> Result<StorageVol, CloneError> {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(500));
                if let Ok(info) = pool
                    .lookup_storage_vol_by_name(name)
                    .and_then(|vol| vol.info())
                {
                    report(info.allocation);
                }
            }
        });
        let result = StorageVol::create_xml_from(pool, xml, source, 0);
        done.store(true, Ordering::Relaxed);
        result.map_err(CloneError::from)
    })
}

#[derive(Serialize)]
#[serde(rename = "volume")]
struct VolumeXml<'a> {
    name: &'a str,
    capacity: Capacity,
    target: Target<'a>,
    #[serde(rename = "backingStore", skip_serializing_if = "Option::is_none")]
    backing_store: Option<Backing<'a>>,
}

#[derive(Serialize)]
struct Capacity {
    #[serde(rename = "@unit")]
    unit: &'static str,
    #[serde(rename = "$text")]
    value: u64,
}

#[derive(Serialize)]
struct Target<'a> {
    format: Format<'a>,
}

#[derive(Serialize)]
struct Format<'a> {
    #[serde(rename = "@type")]
    kind: &'a str,
}

#[derive(Serialize)]
struct Backing<'a> {
    path: &'a str,
    format: Format<'a>,
}

/// The XML of a new volume; with `backing`, a qcow2 overlay on that disk.
fn volume_xml(
    name: &str,
    bytes: u64,
    format: &str,
    backing: Option<&WritableDisk>,
) -> Result<String, CloneError> {
    let volume = VolumeXml {
        name,
        capacity: Capacity {
            unit: "bytes",
            value: bytes,
        },
        target: Target {
            format: Format { kind: format },
        },
        backing_store: backing.and_then(|disk| {
            Some(Backing {
                path: disk.source.as_deref()?,
                format: Format { kind: &disk.format },
            })
        }),
    };
    quick_xml::se::to_string(&volume).map_err(|e| CloneError::Xml(e.to_string()))
}

/// The clone's domain XML made from the source's: its `name`, no UUID and no MAC
/// addresses (libvirt makes new ones), each copied disk's source replaced by its copy
/// (`sources`: old path → new path), the UEFI variables at `nvram` (their copy) or, without
/// one, at a path libvirt chooses, and no template mark. Everything else is kept as it was.
pub fn clone_xml(
    xml: &str,
    name: &str,
    sources: &HashMap<String, String>,
    nvram: Option<&str>,
) -> Result<String, CloneError> {
    let mut domain = Element::parse(xml).map_err(|e| CloneError::Xml(e.to_string()))?;
    domain.child_or_insert("name").set_text(name);
    domain.remove_children(|e| e.name == "uuid");
    if let Some(metadata) = domain.child_mut("metadata") {
        metadata.remove_children(|e| e.name.starts_with("virtdeck:"));
    }
    // Without a copy, libvirt puts the clone's variables at a path of its own.
    if let Some(path) = domain.child_mut("os").and_then(|os| os.child_mut("nvram")) {
        path.set_text(nvram.unwrap_or(""));
    }
    if let Some(devices) = domain.child_mut("devices") {
        for device in devices.elements_mut() {
            match device.name.as_str() {
                "interface" => {
                    device.remove_children(|e| e.name == "mac");
                }
                "disk" => {
                    let source = device.child_mut("source");
                    if let Some(source) = source {
                        let copy = source.attr("file").and_then(|old| sources.get(old));
                        if let Some(copy) = copy.cloned() {
                            source.set_attr("file", &copy);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(domain.to_xml())
}

/// Whether a domain XML carries the template mark.
pub fn is_template(metadata: Option<roxmltree::Node>) -> bool {
    metadata.is_some_and(|m| {
        m.children()
            .any(|n| n.has_tag_name((TEMPLATE_NS, "template")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"<domain type="qemu">
  <name>web &amp; db</name>
  <uuid>0b1d8a5e-0000-4000-8000-000000000001</uuid>
  <metadata>
    <virtdeck:template xmlns:virtdeck="https://github.com/virtdeck/virtdeck/template/1"/>
    <osi:libosinfo xmlns:osi="http://libosinfo.org/xmlns/libvirt/domain/1.0"><osi:os id="http://debian.org/debian/12"/></osi:libosinfo>
  </metadata>
  <os firmware="efi"><type>hvm</type><nvram template="/usr/share/OVMF/OVMF_VARS_4M.fd">/n/web_VARS.fd</nvram></os>
  <devices>
    <disk type="file" device="disk"><driver name="qemu" type="qcow2"/><source file="/p/web.qcow2"/><target dev="vda"/></disk>
    <disk type="file" device="cdrom"><driver name="qemu" type="raw"/><source file="/iso/d.iso"/><target dev="sda"/><readonly/></disk>
    <interface type="network"><mac address="52:54:00:11:22:33"/><source network="default"/></interface>
  </devices>
</domain>"#;

    fn sources_map() -> HashMap<String, String> {
        HashMap::from([("/p/web.qcow2".to_owned(), "/p/new-vda.qcow2".to_owned())])
    }

    #[test]
    fn the_clone_gets_a_name_new_disks_and_no_identity() {
        let xml = clone_xml(SOURCE, "new <one>", &sources_map(), None).unwrap();
        assert!(xml.contains("<name>new &lt;one&gt;</name>"), "{xml}");
        assert!(!xml.contains("<uuid>"), "{xml}");
        assert!(!xml.contains("52:54:00:11:22:33"), "{xml}");
        assert!(!xml.contains("virtdeck:template"), "{xml}");
        let clone = Element::parse(&xml).expect("well-formed");
        let metadata = clone.child("metadata").unwrap();
        let osinfo = metadata.child("osi:libosinfo").unwrap().child("osi:os");
        assert_eq!(
            osinfo.unwrap().attr("id"),
            Some("http://debian.org/debian/12")
        );
        let devices = clone.child("devices").unwrap();
        let sources: Vec<_> = devices
            .elements()
            .filter_map(|d| d.child("source"))
            .map(|s| s.attr("file").or(s.attr("network")).unwrap())
            .collect();
        // The CD-ROM is shared, the network kept.
        assert_eq!(sources, ["/p/new-vda.qcow2", "/iso/d.iso", "default"]);
        let nvram = |clone: &Element| {
            let nvram = clone.child("os").unwrap().child("nvram").unwrap().clone();
            (nvram.attr("template").map(str::to_owned), nvram.text())
        };
        let template = Some("/usr/share/OVMF/OVMF_VARS_4M.fd".to_owned());
        assert_eq!(nvram(&clone), (template.clone(), String::new()));
        let copied = clone_xml(SOURCE, "new", &sources_map(), Some("/n/new_VARS.fd")).unwrap();
        let copied = Element::parse(&copied).unwrap();
        assert_eq!(nvram(&copied), (template, "/n/new_VARS.fd".to_owned()));
        assert_eq!(nvram_path(SOURCE).as_deref(), Some("/n/web_VARS.fd"));
        assert_eq!(nvram_path("<domain><os><nvram/></os></domain>"), None);
    }

    #[test]
    fn the_template_mark_is_found() {
        let doc = roxmltree::Document::parse(SOURCE).unwrap();
        let meta = doc
            .root_element()
            .children()
            .find(|n| n.has_tag_name("metadata"));
        assert!(is_template(meta));
        let plain = roxmltree::Document::parse("<domain><metadata/></domain>").unwrap();
        assert!(!is_template(plain.root_element().first_element_child()));
    }

    #[test]
    fn an_overlay_names_its_backing_file() {
        let disk = WritableDisk {
            target: "vda".into(),
            format: "raw".into(),
            source: Some("/p/a.img".into()),
        };
        assert_eq!(volume_name("c", &disk, CloneKind::Full), "c-vda.img");
        assert_eq!(volume_name("c", &disk, CloneKind::Linked), "c-vda.qcow2");
        assert_eq!(
            volume_xml("c-vda.qcow2", 1024, "qcow2", Some(&disk)).unwrap(),
            "<volume><name>c-vda.qcow2</name><capacity unit=\"bytes\">1024</capacity>\
             <target><format type=\"qcow2\"/></target><backingStore><path>/p/a.img</path>\
             <format type=\"raw\"/></backingStore></volume>"
        );
    }
}
