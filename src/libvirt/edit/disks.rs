//! The storage side of the disk edits: a new volume is made before the machine's
//! configuration names it (and removed again when the configuration is refused), a file's
//! format is read from the file, and a removed disk's volume is deleted when the user
//! asked, once no running machine uses it.

use virt::connect::Connect;
use virt::storage_vol::StorageVol;

use super::{EditFailure, RequestError};
use crate::libvirt::storage::{self, VolumeFormat, VolumeSpec};
use crate::spec::edit::disks::DiskSource;
use crate::spec::edit::tree::Element;
use crate::spec::edit::{DomainEdit, Touched};
use crate::spec::DiskFormat;

/// `edit` with what the worker knows filled in: the format of a local image file. A
/// missing local file is refused.
pub(super) fn resolve(edit: &DomainEdit, local: bool) -> Result<DomainEdit, RequestError> {
    let DomainEdit::AddDisk {
        source: DiskSource::File { path, format },
        settings,
    } = edit
    else {
        return Ok(edit.clone());
    };
    let file = std::path::Path::new(path);
    if local && !file.is_file() {
        return Err(EditFailure::FileMissing(path.clone()).into());
    }
    let format = match format {
        Some(format) => *format,
        // A remote file's format cannot be read from here: raw, as libvirt would take it.
        None if !local => DiskFormat::Raw,
        None => DiskFormat::probe(file).map_err(|_| EditFailure::FileMissing(path.clone()))?,
    };
    Ok(DomainEdit::AddDisk {
        source: DiskSource::File {
            path: path.clone(),
            format: Some(format),
        },
        settings: *settings,
    })
}

/// The volumes of the disks removed with "delete the volume too", looked up before
/// anything changes so that a disk that is no volume is refused.
pub(super) fn volumes_to_delete(
    conn: &Connect,
    edits: &[DomainEdit],
    touched: &[Touched],
) -> Result<Vec<(DomainEdit, StorageVol)>, RequestError> {
    let mut volumes = Vec::new();
    for (edit, touched) in edits.iter().zip(touched) {
        let (
            DomainEdit::RemoveDisk {
                delete_volume: true,
                ..
            },
            Touched::Removed(disk),
        ) = (edit, touched)
        else {
            continue;
        };
        volumes.push((edit.clone(), volume_of(conn, disk)?));
    }
    Ok(volumes)
}

fn volume_of(conn: &Connect, disk: &Element) -> Result<StorageVol, RequestError> {
    let source = disk.child("source");
    let attr = |name| source.and_then(|s| s.attr(name));
    let found = match (attr("pool"), attr("volume"), attr("file").or(attr("dev"))) {
        (Some(pool), Some(volume), _) => conn
            .lookup_storage_pool_by_name(pool)
            .and_then(|p| p.lookup_storage_vol_by_name(volume))
            .ok(),
        (_, _, Some(path)) => conn.lookup_storage_vol_by_path(path).ok(),
        _ => None,
    };
    found.ok_or_else(|| {
        let name = attr("volume")
            .or(attr("file"))
            .or(attr("dev"))
            .unwrap_or("");
        EditFailure::NotAVolume(name.to_owned()).into()
    })
}

/// Makes the new volumes the edits name; on a failure none is left.
pub(super) fn make_volumes(
    conn: &Connect,
    edits: &[DomainEdit],
) -> Result<Vec<StorageVol>, RequestError> {
    let mut made = Vec::new();
    for edit in edits {
        let DomainEdit::AddDisk {
            source:
                DiskSource::NewVolume {
                    pool,
                    name,
                    capacity,
                },
            ..
        } = edit
        else {
            continue;
        };
        let spec = VolumeSpec {
            name: name.clone(),
            format: VolumeFormat::Qcow2,
            capacity: *capacity,
        };
        let volume = storage::create_volume(conn, pool, &spec).and_then(|()| {
            Ok(conn
                .lookup_storage_pool_by_name(pool)?
                .lookup_storage_vol_by_name(name)?)
        });
        match volume {
            Ok(volume) => made.push(volume),
            Err(error) => {
                unmake_volumes(made);
                return Err(error.into());
            }
        }
    }
    Ok(made)
}

/// Deletes volumes made for a change that was then refused.
pub(super) fn unmake_volumes(made: Vec<StorageVol>) {
    for volume in made {
        if let Err(error) = volume.delete(0) {
            tracing::warn!(%error, "a new volume of a refused change was left");
        }
    }
}

/// Whether `edit` removes a disk with its volume from the running `dom` that still has the
/// disk: libvirt asked the guest to let it go and waited, but the guest has not yet. Its
/// volume must stay until the machine is shut off, so the removal counts as waiting.
pub(super) fn unplug_only_requested(dom: &virt::domain::Domain, edit: &DomainEdit) -> bool {
    let DomainEdit::RemoveDisk {
        target,
        delete_volume: true,
    } = edit
    else {
        return false;
    };
    let Some(root) = dom
        .xml_desc(0)
        .ok()
        .and_then(|xml| Element::parse(&xml).ok())
    else {
        // Unreadable: keep the volume rather than delete one in use.
        return true;
    };
    root.child("devices").is_some_and(|devices| {
        crate::spec::edit::disks::read(devices)
            .iter()
            .any(|disk| disk.target == *target)
    })
}

/// Deletes the volumes of removed disks, except those a running machine still uses (their
/// removal waits for the next shutdown).
pub(super) fn delete_volumes(
    volumes: Vec<(DomainEdit, StorageVol)>,
    next_shutdown: &[DomainEdit],
) -> Result<(), RequestError> {
    for (edit, volume) in volumes {
        if next_shutdown.contains(&edit) {
            tracing::info!(
                ?edit,
                "the volume is kept: the running machine still uses it"
            );
            continue;
        }
        volume
            .delete(0)
            .map_err(|e| EditFailure::VolumeKept(e.to_string()))?;
    }
    Ok(())
}
