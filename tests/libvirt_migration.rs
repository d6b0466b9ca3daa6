//! Migration between two real hosts of the remote rig (tests/remote/host.sh; root only):
//! each a network namespace with its own libvirtd and sshd, reached over qemu+ssh. The test
//! guest runs on host A with its disk in A's private /var/lib/libvirt/images; the hosts
//! share no storage, so the disk is copied. libvirt migrates directly: this process holds
//! both connections and A's QEMU sends memory and disk to B's QEMU on the LAN address
//! B's qemu.conf names as its migration_host (no peer-to-peer login between the daemons).
//!
//! One test runs the three cases in order on one booted guest (a boot under TCG takes
//! seconds): a pre-check refuses (a machine of the same name on B), Cancel midway leaves
//! the guest running on A, then the live migration moves it to B while it keeps working;
//! none of it logs in to B beyond B's own worker.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::guest::{guest_domain_xml, guest_image, wait_for_serial_line, GuestBoot, GuestOptions};
use common::remote::RemoteHost;
use common::{ensure_libvirtd, quiet_options};
use virtdeck::libvirt::{
    spawn, MigrationError, MigrationOptions, MigrationProgress, MigrationRequest, Request,
    RequestError, StorageCopy,
};

const POOL_DIR: &str = "/var/lib/libvirt/images";
const DISK_MIB: u64 = 64;

/// A scratch directory (serial log, kernel and initramfs) both hosts see: /tmp is not
/// private to a host's mount namespace. Removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The guest's XML with its serial log appended to (the destination's QEMU opens it
/// again) and the kernel and initramfs from `dir` (a rebuild of the shared guest cache
/// must not pull them away mid-test).
fn migratable_guest_xml(name: &str, dir: &Path, log: &Path, disk: &str) -> String {
    let image = guest_image();
    let kernel = dir.join("vmlinuz");
    let initrd = dir.join("initrd.img");
    std::fs::copy(&image.kernel, &kernel).expect("copy the guest's kernel");
    std::fs::copy(&image.initrd, &initrd).expect("copy the guest's initramfs");
    let opts = GuestOptions {
        boot: GuestBoot::Kernel {
            extra_cmdline: "virtdeck.disk=write".to_owned(),
        },
        disk: Some(PathBuf::from(disk)),
        ..GuestOptions::default()
    };
    let log = log.to_str().unwrap();
    let xml = guest_domain_xml(name, Path::new(log), &opts)
        .replace(
            &image.kernel.to_string_lossy().into_owned(),
            kernel.to_str().unwrap(),
        )
        .replace(
            &image.initrd.to_string_lossy().into_owned(),
            initrd.to_str().unwrap(),
        );
    let appended = xml.replace(
        &format!("path=\"{log}\""),
        &format!("path=\"{log}\" append=\"on\""),
    );
    assert_ne!(appended, xml, "the serial source was not found in the XML");
    appended
}

fn images_pool(host: &RemoteHost) {
    host.virsh_ok(&["pool-define-as", "mg-images", "dir", "--target", POOL_DIR]);
    host.virsh_ok(&["pool-build", "mg-images"]);
    host.virsh_ok(&["pool-start", "mg-images"]);
}

/// Sends a key to the guest on `host` and waits for the guest to report it on its serial
/// port (the log both hosts' QEMU append to).
fn key_reaches_guest(host: &RemoteHost, name: &str, log: &Path, what: &str) {
    let from = std::fs::metadata(log)
        .map(|m| m.len() as usize)
        .unwrap_or(0);
    host.virsh_ok(&["send-key", name, "KEY_A"]);
    wait_for_serial_line(log, from, Duration::from_secs(30), what, |l| {
        l.starts_with("KEY: 30 ")
    });
}

#[test]
fn migration_between_two_hosts() {
    ensure_libvirtd();
    let a = RemoteHost::up("mga", 41);
    let b = RemoteHost::up("mgb", 42);
    let dir = std::env::temp_dir().join(format!("vdtest-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scratch = Scratch(dir);
    let name = "vdmig-guest";
    let log = scratch.0.join("serial.log");
    let disk = format!("{POOL_DIR}/{name}.img");

    // The guest on A, its raw disk a volume of A's pool. B has a pool on the same
    // directory but no volume: the migration makes it there.
    images_pool(&a);
    images_pool(&b);
    a.virsh_ok(&[
        "vol-create-as",
        "mg-images",
        &format!("{name}.img"),
        &format!("{DISK_MIB}M"),
        "--format",
        "raw",
    ]);
    let xml_path = scratch.0.join("guest.xml");
    std::fs::write(
        &xml_path,
        migratable_guest_xml(name, &scratch.0, &log, &disk),
    )
    .unwrap();
    a.virsh_ok(&["define", xml_path.to_str().unwrap()]);
    a.virsh_ok(&["start", name]);
    wait_for_serial_line(
        &log,
        0,
        Duration::from_secs(120),
        "the guest's disk writer",
        |l| l.starts_with("DISK: writing vda"),
    );
    key_reaches_guest(&a, name, &log, "a key on A");
    let uuid = a.virsh_ok(&["domuuid", name]).trim().to_owned();

    let worker = spawn(a.uri(), quiet_options());
    // B's own worker, as the window has one for every connected host: the migration's
    // connections to B go over its SSH master, so they log in to B no more.
    let b_worker = spawn(b.uri(), quiet_options());
    let answered = b_worker.ask(Request::Networks).recv_blocking();
    assert!(answered.is_ok(), "B's worker connects: {answered:?}");
    let b_logins = b.logins();
    let options = MigrationOptions {
        destination: b.uri(),
        live: true,
        storage: StorageCopy::Full,
        peer_to_peer: false,
        bandwidth_mib: 0,
    };
    let run = |options: &MigrationOptions,
               cancel: Arc<AtomicBool>|
     -> (
        async_channel::Receiver<MigrationProgress>,
        virtdeck::libvirt::Answer<()>,
    ) {
        let (progress, progress_rx) = async_channel::unbounded();
        let answer = worker.ask(|reply| {
            Request::Migration(MigrationRequest::Migrate {
                uuid: uuid.clone(),
                options: options.clone(),
                progress,
                cancel,
                reply,
            })
        });
        (progress_rx, answer)
    };

    // 1. A pre-check refuses: B has a (shut off) machine of the same name.
    let twin = scratch.0.join("twin.xml");
    std::fs::write(&twin, common::fixture::tiny_qemu_domain_xml(name, None)).unwrap();
    b.virsh_ok(&["define", twin.to_str().unwrap()]);
    let checked = worker
        .ask(|reply| {
            Request::Migration(MigrationRequest::Check {
                uuid: uuid.clone(),
                options: options.clone(),
                reply,
            })
        })
        .recv_blocking();
    match checked {
        Err(RequestError::Migration(MigrationError::NameTaken(n))) => assert_eq!(n, name),
        other => panic!("the check should name the machine on B, not {other:?}"),
    }
    let (_, answer) = run(&options, Arc::new(AtomicBool::new(false)));
    let refused = answer.recv_blocking();
    assert!(
        matches!(
            &refused,
            Err(RequestError::Migration(MigrationError::NameTaken(_)))
        ),
        "{refused:?}"
    );
    assert_eq!(
        refused.unwrap_err().to_string(),
        format!("The destination already has a machine called “{name}”.")
    );
    assert!(a.runs(name), "the refused machine must still run on A");
    b.virsh_ok(&["undefine", name]);
    let volumes = |host: &RemoteHost| host.virsh_ok(&["vol-list", "mg-images"]);
    assert!(
        !volumes(&b).contains(name),
        "a refused migration made a volume on B"
    );

    // 2. Cancel midway: at 1 MiB/s the 64 MiB disk takes a minute. The worker keeps
    // answering meanwhile (the migration has a thread of its own).
    let cancel = Arc::new(AtomicBool::new(false));
    let slow = MigrationOptions {
        bandwidth_mib: 1,
        ..options.clone()
    };
    let (progress, answer) = run(&slow, cancel.clone());
    let first = progress
        .recv_blocking()
        .expect("progress before the migration ends");
    let moving = Instant::now() + Duration::from_secs(30);
    let mut last = first;
    while last.processed == 0 && Instant::now() < moving {
        last = progress.recv_blocking().expect("more progress");
    }
    assert!(
        last.processed > 0 && last.total > last.processed,
        "{last:?}"
    );
    assert!(
        volumes(&b).contains(name),
        "B has no volume for the copied disk"
    );
    let networks = worker.ask(Request::Networks).recv_blocking();
    assert!(
        networks.is_ok(),
        "the worker must answer during a migration: {networks:?}"
    );
    cancel.store(true, Ordering::Relaxed);
    let cancelled = answer.recv_blocking();
    assert!(
        matches!(
            &cancelled,
            Err(RequestError::Migration(MigrationError::Cancelled))
        ),
        "{cancelled:?}"
    );
    assert!(a.runs(name), "after Cancel the guest must still run on A");
    assert!(
        b.domains().is_empty(),
        "B kept a machine: {:?}",
        b.domains()
    );
    assert!(
        !volumes(&b).contains(name),
        "the volume made on B was not removed"
    );
    key_reaches_guest(&a, name, &log, "a key on A after Cancel");

    // 3. The live migration, disk copied, no limit.
    let before = std::fs::metadata(&log).unwrap().len() as usize;
    let started = Instant::now();
    let (progress, answer) = run(&options, Arc::new(AtomicBool::new(false)));
    let moved = answer.recv_blocking();
    assert!(moved.is_ok(), "the migration failed: {moved:?}");
    eprintln!(
        "live migration with a {DISK_MIB} MiB disk copied: {:.1} s, {} progress reports",
        started.elapsed().as_secs_f64(),
        progress.len()
    );
    assert!(
        !a.domains().contains(&name.to_owned()),
        "A still has the machine"
    );
    assert!(b.runs(name), "the machine does not run on B");
    let persistent = b.virsh_ok(&["dominfo", name]);
    assert!(
        persistent
            .lines()
            .any(|l| l.starts_with("Persistent:") && l.ends_with("yes")),
        "{persistent}"
    );
    // The guest kept its state: the log continues (QEMU on B appended to it), and the guest
    // answers on B without a new boot.
    key_reaches_guest(&b, name, &log, "a key on B after the move");
    let after = common::guest::serial_text(&log);
    assert!(
        !after[before..].contains("Linux version"),
        "the guest booted again on B"
    );
    assert_eq!(
        b.logins(),
        b_logins,
        "the migration logged in to B again instead of sharing its worker's SSH master"
    );
    drop(worker);
    drop(b_worker);
}
