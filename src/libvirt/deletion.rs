//! Deleting a machine: which of its disk images the user is offered to delete, and the
//! removal itself, which deletes exactly what the user confirmed and keeps the rest.
//!
//! The Delete dialog asks the worker for its list ([`read_storage_choices`]: every
//! machine of the host read for its disks, [`storage_choices`]), and sends the paths the user left checked in
//! [`Command::Delete`](super::Command::Delete). The worker then undefines the machine with
//! [`undefine`] (UEFI variables and TPM state kept unless [`DeleteStorage`] says otherwise)
//! and deletes those paths with [`delete_volume`], re-reading nothing to decide what goes.

use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::Error as VirtError;
use virt_sys as sys;

use super::domain::{DiskDevice, DomainInfo};
use super::error::{describe, is_unsupported};

/// What [`Command::Delete`](super::Command::Delete) removes besides the machine's
/// definition (snapshot and checkpoint metadata, a managed save). The default keeps
/// everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteStorage {
    /// The disk images to delete, by path: exactly those the user confirmed.
    pub volumes: Vec<String>,
    /// Delete the file with the UEFI variables too; it is kept otherwise.
    pub nvram: bool,
    /// Delete the state of the emulated TPM too; it is kept otherwise.
    pub tpm: bool,
}

/// A disk image of a machine, as the Delete dialog offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageChoice {
    pub path: String,
    /// The guest's device name of it, e.g. `vda`.
    pub target: String,
    pub device: DiskDevice,
    pub read_only: bool,
    pub shareable: bool,
    /// The other machines of the connection that use it too, by name.
    pub used_by: Vec<String>,
}

impl StorageChoice {
    /// Whether the dialog offers it checked: a writable disk that no other machine uses
    /// (CD-ROMs, read-only and shareable disks are left unchecked).
    pub fn checked_by_default(&self) -> bool {
        self.device == DiskDevice::Disk
            && !self.read_only
            && !self.shareable
            && self.used_by.is_empty()
    }
}

/// The local disk images of `domain`, each once, with the machines among `all` (the
/// connection's domains; `domain` itself may be among them) that use it too.
pub fn storage_choices<'a>(
    domain: &DomainInfo,
    all: impl IntoIterator<Item = &'a DomainInfo>,
) -> Vec<StorageChoice> {
    let mut choices: Vec<StorageChoice> = Vec::new();
    for disk in &domain.disks {
        let Some(path) = disk.source_path() else {
            continue;
        };
        if choices.iter().any(|c| c.path == path) {
            continue;
        }
        choices.push(StorageChoice {
            path: path.to_owned(),
            target: disk.target.clone(),
            device: disk.device.clone(),
            read_only: disk.read_only,
            shareable: disk.shareable,
            used_by: Vec::new(),
        });
    }
    for other in all.into_iter().filter(|d| d.uuid != domain.uuid) {
        for choice in &mut choices {
            let uses = other
                .disks
                .iter()
                .any(|d| d.source_path() == Some(&choice.path));
            if uses && !choice.used_by.contains(&other.name) {
                choice.used_by.push(other.name.clone());
            }
        }
    }
    choices
}

/// [`storage_choices`] of the machine `uuid` among every machine of `conn`, each read
/// for its disks (the list keeps no device lists).
pub fn read_storage_choices(conn: &Connect, uuid: &str) -> Result<Vec<StorageChoice>, VirtError> {
    let mut all = Vec::new();
    let mut target = None;
    for dom in conn.list_all_domains(0)? {
        let read = dom.xml_desc(0).map(|xml| {
            // State and persistence do not matter for the disks.
            DomainInfo::from_xml(&xml, super::DomainState::NoState, true)
        });
        match read {
            Ok(Ok(info)) if info.uuid == uuid => target = Some(info),
            Ok(Ok(info)) => all.push(info),
            // Gone since the listing, or unreadable: it uses no image worth naming.
            Ok(Err(_)) => {}
            Err(e) if super::error::is_no_domain(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(target.map_or_else(Vec::new, |target| storage_choices(&target, &all)))
}

/// Why a machine could not be undefined.
#[derive(Debug, thiserror::Error)]
pub enum UndefineError {
    #[error("{}", describe(.0))]
    Libvirt(VirtError),
    #[error("This host's libvirt cannot keep the TPM state of a machine it deletes (that takes libvirt 8.9), so the machine was not deleted. To delete it anyway, choose to delete its TPM state too.")]
    CannotKeepTpm,
}

const BASIC: u32 =
    sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;

/// The `virDomainUndefineFlags` to try in turn, newest features first, for daemons that
/// refuse flags they do not know: the TPM flags came with libvirt 8.9, checkpoints with
/// 5.6, keeping the UEFI variables with 2.3. A daemon older than 8.9 deletes the TPM state
/// on undefine, so when the state is to be kept and the machine has one, only the first
/// attempt is safe.
fn undefine_attempts(storage: &DeleteStorage, has_tpm_state: bool) -> Vec<u32> {
    let nvram = if storage.nvram {
        sys::VIR_DOMAIN_UNDEFINE_NVRAM
    } else {
        sys::VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
    };
    let tpm = if storage.tpm {
        sys::VIR_DOMAIN_UNDEFINE_TPM
    } else {
        sys::VIR_DOMAIN_UNDEFINE_KEEP_TPM
    };
    let checkpoints = sys::VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;
    let mut attempts = vec![BASIC | checkpoints | nvram | tpm];
    if storage.tpm || !has_tpm_state {
        attempts.extend([BASIC | checkpoints | nvram, BASIC | nvram, BASIC, 0]);
    }
    attempts
}

/// Undefines `dom` with its snapshot and checkpoint metadata and managed save, deleting
/// its UEFI variables and TPM state only when `storage` says so. `has_tpm_state`: whether
/// the machine has an emulated TPM.
pub fn undefine(
    dom: &Domain,
    storage: &DeleteStorage,
    has_tpm_state: bool,
) -> Result<(), UndefineError> {
    let attempts = undefine_attempts(storage, has_tpm_state);
    let mut last = None;
    for flags in &attempts {
        match dom.undefine_flags(*flags) {
            Ok(()) => return Ok(()),
            Err(e) if is_unsupported(&e) => {
                tracing::debug!(flags, error = %e, "undefine flags refused");
                last = Some(e);
            }
            Err(e) => return Err(UndefineError::Libvirt(e)),
        }
    }
    match last {
        Some(_) if attempts.len() == 1 => Err(UndefineError::CannotKeepTpm),
        Some(e) => Err(UndefineError::Libvirt(e)),
        None => unreachable!("there is at least one attempt"),
    }
}

/// Deletes the storage volume at `path`. A volume created behind libvirt's back is found
/// after the active pools are refreshed. The error is a sentence naming the path.
pub fn delete_volume(conn: &Connect, path: &str) -> Result<(), String> {
    let vol = match conn.lookup_storage_vol_by_path(path) {
        Ok(vol) => Ok(vol),
        Err(e) if e.code().to_raw() == sys::VIR_ERR_NO_STORAGE_VOL => {
            let pools = conn
                .list_all_storage_pools(sys::VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
                .unwrap_or_default();
            for pool in pools {
                let _ = pool.refresh(0);
            }
            conn.lookup_storage_vol_by_path(path)
        }
        Err(e) => Err(e),
    };
    vol.and_then(|vol| vol.delete(0))
        .map_err(|e| format!("{path} was not deleted: {}", describe(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libvirt::DomainState;

    fn domain(name: &str, disks: &str) -> DomainInfo {
        let xml = format!(
            "<domain><name>{name}</name><uuid>uuid-{name}</uuid><devices>{disks}</devices></domain>"
        );
        DomainInfo::from_xml(&xml, DomainState::Shutoff, true).unwrap()
    }

    fn disk(path: &str, extra: &str) -> String {
        format!("<disk type='file' device='disk'><source file='{path}'/><target dev='vda'/>{extra}</disk>")
    }

    #[test]
    fn writable_unshared_disks_are_offered_checked() {
        let cdrom = "<disk type='file' device='cdrom'><source file='/iso/d.iso'/>\
            <target dev='sda'/><readonly/></disk>";
        let me = domain(
            "me",
            &[
                disk("/p/own.qcow2", ""),
                disk("/p/shared.qcow2", ""),
                disk("/p/ro.img", "<readonly/>"),
                disk("/p/cluster.img", "<shareable/>"),
                cdrom.to_owned(),
                disk("/p/own.qcow2", ""),
                "<disk type='volume' device='disk'><source pool='p' volume='v'/></disk>".into(),
            ]
            .concat(),
        );
        let other = domain("other", &disk("/p/shared.qcow2", ""));
        let third = domain(
            "third",
            &[disk("/p/shared.qcow2", ""), cdrom.into()].concat(),
        );
        let all = [me.clone(), other, third];
        let choices = storage_choices(&me, &all);

        let summary: Vec<(&str, bool, Vec<&str>)> = choices
            .iter()
            .map(|c| {
                let used_by = c.used_by.iter().map(String::as_str).collect();
                (c.path.as_str(), c.checked_by_default(), used_by)
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("/p/own.qcow2", true, vec![]),
                ("/p/shared.qcow2", false, vec!["other", "third"]),
                ("/p/ro.img", false, vec![]),
                ("/p/cluster.img", false, vec![]),
                ("/iso/d.iso", false, vec!["third"]),
            ]
        );
        assert_eq!(choices[4].device, DiskDevice::Cdrom);
    }

    #[test]
    fn keeping_is_the_default() {
        let keep = DeleteStorage::default();
        assert!(keep.volumes.is_empty() && !keep.nvram && !keep.tpm);
        for flags in undefine_attempts(&keep, false) {
            assert_eq!(flags & sys::VIR_DOMAIN_UNDEFINE_NVRAM, 0);
            assert_eq!(flags & sys::VIR_DOMAIN_UNDEFINE_TPM, 0);
        }
        let first = undefine_attempts(&keep, true)[0];
        assert_ne!(first & sys::VIR_DOMAIN_UNDEFINE_KEEP_NVRAM, 0);
        assert_ne!(first & sys::VIR_DOMAIN_UNDEFINE_KEEP_TPM, 0);
    }

    #[test]
    fn old_daemons_get_fewer_flags_unless_that_would_lose_tpm_state() {
        let everything = DeleteStorage {
            volumes: Vec::new(),
            nvram: true,
            tpm: true,
        };
        let attempts = undefine_attempts(&everything, true);
        assert_eq!(attempts.len(), 5);
        assert_ne!(attempts[0] & sys::VIR_DOMAIN_UNDEFINE_TPM, 0);
        assert_ne!(attempts[0] & sys::VIR_DOMAIN_UNDEFINE_NVRAM, 0);
        assert_eq!(attempts[1] & sys::VIR_DOMAIN_UNDEFINE_TPM, 0);
        assert_eq!(*attempts.last().unwrap(), 0, "a plain undefine last");

        // Keeping a TPM state that exists: an old daemon would delete it; no fallback.
        assert_eq!(undefine_attempts(&DeleteStorage::default(), true).len(), 1);
        // No TPM: nothing to lose by leaving the TPM flag out.
        assert_eq!(undefine_attempts(&DeleteStorage::default(), false).len(), 5);
    }
}
