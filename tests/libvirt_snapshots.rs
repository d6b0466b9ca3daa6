//! A machine's snapshots through the worker, on `qemu:///session`:
//! - the running TCG test guest with a qcow2 disk: internal snapshots with memory, the
//!   guest's screen kept as PNG, the tree and current marker; keys typed after the snapshot
//!   are gone after the revert (the guest's line buffer went back in time); delete with
//!   children removes them all and their pictures;
//! - the same guest saved (managed save): the list says so, Start resumes it where it was
//!   (a half-typed line survives), and a discarded saved state boots afresh;
//! - a UEFI (OVMF) machine: an external snapshot with memory, revert, delete, and its files
//!   gone again; an internal one is never mixed in.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use common::fixture::{qemu_domain_xml, temp_xml};
use common::guest::{guest_domain_xml, wait_for_serial_line, GuestOptions, GUEST_READY};
use common::{
    ask_within, ensure_libvirtd, expect_event, prefix, quiet_options, virsh_ok, DomainGuard,
    SESSION_URI,
};
use virtdeck::libvirt::snapshots::ExternalReason;
use virtdeck::libvirt::{
    spawn, Command, ConnectionHandle, DomainInfo, DomainState, Event, Reply, Request, RequestError,
    SnapshotError, SnapshotKind, SnapshotRequest, Snapshots,
};

/// Saving or loading the memory of a TCG guest under load takes a while.
const TIMEOUT: Duration = Duration::from_secs(120);

fn ask<T: Send + 'static>(
    handle: &ConnectionHandle,
    make: impl FnOnce(Reply<T>) -> SnapshotRequest,
) -> Result<T, RequestError> {
    ask_within(handle, TIMEOUT, |reply| Request::Snapshot(make(reply)))
}

fn list(handle: &ConnectionHandle, uuid: &str) -> Snapshots {
    let uuid = uuid.to_owned();
    ask(handle, |reply| SnapshotRequest::List { uuid, reply })
        .unwrap_or_else(|e| panic!("List: {e}"))
}

fn create(handle: &ConnectionHandle, uuid: &str, name: &str) -> Result<String, RequestError> {
    let (uuid, name) = (uuid.to_owned(), name.to_owned());
    ask(handle, |reply| SnapshotRequest::Create {
        uuid,
        name,
        description: "made by the test".into(),
        reply,
    })
}

fn revert(handle: &ConnectionHandle, uuid: &str, name: &str) {
    let (uuid, name) = (uuid.to_owned(), name.to_owned());
    ask(handle, |reply| SnapshotRequest::Revert {
        uuid,
        name,
        reply,
    })
    .unwrap_or_else(|e| panic!("Revert: {e}"));
}

fn delete(handle: &ConnectionHandle, uuid: &str, name: &str, children: bool) {
    let (uuid, name) = (uuid.to_owned(), name.to_owned());
    ask(handle, |reply| SnapshotRequest::Delete {
        uuid,
        name,
        children,
        reply,
    })
    .unwrap_or_else(|e| panic!("Delete: {e}"));
}

fn names(snapshots: &Snapshots) -> Vec<(&str, Option<&str>, bool)> {
    snapshots
        .list
        .iter()
        .map(|s| (s.name.as_str(), s.parent.as_deref(), s.current))
        .collect()
}

/// A new qcow2 image at `path`.
fn qcow2(path: &Path) {
    let out = Process::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(path)
        .arg("32M")
        .output()
        .expect("run qemu-img");
    assert!(out.status.success(), "qemu-img: {out:?}");
}

/// A directory of its own for the test's files; removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{}{tag}-files", prefix()));
        std::fs::create_dir_all(&dir).expect("create the test directory");
        Self(dir)
    }

    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read the test directory")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_of(name: &str) -> String {
    virsh_ok(SESSION_URI, &["domuuid", name]).trim().to_owned()
}

#[test]
fn internal_snapshot_and_managed_save_of_the_running_guest() {
    ensure_libvirtd();
    let files = TempDir::new("snapshots-internal");
    let guard = DomainGuard::session("snapshots-internal");
    let disk = files.0.join("disk.qcow2");
    qcow2(&disk);
    let serial = files.0.join("serial.log");
    let xml = temp_xml(
        "snapshots-internal",
        &guest_domain_xml(&guard.name, &serial, &GuestOptions::default()),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    let disk_arg = disk.to_str().unwrap();
    virsh_ok(
        SESSION_URI,
        &[
            "attach-disk",
            &guard.name,
            disk_arg,
            "vdb",
            "--config",
            "--driver",
            "qemu",
            "--subdriver",
            "qcow2",
            "--targetbus",
            "virtio",
        ],
    );
    virsh_ok(SESSION_URI, &["start", &guard.name]);
    wait_for_serial_line(&serial, 0, TIMEOUT, "READY", |l| l.contains(GUEST_READY));
    let uuid = uuid_of(&guard.name);

    let handle = spawn(SESSION_URI.to_owned(), quiet_options());
    let empty = list(&handle, &uuid);
    assert!(empty.list.is_empty());
    assert_eq!(empty.plan, Ok(SnapshotKind::Internal), "qcow2 without UEFI");

    assert_eq!(create(&handle, &uuid, "before").unwrap(), "before");
    // Keys typed into the guest's console line after the snapshot, without Enter: they
    // sit in the guest's memory (its tty line buffer).
    let keys = ["KEY_G", "KEY_O", "KEY_N", "KEY_E"];
    for key in keys {
        virsh_ok(SESSION_URI, &["send-key", &guard.name, key]);
    }
    // KEY_E is 18; the guest reports each key it gets.
    wait_for_serial_line(&serial, 0, TIMEOUT, "KEY_E", |l| l == "KEY: 18 up");
    assert_eq!(create(&handle, &uuid, "after").unwrap(), "after");

    let snapshots = list(&handle, &uuid);
    assert_eq!(
        names(&snapshots),
        [("before", None, false), ("after", Some("before"), true)],
        "a tree with the newest current"
    );
    for s in &snapshots.list {
        assert_eq!(s.kind, SnapshotKind::Internal);
        assert!(s.memory && s.was_running(), "{s:?}");
        assert_eq!(s.description, "made by the test");
        assert!(s.created > 1_700_000_000, "{s:?}");
        let picture = s.screenshot.as_ref().expect("a screenshot is kept");
        let bytes = std::fs::read(picture).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{}",
            picture.display()
        );
    }
    assert!(matches!(
        create(&handle, &uuid, "after"),
        Err(RequestError::Snapshot(SnapshotError::NameTaken(_)))
    ));

    revert(&handle, &uuid, "before");
    let reverted = list(&handle, &uuid);
    assert_eq!(
        names(&reverted),
        [("before", None, true), ("after", Some("before"), false)],
        "the current marker follows the revert"
    );
    // The guest runs on from the snapshot: its line holds none of the keys typed after.
    assert_eq!(
        virsh_ok(SESSION_URI, &["domstate", &guard.name]).trim(),
        "running"
    );
    for key in ["KEY_O", "KEY_K", "KEY_ENTER"] {
        virsh_ok(SESSION_URI, &["send-key", &guard.name, key]);
    }
    let typed = wait_for_serial_line(&serial, 0, TIMEOUT, "a TYPED line", |l| {
        l.starts_with("TYPED: ")
    });
    assert_eq!(
        typed, "TYPED: ok",
        "the keys typed after the snapshot are gone"
    );

    let pictures: Vec<PathBuf> = reverted
        .list
        .iter()
        .filter_map(|s| s.screenshot.clone())
        .collect();
    delete(&handle, &uuid, "before", true);
    assert!(
        list(&handle, &uuid).list.is_empty(),
        "deleted with its child"
    );
    assert!(pictures.iter().all(|p| !p.exists()), "their pictures too");

    // Managed save: half a line typed, saved, started again: the line goes on.
    for key in ["KEY_K", "KEY_E", "KEY_P", "KEY_T"] {
        virsh_ok(SESSION_URI, &["send-key", &guard.name, key]);
    }
    // KEY_T is 20.
    wait_for_serial_line(&serial, 0, TIMEOUT, "KEY_T", |l| l == "KEY: 20 up");
    let saved = changed(&handle, &uuid, "saved", |d| d.saved);
    handle
        .commands
        .send_blocking(Command::Save(uuid.clone()))
        .unwrap();
    assert_eq!(saved().state, DomainState::Shutoff);
    let running = changed(&handle, &uuid, "running again", |d| d.state.is_active());
    handle
        .commands
        .send_blocking(Command::Start(uuid.clone()))
        .unwrap();
    assert!(!running().saved);
    for key in ["KEY_O", "KEY_K", "KEY_ENTER"] {
        virsh_ok(SESSION_URI, &["send-key", &guard.name, key]);
    }
    wait_for_serial_line(&serial, 0, TIMEOUT, "the line typed across the save", |l| {
        l == "TYPED: keptok"
    });

    // Saved, then the saved state discarded: the next start boots afresh.
    let saved = changed(&handle, &uuid, "saved", |d| d.saved);
    handle
        .commands
        .send_blocking(Command::Save(uuid.clone()))
        .unwrap();
    saved();
    let discarded = changed(&handle, &uuid, "not saved", |d| !d.saved);
    handle
        .commands
        .send_blocking(Command::DiscardSaved(uuid.clone()))
        .unwrap();
    assert_eq!(discarded().state, DomainState::Shutoff);
    // QEMU is gone: a READY line from now on is a new boot.
    std::fs::File::create(&serial).expect("empty the serial log");
    handle
        .commands
        .send_blocking(Command::Start(uuid.clone()))
        .unwrap();
    wait_for_serial_line(&serial, 0, TIMEOUT, "a fresh boot", |l| {
        l.contains(GUEST_READY)
    });
    handle.quit_and_join();
}

/// Waits (in the returned function) for the worker to tell of domain `uuid` changed so
/// that `pred` holds; fails after the timeout.
fn changed<'a>(
    handle: &'a ConnectionHandle,
    uuid: &'a str,
    what: &'a str,
    pred: impl Fn(&DomainInfo) -> bool + 'a,
) -> impl FnOnce() -> DomainInfo + 'a {
    move || {
        let event = expect_event(
            &handle.events,
            TIMEOUT,
            what,
            |e| matches!(e, Event::DomainChanged(d) if d.uuid == uuid && pred(d)),
        );
        let Event::DomainChanged(info) = event else {
            unreachable!()
        };
        info
    }
}

/// A UEFI machine (OVMF, q35) with one qcow2 disk; nothing to boot, the firmware runs.
fn uefi_domain_xml(name: &str, disk: &Path) -> String {
    qemu_domain_xml(name, 128, |w| {
        w.create_element("os")
            .with_attribute(("firmware", "efi"))
            .write_inner_content(|w| {
                w.create_element("type")
                    .with_attribute(("arch", "x86_64"))
                    .with_attribute(("machine", "q35"))
                    .write_text_content(quick_xml::events::BytesText::new("hvm"))?;
                Ok(())
            })?;
        w.create_element("features").write_inner_content(|w| {
            w.create_element("acpi").write_empty()?;
            Ok(())
        })?;
        w.create_element("devices").write_inner_content(|w| {
            w.create_element("disk")
                .with_attribute(("type", "file"))
                .with_attribute(("device", "disk"))
                .write_inner_content(|w| {
                    w.create_element("driver")
                        .with_attribute(("name", "qemu"))
                        .with_attribute(("type", "qcow2"))
                        .write_empty()?;
                    w.create_element("source")
                        .with_attribute(("file", disk.to_str().unwrap()))
                        .write_empty()?;
                    w.create_element("target")
                        .with_attribute(("dev", "vda"))
                        .with_attribute(("bus", "virtio"))
                        .write_empty()?;
                    Ok(())
                })?;
            Ok(())
        })?;
        Ok(())
    })
}

#[test]
fn external_snapshot_of_a_uefi_machine_reverts_and_deletes() {
    ensure_libvirtd();
    let files = TempDir::new("snapshots-uefi");
    let guard = DomainGuard::session("snapshots-uefi");
    let disk = files.0.join("uefi.qcow2");
    qcow2(&disk);
    let xml = temp_xml("snapshots-uefi", &uefi_domain_xml(&guard.name, &disk));
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    virsh_ok(SESSION_URI, &["start", &guard.name]);
    let uuid = uuid_of(&guard.name);

    let handle = spawn(SESSION_URI.to_owned(), quiet_options());
    assert_eq!(
        list(&handle, &uuid).plan,
        Ok(SnapshotKind::External),
        "UEFI takes external snapshots"
    );
    create(&handle, &uuid, "ext1").unwrap_or_else(|e| panic!("Create: {e}"));
    let snapshots = list(&handle, &uuid);
    assert_eq!(names(&snapshots), [("ext1", None, true)]);
    let snapshot = &snapshots.list[0];
    assert_eq!(snapshot.kind, SnapshotKind::External);
    assert!(snapshot.memory && snapshot.was_running(), "{snapshot:?}");
    let mem = format!("{}-ext1.mem", guard.name);
    assert_eq!(
        files.files(),
        ["uefi.ext1".to_owned(), "uefi.qcow2".to_owned(), mem],
        "the memory and the disk's overlay beside the disk"
    );
    let disk_now = virsh_ok(SESSION_URI, &["domblklist", &guard.name]);
    assert!(disk_now.contains("uefi.ext1"), "{disk_now}");

    revert(&handle, &uuid, "ext1");
    assert_eq!(
        virsh_ok(SESSION_URI, &["domstate", &guard.name]).trim(),
        "running",
        "reverted to a running machine"
    );
    assert_eq!(names(&list(&handle, &uuid)), [("ext1", None, true)]);

    delete(&handle, &uuid, "ext1", false);
    let after = list(&handle, &uuid);
    assert!(after.list.is_empty());
    let disk_now = virsh_ok(SESSION_URI, &["domblklist", &guard.name]);
    assert!(
        disk_now.contains("uefi.qcow2"),
        "back on its own disk: {disk_now}"
    );
    assert_eq!(
        files.files(),
        ["uefi.qcow2"],
        "the snapshot's files are gone"
    );

    // Had it internal snapshots, a new external one would be refused with the reason.
    let plan = virtdeck::libvirt::snapshots::SnapshotPlan::for_domain(&virsh_ok(
        SESSION_URI,
        &["dumpxml", &guard.name],
    ))
    .unwrap();
    assert_eq!(plan.reason, ExternalReason::Uefi);
    handle.quit_and_join();
}
