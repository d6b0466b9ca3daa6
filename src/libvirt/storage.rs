//! The connection's storage: pools (list, create, start, stop, refresh, delete, autostart)
//! and their volumes (list with the machines that use each, create, resize, delete,
//! upload a local file through a libvirt stream).
//!
//! The Storage page asks through [`StorageRequest`]s, which the connection worker answers
//! with [`serve`]. An upload runs on a thread of its own with a clone of the worker's
//! connection (libvirt connections are thread-safe), so the worker keeps answering while
//! megabytes travel; it reports each chunk and stops when asked to.
//!
//! Pool and volume XML is written by quick-xml from the structs in [`xml`] and read with
//! roxmltree, never spliced as text.

mod xml;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use virt::connect::Connect;
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;
use virt::stream::Stream;
use virt_sys as sys;

use super::error::describe;
use super::requests::{Reply, RequestError};

/// How many bytes an upload sends at a time (and reports after).
const UPLOAD_CHUNK: usize = 1 << 20;

/// A question about the connection's storage, with the [`Reply`] to answer it on.
#[derive(Debug)]
pub enum StorageRequest {
    /// Every pool, sorted by name.
    Pools(Reply<Vec<PoolInfo>>),
    /// The volumes of pool `pool` (refreshed first when it runs), sorted by name.
    Volumes {
        pool: String,
        reply: Reply<Vec<VolumeInfo>>,
    },
    /// Define, build, start (and mark autostart) a new pool; all or nothing.
    CreatePool { spec: PoolSpec, reply: Reply<()> },
    ChangePool {
        name: String,
        change: PoolChange,
        reply: Reply<()>,
    },
    CreateVolume {
        pool: String,
        spec: VolumeSpec,
        reply: Reply<()>,
    },
    /// Grow volume `name` to `capacity` bytes.
    ResizeVolume {
        pool: String,
        name: String,
        capacity: u64,
        reply: Reply<()>,
    },
    /// Delete a volume no machine uses.
    DeleteVolume {
        pool: String,
        name: String,
        reply: Reply<()>,
    },
    /// Copy local file `file` into a new raw volume `name` of pool `pool`. The bytes sent
    /// so far go to `progress` after each chunk; setting `cancel` stops it, and the volume
    /// is removed again (as on any failure). Answers with the bytes sent.
    Upload {
        pool: String,
        name: String,
        file: PathBuf,
        progress: async_channel::Sender<u64>,
        cancel: Arc<AtomicBool>,
        reply: Reply<u64>,
    },
}

impl StorageRequest {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Pools(_) => "Storage::Pools",
            Self::Volumes { .. } => "Storage::Volumes",
            Self::CreatePool { .. } => "Storage::CreatePool",
            Self::ChangePool { .. } => "Storage::ChangePool",
            Self::CreateVolume { .. } => "Storage::CreateVolume",
            Self::ResizeVolume { .. } => "Storage::ResizeVolume",
            Self::DeleteVolume { .. } => "Storage::DeleteVolume",
            Self::Upload { .. } => "Storage::Upload",
        }
    }
}

/// What went wrong with the connection's storage. Each message is a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("{0}")]
    Libvirt(String),
    #[error("There is already a pool called “{0}”.")]
    PoolExists(String),
    #[error("There is already a volume called “{0}” in this pool.")]
    VolumeExists(String),
    #[error("“{0}” does not exist.")]
    PathMissing(String),
    #[error("Volume “{volume}” is used by {}.", vms.join(", "))]
    VolumeInUse { volume: String, vms: Vec<String> },
    #[error("A volume cannot shrink here: its data would be cut off.")]
    Shrink,
    #[error("Could not read “{path}”: {reason}.")]
    File { path: String, reason: String },
    #[error("The upload was cancelled.")]
    Cancelled,
    #[error("Enter {}.", .0.what())]
    Empty(Field),
    #[error("A name cannot contain “/” or start with “.”.")]
    BadName,
    #[error("The directory must be an absolute path.")]
    Relative,
}

/// A field of the dialogs that make pools and volumes, for saying which one is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Directory,
    Device,
    MountPoint,
    Server,
    Export,
    Group,
    Iqn,
    File,
}

impl Field {
    fn what(self) -> &'static str {
        match self {
            Self::Name => "a name",
            Self::Directory => "a directory",
            Self::Device => "a device",
            Self::MountPoint => "a mount point",
            Self::Server => "the server",
            Self::Export => "the exported directory",
            Self::Group => "a volume group",
            Self::Iqn => "the target's IQN",
            Self::File => "a file",
        }
    }
}

impl StorageError {
    /// The field a check found wrong, when it was one.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::Empty(field) => Some(*field),
            Self::BadName | Self::PoolExists(_) | Self::VolumeExists(_) => Some(Field::Name),
            Self::Relative => Some(Field::Directory),
            _ => None,
        }
    }
}

impl From<virt::error::Error> for StorageError {
    fn from(error: virt::error::Error) -> Self {
        Self::Libvirt(describe(&error))
    }
}

/// The kinds of pool the Storage page makes and names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PoolKind {
    Dir,
    Fs,
    Netfs,
    Logical,
    Iscsi,
    /// Any other type libvirt has (shown, not made here).
    Other,
}

impl PoolKind {
    /// The `type` attribute in pool XML.
    pub fn xml_type(self) -> &'static str {
        match self {
            Self::Dir => "dir",
            Self::Fs => "fs",
            Self::Netfs => "netfs",
            Self::Logical => "logical",
            Self::Iscsi => "iscsi",
            Self::Other => "",
        }
    }

    pub fn from_xml_type(kind: &str) -> Self {
        match kind {
            "dir" => Self::Dir,
            "fs" => Self::Fs,
            "netfs" => Self::Netfs,
            "logical" => Self::Logical,
            "iscsi" => Self::Iscsi,
            _ => Self::Other,
        }
    }

    /// What deleting the pool's data removes: the pool's volumes (directory, volume
    /// group), or nothing but the mount point (a disk, a share, a target keeps its data).
    pub fn data_goes_with_it(self) -> bool {
        matches!(self, Self::Dir | Self::Logical)
    }
}

/// One storage pool as libvirt reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolInfo {
    pub name: String,
    pub kind: PoolKind,
    /// The type libvirt names, for the kinds not made here.
    pub type_name: String,
    pub active: bool,
    pub autostart: bool,
    pub persistent: bool,
    pub capacity: u64,
    pub allocation: u64,
    pub available: u64,
    /// Where its volumes appear on the host (a directory, /dev/VG, …).
    pub target: Option<String>,
    /// Where its data comes from: "host:/export", a device, a volume group.
    pub source: Option<String>,
}

/// One volume of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    pub name: String,
    pub path: String,
    /// qcow2, raw, iso, …; empty when libvirt does not say.
    pub format: String,
    pub capacity: u64,
    pub allocation: u64,
    /// The machines whose disks are this volume, sorted.
    pub used_by: Vec<String>,
}

/// A pool to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    pub name: String,
    pub source: PoolSource,
    /// Start it with the host.
    pub autostart: bool,
}

/// Where a new pool's storage is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolSource {
    /// A directory (made when missing).
    Dir { path: String },
    /// A formatted disk or partition mounted at `target`.
    Fs { device: String, target: String },
    /// An NFS export `host:/export` mounted at `target`.
    Netfs {
        host: String,
        export: String,
        target: String,
    },
    /// An LVM volume group; when `device` is given the group is made on it (pvcreate,
    /// vgcreate), else it must exist.
    Logical {
        group: String,
        device: Option<String>,
    },
    /// The LUNs of an iSCSI target.
    Iscsi { host: String, iqn: String },
}

impl PoolSource {
    pub fn kind(&self) -> PoolKind {
        match self {
            Self::Dir { .. } => PoolKind::Dir,
            Self::Fs { .. } => PoolKind::Fs,
            Self::Netfs { .. } => PoolKind::Netfs,
            Self::Logical { .. } => PoolKind::Logical,
            Self::Iscsi { .. } => PoolKind::Iscsi,
        }
    }
}

/// A change to one pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolChange {
    Start,
    Stop,
    Refresh,
    Autostart(bool),
    /// Forget the pool; with `data`, its volumes and directory (or volume group) go too.
    Delete {
        data: bool,
    },
}

/// The format of a new volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeFormat {
    Qcow2,
    Raw,
}

impl VolumeFormat {
    pub fn xml_type(self) -> &'static str {
        match self {
            Self::Qcow2 => "qcow2",
            Self::Raw => "raw",
        }
    }
}

/// A volume to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeSpec {
    pub name: String,
    pub format: VolumeFormat,
    pub capacity: u64,
}

// ----- checks the dialogs make as the user types -----

/// A size as people write it: "20", "20G", "512 MiB", "1.5 GiB", "100M", "4096 B". A bare
/// number is GiB. Units are binary (K, M, G, T = KiB, MiB, GiB, TiB).
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "" | "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return None,
    };
    let bytes = number * (1u64 << shift) as f64;
    (bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

/// Checks a new pool or volume name: not empty, no slash, not taken by one of `taken`.
pub fn check_name<'a>(
    name: &str,
    mut taken: impl Iterator<Item = &'a str>,
    exists: fn(String) -> StorageError,
) -> Result<(), StorageError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StorageError::Empty(Field::Name));
    }
    if name.contains('/') || name.starts_with('.') {
        return Err(StorageError::BadName);
    }
    if taken.any(|t| t == name) {
        return Err(exists(name.to_owned()));
    }
    Ok(())
}

/// Checks a path on a local host: it must exist (for a device or a file to upload).
pub fn check_exists(path: &str, field: Field) -> Result<(), StorageError> {
    if path.trim().is_empty() {
        return Err(StorageError::Empty(field));
    }
    if !Path::new(path.trim()).exists() {
        return Err(StorageError::PathMissing(path.trim().to_owned()));
    }
    Ok(())
}

/// Checks what a new pool needs besides its name; `local` says the host is this
/// computer, whose paths can be looked at.
pub fn check_source(source: &PoolSource, local: bool) -> Result<(), StorageError> {
    let need = |value: &str, field: Field| {
        if value.trim().is_empty() {
            Err(StorageError::Empty(field))
        } else {
            Ok(())
        }
    };
    match source {
        PoolSource::Dir { path } => {
            need(path, Field::Directory)?;
            if !path.trim().starts_with('/') {
                return Err(StorageError::Relative);
            }
            Ok(())
        }
        PoolSource::Fs { device, target } => {
            need(device, Field::Device)?;
            need(target, Field::MountPoint)?;
            if local {
                check_exists(device, Field::Device)?;
            }
            Ok(())
        }
        PoolSource::Netfs {
            host,
            export,
            target,
        } => {
            need(host, Field::Server)?;
            need(export, Field::Export)?;
            need(target, Field::MountPoint)
        }
        PoolSource::Logical { group, device } => {
            need(group, Field::Group)?;
            match device {
                Some(device) if local => check_exists(device, Field::Device),
                _ => Ok(()),
            }
        }
        PoolSource::Iscsi { host, iqn } => {
            need(host, Field::Server)?;
            need(iqn, Field::Iqn)
        }
    }
}

// ----- answering requests on the worker -----

/// Answers `request` on `conn`. Blocks, except an upload, which gets its own thread.
pub(super) fn serve(conn: Option<&Connect>, request: StorageRequest) {
    match request {
        StorageRequest::Pools(reply) => reply.answer(conn, |c| Ok(pools(c)?)),
        StorageRequest::Volumes { pool, reply } => {
            reply.answer(conn, |c| Ok(volumes(c, &pool)?));
        }
        StorageRequest::CreatePool { spec, reply } => {
            reply.answer(conn, |c| Ok(create_pool(c, &spec)?));
        }
        StorageRequest::ChangePool {
            name,
            change,
            reply,
        } => reply.answer(conn, |c| Ok(change_pool(c, &name, change)?)),
        StorageRequest::CreateVolume { pool, spec, reply } => {
            reply.answer(conn, |c| Ok(create_volume(c, &pool, &spec)?));
        }
        StorageRequest::ResizeVolume {
            pool,
            name,
            capacity,
            reply,
        } => reply.answer(conn, |c| Ok(resize_volume(c, &pool, &name, capacity)?)),
        StorageRequest::DeleteVolume { pool, name, reply } => {
            reply.answer(conn, |c| Ok(delete_volume(c, &pool, &name)?));
        }
        StorageRequest::Upload {
            pool,
            name,
            file,
            progress,
            cancel,
            reply,
        } => reply.answer_in_background(conn, "virtdeck-upload", move |c| {
            let report = |sent| {
                let _ = progress.try_send(sent);
            };
            Ok(upload(c, &pool, &name, &file, &report, &cancel)?)
        }),
    }
}

impl From<StorageError> for RequestError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// Every pool of `conn`, sorted by name; one that vanished meanwhile is passed over.
pub fn pools(conn: &Connect) -> Result<Vec<PoolInfo>, StorageError> {
    let mut pools: Vec<PoolInfo> = conn
        .list_all_storage_pools(0)?
        .iter()
        .filter_map(|pool| pool_info(pool).ok())
        .collect();
    pools.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(pools)
}

fn pool_info(pool: &StoragePool) -> Result<PoolInfo, StorageError> {
    let info = pool.info()?;
    let desc = xml::read_pool(&pool.xml_desc(0)?);
    Ok(PoolInfo {
        name: pool.name()?,
        kind: PoolKind::from_xml_type(&desc.type_name),
        type_name: desc.type_name,
        active: info.state == sys::VIR_STORAGE_POOL_RUNNING,
        autostart: pool.autostart().unwrap_or(false),
        persistent: pool.is_persistent().unwrap_or(false),
        capacity: info.capacity,
        allocation: info.allocation,
        available: info.available,
        target: desc.target,
        source: desc.source,
    })
}

/// The volumes of pool `name`, each with the machines that use it. Blocks.
pub fn volumes(conn: &Connect, name: &str) -> Result<Vec<VolumeInfo>, StorageError> {
    let pool = conn.lookup_storage_pool_by_name(name)?;
    if !pool.is_active()? {
        return Ok(Vec::new());
    }
    // Files copied in by hand show up; a refresh already under way is no failure.
    let _ = pool.refresh(0);
    let users = disk_users(conn);
    let mut volumes: Vec<VolumeInfo> = pool
        .list_all_volumes(0)?
        .iter()
        .filter_map(|vol| {
            let info = vol.info().ok()?;
            let path = vol.path().ok()?;
            Some(VolumeInfo {
                name: vol.name().ok()?,
                format: vol
                    .xml_desc(0)
                    .map(|x| xml::read_volume_format(&x))
                    .unwrap_or_default(),
                capacity: info.capacity,
                allocation: info.allocation,
                used_by: users.get(&path).cloned().unwrap_or_default(),
                path,
            })
        })
        .collect();
    volumes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(volumes)
}

/// Which machines use each disk source path (files and block devices; a disk given as
/// pool + volume is looked up to its path).
fn disk_users(conn: &Connect) -> BTreeMap<String, Vec<String>> {
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for domain in conn.list_all_domains(0).unwrap_or_default() {
        let (Ok(name), Ok(desc)) = (domain.name(), domain.xml_desc(0)) else {
            continue;
        };
        for source in xml::read_disk_sources(&desc) {
            let path = match source {
                xml::DiskSource::Path(path) => path,
                xml::DiskSource::Volume { pool, volume } => {
                    let Ok(vol) = conn
                        .lookup_storage_pool_by_name(&pool)
                        .and_then(|p| p.lookup_storage_vol_by_name(&volume))
                    else {
                        continue;
                    };
                    let Ok(path) = vol.path() else { continue };
                    path
                }
            };
            let vms = users.entry(path).or_default();
            if !vms.contains(&name) {
                vms.push(name.clone());
                vms.sort();
            }
        }
    }
    users
}

/// Defines, builds, starts (and marks autostart) the pool of `spec`; a step that fails
/// undoes the ones before.
pub fn create_pool(conn: &Connect, spec: &PoolSpec) -> Result<(), StorageError> {
    let existing = pools(conn)?;
    check_name(
        &spec.name,
        existing.iter().map(|p| p.name.as_str()),
        StorageError::PoolExists,
    )?;
    let pool_xml = xml::pool_xml(spec).map_err(|e| StorageError::Libvirt(e.to_string()))?;
    tracing::info!("defining storage pool {:?}", spec.name);
    let pool = conn.define_storage_pool_xml(&pool_xml, 0)?;
    let made = (|| {
        if needs_build(&spec.source) {
            pool.build(0)?;
        }
        pool.create(0)?;
        if spec.autostart {
            pool.set_autostart(true)?;
        }
        Ok::<_, virt::error::Error>(())
    })();
    if let Err(e) = made {
        if pool.is_active().unwrap_or(false) {
            let _ = pool.destroy();
        }
        if let Err(undo) = pool.undefine() {
            tracing::warn!("could not undefine pool {:?}: {undo}", spec.name);
        }
        return Err(e.into());
    }
    Ok(())
}

/// A directory pool's directory, a mount point, and a new volume group are made by
/// `virStoragePoolBuild` (without flags it never formats a disk); an existing group, an
/// iSCSI target are used as they are.
fn needs_build(source: &PoolSource) -> bool {
    match source {
        PoolSource::Dir { .. } | PoolSource::Fs { .. } | PoolSource::Netfs { .. } => true,
        PoolSource::Logical { device, .. } => device.is_some(),
        PoolSource::Iscsi { .. } => false,
    }
}

/// Applies `change` to pool `name`. Blocks.
pub fn change_pool(conn: &Connect, name: &str, change: PoolChange) -> Result<(), StorageError> {
    let pool = conn.lookup_storage_pool_by_name(name)?;
    match change {
        PoolChange::Start => pool.create(0)?,
        PoolChange::Stop => pool.destroy()?,
        PoolChange::Refresh => pool.refresh(0)?,
        PoolChange::Autostart(on) => pool.set_autostart(on)?,
        PoolChange::Delete { data } => delete_pool(conn, &pool, name, data)?,
    }
    Ok(())
}

fn delete_pool(
    conn: &Connect,
    pool: &StoragePool,
    name: &str,
    data: bool,
) -> Result<(), StorageError> {
    let kind = PoolKind::from_xml_type(&xml::read_pool(&pool.xml_desc(0)?).type_name);
    if data && kind.data_goes_with_it() {
        if !pool.is_active()? {
            pool.create(0)?;
        }
        // No volume a machine uses goes: refuse before anything is removed.
        let volumes = volumes(conn, name)?;
        if let Some(used) = volumes.iter().find(|v| !v.used_by.is_empty()) {
            return Err(StorageError::VolumeInUse {
                volume: used.name.clone(),
                vms: used.used_by.clone(),
            });
        }
        for vol in pool.list_all_volumes(0)? {
            vol.delete(0)?;
        }
    }
    if pool.is_active()? {
        pool.destroy()?;
    }
    if data && kind != PoolKind::Other {
        // Removes the directory, the mount point, or the volume group.
        pool.delete(0)?;
    }
    if pool.is_persistent()? {
        pool.undefine()?;
    }
    Ok(())
}

fn volume(conn: &Connect, pool: &str, name: &str) -> Result<StorageVol, StorageError> {
    Ok(conn
        .lookup_storage_pool_by_name(pool)?
        .lookup_storage_vol_by_name(name)?)
}

/// Makes volume `spec` in pool `pool`. Blocks for as long as allocating takes.
pub fn create_volume(conn: &Connect, pool: &str, spec: &VolumeSpec) -> Result<(), StorageError> {
    let storage_pool = conn.lookup_storage_pool_by_name(pool)?;
    let names = storage_pool.list_volumes().unwrap_or_default();
    check_name(
        &spec.name,
        names.iter().map(String::as_str),
        StorageError::VolumeExists,
    )?;
    let vol_xml = xml::volume_xml(&spec.name, spec.format.xml_type(), spec.capacity)
        .map_err(|e| StorageError::Libvirt(e.to_string()))?;
    StorageVol::create_xml(&storage_pool, &vol_xml, 0)?;
    Ok(())
}

/// Grows volume `name` to `capacity` bytes; shrinking is refused.
pub fn resize_volume(
    conn: &Connect,
    pool: &str,
    name: &str,
    capacity: u64,
) -> Result<(), StorageError> {
    let vol = volume(conn, pool, name)?;
    if capacity < vol.info()?.capacity {
        return Err(StorageError::Shrink);
    }
    vol.resize(capacity, 0)?;
    Ok(())
}

/// Deletes volume `name` of pool `pool`, unless a machine uses it.
pub fn delete_volume(conn: &Connect, pool: &str, name: &str) -> Result<(), StorageError> {
    let vol = volume(conn, pool, name)?;
    let path = vol.path()?;
    if let Some(vms) = disk_users(conn).remove(&path) {
        return Err(StorageError::VolumeInUse {
            volume: name.to_owned(),
            vms,
        });
    }
    vol.delete(0)?;
    Ok(())
}

/// Copies `file` into a new raw volume `name` of `pool` through a libvirt stream,
/// reporting the bytes sent after each chunk; removes the volume again when it fails or
/// `cancel` is set. Blocks.
pub fn upload(
    conn: &Connect,
    pool: &str,
    name: &str,
    file: &Path,
    report: &dyn Fn(u64),
    cancel: &AtomicBool,
) -> Result<u64, StorageError> {
    let file_error = |e: std::io::Error| StorageError::File {
        path: file.display().to_string(),
        reason: e.to_string(),
    };
    let mut input = std::fs::File::open(file).map_err(file_error)?;
    let size = input.metadata().map_err(file_error)?.len();
    create_volume(
        conn,
        pool,
        &VolumeSpec {
            name: name.to_owned(),
            format: VolumeFormat::Raw,
            capacity: size.max(1),
        },
    )?;
    let vol = volume(conn, pool, name)?;
    let sent = send_file(conn, &vol, &mut input, size, report, cancel, file_error);
    if sent.is_err() {
        if let Err(e) = vol.delete(0) {
            tracing::warn!("could not remove the unfinished volume {name:?}: {e}");
        }
    }
    sent
}

fn send_file(
    conn: &Connect,
    vol: &StorageVol,
    input: &mut std::fs::File,
    size: u64,
    report: &dyn Fn(u64),
    cancel: &AtomicBool,
    file_error: impl Fn(std::io::Error) -> StorageError,
) -> Result<u64, StorageError> {
    let stream = Stream::new(conn, 0)?;
    vol.upload(&stream, 0, size, 0)?;
    let mut buf = vec![0u8; UPLOAD_CHUNK];
    let mut sent = 0u64;
    report(0);
    loop {
        if cancel.load(Ordering::Relaxed) {
            let _ = stream.abort();
            return Err(StorageError::Cancelled);
        }
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = stream.abort();
                return Err(file_error(e));
            }
        };
        let mut chunk = &buf[..n];
        while !chunk.is_empty() {
            match stream.send(chunk) {
                Ok(done) if done > 0 => chunk = &chunk[done.unsigned_abs()..],
                Ok(_) => {
                    let _ = stream.abort();
                    return Err(StorageError::Libvirt(
                        "The stream stopped taking data.".into(),
                    ));
                }
                Err(e) => {
                    let _ = stream.abort();
                    return Err(e.into());
                }
            }
        }
        sent += n as u64;
        report(sent);
    }
    stream.finish()?;
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_as_people_write_them() {
        assert_eq!(parse_size("20"), Some(20 << 30));
        assert_eq!(parse_size("512 MiB"), Some(512 << 20));
        assert_eq!(parse_size("1.5G"), Some(3 << 29));
        assert_eq!(parse_size("100m"), Some(100 << 20));
        assert_eq!(parse_size("4096 B"), Some(4096));
        assert_eq!(parse_size("2 TB"), Some(2 << 40));
        for bad in ["", "G", "ten", "-1", "1 parsec", "0", "1.2.3G"] {
            assert_eq!(parse_size(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names_are_checked_against_those_taken() {
        let taken = ["default", "iso"];
        assert_eq!(
            check_name("iso", taken.into_iter(), StorageError::PoolExists),
            Err(StorageError::PoolExists("iso".into()))
        );
        assert!(check_name("new", taken.into_iter(), StorageError::PoolExists).is_ok());
        assert!(check_name("a/b", taken.into_iter(), StorageError::PoolExists).is_err());
        assert!(check_name(" ", taken.into_iter(), StorageError::PoolExists).is_err());
    }

    #[test]
    fn sources_say_what_they_miss() {
        let missing = PoolSource::Fs {
            device: "/dev/vdtest-none".into(),
            target: "/mnt/x".into(),
        };
        assert_eq!(
            check_source(&missing, true),
            Err(StorageError::PathMissing("/dev/vdtest-none".into()))
        );
        // A remote host's paths are not looked at here.
        assert!(check_source(&missing, false).is_ok());
        let relative = PoolSource::Dir {
            path: "images".into(),
        };
        assert!(check_source(&relative, true).is_err());
    }
}
