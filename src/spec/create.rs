//! Making a [`VmSpec`] real on a libvirt connection, with nothing half-made: when any step
//! after the new disk was allocated fails, the domain is undefined and the disk this call
//! created is deleted before the error is returned. What could not be removed is named in
//! the [`CreateFailure`], so that the user can remove it.
//!
//! Every call blocks (libvirt RPC, disk allocation): the UI has the connection worker run
//! it ([`crate::libvirt::Request::CreateVm`]).

use std::path::PathBuf;

use tracing::{debug, info, warn};
use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::Error as VirtError;
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;
use virt_sys as sys;

use super::domain_xml::{dir_pool_xml, domain_xml, volume_xml, XmlError};
use super::vm_spec::{InstallMethod, Network, Storage, VmSpec};
use crate::libvirt::error::describe;

/// The storage pool virt-manager and GNOME Boxes create on first use.
pub const DEFAULT_POOL: &str = "default";

/// A step of [`create_vm_on`], reported as it begins.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    PreparingStorage,
    /// Allocating the new disk; `fraction` goes from 0.0 to 1.0.
    AllocatingDisk {
        fraction: f64,
    },
    Defining,
    Starting,
}

/// Why a machine could not be created. Each message is a sentence with libvirt's reason.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("There is no storage pool called “{pool}” on this connection.")]
    PoolMissing { pool: String },
    #[error("The storage pool “{pool}” could not be prepared: {reason}")]
    Pool { pool: String, reason: String },
    #[error("The storage pool “{pool}” already has a volume called “{volume}”. Choose another name for the machine, or remove that volume.")]
    VolumeExists { pool: String, volume: String },
    #[error("The disk could not be created: {reason}")]
    Volume { reason: String },
    #[error("The virtual network “{network}” could not be started: {reason}")]
    Network { network: String, reason: String },
    #[error("The virtual machine could not be defined: {reason}")]
    Define { reason: String },
    #[error("The virtual machine could not be started: {reason}")]
    Start { reason: String },
    #[error(transparent)]
    Xml(#[from] XmlError),
}

/// A machine that was not created: why, and what of it could not be removed again.
#[derive(Debug)]
pub struct CreateFailure {
    pub error: CreateError,
    /// Empty when everything made on the way was removed.
    pub left_behind: Vec<Leftover>,
}

impl CreateFailure {
    /// A failure before anything was made.
    pub fn nothing_made(error: CreateError) -> Self {
        Self {
            error,
            left_behind: Vec::new(),
        }
    }
}

impl std::fmt::Display for CreateFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)?;
        for left in &self.left_behind {
            write!(f, " {left}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CreateFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Something [`create_vm_on`] made before it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    /// The domain, by name.
    Domain(String),
    /// The new disk image, by path.
    Volume(String),
}

/// Something made on the way that could not be removed, and libvirt's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub what: Made,
    pub reason: String,
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = &self.reason;
        match &self.what {
            Made::Domain(name) => {
                write!(f, "The virtual machine “{name}” is left behind: {reason}")
            }
            Made::Volume(path) => write!(f, "The disk image {path} is left behind: {reason}"),
        }
    }
}

/// What [`create_vm_on`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub name: String,
    pub uuid: String,
    /// The path of the disk volume this call created.
    pub new_volume: Option<String>,
    pub started: bool,
}

/// Creates the machine on `conn`: prepares the storage pool (the default one is created
/// if missing), allocates the new disk, starts the chosen virtual network, defines the
/// domain and starts it when `spec.start_after`. The spec should have passed
/// [`VmSpec::validate`].
pub fn create_vm_on(
    conn: &Connect,
    spec: &VmSpec,
    progress: &mut dyn FnMut(Progress),
) -> Result<Created, CreateFailure> {
    let mut undo = Undo::default();
    match create_steps(conn, spec, progress, &mut undo) {
        Ok(created) => {
            undo.disarm();
            info!("created virtual machine {:?} on {}", spec.name, spec.uri);
            Ok(created)
        }
        Err(error) => Err(CreateFailure {
            error,
            left_behind: undo.roll_back(),
        }),
    }
}

/// The steps of [`create_vm_on`]; each thing made is added to `undo` as soon as it exists.
fn create_steps(
    conn: &Connect,
    spec: &VmSpec,
    progress: &mut dyn FnMut(Progress),
    undo: &mut Undo,
) -> Result<Created, CreateError> {
    let xml = domain_xml(spec)?;
    if let InstallMethod::StorageVolume { pool, .. } = &spec.install {
        progress(Progress::PreparingStorage);
        ensure_pool(conn, pool)?;
    }
    let mut new_volume_path = None;
    if let Storage::NewVolume { pool, size_gib } = &spec.storage {
        progress(Progress::PreparingStorage);
        let pool = ensure_pool(conn, pool)?;
        progress(Progress::AllocatingDisk { fraction: 0.0 });
        let volume = new_volume(&pool, &spec.new_volume_name(), *size_gib)?;
        let path = volume.path().unwrap_or_else(|_| spec.new_volume_name());
        new_volume_path = Some(path.clone());
        undo.push(Made::Volume(path), move || {
            volume.delete(0).map_err(|e| describe(&e))
        });
        progress(Progress::AllocatingDisk { fraction: 1.0 });
    }
    if let Network::VirtualNetwork { name } = &spec.network {
        ensure_network_active(conn, name)?;
    }
    progress(Progress::Defining);
    let domain = conn
        .define_domain_xml(&xml)
        .map_err(|e| CreateError::Define {
            reason: describe(&e),
        })?;
    let defined = domain.clone();
    undo.push(Made::Domain(spec.name.clone()), move || {
        remove_domain(&defined).map_err(|e| describe(&e))
    });
    if spec.start_after {
        progress(Progress::Starting);
        domain.create().map_err(|e| CreateError::Start {
            reason: describe(&e),
        })?;
    }
    Ok(Created {
        name: spec.name.clone(),
        uuid: domain.uuid_string().unwrap_or_default(),
        new_volume: new_volume_path,
        started: spec.start_after,
    })
}

/// Stops and undefines a half-made domain; one that is gone already counts as removed.
fn remove_domain(domain: &Domain) -> Result<(), VirtError> {
    let gone = |e: &VirtError| e.code().to_raw() == sys::VIR_ERR_NO_DOMAIN;
    match domain.is_active() {
        Ok(true) => domain.destroy()?,
        Ok(false) => {}
        Err(e) if gone(&e) => return Ok(()),
        Err(e) => return Err(e),
    }
    match undefine(domain) {
        Err(e) if !gone(&e) => Err(e),
        _ => Ok(()),
    }
}

type Removal = Box<dyn FnOnce() -> Result<(), String>>;

/// What to remove if creation stops half-way: each thing made, with how to remove it.
/// [`Undo::roll_back`] removes them newest first and reports what stayed; dropping an
/// armed `Undo` (a panic half-way) rolls back too.
#[derive(Default)]
struct Undo {
    made: Vec<(Made, Removal)>,
}

impl Undo {
    fn push(&mut self, what: Made, remove: impl FnOnce() -> Result<(), String> + 'static) {
        self.made.push((what, Box::new(remove)));
    }

    /// Keeps everything: creation succeeded.
    fn disarm(&mut self) {
        self.made.clear();
    }

    /// Removes everything made, newest first; returns what could not be removed.
    fn roll_back(&mut self) -> Vec<Leftover> {
        let mut left_behind = Vec::new();
        while let Some((what, remove)) = self.made.pop() {
            match remove() {
                Ok(()) => debug!("removed the half-made {what:?}"),
                Err(reason) => {
                    warn!("could not remove the half-made {what:?}: {reason}");
                    left_behind.push(Leftover { what, reason });
                }
            }
        }
        left_behind
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        self.roll_back();
    }
}

/// Undefines `domain` with its UEFI variables; drivers without that flag get a plain
/// undefine.
pub fn undefine(domain: &Domain) -> Result<(), VirtError> {
    match domain.undefine_flags(sys::VIR_DOMAIN_UNDEFINE_NVRAM) {
        Err(e) if crate::libvirt::error::is_unsupported(&e) => domain.undefine(),
        other => other,
    }
}

fn new_volume(pool: &StoragePool, name: &str, size_gib: u64) -> Result<StorageVol, CreateError> {
    let pool_name = pool.name().unwrap_or_default();
    if pool.lookup_storage_vol_by_name(name).is_ok() {
        return Err(CreateError::VolumeExists {
            pool: pool_name,
            volume: name.to_owned(),
        });
    }
    let xml = volume_xml(name, size_gib)?;
    debug!("creating volume {name:?} in pool {pool_name:?}");
    StorageVol::create_xml(pool, &xml, 0).map_err(|e| CreateError::Volume {
        reason: describe(&e),
    })
}

/// The directory of the default pool, as virt-manager chooses it: the system image
/// directory for privileged connections, `$XDG_DATA_HOME/libvirt/images` (or
/// `~/.local/share/libvirt/images`) for `…/session`.
pub fn default_pool_dir(uri: &str) -> PathBuf {
    let is_session = uri
        .split(['?', '#'])
        .next()
        .is_some_and(|u| u.ends_with("/session"));
    if !is_session {
        return PathBuf::from("/var/lib/libvirt/images");
    }
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"));
    data_home.join("libvirt/images")
}

/// Looks up pool `name`, creating [`DEFAULT_POOL`] when it is missing, and makes sure it
/// is active and its volume list is fresh.
pub fn ensure_pool(conn: &Connect, name: &str) -> Result<StoragePool, CreateError> {
    if name == DEFAULT_POOL {
        let uri = conn.uri().unwrap_or_default();
        return ensure_dir_pool(conn, name, &default_pool_dir(&uri));
    }
    match conn.lookup_storage_pool_by_name(name) {
        Ok(pool) => activate_pool(pool, name),
        Err(e) if e.code().to_raw() == sys::VIR_ERR_NO_STORAGE_POOL => {
            Err(CreateError::PoolMissing {
                pool: name.to_owned(),
            })
        }
        Err(e) => Err(pool_error(name, &e)),
    }
}

/// Looks up pool `name`, or defines it as a directory pool at `dir`, builds it (creates
/// the directory) and marks it autostart; then makes sure it is active.
pub fn ensure_dir_pool(
    conn: &Connect,
    name: &str,
    dir: &std::path::Path,
) -> Result<StoragePool, CreateError> {
    let pool = match conn.lookup_storage_pool_by_name(name) {
        Ok(pool) => pool,
        Err(e) if e.code().to_raw() == sys::VIR_ERR_NO_STORAGE_POOL => {
            define_dir_pool(conn, name, dir)?
        }
        Err(e) => return Err(pool_error(name, &e)),
    };
    activate_pool(pool, name)
}

fn define_dir_pool(
    conn: &Connect,
    name: &str,
    dir: &std::path::Path,
) -> Result<StoragePool, CreateError> {
    let path = dir.to_string_lossy();
    info!("defining storage pool {name:?} at {path}");
    let xml = dir_pool_xml(name, &path)?;
    let pool = match conn.define_storage_pool_xml(&xml, 0) {
        Ok(pool) => pool,
        // Someone else defined it meanwhile.
        Err(e) => conn
            .lookup_storage_pool_by_name(name)
            .map_err(|_| pool_error(name, &e))?,
    };
    pool.build(0).map_err(|e| pool_error(name, &e))?;
    pool.set_autostart(true).map_err(|e| pool_error(name, &e))?;
    Ok(pool)
}

fn activate_pool(pool: StoragePool, name: &str) -> Result<StoragePool, CreateError> {
    if !pool.is_active().map_err(|e| pool_error(name, &e))? {
        if let Err(e) = pool.create(0) {
            // Someone else may have started it meanwhile.
            if !pool.is_active().unwrap_or(false) {
                return Err(pool_error(name, &e));
            }
        }
    }
    pool.refresh(0).map_err(|e| pool_error(name, &e))?;
    Ok(pool)
}

fn pool_error(pool: &str, e: &VirtError) -> CreateError {
    CreateError::Pool {
        pool: pool.to_owned(),
        reason: describe(e),
    }
}

/// Starts virtual network `name` when it is defined but inactive (libvirt's NAT `default`
/// often is).
fn ensure_network_active(conn: &Connect, name: &str) -> Result<(), CreateError> {
    let err = |e: VirtError| CreateError::Network {
        network: name.to_owned(),
        reason: describe(&e),
    };
    let network = conn.lookup_network_by_name(name).map_err(err)?;
    if !network.is_active().map_err(err)? {
        info!("starting virtual network {name:?}");
        network.create().map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn a_rollback_removes_newest_first_and_names_what_stayed() {
        let order = Rc::new(RefCell::new(Vec::new()));
        let mut undo = Undo::default();
        for (what, outcome) in [
            (
                Made::Volume("/p/vm.qcow2".into()),
                Err("Permission denied."),
            ),
            (Made::Domain("vm".into()), Ok(())),
        ] {
            let order = order.clone();
            let name = format!("{what:?}");
            undo.push(what, move || {
                order.borrow_mut().push(name);
                outcome.map_err(str::to_owned)
            });
        }
        let left = undo.roll_back();
        assert_eq!(
            *order.borrow(),
            [r#"Domain("vm")"#, r#"Volume("/p/vm.qcow2")"#],
            "the domain goes before its disk"
        );
        assert_eq!(
            left,
            [Leftover {
                what: Made::Volume("/p/vm.qcow2".into()),
                reason: "Permission denied.".into(),
            }]
        );
        assert!(undo.roll_back().is_empty(), "each thing is removed once");

        let failure = CreateFailure {
            error: CreateError::Start {
                reason: "No bridge.".into(),
            },
            left_behind: left,
        };
        assert_eq!(
            failure.to_string(),
            "The virtual machine could not be started: No bridge. \
             The disk image /p/vm.qcow2 is left behind: Permission denied."
        );
    }

    #[test]
    fn a_clean_rollback_leaves_nothing_and_a_disarmed_undo_removes_nothing() {
        let mut undo = Undo::default();
        undo.push(Made::Domain("vm".into()), || Ok(()));
        assert!(undo.roll_back().is_empty());

        let removed = Rc::new(RefCell::new(false));
        let mut undo = Undo::default();
        let flag = removed.clone();
        undo.push(Made::Domain("kept".into()), move || {
            *flag.borrow_mut() = true;
            Ok(())
        });
        undo.disarm();
        drop(undo);
        assert!(!*removed.borrow());

        let dropped = Rc::new(RefCell::new(false));
        let flag = dropped.clone();
        let mut undo = Undo::default();
        undo.push(Made::Domain("half".into()), move || {
            *flag.borrow_mut() = true;
            Ok(())
        });
        drop(undo);
        assert!(*dropped.borrow(), "dropping an armed undo rolls back");
    }
}
