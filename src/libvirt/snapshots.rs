//! A machine's snapshots: listing them as a tree, creating, reverting to and deleting them.
//!
//! Which kind a new snapshot is follows from the machine ([`SnapshotPlan::for_domain`]):
//! **internal** (kept inside the qcow2 disks, memory included while the machine runs) when
//! every writable disk is qcow2 and the machine has no UEFI variables in pflash, which QEMU
//! cannot keep in an internal snapshot; **external** (new overlay files beside each
//! writable disk, the memory in a file beside the first one) otherwise. libvirt ≥ 9.9
//! reverts to and deletes external snapshots. The two kinds are never mixed on one machine:
//! a machine whose snapshots are of the other kind is refused with the reason
//! ([`SnapshotError::MixedKinds`]).
//!
//! The guest's screen at the time is kept as the screenshot libvirt gives (PNG from QEMU)
//! on the computer Virtdeck runs on, in
//! `$XDG_DATA_HOME/virtdeck/snapshots/<machine UUID>/<snapshot name>.png`
//! ([`screenshot_path`]): libvirt's snapshot XML has no room for it, and the machine's own
//! metadata goes back in time with every revert. Deleting a snapshot deletes its picture.

use std::path::{Path, PathBuf};

use roxmltree::{Document, Node};
use serde::Serialize;
use virt::connect::Connect;
use virt::domain::Domain;
use virt::stream::Stream;

use super::error::describe;
use super::requests::{Reply, RequestError};

/// Where a snapshot keeps the disks' state (and the memory's, if it has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SnapshotKind {
    /// Inside the qcow2 disk images.
    Internal,
    /// In new files: an overlay for each disk, the memory in a file of its own.
    External,
}

/// One snapshot of a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub name: String,
    pub description: String,
    /// The snapshot it was taken on top of.
    pub parent: Option<String>,
    /// Seconds since the epoch.
    pub created: i64,
    /// libvirt's word for the machine's state then: `running`, `shutoff`, `paused`, …
    pub state: String,
    /// Whether the machine's memory is in it (reverting resumes the running guest).
    pub memory: bool,
    pub kind: SnapshotKind,
    /// The machine's current snapshot: the one its state descends from.
    pub current: bool,
    /// The guest's screen when it was taken, if one was kept.
    pub screenshot: Option<PathBuf>,
}

impl SnapshotInfo {
    /// Whether the machine was running (or paused) when it was taken.
    pub fn was_running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "paused" | "blocked")
    }
}

/// A machine's snapshots and what a new one would be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshots {
    /// Parents before their children, siblings by time.
    pub list: Vec<SnapshotInfo>,
    /// The kind of a new snapshot, or why none can be made.
    pub plan: Result<SnapshotKind, SnapshotError>,
}

/// What a machine's snapshot requests are refused with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The machine's snapshots are of one kind, a new one would have to be of the other.
    #[error("This machine’s snapshots are {existing}, but a new one would have to be {needed} ({reason}). The two kinds cannot be mixed on one machine: delete the existing snapshots first.")]
    MixedKinds {
        existing: KindWord,
        needed: KindWord,
        reason: ExternalReason,
    },
    /// Nothing to keep the machine's state in.
    #[error("This machine has no writable disk to snapshot.")]
    NoDisk,
    #[error("A snapshot needs a name.")]
    EmptyName,
    #[error("A snapshot name cannot contain “/” or begin with “.”.")]
    BadName,
    #[error("There is already a snapshot called “{0}”.")]
    NameTaken(String),
    /// The machine has no disk to put the memory file beside.
    #[error("There is no writable disk or UEFI variable file to keep the memory state beside.")]
    NoPlaceForMemory,
    #[error("Could not write the snapshot’s description: {0}")]
    Xml(String),
}

/// A [`SnapshotKind`] in the words of [`SnapshotError::MixedKinds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindWord(pub SnapshotKind);

impl std::fmt::Display for KindWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            SnapshotKind::Internal => "internal",
            SnapshotKind::External => "external",
        })
    }
}

/// Why a machine's snapshots must be external.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalReason {
    /// It keeps UEFI variables in pflash.
    Uefi,
    /// This writable disk is not qcow2 (its target and format).
    NotQcow2 { target: String, format: String },
    /// Nothing: internal snapshots suit it.
    None,
}

impl std::fmt::Display for ExternalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Uefi => f.write_str("it boots with UEFI"),
            Self::NotQcow2 { target, format } => {
                write!(f, "its disk {target} is {format}, not qcow2")
            }
            Self::None => f.write_str("all its writable disks are qcow2"),
        }
    }
}

/// A writable disk of a machine (not a CD-ROM or floppy, not read-only or shareable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WritableDisk {
    pub target: String,
    /// The image format libvirt is told (`raw` when it is not).
    pub format: String,
    pub source: Option<String>,
}

/// The writable disks of the domain XML `xml`, and the targets of the others.
fn split_disks(root: Node) -> (Vec<WritableDisk>, Vec<String>) {
    let mut writable = Vec::new();
    let mut skipped = Vec::new();
    for disk in child(root, "devices")
        .into_iter()
        .flat_map(|d| d.children())
        .filter(|n| n.has_tag_name("disk"))
    {
        let Some(target) = child(disk, "target").and_then(|t| t.attribute("dev")) else {
            continue;
        };
        let device = disk.attribute("device").unwrap_or("disk");
        let read_only = child(disk, "readonly").is_some() || child(disk, "shareable").is_some();
        if matches!(device, "cdrom" | "floppy") || read_only {
            skipped.push(target.to_owned());
            continue;
        }
        writable.push(WritableDisk {
            target: target.to_owned(),
            format: child(disk, "driver")
                .and_then(|d| d.attribute("type"))
                .unwrap_or("raw")
                .to_owned(),
            source: child(disk, "source").and_then(source_file),
        });
    }
    (writable, skipped)
}

/// The writable disks of the domain XML `xml`.
pub(super) fn writable_disks(xml: &str) -> Result<Vec<WritableDisk>, roxmltree::Error> {
    Ok(split_disks(Document::parse(xml)?.root_element()).0)
}

/// What a domain XML says about snapshots of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPlan {
    pub kind: SnapshotKind,
    pub reason: ExternalReason,
    /// Targets of the disks that are not snapshotted (CD-ROMs, read-only, shareable).
    skipped: Vec<String>,
    writable: Vec<WritableDisk>,
    nvram: Option<String>,
}

impl SnapshotPlan {
    /// Reads the domain XML `xml`.
    pub fn for_domain(xml: &str) -> Result<Self, SnapshotError> {
        let doc = Document::parse(xml).map_err(|e| SnapshotError::Xml(e.to_string()))?;
        let root = doc.root_element();
        let os = child(root, "os");
        let nvram = os
            .and_then(|os| child(os, "nvram"))
            .and_then(|n| n.text().map(str::to_owned).or(source_file(n)));
        let uefi = os.is_some_and(|os| {
            os.attribute("firmware") == Some("efi")
                || child(os, "loader").is_some_and(|l| l.attribute("type") == Some("pflash"))
                || child(os, "nvram").is_some()
        });
        let (writable, skipped) = split_disks(root);
        let reason = if uefi {
            ExternalReason::Uefi
        } else if let Some(disk) = writable.iter().find(|d| d.format != "qcow2") {
            ExternalReason::NotQcow2 {
                target: disk.target.clone(),
                format: disk.format.clone(),
            }
        } else {
            ExternalReason::None
        };
        let kind = if reason == ExternalReason::None {
            SnapshotKind::Internal
        } else {
            SnapshotKind::External
        };
        Ok(Self {
            kind,
            reason,
            skipped,
            writable,
            nvram,
        })
    }

    /// The kind of a new snapshot next to `existing` ones, or why none can be made.
    pub fn check_against(&self, existing: &[SnapshotInfo]) -> Result<SnapshotKind, SnapshotError> {
        if self.writable.is_empty() {
            return Err(SnapshotError::NoDisk);
        }
        match existing.iter().find(|s| s.kind != self.kind) {
            Some(other) => Err(SnapshotError::MixedKinds {
                existing: KindWord(other.kind),
                needed: KindWord(self.kind),
                reason: self.reason.clone(),
            }),
            None => Ok(self.kind),
        }
    }

    /// The snapshot XML of a new snapshot `name`; `memory` when the machine runs. An
    /// external one with memory keeps it in `<dir>/<machine>-<name>.mem`, the directory of
    /// the first writable disk (or of the UEFI variables).
    pub fn snapshot_xml(
        &self,
        machine: &str,
        name: &str,
        description: &str,
        memory: bool,
    ) -> Result<String, SnapshotError> {
        let external = self.kind == SnapshotKind::External;
        let memory = match (external, memory) {
            (false, _) => None,
            (true, false) => Some(MemoryXml {
                snapshot: "no",
                file: None,
            }),
            (true, true) => {
                let dir = self
                    .writable
                    .iter()
                    .find_map(|d| d.source.as_deref())
                    .or(self.nvram.as_deref())
                    .and_then(|p| Path::new(p).parent())
                    .ok_or(SnapshotError::NoPlaceForMemory)?;
                let file = dir.join(format!("{}-{name}.mem", file_safe(machine)));
                Some(MemoryXml {
                    snapshot: "external",
                    file: Some(file.to_string_lossy().into_owned()),
                })
            }
        };
        let disks = external.then(|| DisksXml {
            disk: self
                .writable
                .iter()
                .map(|d| DiskXml {
                    name: &d.target,
                    snapshot: "external",
                })
                .chain(self.skipped.iter().map(|t| DiskXml {
                    name: t,
                    snapshot: "no",
                }))
                .collect(),
        });
        let snapshot = SnapshotXml {
            name,
            description,
            memory,
            disks,
        };
        let mut out = String::new();
        let mut ser = quick_xml::se::Serializer::with_root(&mut out, Some("domainsnapshot"))
            .map_err(|e| SnapshotError::Xml(e.to_string()))?;
        ser.indent(' ', 2);
        snapshot
            .serialize(ser)
            .map_err(|e| SnapshotError::Xml(e.to_string()))?;
        Ok(out)
    }
}

#[derive(Serialize)]
struct SnapshotXml<'a> {
    name: &'a str,
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory: Option<MemoryXml>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disks: Option<DisksXml<'a>>,
}

#[derive(Serialize)]
struct MemoryXml {
    #[serde(rename = "@snapshot")]
    snapshot: &'static str,
    #[serde(rename = "@file", skip_serializing_if = "Option::is_none")]
    file: Option<String>,
}

#[derive(Serialize)]
struct DisksXml<'a> {
    disk: Vec<DiskXml<'a>>,
}

#[derive(Serialize)]
struct DiskXml<'a> {
    #[serde(rename = "@name")]
    name: &'a str,
    #[serde(rename = "@snapshot")]
    snapshot: &'static str,
}

fn child<'a, 'i>(node: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name(tag))
}

fn source_file(node: Node) -> Option<String> {
    node.attribute("file")
        .or(node.attribute("dev"))
        .map(str::to_owned)
}

/// `name` with `/` replaced, for a file name.
fn file_safe(name: &str) -> String {
    name.replace('/', "_")
}

/// Checks a new snapshot's name against libvirt's rules and the `existing` snapshots.
pub fn check_name<'a>(
    name: &str,
    mut existing: impl Iterator<Item = &'a str>,
) -> Result<(), SnapshotError> {
    if name.trim().is_empty() {
        return Err(SnapshotError::EmptyName);
    }
    if name.contains('/') || name.starts_with('.') {
        return Err(SnapshotError::BadName);
    }
    if existing.any(|s| s == name) {
        return Err(SnapshotError::NameTaken(name.to_owned()));
    }
    Ok(())
}

/// Parses one snapshot's XML; `current` and `screenshot` come from elsewhere.
pub fn parse_snapshot_xml(xml: &str) -> Result<SnapshotInfo, SnapshotError> {
    let doc = Document::parse(xml).map_err(|e| SnapshotError::Xml(e.to_string()))?;
    let root = doc.root_element();
    let text = |tag: &str| {
        child(root, tag)
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned()
    };
    let memory_kind = child(root, "memory").and_then(|m| m.attribute("snapshot"));
    let external_disk = child(root, "disks").is_some_and(|disks| {
        disks
            .children()
            .any(|d| d.has_tag_name("disk") && d.attribute("snapshot") == Some("external"))
    });
    let kind = if memory_kind == Some("external") || external_disk {
        SnapshotKind::External
    } else {
        SnapshotKind::Internal
    };
    Ok(SnapshotInfo {
        name: text("name"),
        description: text("description"),
        parent: child(root, "parent")
            .and_then(|p| child(p, "name"))
            .and_then(|n| n.text())
            .map(str::to_owned),
        created: text("creationTime").trim().parse().unwrap_or(0),
        state: text("state"),
        memory: matches!(memory_kind, Some("internal" | "external")),
        kind,
        current: false,
        screenshot: None,
    })
}

/// Puts parents before their children and siblings in the order they were taken.
pub fn tree_order(mut list: Vec<SnapshotInfo>) -> Vec<SnapshotInfo> {
    list.sort_by(|a, b| a.created.cmp(&b.created).then(a.name.cmp(&b.name)));
    let mut ordered = Vec::with_capacity(list.len());
    fn visit(parent: Option<&str>, list: &[SnapshotInfo], out: &mut Vec<SnapshotInfo>) {
        for snapshot in list.iter().filter(|s| s.parent.as_deref() == parent) {
            out.push(snapshot.clone());
            visit(Some(&snapshot.name), list, out);
        }
    }
    visit(None, &list, &mut ordered);
    // A parent that is gone (metadata of another host): show the orphans at the top level.
    for snapshot in &list {
        if !ordered.iter().any(|s| s.name == snapshot.name) {
            ordered.push(snapshot.clone());
        }
    }
    ordered
}

/// The depth of each snapshot of a [`tree_order`]ed list: 0 for a root.
pub fn depth(list: &[SnapshotInfo], index: usize) -> usize {
    let mut depth = 0;
    let mut parent = list[index].parent.clone();
    while let Some(name) = parent {
        match list.iter().find(|s| s.name == name) {
            Some(p) if depth < list.len() => {
                depth += 1;
                parent = p.parent.clone();
            }
            _ => break,
        }
    }
    depth
}

/// Where the screenshot of snapshot `name` of the machine `uuid` is kept (see the module
/// documentation).
pub fn screenshot_path(uuid: &str, name: &str) -> Option<PathBuf> {
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(
        data_home
            .join("virtdeck/snapshots")
            .join(file_safe(uuid))
            .join(format!("{}.png", file_safe(name))),
    )
}

/// Requests about a machine's snapshots; machines are named by UUID.
#[derive(Debug)]
pub enum SnapshotRequest {
    /// Its snapshots and what a new one would be.
    List {
        uuid: String,
        reply: Reply<Snapshots>,
    },
    /// Take a snapshot (with the memory when the machine runs) and a screenshot of the
    /// guest's screen; answers the snapshot's name.
    Create {
        uuid: String,
        name: String,
        description: String,
        reply: Reply<String>,
    },
    /// Go back to snapshot `name`: the machine's state now is lost.
    Revert {
        uuid: String,
        name: String,
        reply: Reply<()>,
    },
    /// Delete snapshot `name`, and with `children` the snapshots taken on top of it.
    Delete {
        uuid: String,
        name: String,
        children: bool,
        reply: Reply<()>,
    },
}

impl SnapshotRequest {
    pub fn name(&self) -> &'static str {
        match self {
            Self::List { .. } => "Snapshot::List",
            Self::Create { .. } => "Snapshot::Create",
            Self::Revert { .. } => "Snapshot::Revert",
            Self::Delete { .. } => "Snapshot::Delete",
        }
    }
}

/// Answers `request` on `conn`: lists at once, and changes (which may write a guest's
/// memory to disk) on a thread of their own.
pub(super) fn serve(conn: Option<&Connect>, request: SnapshotRequest) {
    match request {
        SnapshotRequest::List { uuid, reply } => reply.answer(conn, |c| list(c, &uuid)),
        SnapshotRequest::Create {
            uuid,
            name,
            description,
            reply,
        } => reply.answer_in_background(conn, "virtdeck-snapshot", move |c| {
            create(c, &uuid, name.trim(), &description)
        }),
        SnapshotRequest::Revert { uuid, name, reply } => {
            reply.answer_in_background(conn, "virtdeck-snapshot", move |c| {
                let domain = c.lookup_domain_by_uuid_string(&uuid)?;
                Domain::lookup_snapshot_by_name(&domain, &name, 0)?.revert(0)?;
                Ok(())
            })
        }
        SnapshotRequest::Delete {
            uuid,
            name,
            children,
            reply,
        } => reply.answer_in_background(conn, "virtdeck-snapshot", move |c| {
            delete(c, &uuid, &name, children)
        }),
    }
}

fn read_all(domain: &Domain, uuid: &str) -> Result<Vec<SnapshotInfo>, RequestError> {
    let mut list = Vec::new();
    for snapshot in domain.list_all_snapshots(0)? {
        let mut info = parse_snapshot_xml(&snapshot.xml_desc(0)?)?;
        info.current = snapshot.is_current(0).unwrap_or(false);
        info.screenshot = screenshot_path(uuid, &info.name).filter(|p| p.is_file());
        list.push(info);
    }
    Ok(tree_order(list))
}

/// The machine's snapshots and the kind of a new one.
pub fn list(conn: &Connect, uuid: &str) -> Result<Snapshots, RequestError> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let list = read_all(&domain, uuid)?;
    let plan = SnapshotPlan::for_domain(&domain.xml_desc(0)?)?;
    Ok(Snapshots {
        plan: plan.check_against(&list),
        list,
    })
}

fn create(
    conn: &Connect,
    uuid: &str,
    name: &str,
    description: &str,
) -> Result<String, RequestError> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let existing = read_all(&domain, uuid)?;
    check_name(name, existing.iter().map(|s| s.name.as_str()))?;
    let plan = SnapshotPlan::for_domain(&domain.xml_desc(0)?)?;
    plan.check_against(&existing)?;
    let running = domain.is_active()?;
    let machine = domain.name()?;
    let xml = plan.snapshot_xml(&machine, name, description, running)?;
    // The screen first, so the picture shows the moment the snapshot keeps.
    let screenshot = screenshot_path(uuid, name);
    if running {
        if let Some(path) = &screenshot {
            if let Err(error) = save_screenshot(conn, &domain, path) {
                tracing::info!(%error, "no screenshot for snapshot {name:?}");
            }
        }
    }
    tracing::debug!(%xml, "creating snapshot");
    if let Err(error) = domain.create_snapshot_xml(&xml, 0) {
        if let Some(path) = &screenshot {
            let _ = std::fs::remove_file(path);
        }
        return Err(error.into());
    }
    Ok(name.to_owned())
}

/// Takes a screenshot of the guest's first screen into `path`.
fn save_screenshot(conn: &Connect, domain: &Domain, path: &Path) -> Result<(), String> {
    let stream = Stream::new(conn, 0).map_err(|e| describe(&e))?;
    let mime = domain.screenshot(&stream, 0, 0).map_err(|e| describe(&e))?;
    let mut data = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = stream.recv(&mut buf).map_err(|e| describe(&e))?;
        if n <= 0 {
            break;
        }
        data.extend_from_slice(&buf[..n as usize]);
    }
    stream.finish().map_err(|e| describe(&e))?;
    if mime != "image/png" {
        return Err(format!("the screenshot is {mime}, not PNG"));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::write(path, data).map_err(|e| e.to_string())
}

fn delete(conn: &Connect, uuid: &str, name: &str, children: bool) -> Result<(), RequestError> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let list = read_all(&domain, uuid)?;
    // Leaves first, so that each deletion has no children left (external snapshots with
    // children cannot be deleted in one go).
    let mut doomed = vec![name.to_owned()];
    if children {
        let mut i = 0;
        while i < doomed.len() {
            let parent = doomed[i].clone();
            doomed.extend(
                list.iter()
                    .filter(|s| s.parent.as_deref() == Some(&parent))
                    .map(|s| s.name.clone()),
            );
            i += 1;
        }
    }
    for name in doomed.iter().rev() {
        Domain::lookup_snapshot_by_name(&domain, name, 0)?.delete(0)?;
        if let Some(path) = screenshot_path(uuid, name) {
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const QCOW2: &str = "<domain><name>m</name><os><type>hvm</type></os><devices>\
        <disk type='file' device='cdrom'><driver type='raw'/><source file='/i.iso'/><target dev='hdc'/><readonly/></disk>\
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/v/a.qcow2'/><target dev='vda'/></disk>\
        </devices></domain>";

    const UEFI: &str = "<domain><name>m/u</name><os firmware='efi'><type>hvm</type>\
        <loader type='pflash'>/c.fd</loader><nvram>/n/m_VARS.fd</nvram></os><devices>\
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/v/u.qcow2'/><target dev='vda'/></disk>\
        </devices></domain>";

    fn info(name: &str, parent: Option<&str>, created: i64, kind: SnapshotKind) -> SnapshotInfo {
        SnapshotInfo {
            name: name.into(),
            description: String::new(),
            parent: parent.map(Into::into),
            created,
            state: "running".into(),
            memory: true,
            kind,
            current: false,
            screenshot: None,
        }
    }

    #[test]
    fn qcow2_without_uefi_is_internal() {
        let plan = SnapshotPlan::for_domain(QCOW2).unwrap();
        assert_eq!(plan.kind, SnapshotKind::Internal);
        let xml = plan
            .snapshot_xml("m", "s1", "before <upgrade>", true)
            .unwrap();
        assert_eq!(
            xml,
            "<domainsnapshot>\n  <name>s1</name>\n  <description>before &lt;upgrade&gt;</description>\n</domainsnapshot>"
        );
    }

    #[test]
    fn uefi_or_raw_is_external_with_the_memory_beside_the_disk() {
        let plan = SnapshotPlan::for_domain(UEFI).unwrap();
        assert_eq!(plan.kind, SnapshotKind::External);
        assert_eq!(plan.reason, ExternalReason::Uefi);
        let xml = plan.snapshot_xml("m/u", "s1", "", true).unwrap();
        assert!(
            xml.contains("<memory snapshot=\"external\" file=\"/v/m_u-s1.mem\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<disk name=\"vda\" snapshot=\"external\"/>"),
            "{xml}"
        );
        let off = plan.snapshot_xml("m/u", "s1", "", false).unwrap();
        assert!(off.contains("<memory snapshot=\"no\"/>"), "{off}");

        let raw = QCOW2.replace("type='qcow2'", "type='raw'");
        let plan = SnapshotPlan::for_domain(&raw).unwrap();
        assert_eq!(plan.kind, SnapshotKind::External);
        let xml = plan.snapshot_xml("m", "s", "", false).unwrap();
        assert!(
            xml.contains("<disk name=\"hdc\" snapshot=\"no\"/>"),
            "{xml}"
        );
        assert_eq!(plan.reason.to_string(), "its disk vda is raw, not qcow2");
    }

    #[test]
    fn kinds_are_not_mixed() {
        let plan = SnapshotPlan::for_domain(UEFI).unwrap();
        let existing = [info("old", None, 1, SnapshotKind::Internal)];
        let error = plan.check_against(&existing).unwrap_err();
        assert_eq!(
            error.to_string(),
            "This machine’s snapshots are internal, but a new one would have to be external (it boots with UEFI). The two kinds cannot be mixed on one machine: delete the existing snapshots first."
        );
        assert_eq!(plan.check_against(&[]), Ok(SnapshotKind::External));
        let diskless = SnapshotPlan::for_domain("<domain><devices/></domain>").unwrap();
        assert_eq!(diskless.check_against(&[]), Err(SnapshotError::NoDisk));
    }

    #[test]
    fn names_are_checked() {
        let existing = || ["a"].into_iter();
        assert_eq!(check_name(" ", existing()), Err(SnapshotError::EmptyName));
        assert_eq!(check_name("x/y", existing()), Err(SnapshotError::BadName));
        assert_eq!(check_name(".x", existing()), Err(SnapshotError::BadName));
        assert_eq!(
            check_name("a", existing()),
            Err(SnapshotError::NameTaken("a".into()))
        );
        assert_eq!(check_name("b", existing()), Ok(()));
    }

    #[test]
    fn snapshot_xml_is_read() {
        let xml = "<domainsnapshot><name>s2</name><description>d</description>\
            <state>shutoff</state><parent><name>s1</name></parent>\
            <creationTime>1796425890</creationTime><memory snapshot='no'/>\
            <disks><disk name='vda' snapshot='external'><source file='/v/a.s2'/></disk></disks>\
            <domain><name>m</name></domain></domainsnapshot>";
        let info = parse_snapshot_xml(xml).unwrap();
        assert_eq!(info.name, "s2");
        assert_eq!(info.parent.as_deref(), Some("s1"));
        assert_eq!(info.created, 1_796_425_890);
        assert_eq!(info.kind, SnapshotKind::External);
        assert!(!info.memory);
        assert!(!info.was_running());
    }

    #[test]
    fn the_tree_puts_parents_first() {
        use SnapshotKind::Internal as I;
        let list = tree_order(vec![
            info("c", Some("a"), 3, I),
            info("b", None, 2, I),
            info("a", None, 1, I),
            info("d", Some("c"), 4, I),
            info("e", Some("a"), 5, I),
        ]);
        let names: Vec<_> = list.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "c", "d", "e", "b"]);
        let depths: Vec<_> = (0..list.len()).map(|i| depth(&list, i)).collect();
        assert_eq!(depths, [0, 1, 2, 1, 0]);
    }
}
