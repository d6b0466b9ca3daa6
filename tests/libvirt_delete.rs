//! Deleting a machine deletes exactly what the user confirmed, on the real daemon:
//! - of two volumes, one also used by another machine, only the checked, unshared one goes;
//! - a UEFI machine deleted keeping its storage keeps its UEFI variables (NVRAM file) and
//!   the state of its emulated TPM, which go only when their deletion is confirmed;
//! - a disk plugged into a running machine reaches the worker through libvirt's device
//!   event, so the Delete dialog (which lists the worker's domain info) offers it.

mod common;

use std::path::Path;
use std::time::Duration;

use common::fixture::{acpi_qemu_domain_xml, temp_xml, Extras};
use common::{
    connect_and_snapshot, expect_event, quiet_options, virsh, virsh_ok, DomainGuard, PoolGuard,
    SESSION_URI,
};
use virt::connect::Connect;
use virtdeck::libvirt::events::{self, DomainEventId, DomainEventKind};
use virtdeck::libvirt::{
    storage_choices, Command, ConnectionHandle, DeleteStorage, DomainInfo, DomainState, Event,
};

const TIMEOUT: Duration = Duration::from_secs(20);

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Defines the tiny machine of `guard` with `extras`.
fn define(guard: &DomainGuard, extras: Extras) {
    let tag = guard
        .name
        .strip_prefix(&common::prefix())
        .expect("prefixed");
    let xml = temp_xml(tag, &acpi_qemu_domain_xml(&guard.name, extras));
    virsh_ok(SESSION_URI, &["define", path_str(&xml)]);
}

/// Defines the tiny machine of `guard` with the disk images `disks`.
fn define_with_disks(guard: &DomainGuard, disks: &[&Path]) {
    let disks: Vec<&str> = disks.iter().map(|p| path_str(p)).collect();
    let extras = Extras {
        disks: &disks,
        ..Extras::default()
    };
    define(guard, extras);
}

fn find<'a>(list: &'a [DomainInfo], name: &str) -> &'a DomainInfo {
    list.iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the snapshot"))
}

fn delete(handle: &ConnectionHandle, uuid: &str, storage: DeleteStorage) {
    handle
        .commands
        .send_blocking(Command::Delete {
            uuid: uuid.to_owned(),
            storage,
        })
        .expect("worker alive");
    expect_event(
        &handle.events,
        TIMEOUT,
        "DomainRemoved",
        |e| matches!(e, Event::DomainRemoved(u) if u == uuid),
    );
}

#[test]
fn only_the_checked_unshared_volume_is_deleted() {
    let pool = PoolGuard::session_dir("delpool");
    let own = pool.create_volume("own.img");
    let shared = pool.create_volume("shared.img");
    let guard = DomainGuard::session("delown");
    let other = DomainGuard::session("delother");
    define_with_disks(&guard, &[&own, &shared]);
    define_with_disks(&other, &[&shared]);

    let (handle, list) = connect_and_snapshot(SESSION_URI, quiet_options());
    let info = find(&list, &guard.name);
    // What the Delete dialog offers, from the same list the UI has.
    let choices = storage_choices(info, &list);
    let offered: Vec<(&str, bool, &[String])> = choices
        .iter()
        .map(|c| (c.path.as_str(), c.checked_by_default(), &c.used_by[..]))
        .collect();
    assert_eq!(
        offered,
        [
            (path_str(&own), true, &[][..]),
            (path_str(&shared), false, &[other.name.clone()][..]),
        ]
    );
    let checked: Vec<String> = choices
        .iter()
        .filter(|c| c.checked_by_default())
        .map(|c| c.path.clone())
        .collect();

    delete(
        &handle,
        &info.uuid,
        DeleteStorage {
            volumes: checked,
            ..DeleteStorage::default()
        },
    );
    common::wait_for("own.img to be deleted", TIMEOUT, || !own.exists());
    assert_eq!(pool.volumes(), ["shared.img"], "virsh vol-list");
    assert!(
        virsh(SESSION_URI, &["dominfo", &other.name])
            .status
            .success(),
        "the other machine stays"
    );
    handle.quit_and_join();
}

#[test]
fn uefi_variables_and_tpm_state_stay_unless_their_deletion_is_confirmed() {
    common::ensure_libvirtd();
    assert!(
        Path::new(common::fixture::OVMF_CODE).exists(),
        "OVMF is needed (apt install ovmf)"
    );
    assert!(
        Path::new("/usr/bin/swtpm").exists(),
        "swtpm is needed for an emulated TPM (apt install swtpm swtpm-tools)"
    );
    let keep = DomainGuard::session("uefikeep");
    let drop_all = DomainGuard::session("uefidrop");
    for guard in [&keep, &drop_all] {
        let extras = Extras {
            uefi: true,
            tpm: true,
            ..Extras::default()
        };
        define(guard, extras);
        // libvirt makes the variables file from its template, and swtpm its state, when
        // the machine first starts.
        virsh_ok(SESSION_URI, &["start", &guard.name]);
    }

    let (handle, list) = connect_and_snapshot(SESSION_URI, quiet_options());
    let files_of = |guard: &DomainGuard| {
        let info = find(&list, &guard.name);
        assert_eq!(info.state, DomainState::Running);
        assert!(info.tpm_state, "an emulated TPM keeps state on the host");
        let nvram = info
            .nvram
            .clone()
            .expect("a UEFI machine has an NVRAM file");
        let tpm = format!("{SWTPM_STATE}/{}", info.uuid);
        for path in [&nvram, &tpm] {
            assert!(Path::new(path).exists(), "{path} was made at start");
        }
        (info.uuid.clone(), nvram, tpm)
    };
    let (keep_uuid, kept_nvram, kept_tpm) = files_of(&keep);
    let (drop_uuid, dropped_nvram, dropped_tpm) = files_of(&drop_all);
    let _cleanup = RemoveOnDrop(vec![
        kept_nvram.clone(),
        kept_tpm.clone(),
        dropped_nvram.clone(),
        dropped_tpm.clone(),
    ]);

    // Keeping the storage (the dialog's default) keeps both.
    delete(&handle, &keep_uuid, DeleteStorage::default());
    for path in [&kept_nvram, &kept_tpm] {
        assert!(Path::new(path).exists(), "{path} was deleted");
    }

    delete(
        &handle,
        &drop_uuid,
        DeleteStorage {
            nvram: true,
            tpm: true,
            ..DeleteStorage::default()
        },
    );
    for path in [&dropped_nvram, &dropped_tpm] {
        assert!(!Path::new(path).exists(), "{path} is still there");
    }
    handle.quit_and_join();
}

/// Where the system daemon keeps the state of emulated TPMs, a folder per machine UUID.
const SWTPM_STATE: &str = "/var/lib/libvirt/swtpm";

/// Removes files and folders when dropped, for what a test leaves on purpose.
struct RemoveOnDrop(Vec<String>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path).or_else(|_| std::fs::remove_dir_all(path));
        }
    }
}

#[test]
fn a_hot_plugged_disk_reaches_the_worker_through_the_device_event() {
    let pool = PoolGuard::session_dir("hotpool");
    let plugged = pool.create_volume("plugged.img");
    let guard = DomainGuard::session("hotplug");
    define_with_disks(&guard, &[]);
    virsh_ok(SESSION_URI, &["start", &guard.name]);

    let (handle, list) = connect_and_snapshot(SESSION_URI, quiet_options());
    let info = find(&list, &guard.name);
    assert!(info.disks.is_empty());
    let uuid = info.uuid.clone();

    // A subscription of its own sees the event itself.
    let conn = Connect::open(Some(SESSION_URI)).expect("open");
    let (tx, device_events) = std::sync::mpsc::channel();
    let _registration = events::register_domain_event(&conn, DomainEventId::DeviceAdded, {
        let uuid = uuid.clone();
        move |event| {
            if event.uuid == uuid {
                let _ = tx.send(event.kind);
            }
        }
    })
    .expect("subscribe to device events");

    // Live only: the configuration, and so no lifecycle event, is left alone.
    virsh_ok(
        SESSION_URI,
        &[
            "attach-disk",
            &guard.name,
            path_str(&plugged),
            "vdb",
            "--live",
            "--subdriver",
            "raw",
        ],
    );
    match device_events.recv_timeout(TIMEOUT) {
        Ok(DomainEventKind::DeviceAdded { alias }) => eprintln!("device added: {alias}"),
        other => panic!("no device-added event: {other:?}"),
    }
    let Event::DomainChanged(changed) = expect_event(
        &handle.events,
        TIMEOUT,
        "DomainChanged with the plugged disk",
        |e| matches!(e, Event::DomainChanged(d) if d.uuid == uuid && !d.disks.is_empty()),
    ) else {
        unreachable!()
    };
    assert_eq!(changed.disks[0].target, "vdb");
    let offered = storage_choices(&changed, &list);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].path, path_str(&plugged));
    assert!(offered[0].checked_by_default());

    delete(
        &handle,
        &uuid,
        DeleteStorage {
            volumes: vec![offered[0].path.clone()],
            ..DeleteStorage::default()
        },
    );
    common::wait_for("plugged.img to be deleted", TIMEOUT, || !plugged.exists());
    assert!(pool.volumes().is_empty(), "virsh vol-list");
    handle.quit_and_join();
}
