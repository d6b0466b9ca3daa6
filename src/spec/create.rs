//! Making a [`VmSpec`] real on a libvirt connection, with nothing half-made: when any step
//! after the new disk was allocated fails, the domain is undefined and the disk this call
//! created is deleted before the error is returned.
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
) -> Result<Created, CreateError> {
    let xml = domain_xml(spec)?;
    let mut undo = Undo::default();
    if let InstallMethod::StorageVolume { pool, .. } = &spec.install {
        progress(Progress::PreparingStorage);
        ensure_pool(conn, pool)?;
    }
    if let Storage::NewVolume { pool, size_gib } = &spec.storage {
        progress(Progress::PreparingStorage);
        let pool = ensure_pool(conn, pool)?;
        progress(Progress::AllocatingDisk { fraction: 0.0 });
        undo.volume = Some(new_volume(&pool, &spec.new_volume_name(), *size_gib)?);
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
    undo.domain = Some(domain);
    let domain = undo.domain.as_ref().expect("just set");
    if spec.start_after {
        progress(Progress::Starting);
        domain.create().map_err(|e| CreateError::Start {
            reason: describe(&e),
        })?;
    }
    let created = Created {
        name: spec.name.clone(),
        uuid: domain.uuid_string().unwrap_or_default(),
        new_volume: undo.volume.as_ref().and_then(|v| v.path().ok()),
        started: spec.start_after,
    };
    undo.disarm();
    info!("created virtual machine {:?} on {}", spec.name, spec.uri);
    Ok(created)
}

/// What to remove if creation stops half-way; dropping it removes it.
#[derive(Default)]
struct Undo {
    volume: Option<StorageVol>,
    domain: Option<Domain>,
}

impl Undo {
    fn disarm(&mut self) {
        self.volume = None;
        self.domain = None;
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        if let Some(domain) = self.domain.take() {
            if domain.is_active().unwrap_or(false) {
                if let Err(e) = domain.destroy() {
                    warn!("could not stop the half-made domain: {e}");
                }
            }
            if let Err(e) = undefine(&domain) {
                warn!("could not undefine the half-made domain: {e}");
            }
        }
        if let Some(volume) = self.volume.take() {
            if let Err(e) = volume.delete(0) {
                warn!("could not delete the half-made volume: {e}");
            }
        }
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
