//! Checking a [`VmSpec`] against the host before anything is created: every problem at
//! once, each as a sentence, and tagged with the part of the spec it concerns so that a
//! form can show it in the right place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::vm_spec::{Firmware, InstallMethod, Network, Storage, VmSpec};

/// The longest name accepted, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// The rules a domain name follows here. libvirt itself accepts almost any string; these
/// rules keep names that also work as file names (the QEMU driver stores `<name>.xml`, a
/// new disk is `<name>.qcow2`) and that a person can read and type:
/// - not empty, at most [`NAME_MAX_CHARS`] characters;
/// - no space (or other whitespace) at the start or end;
/// - no `/`;
/// - no control characters (tabs, line breaks, …);
/// - not the name of another machine on the same connection (names are case-sensitive).
///
/// Anything else, including `<`, `&`, quotes and any Unicode letter, is allowed: the XML
/// layer escapes it.
pub const NAME_RULES: &str = "1 to 64 characters, no leading or trailing whitespace, no '/', \
no control characters, unique on the connection";

const BYTES_PER_GIB: u64 = 1 << 30;

/// What the caller found out about the host of the connection. Plain data, so that the
/// checks are pure; [`crate::spec::facts::gather`] fills it from libvirt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    pub total_memory_mib: u64,
    pub free_memory_mib: u64,
    pub cpus: u32,
    /// Free bytes per storage pool name; a pool missing here is not checked (the default
    /// pool may not exist before the machine is created).
    pub pool_free_bytes: BTreeMap<String, u64>,
    /// Names of the domains already defined on the connection.
    pub existing_names: BTreeSet<String>,
    /// UEFI firmware (OVMF) is installed.
    pub ovmf_present: bool,
    /// Host bridge interfaces, e.g. `br0`.
    pub bridges: BTreeSet<String>,
    /// libvirt virtual networks of the connection, e.g. `default`.
    pub networks: BTreeSet<String>,
    /// The connection's host is this machine, so paths can be checked here.
    pub paths_are_local: bool,
    /// The volumes of the active storage pools.
    pub volumes: Vec<PoolVolume>,
    /// The active pools of type `dir`: folders, where an uploaded image is a plain file.
    pub dir_pools: BTreeSet<String>,
}

/// A volume in a storage pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolVolume {
    pub pool: String,
    pub name: String,
    /// Where the volume is on the connection's host.
    pub path: String,
}

impl HostFacts {
    /// The volumes whose names end with `.iso` (any case): installation media.
    pub fn iso_volumes(&self) -> impl Iterator<Item = &PoolVolume> {
        self.volumes.iter().filter(|v| is_iso_name(&v.name))
    }

    /// The pool a local image is uploaded into unless the user chooses another: the
    /// active pool named "default", else the first active folder pool, else the first
    /// active pool; `None` without an active pool.
    pub fn default_upload_pool(&self) -> Option<&str> {
        let active = |name: &&String| self.pool_free_bytes.contains_key(*name);
        self.pool_free_bytes
            .get_key_value(UPLOAD_POOL)
            .map(|(name, _)| name)
            .or_else(|| self.dir_pools.iter().find(active))
            .or_else(|| self.pool_free_bytes.keys().next())
            .map(String::as_str)
    }
}

/// The storage pool a local installation image goes into when the machine is made on a
/// remote host, which cannot see this computer's files, unless another is chosen
/// (`InstallMethod::LocalIso::upload_pool`).
pub const UPLOAD_POOL: &str = super::create::DEFAULT_POOL;

/// The volume a local installation image at `path` becomes on a remote host: its file name.
pub fn upload_volume_name(path: &str) -> String {
    Path::new(path.trim())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A volume called `name` is installation media: it ends with `.iso` (any case).
pub fn is_iso_name(name: &str) -> bool {
    name.to_lowercase().ends_with(".iso")
}

/// The part of the spec a problem is about (a wizard page or field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpecField {
    Name,
    InstallMedia,
    Memory,
    Vcpus,
    Storage,
    Network,
    Firmware,
}

/// Something that makes the spec impossible to create.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecProblem {
    #[error("The name is empty.")]
    NameEmpty,
    #[error("The name is {chars} characters long; at most {max} are allowed.", max = NAME_MAX_CHARS)]
    NameTooLong { chars: usize },
    #[error("The name must not begin or end with a space.")]
    NameSurroundingSpace,
    #[error("The name must not contain “/”.")]
    NameSlash,
    #[error("The name must not contain control characters such as tabs or line breaks.")]
    NameControlCharacter,
    #[error("A virtual machine called “{0}” already exists on this connection.")]
    NameTaken(String),
    #[error("No installation image was chosen.")]
    IsoNotChosen,
    #[error("No storage pool and volume were chosen for the installation media.")]
    MediaVolumeNotChosen,
    #[error("The storage pool “{pool}” has no volume called “{volume}”.")]
    MediaVolumeMissing { pool: String, volume: String },
    #[error("The storage pool “{pool}” on the host already has a volume called “{volume}”: choose it among the ISO volumes, or rename the image file.")]
    UploadNameTaken { pool: String, volume: String },
    #[error("No disk image was chosen to import.")]
    ImportNotChosen,
    #[error("The file “{path}” does not exist.")]
    FileMissing { path: String, field: SpecField },
    #[error("“{path}” is a folder, not a file.")]
    NotAFile { path: String, field: SpecField },
    #[error("The memory must be more than 0 MiB.")]
    MemoryZero,
    #[error("{requested} MiB of memory is more than the host has in total ({total} MiB).")]
    MemoryOverTotal { requested: u64, total: u64 },
    #[error("The machine needs at least one virtual CPU.")]
    VcpusZero,
    #[error("{requested} virtual CPUs are more than the host's {cpus}.")]
    VcpusOverHost { requested: u32, cpus: u32 },
    #[error("No storage pool was chosen for the new disk.")]
    PoolNotChosen,
    #[error("The disk must be at least 1 GiB.")]
    DiskSizeZero,
    #[error("A {size_gib} GiB disk does not fit in the storage pool “{pool}”, which has {free_gib} GiB free.")]
    DiskOverPool {
        pool: String,
        size_gib: u64,
        free_gib: u64,
    },
    #[error("No existing disk was chosen.")]
    DiskNotChosen,
    #[error("No bridge, network or device was chosen for the network card.")]
    NetworkNotChosen,
    #[error("The host has no bridge called “{0}”.")]
    BridgeMissing(String),
    #[error("This connection has no virtual network called “{0}”.")]
    VirtualNetworkMissing(String),
    #[error("UEFI firmware was chosen, but OVMF (the UEFI firmware for virtual machines) is not installed on the host.")]
    UefiWithoutOvmf,
}

/// Something that works but that the user should know about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecWarning {
    #[error("{requested} MiB of memory is more than the host has free now ({free} MiB); the host may swap or refuse to start the machine.")]
    MemoryOverFree { requested: u64, free: u64 },
}

impl SpecProblem {
    pub fn field(&self) -> SpecField {
        use SpecProblem::*;
        match self {
            NameEmpty
            | NameTooLong { .. }
            | NameSurroundingSpace
            | NameSlash
            | NameControlCharacter
            | NameTaken(_) => SpecField::Name,
            IsoNotChosen
            | MediaVolumeNotChosen
            | MediaVolumeMissing { .. }
            | UploadNameTaken { .. }
            | ImportNotChosen => SpecField::InstallMedia,
            FileMissing { field, .. } | NotAFile { field, .. } => *field,
            MemoryZero | MemoryOverTotal { .. } => SpecField::Memory,
            VcpusZero | VcpusOverHost { .. } => SpecField::Vcpus,
            PoolNotChosen | DiskSizeZero | DiskOverPool { .. } | DiskNotChosen => {
                SpecField::Storage
            }
            NetworkNotChosen | BridgeMissing(_) | VirtualNetworkMissing(_) => SpecField::Network,
            UefiWithoutOvmf => SpecField::Firmware,
        }
    }
}

/// The problems of a domain name under [`NAME_RULES`], uniqueness aside.
pub fn name_problems(name: &str) -> Vec<SpecProblem> {
    let mut problems = Vec::new();
    if name.is_empty() {
        problems.push(SpecProblem::NameEmpty);
        return problems;
    }
    let chars = name.chars().count();
    if chars > NAME_MAX_CHARS {
        problems.push(SpecProblem::NameTooLong { chars });
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        problems.push(SpecProblem::NameSurroundingSpace);
    }
    if name.contains('/') {
        problems.push(SpecProblem::NameSlash);
    }
    if name.chars().any(char::is_control) {
        problems.push(SpecProblem::NameControlCharacter);
    }
    problems
}

impl VmSpec {
    /// Every reason why this spec cannot be created on the host described by `host`.
    pub fn validate(&self, host: &HostFacts) -> Result<(), Vec<SpecProblem>> {
        let mut problems = name_problems(&self.name);
        if host.existing_names.contains(&self.name) {
            problems.push(SpecProblem::NameTaken(self.name.clone()));
        }
        self.check_install(host, &mut problems);
        self.check_resources(host, &mut problems);
        self.check_storage(host, &mut problems);
        self.check_network(host, &mut problems);
        if self.firmware == Firmware::Uefi && !host.ovmf_present {
            problems.push(SpecProblem::UefiWithoutOvmf);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Things that do not stop creation but deserve a word.
    pub fn warnings(&self, host: &HostFacts) -> Vec<SpecWarning> {
        let mut warnings = Vec::new();
        if self.memory_mib <= host.total_memory_mib && self.memory_mib > host.free_memory_mib {
            warnings.push(SpecWarning::MemoryOverFree {
                requested: self.memory_mib,
                free: host.free_memory_mib,
            });
        }
        warnings
    }

    fn check_install(&self, host: &HostFacts, problems: &mut Vec<SpecProblem>) {
        match &self.install {
            InstallMethod::LocalIso { path, .. } if path.is_empty() => {
                problems.push(SpecProblem::IsoNotChosen)
            }
            InstallMethod::ImportDisk { path, .. } if path.is_empty() => {
                problems.push(SpecProblem::ImportNotChosen)
            }
            // On a remote host the image is this computer's file, uploaded into its pool
            // before the machine is made: checked here either way.
            InstallMethod::LocalIso { path, upload_pool } => {
                check_local_file(path, SpecField::InstallMedia, problems);
                let volume = upload_volume_name(path);
                let pool = upload_pool.as_deref().unwrap_or(UPLOAD_POOL);
                let taken = || {
                    host.volumes
                        .iter()
                        .any(|v| v.pool == pool && v.name == volume)
                };
                if !host.paths_are_local && taken() {
                    problems.push(SpecProblem::UploadNameTaken {
                        pool: pool.to_owned(),
                        volume,
                    });
                }
            }
            InstallMethod::ImportDisk { path, .. } => {
                check_file(path, SpecField::InstallMedia, host, problems)
            }
            InstallMethod::StorageVolume { pool, volume }
                if pool.is_empty() || volume.is_empty() =>
            {
                problems.push(SpecProblem::MediaVolumeNotChosen)
            }
            // Only the volumes of active pools are known; others are checked on creation.
            InstallMethod::StorageVolume { pool, volume }
                if host.pool_free_bytes.contains_key(pool)
                    && !host
                        .volumes
                        .iter()
                        .any(|v| v.pool == *pool && v.name == *volume) =>
            {
                problems.push(SpecProblem::MediaVolumeMissing {
                    pool: pool.clone(),
                    volume: volume.clone(),
                })
            }
            InstallMethod::StorageVolume { .. }
            | InstallMethod::NetworkBoot
            | InstallMethod::Manual => {}
        }
    }

    fn check_resources(&self, host: &HostFacts, problems: &mut Vec<SpecProblem>) {
        if self.memory_mib == 0 {
            problems.push(SpecProblem::MemoryZero);
        } else if self.memory_mib > host.total_memory_mib {
            problems.push(SpecProblem::MemoryOverTotal {
                requested: self.memory_mib,
                total: host.total_memory_mib,
            });
        }
        if self.vcpus == 0 {
            problems.push(SpecProblem::VcpusZero);
        } else if self.vcpus > host.cpus {
            problems.push(SpecProblem::VcpusOverHost {
                requested: self.vcpus,
                cpus: host.cpus,
            });
        }
    }

    fn check_storage(&self, host: &HostFacts, problems: &mut Vec<SpecProblem>) {
        match &self.storage {
            Storage::NewVolume { pool, .. } if pool.is_empty() => {
                problems.push(SpecProblem::PoolNotChosen)
            }
            Storage::NewVolume { size_gib: 0, .. } => problems.push(SpecProblem::DiskSizeZero),
            Storage::NewVolume { pool, size_gib } => {
                let free = host.pool_free_bytes.get(pool).copied();
                if let Some(free) = free.filter(|&f| size_gib.saturating_mul(BYTES_PER_GIB) > f) {
                    problems.push(SpecProblem::DiskOverPool {
                        pool: pool.clone(),
                        size_gib: *size_gib,
                        free_gib: free / BYTES_PER_GIB,
                    });
                }
            }
            Storage::Existing { path, .. } if path.is_empty() => {
                problems.push(SpecProblem::DiskNotChosen)
            }
            Storage::Existing { path, .. } => check_file(path, SpecField::Storage, host, problems),
            Storage::None => {}
        }
    }

    fn check_network(&self, host: &HostFacts, problems: &mut Vec<SpecProblem>) {
        match &self.network {
            Network::Bridge { name }
            | Network::VirtualNetwork { name }
            | Network::Macvtap { dev: name }
                if name.is_empty() =>
            {
                problems.push(SpecProblem::NetworkNotChosen)
            }
            Network::Bridge { name } if !host.bridges.contains(name) => {
                problems.push(SpecProblem::BridgeMissing(name.clone()))
            }
            Network::VirtualNetwork { name } if !host.networks.contains(name) => {
                problems.push(SpecProblem::VirtualNetworkMissing(name.clone()))
            }
            Network::Bridge { .. }
            | Network::VirtualNetwork { .. }
            | Network::Macvtap { .. }
            | Network::User => {}
        }
    }
}

/// Checks a path on the connection's host, when that is this computer.
fn check_file(path: &str, field: SpecField, host: &HostFacts, problems: &mut Vec<SpecProblem>) {
    if host.paths_are_local {
        check_local_file(path, field, problems);
    }
}

/// Checks a path on this computer.
fn check_local_file(path: &str, field: SpecField, problems: &mut Vec<SpecProblem>) {
    let path_ref = Path::new(path);
    let path = path.to_owned();
    if !path_ref.exists() {
        problems.push(SpecProblem::FileMissing { path, field });
    } else if path_ref.is_dir() {
        problems.push(SpecProblem::NotAFile { path, field });
    }
}
