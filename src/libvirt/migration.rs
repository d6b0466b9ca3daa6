//! Moving a machine from this connection's host to another: pre-checks that name what stands
//! in the way, the destination's disk volumes made ready when storage is copied, and the
//! migration itself with progress and Cancel.
//!
//! The UI asks through [`MigrationRequest`]s, which the connection worker answers with
//! [`serve`]. A migration runs on a thread of its own with a clone of the worker's
//! connection and a connection of its own to the destination, so the worker keeps
//! answering meanwhile. libvirt drives it directly (not peer-to-peer unless asked): this
//! process holds both connections, and the source's QEMU sends memory and disks straight to
//! the destination's QEMU at the address the destination's libvirt names (`migration_host`
//! in its qemu.conf), so neither daemon needs a login to the other.
//!
//! While it runs, a second thread reads `virDomainGetJobStats` twice a second into
//! [`MigrationProgress`] and calls `virDomainAbortJob` once Cancel is set. When a migration
//! fails or is cancelled the machine still runs on the source, and the volumes this module
//! made on the destination are removed again.

#[allow(unsafe_code)]
mod cabi;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use virt::connect::Connect;
use virt::domain::Domain;
use virt_sys as sys;

pub use cabi::CpuFit;

use super::error::describe;
use super::requests::{Reply, RequestError};
use super::storage::{self, VolumeFormat, VolumeSpec};

/// How often a running migration's job statistics are read.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(500);

/// How the disks travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StorageCopy {
    /// The hosts share the storage (the same paths reach the same disks).
    #[default]
    Shared,
    /// Every disk is copied in full (`VIR_MIGRATE_NON_SHARED_DISK`).
    Full,
    /// Only what differs from a disk of the same base on the destination
    /// (`VIR_MIGRATE_NON_SHARED_INC`).
    Incremental,
}

/// What the user chose for one migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationOptions {
    /// The destination host's libvirt URI.
    pub destination: String,
    /// Keep a running machine running while its memory moves; otherwise it is paused for
    /// the move. A machine that is shut off always moves offline (its definition only).
    pub live: bool,
    pub storage: StorageCopy,
    /// The source's libvirtd talks to the destination's itself (`VIR_MIGRATE_PEER2PEER`),
    /// for when this process cannot reach the destination but the source host can.
    pub peer_to_peer: bool,
    /// At most this many MiB/s; 0 is no limit.
    pub bandwidth_mib: u64,
}

/// Where a migration stands, from `virDomainGetJobStats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MigrationProgress {
    /// Bytes sent so far (memory and disks).
    pub processed: u64,
    /// Bytes still to send (as far as libvirt knows now; dirty memory adds to it).
    pub remaining: u64,
    pub total: u64,
    /// Bytes per second, memory and disks together.
    pub rate: u64,
    pub elapsed_ms: u64,
    /// The expected pause at the switch-over, in milliseconds, once libvirt reports it.
    pub downtime_ms: Option<u64>,
}

impl MigrationProgress {
    /// How far along, 0.0 to 1.0.
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        (self.processed as f64 / self.total as f64).clamp(0.0, 1.0)
    }

    fn from_stats(stats: &cabi::JobStats) -> Self {
        let processed = stats.data_processed.unwrap_or(0);
        let remaining = stats.data_remaining.unwrap_or(0);
        Self {
            processed,
            remaining,
            total: stats.data_total.unwrap_or(processed + remaining),
            rate: stats.memory_bps.unwrap_or(0) + stats.disk_bps.unwrap_or(0),
            elapsed_ms: stats.time_elapsed.unwrap_or(0),
            downtime_ms: stats.downtime,
        }
    }
}

/// A question about moving a machine, with the [`Reply`] to answer it on.
#[derive(Debug)]
pub enum MigrationRequest {
    /// Run the pre-checks only (what the dialog shows before the user starts).
    Check {
        uuid: String,
        options: MigrationOptions,
        reply: Reply<()>,
    },
    /// Check, make the destination's volumes when storage is copied, and migrate. Progress
    /// goes to `progress`; setting `cancel` aborts the job. Answers once the machine is on
    /// the destination (or still on the source, with the reason).
    Migrate {
        uuid: String,
        options: MigrationOptions,
        progress: async_channel::Sender<MigrationProgress>,
        cancel: Arc<AtomicBool>,
        reply: Reply<()>,
    },
}

impl MigrationRequest {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Check { .. } => "Migration::Check",
            Self::Migrate { .. } => "Migration::Migrate",
        }
    }
}

/// Why a machine did not move. Each message is a sentence; the machine is where it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrationError {
    #[error("The destination is the host the machine is on.")]
    SameHost,
    #[error("Could not connect to the destination: {0}")]
    Destination(String),
    #[error("The destination already has a machine called “{0}”.")]
    NameTaken(String),
    #[error("The destination already has this machine (as “{0}”).")]
    UuidTaken(String),
    #[error("The destination has no virtual network “{0}”.")]
    NetworkMissing(String),
    #[error("The virtual network “{0}” is not running on the destination.")]
    NetworkInactive(String),
    #[error("The destination has no bridge “{0}”.")]
    BridgeMissing(String),
    #[error("The destination’s CPU cannot run this machine’s CPU model.")]
    CpuIncompatible,
    #[error("The destination has no storage pool for “{0}”, so its copy has nowhere to go.")]
    NoPoolForDisk(String),
    #[error("“{path}” on the destination is {found} bytes, but the disk is {size} bytes.")]
    DiskSizeDiffers { path: String, size: u64, found: u64 },
    #[error("The disk “{path}” is in {format} format, which cannot be copied.")]
    DiskFormat { path: String, format: String },
    #[error("An offline migration cannot copy storage.")]
    OfflineCopy,
    #[error("The migration was cancelled.")]
    Cancelled,
    #[error("{0}")]
    Libvirt(String),
}

impl From<virt::error::Error> for MigrationError {
    fn from(error: virt::error::Error) -> Self {
        Self::Libvirt(describe(&error))
    }
}

impl From<MigrationError> for RequestError {
    fn from(error: MigrationError) -> Self {
        Self::Migration(error)
    }
}

// ----- answering requests on the worker -----

/// Answers `request` on `conn`; a migration gets its own thread.
pub(super) fn serve(conn: Option<&Connect>, request: MigrationRequest) {
    let (uuid, options, reply, run) = match request {
        MigrationRequest::Check {
            uuid,
            options,
            reply,
        } => (uuid, options, reply, None),
        MigrationRequest::Migrate {
            uuid,
            options,
            progress,
            cancel,
            reply,
        } => (uuid, options, reply, Some((progress, cancel))),
    };
    // Both open a connection to the destination, which may take a login: never on the
    // worker.
    reply.answer_in_background(conn, "virtdeck-migrate", move |conn| {
        let result = match run {
            None => check(conn, &uuid, &options).map(drop),
            Some((progress, cancel)) => {
                let report = |p| {
                    let _ = progress.try_send(p);
                };
                migrate(conn, &uuid, &options, &report, &cancel)
            }
        };
        Ok(result?)
    });
}

// ----- what the domain needs from the destination -----

/// A disk that is copied: its path and what the destination's volume must be.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DiskNeed {
    target: String,
    path: String,
    format: String,
}

/// What the domain's XML says the destination must offer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Needs {
    networks: Vec<String>,
    bridges: Vec<String>,
    /// The `<cpu>` element, when it names a model to compare.
    cpu: Option<String>,
    arch: Option<String>,
    machine: Option<String>,
    virt_type: Option<String>,
    /// Writable file disks (copied with the storage).
    disks: Vec<DiskNeed>,
}

/// The first child element of `node` called `name`.
fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name))
}

fn read_needs(xml: &str) -> Result<Needs, MigrationError> {
    let doc = roxmltree::Document::parse(xml)
        .map_err(|e| MigrationError::Libvirt(format!("Unreadable domain XML: {e}.")))?;
    let root = doc.root_element();
    let mut needs = Needs {
        virt_type: root.attribute("type").map(str::to_owned),
        ..Needs::default()
    };
    if let Some(os_type) = child(root, "os").and_then(|os| child(os, "type")) {
        needs.arch = os_type.attribute("arch").map(str::to_owned);
        needs.machine = os_type.attribute("machine").map(str::to_owned);
    }
    if let Some(cpu) = child(root, "cpu") {
        let mode = cpu.attribute("mode").unwrap_or("custom");
        if mode == "custom" && child(cpu, "model").is_some() {
            needs.cpu = Some(xml[cpu.range()].to_owned());
        }
    }
    let Some(devices) = child(root, "devices") else {
        return Ok(needs);
    };
    for device in devices.children().filter(|d| d.is_element()) {
        match device.tag_name().name() {
            "interface" => {
                let source = child(device, "source");
                let attr = |name| source.and_then(|s| s.attribute(name)).map(str::to_owned);
                match device.attribute("type") {
                    Some("network") => needs.networks.extend(attr("network")),
                    Some("bridge") => needs.bridges.extend(attr("bridge")),
                    _ => {}
                }
            }
            "disk" => {
                let readonly = child(device, "readonly").is_some()
                    || child(device, "shareable").is_some()
                    || device.attribute("device").is_some_and(|d| d != "disk");
                let path = child(device, "source").and_then(|s| s.attribute("file"));
                let target = child(device, "target").and_then(|t| t.attribute("dev"));
                if let (false, Some(path), Some(target)) = (readonly, path, target) {
                    let format = child(device, "driver")
                        .and_then(|d| d.attribute("type"))
                        .unwrap_or("raw");
                    needs.disks.push(DiskNeed {
                        target: target.to_owned(),
                        path: path.to_owned(),
                        format: format.to_owned(),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(needs)
}

/// Opens the destination the way its worker opened it: over the same SSH master (no second
/// login) and with libvirt's own logins asked through the same callback. The error names it.
fn open_destination(options: &MigrationOptions) -> Result<Connect, MigrationError> {
    super::auth::open(&super::ssh::libvirt_uri(&options.destination))
        .map_err(|e| MigrationError::Destination(describe(&e)))
}

/// The pre-checks, on the source connection `conn` and a connection of their own to the
/// destination (returned for the migration to use).
pub fn check(
    conn: &Connect,
    uuid: &str,
    options: &MigrationOptions,
) -> Result<Connect, MigrationError> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let dest = open_destination(options)?;
    check_on(conn, &domain, &dest, options)?;
    Ok(dest)
}

fn check_on(
    conn: &Connect,
    domain: &Domain,
    dest: &Connect,
    options: &MigrationOptions,
) -> Result<Needs, MigrationError> {
    let here = host_uuid(conn);
    if here.is_some() && here == host_uuid(dest) {
        return Err(MigrationError::SameHost);
    }
    if !domain.is_active()? && options.storage != StorageCopy::Shared {
        return Err(MigrationError::OfflineCopy);
    }
    let name = domain.name()?;
    if dest.lookup_domain_by_name(&name).is_ok() {
        return Err(MigrationError::NameTaken(name));
    }
    if let Ok(other) = dest.lookup_domain_by_uuid_string(&domain.uuid_string()?) {
        return Err(MigrationError::UuidTaken(other.name()?));
    }
    let needs = read_needs(&domain.xml_desc(0)?)?;
    for network in &needs.networks {
        let found = dest
            .lookup_network_by_name(network)
            .map_err(|_| MigrationError::NetworkMissing(network.clone()))?;
        if !found.is_active()? {
            return Err(MigrationError::NetworkInactive(network.clone()));
        }
    }
    if !needs.bridges.is_empty() {
        let present = bridges(dest)?;
        if let Some(missing) = needs.bridges.iter().find(|b| !present.contains(b)) {
            return Err(MigrationError::BridgeMissing(missing.clone()));
        }
    }
    if let Some(cpu) = &needs.cpu {
        let fit = cabi::compare_hypervisor_cpu(
            dest,
            needs.arch.as_deref(),
            needs.machine.as_deref(),
            needs.virt_type.as_deref(),
            cpu,
        )?;
        if fit == CpuFit::Incompatible {
            return Err(MigrationError::CpuIncompatible);
        }
    }
    if options.storage != StorageCopy::Shared {
        for disk in &needs.disks {
            plan_disk(dest, disk)?;
        }
    }
    Ok(needs)
}

/// The host UUID libvirt reports (its `<host><uuid>`), which tells two hosts apart even
/// when both are reached as "localhost".
fn host_uuid(conn: &Connect) -> Option<String> {
    let caps = conn.capabilities().ok()?;
    let doc = roxmltree::Document::parse(&caps).ok()?;
    doc.descendants()
        .find(|n| n.has_tag_name("host"))?
        .children()
        .find(|n| n.has_tag_name("uuid"))?
        .text()
        .map(str::to_owned)
}

/// The bridges of `conn`'s host: network interfaces among its node devices that have a
/// `bridge` directory in sysfs, plus the bridges of its virtual networks.
fn bridges(conn: &Connect) -> Result<Vec<String>, MigrationError> {
    let mut names = Vec::new();
    for device in conn.list_all_node_devices(sys::VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET)? {
        let Ok(xml) = device.xml_desc(0) else {
            continue;
        };
        let Ok(doc) = roxmltree::Document::parse(&xml) else {
            continue;
        };
        names.extend(
            doc.descendants()
                .filter(|n| n.has_tag_name("interface"))
                .filter_map(|n| n.text().map(str::to_owned)),
        );
    }
    for network in conn.list_all_networks(0)? {
        if let Ok(bridge) = network.bridge_name() {
            names.push(bridge);
        }
    }
    Ok(names)
}

/// What the destination needs done for a copied disk.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DiskPlan {
    /// A volume of that path is there already (its size was checked by the caller).
    Present { size: u64 },
    /// Pool `pool` holds the disk's directory: make volume `name` there.
    Create { pool: String, name: String },
}

fn plan_disk(dest: &Connect, disk: &DiskNeed) -> Result<DiskPlan, MigrationError> {
    if let Ok(volume) = dest.lookup_storage_vol_by_path(&disk.path) {
        return Ok(DiskPlan::Present {
            size: volume.info()?.capacity,
        });
    }
    if volume_format(&disk.format).is_none() {
        return Err(MigrationError::DiskFormat {
            path: disk.path.clone(),
            format: disk.format.clone(),
        });
    }
    let path = Path::new(&disk.path);
    let dir = path.parent().and_then(Path::to_str).unwrap_or("/");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let pool = dest
        .lookup_storage_pool_by_target_path(dir)
        .map_err(|_| MigrationError::NoPoolForDisk(disk.path.clone()))?;
    if !pool.is_active()? {
        return Err(MigrationError::NoPoolForDisk(disk.path.clone()));
    }
    Ok(DiskPlan::Create {
        pool: pool.name()?,
        name: name.to_owned(),
    })
}

/// The volume format of a disk driver type, when volumes of it can be made.
fn volume_format(driver_type: &str) -> Option<VolumeFormat> {
    [VolumeFormat::Qcow2, VolumeFormat::Raw]
        .into_iter()
        .find(|f| f.xml_type() == driver_type)
}

/// Volumes made on the destination for this migration; [`Made::remove`] takes them away
/// again when the machine did not arrive.
#[derive(Default)]
struct Made(Vec<(String, String)>);

impl Made {
    fn remove(self, dest: &Connect) {
        for (pool, name) in self.0 {
            if let Err(e) = storage::delete_volume(dest, &pool, &name) {
                tracing::warn!("could not remove volume {name} of pool {pool} again: {e}");
            }
        }
    }
}

/// Makes every copied disk's volume on the destination, of the source's size and format.
fn prepare_disks(
    domain: &Domain,
    dest: &Connect,
    disks: &[DiskNeed],
    made: &mut Made,
) -> Result<(), MigrationError> {
    for disk in disks {
        let size = domain.block_info(&disk.target, 0)?.capacity;
        match plan_disk(dest, disk)? {
            DiskPlan::Present { size: found } if found != size => {
                return Err(MigrationError::DiskSizeDiffers {
                    path: disk.path.clone(),
                    size,
                    found,
                });
            }
            DiskPlan::Present { .. } => {}
            DiskPlan::Create { pool, name } => {
                let format = volume_format(&disk.format).unwrap_or(VolumeFormat::Raw);
                let spec = VolumeSpec {
                    name: name.clone(),
                    format,
                    capacity: size,
                };
                storage::create_volume(dest, &pool, &spec)
                    .map_err(|e| MigrationError::Libvirt(e.to_string()))?;
                made.0.push((pool, name));
            }
        }
    }
    Ok(())
}

/// The `virDomainMigrateFlags` for `options` and a domain that is `running` or not.
fn flags(options: &MigrationOptions, running: bool) -> u32 {
    let mut flags = sys::VIR_MIGRATE_PERSIST_DEST | sys::VIR_MIGRATE_UNDEFINE_SOURCE;
    if !running {
        flags |= sys::VIR_MIGRATE_OFFLINE;
    } else if options.live {
        flags |= sys::VIR_MIGRATE_LIVE;
    }
    flags |= match options.storage {
        StorageCopy::Shared => 0,
        StorageCopy::Full => sys::VIR_MIGRATE_NON_SHARED_DISK,
        StorageCopy::Incremental => sys::VIR_MIGRATE_NON_SHARED_INC,
    };
    if options.peer_to_peer {
        flags |= sys::VIR_MIGRATE_PEER2PEER;
    }
    flags
}

/// Moves domain `uuid` of `conn` as `options` say: pre-checks, the destination's volumes,
/// then the migration, reporting progress until it ends. On failure or Cancel the machine
/// is where it was and the volumes made for it are gone again.
pub fn migrate(
    conn: &Connect,
    uuid: &str,
    options: &MigrationOptions,
    report: &(dyn Fn(MigrationProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<(), MigrationError> {
    let domain = conn.lookup_domain_by_uuid_string(uuid)?;
    let dest = open_destination(options)?;
    let needs = check_on(conn, &domain, &dest, options)?;
    let running = domain.is_active()?;
    let mut made = Made::default();
    if options.storage != StorageCopy::Shared {
        if let Err(e) = prepare_disks(&domain, &dest, &needs.disks, &mut made) {
            made.remove(&dest);
            return Err(e);
        }
    }
    let flags = flags(options, running);
    let done = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| watch(&domain, report, cancel, &done));
        let result = if options.peer_to_peer {
            domain
                .migrate_to_uri(&options.destination, flags, None, options.bandwidth_mib)
                .map(drop)
        } else {
            domain
                .migrate(&dest, flags, None, None, options.bandwidth_mib)
                .map(drop)
        };
        done.store(true, Ordering::Relaxed);
        result
    });
    match result {
        Ok(()) => Ok(()),
        Err(error) => {
            made.remove(&dest);
            if cancel.load(Ordering::Relaxed) {
                Err(MigrationError::Cancelled)
            } else {
                Err(error.into())
            }
        }
    }
}

/// Reads the job's statistics until `done`, and aborts the job once `cancel` is set.
fn watch(
    domain: &Domain,
    report: &(dyn Fn(MigrationProgress) + Sync),
    cancel: &AtomicBool,
    done: &AtomicBool,
) {
    let mut aborted = false;
    while !done.load(Ordering::Relaxed) {
        if cancel.load(Ordering::Relaxed) && !aborted {
            match cabi::abort_job(domain) {
                // Once aborted the job ends; the migrating thread sees it fail.
                Ok(()) => aborted = true,
                Err(e) => tracing::debug!("abort: {}", describe(&e)),
            }
        }
        if let Ok(stats) = cabi::job_stats(domain) {
            if stats.kind != sys::VIR_DOMAIN_JOB_NONE as i32 {
                report(MigrationProgress::from_stats(&stats));
            }
        }
        std::thread::sleep(PROGRESS_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<domain type='qemu'>
  <name>m</name>
  <os><type arch='x86_64' machine='pc-q35-9.2'>hvm</type></os>
  <cpu mode='custom' match='exact'><model>qemu64</model></cpu>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/m.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/tmp/x.iso'/><target dev='hdc'/>
      <readonly/></disk>
    <disk type='file' device='disk'><source file='/srv/shared.img'/><target dev='vdb'/>
      <shareable/></disk>
    <interface type='network'><source network='default'/></interface>
    <interface type='bridge'><source bridge='br0'/></interface>
  </devices>
</domain>"#;

    #[test]
    fn needs_name_networks_bridges_cpu_and_writable_disks() {
        let needs = read_needs(XML).unwrap();
        assert_eq!(needs.networks, ["default"]);
        assert_eq!(needs.bridges, ["br0"]);
        assert_eq!(needs.virt_type.as_deref(), Some("qemu"));
        assert_eq!(needs.arch.as_deref(), Some("x86_64"));
        assert_eq!(needs.machine.as_deref(), Some("pc-q35-9.2"));
        assert!(needs.cpu.unwrap().contains("<model>qemu64</model>"));
        assert_eq!(
            needs.disks,
            [DiskNeed {
                target: "vda".into(),
                path: "/var/lib/libvirt/images/m.qcow2".into(),
                format: "qcow2".into(),
            }]
        );
    }

    #[test]
    fn host_passthrough_cpu_is_not_compared() {
        let xml = XML.replace("mode='custom' match='exact'", "mode='host-passthrough'");
        assert_eq!(read_needs(&xml).unwrap().cpu, None);
    }

    #[test]
    fn flags_follow_the_options() {
        let mut options = MigrationOptions {
            destination: "qemu+ssh://b/system".into(),
            live: true,
            storage: StorageCopy::Full,
            peer_to_peer: false,
            bandwidth_mib: 0,
        };
        let base = sys::VIR_MIGRATE_PERSIST_DEST | sys::VIR_MIGRATE_UNDEFINE_SOURCE;
        assert_eq!(
            flags(&options, true),
            base | sys::VIR_MIGRATE_LIVE | sys::VIR_MIGRATE_NON_SHARED_DISK
        );
        options.storage = StorageCopy::Incremental;
        options.live = false;
        assert_eq!(
            flags(&options, true),
            base | sys::VIR_MIGRATE_NON_SHARED_INC
        );
        options.storage = StorageCopy::Shared;
        options.peer_to_peer = true;
        assert_eq!(
            flags(&options, false),
            base | sys::VIR_MIGRATE_OFFLINE | sys::VIR_MIGRATE_PEER2PEER
        );
    }

    #[test]
    fn progress_fraction_and_rate() {
        let stats = cabi::JobStats {
            data_processed: Some(30),
            data_remaining: Some(90),
            data_total: Some(120),
            memory_bps: Some(5),
            disk_bps: Some(7),
            ..Default::default()
        };
        let p = MigrationProgress::from_stats(&stats);
        assert_eq!(p.rate, 12);
        assert!((p.fraction() - 0.25).abs() < 1e-9);
        assert_eq!(MigrationProgress::default().fraction(), 0.0);
    }
}
