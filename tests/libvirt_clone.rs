//! Cloning through the worker on `qemu:///session`, with the test guest:
//! - a full clone of a machine with two disks (qcow2 and raw, in a directory pool) and a
//!   CD-ROM boots, has new MAC addresses, its own copies of both disks and the same ISO;
//! - a linked clone's disk is a qcow2 overlay backed by the source's (`qemu-img info`), it
//!   boots, and the source, now a template, shows its mark in the worker's list and is
//!   refused Start until unmarked;
//! - while a clone copies a large disk on its own thread, the worker answers other
//!   requests;
//! - a clone into a pool on a small tmpfs fails on the second disk and leaves nothing;
//! - a UEFI machine's clone gets a copy of its variables, not the firmware's template.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use common::fixture::temp_xml;
use common::guest::{guest_domain_xml, wait_for_serial_line, GuestOptions, GUEST_READY};
use common::{
    ask_within, ensure_libvirtd, expect_event, prefix, quiet_options, virsh, virsh_ok, wait_for,
    DomainGuard, SESSION_URI,
};
use virtdeck::libvirt::clone::CloneError;
use virtdeck::libvirt::{
    spawn, Action, CloneFailure, CloneKind, CloneProgress, CloneRequest, Command, ConnectionHandle,
    Event, Reply, Request, RequestError,
};

const TIMEOUT: Duration = Duration::from_secs(120);

/// A transient directory pool in `dir` (made by the caller), destroyed when dropped.
struct Pool {
    name: String,
    dir: PathBuf,
}

impl Pool {
    fn new(tag: &str, dir: PathBuf) -> Self {
        let name = format!("{}{tag}", prefix());
        std::fs::create_dir_all(&dir).unwrap();
        virsh_ok(
            SESSION_URI,
            &[
                "pool-create-as",
                &name,
                "dir",
                "--target",
                dir.to_str().unwrap(),
            ],
        );
        Self { name, dir }
    }

    /// A pool in a directory of its own under the temporary directory.
    fn temporary(tag: &str) -> Self {
        Self::new(tag, std::env::temp_dir().join(format!("{}{tag}", prefix())))
    }

    fn volume(&self, name: &str, size: &str, format: &str) -> PathBuf {
        virsh_ok(
            SESSION_URI,
            &["vol-create-as", &self.name, name, size, "--format", format],
        );
        self.dir.join(name)
    }

    /// A raw volume of `size` with nothing allocated: copying reads it whole but writes
    /// nothing.
    fn sparse_volume(&self, name: &str, size: &str) -> PathBuf {
        virsh_ok(
            SESSION_URI,
            &[
                "vol-create-as",
                &self.name,
                name,
                size,
                "--allocation",
                "0",
                "--format",
                "raw",
            ],
        );
        self.dir.join(name)
    }

    fn volumes(&self) -> Vec<String> {
        virsh_ok(SESSION_URI, &["pool-refresh", &self.name]);
        let mut names: Vec<String> = virsh_ok(SESSION_URI, &["vol-list", &self.name])
            .lines()
            .skip(2)
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect();
        names.sort();
        names
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let _ = virsh(SESSION_URI, &["pool-destroy", &self.name]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The test guest booting from its ISO, with the `disks` (path, format) and a user-mode NIC;
/// defined, not started. Its serial log is `serial`.
fn define_guest(guard: &DomainGuard, tag: &str, serial: &Path, disks: &[(&Path, &str)]) {
    let xml = temp_xml(
        tag,
        &guest_domain_xml(&guard.name, serial, &GuestOptions::default()),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    for (i, (path, format)) in disks.iter().enumerate() {
        let target = format!("vd{}", (b'b' + i as u8) as char);
        virsh_ok(
            SESSION_URI,
            &[
                "attach-disk",
                &guard.name,
                path.to_str().unwrap(),
                &target,
                "--config",
                "--driver",
                "qemu",
                "--subdriver",
                format,
                "--targetbus",
                "virtio",
            ],
        );
    }
    let nic = temp_xml(
        &format!("{tag}-nic"),
        "<interface type='user'><model type='virtio'/></interface>",
    );
    virsh_ok(
        SESSION_URI,
        &[
            "attach-device",
            &guard.name,
            nic.to_str().unwrap(),
            "--config",
        ],
    );
    let _ = std::fs::remove_file(nic);
}

/// The request to clone `uuid` as `name`, its steps sent to `progress`.
fn clone_request(
    uuid: &str,
    name: &str,
    kind: CloneKind,
    progress: async_channel::Sender<CloneProgress>,
) -> impl FnOnce(Reply<String>) -> Request {
    let (uuid, name) = (uuid.to_owned(), name.to_owned());
    move |reply| {
        Request::Clone(CloneRequest::Clone {
            uuid,
            name,
            kind,
            progress,
            cancel: Arc::new(AtomicBool::new(false)),
            reply,
        })
    }
}

fn clone(
    handle: &ConnectionHandle,
    uuid: &str,
    name: &str,
    kind: CloneKind,
) -> (Result<String, RequestError>, Vec<CloneProgress>) {
    let (progress, steps) = async_channel::unbounded();
    let result = ask_within(handle, TIMEOUT, clone_request(uuid, name, kind, progress));
    let mut seen = Vec::new();
    while let Ok(step) = steps.try_recv() {
        seen.push(step);
    }
    (result, seen)
}

fn uuid_of(name: &str) -> String {
    virsh_ok(SESSION_URI, &["domuuid", name]).trim().to_owned()
}

fn macs(name: &str) -> Vec<String> {
    virsh_ok(SESSION_URI, &["domiflist", name])
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|w| w.len() == 17 && w.matches(':').count() == 5)
        .map(str::to_owned)
        .collect()
}

/// The sources of the domain's disks by target.
fn disks(name: &str) -> Vec<(String, String)> {
    virsh_ok(SESSION_URI, &["domblklist", name])
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .filter(|(_, source)| source.starts_with('/'))
        .collect()
}

/// Starts `name` and waits for the guest's READY line in a fresh `serial` log.
fn boots(name: &str, serial: &Path) {
    std::fs::File::create(serial).unwrap();
    virsh_ok(SESSION_URI, &["start", name]);
    wait_for_serial_line(serial, 0, TIMEOUT, "READY", |l| l.contains(GUEST_READY));
    virsh_ok(SESSION_URI, &["destroy", name]);
}

#[test]
fn full_and_linked_clones_boot_on_their_own_disks() {
    ensure_libvirtd();
    let pool = Pool::temporary("clone-pool");
    let qcow2 = pool.volume("src-a.qcow2", "16M", "qcow2");
    let raw = pool.volume("src-b.img", "4M", "raw");
    let serial = pool.dir.join("serial.log");
    let source = DomainGuard::session("clone-src");
    define_guest(
        &source,
        "clone-src",
        &serial,
        &[(&qcow2, "qcow2"), (&raw, "raw")],
    );
    let uuid = uuid_of(&source.name);
    let handle = spawn(SESSION_URI.to_owned(), quiet_options());

    // The name is checked first.
    let (taken, _) = clone(&handle, &uuid, &source.name, CloneKind::Full);
    assert!(
        matches!(
            taken,
            Err(RequestError::Clone(CloneFailure {
                error: CloneError::NameTaken(_),
                ..
            }))
        ),
        "{taken:?}"
    );

    let full = DomainGuard::session("clone-full");
    let (made, steps) = clone(&handle, &uuid, &full.name, CloneKind::Full);
    made.unwrap_or_else(|e| panic!("full clone: {e}"));
    assert!(
        steps
            .iter()
            .any(|s| s.disk == 2 && s.disks == 2 && s.done == s.total),
        "progress for both disks: {steps:?}"
    );
    let theirs = disks(&full.name);
    let ours = disks(&source.name);
    assert_eq!(
        theirs.len(),
        3,
        "{theirs:?}\n{}",
        virsh_ok(SESSION_URI, &["dumpxml", &full.name])
    );
    let iso = |d: &[(String, String)]| d.iter().find(|(t, _)| t == "hdc").unwrap().1.clone();
    assert_eq!(iso(&theirs), iso(&ours), "the CD-ROM is shared");
    for target in ["vdb", "vdc"] {
        let path = |d: &[(String, String)]| d.iter().find(|(t, _)| t == target).unwrap().1.clone();
        assert_ne!(path(&theirs), path(&ours), "{target} is copied");
        assert!(
            Path::new(&path(&theirs)).starts_with(&pool.dir),
            "in the same pool"
        );
    }
    assert_eq!(macs(&full.name).len(), 1);
    assert_ne!(macs(&full.name), macs(&source.name), "a new MAC address");
    assert_eq!(
        virsh_ok(SESSION_URI, &["domstate", &full.name]).trim(),
        "shut off"
    );
    boots(&full.name, &serial);

    let linked = DomainGuard::session("clone-linked");
    let (made, _) = clone(&handle, &uuid, &linked.name, CloneKind::Linked);
    made.unwrap_or_else(|e| panic!("linked clone: {e}"));
    let overlay = disks(&linked.name)
        .into_iter()
        .find(|(t, _)| t == "vdb")
        .unwrap()
        .1;
    let info = Process::new("qemu-img")
        .args(["info", "-U", &overlay])
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("file format: qcow2"), "{info}");
    assert!(
        info.contains(&format!("backing file: {}", qcow2.display())),
        "{info}"
    );
    // Marking sends no event: the worker re-reads the source when the clone is done.
    expect_event(
        &handle.events,
        TIMEOUT,
        "the source marked a template",
        |e| matches!(e, Event::DomainChanged(info) if info.uuid == uuid && info.template),
    );
    boots(&linked.name, &serial);

    // The source is a template now: Start is refused, until it is unmarked.
    handle
        .commands
        .send_blocking(Command::Start(uuid.clone()))
        .unwrap();
    let refused = expect_event(&handle.events, TIMEOUT, "Start refused", |e| {
        matches!(
            e,
            Event::Error {
                action: Action::Start,
                ..
            }
        )
    });
    assert!(format!("{refused:?}").contains("template"), "{refused:?}");
    assert_eq!(
        virsh_ok(SESSION_URI, &["domstate", &source.name]).trim(),
        "shut off"
    );
    let unmark = uuid.clone();
    ask_within(&handle, TIMEOUT, |reply| {
        Request::Clone(CloneRequest::SetTemplate {
            uuid: unmark,
            template: false,
            reply,
        })
    })
    .unwrap();
    boots(&source.name, &serial);
    handle.quit_and_join();
    drop((linked, full, source));
}

/// A clone runs on a thread of its own: while it copies a large disk, the worker answers
/// the requests a console and the list send (a guest's addresses, the networks), and once
/// it is done and its commands close, the worker stops: the clone's job keeps nothing of
/// it alive.
#[test]
fn the_worker_answers_while_a_clone_copies() {
    ensure_libvirtd();
    let pool = Pool::temporary("busy-pool");
    // Seconds to copy (libvirt reads every byte) without filling the disk.
    let big = pool.sparse_volume("big.img", "2G");
    let source = DomainGuard::session("busy-src");
    define_guest(
        &source,
        "busy-src",
        &pool.dir.join("serial.log"),
        &[(&big, "raw")],
    );
    let uuid = uuid_of(&source.name);
    let handle = spawn(SESSION_URI.to_owned(), quiet_options());

    let copy = DomainGuard::session("busy-copy");
    let (progress, steps) = async_channel::unbounded();
    let cloning = handle.ask(clone_request(&uuid, &copy.name, CloneKind::Full, progress));
    let (cloned_tx, cloned) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = cloned_tx.send(cloning.recv_blocking());
    });
    wait_for("the copy to begin", TIMEOUT, || steps.try_recv().is_ok());

    let asked = uuid.clone();
    let addresses = ask_within(&handle, TIMEOUT, |reply| Request::GuestAddresses {
        uuid: asked,
        agent: false,
        reply,
    });
    assert!(addresses.unwrap().nics.is_empty(), "a shut-off machine");
    ask_within(&handle, TIMEOUT, Request::Networks).unwrap();
    // The clone's job drops its progress sender when it returns: still open, it copies.
    assert!(
        !steps.is_closed(),
        "the worker answered only after the clone was done"
    );

    let made = cloned
        .recv_timeout(TIMEOUT)
        .expect("the clone answers within the timeout");
    made.unwrap_or_else(|e| panic!("clone: {e}"));
    assert!(steps.is_closed(), "the job has returned");
    let ConnectionHandle {
        commands, events, ..
    } = handle;
    drop(commands);
    // The events close when the worker's thread ends.
    let (stopped_tx, stopped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        while events.recv_blocking().is_ok() {}
        let _ = stopped_tx.send(());
    });
    stopped
        .recv_timeout(TIMEOUT)
        .expect("the worker stops once its commands close");
    drop((copy, source, pool));
}

/// A tmpfs of `size` at `dir`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: PathBuf, size: &str) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        let out = Process::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .expect("run mount");
        assert!(out.status.success(), "mount a tmpfs: {out:?}");
        Self(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_clone_that_runs_out_of_space_leaves_nothing() {
    ensure_libvirtd();
    let tmpfs = Tmpfs::mount(
        std::env::temp_dir().join(format!("{}clone-full-fs", prefix())),
        "40M",
    );
    let pool = Pool::new("clone-small", tmpfs.0.clone());
    // Two disks full of data: 8 + 14 MiB; the first copy fits (30 MiB), the second not.
    let a = pool.volume("a.img", "8M", "raw");
    let b = pool.volume("b.img", "14M", "raw");
    for path in [&a, &b] {
        let out = Process::new("dd")
            .args(["if=/dev/urandom", "bs=1M", "conv=notrunc"])
            .arg(format!("of={}", path.display()))
            .arg(format!(
                "count={}",
                std::fs::metadata(path).unwrap().len() / (1 << 20)
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let before = pool.volumes();
    let source = DomainGuard::session("clone-small-src");
    define_guest(
        &source,
        "clone-small-src",
        &tmpfs.0.join("serial.log"),
        &[(&a, "raw"), (&b, "raw")],
    );
    let handle = spawn(SESSION_URI.to_owned(), quiet_options());
    let target = DomainGuard::session("clone-small-copy");
    let (made, steps) = clone(
        &handle,
        &uuid_of(&source.name),
        &target.name,
        CloneKind::Full,
    );
    let Err(RequestError::Clone(failure)) = made else {
        panic!("the clone should fail for want of space: {made:?}");
    };
    assert!(
        steps.iter().any(|s| s.disk == 2),
        "it failed midway: {steps:?}"
    );
    assert!(failure.left_behind.is_empty(), "{failure:?}");
    assert!(
        matches!(failure.error, CloneError::Libvirt(_)),
        "{:?}",
        failure.error
    );
    assert_eq!(pool.volumes(), before, "no volume left behind");
    assert!(
        !virsh(SESSION_URI, &["domstate", &target.name])
            .status
            .success(),
        "no machine left behind"
    );
    handle.quit_and_join();
    drop((target, source, pool));
}

/// The UEFI variables of a machine (a file in a directory pool, as libvirt keeps them) are
/// copied for its clone: the clone's `<nvram>` names a file of its own with the same bytes,
/// and the source's file is untouched. Nothing boots: the copy is the storage's business.
#[test]
fn a_uefi_clone_gets_a_copy_of_the_variables() {
    ensure_libvirtd();
    let pool = Pool::temporary("nvram-pool");
    let source = DomainGuard::session("nvram-src");
    let vars = pool.dir.join(format!("{}_VARS.fd", source.name));
    // The firmware's template with boot entries of its own: one byte changed at the end.
    let mut bytes = std::fs::read("/usr/share/OVMF/OVMF_VARS_4M.fd").expect("ovmf is installed");
    *bytes.last_mut().unwrap() ^= 0x5a;
    std::fs::write(&vars, &bytes).unwrap();
    let xml = temp_xml(
        "nvram-src",
        &format!(
            "<domain type='qemu'><name>{}</name><memory unit='MiB'>64</memory>\
             <os><type arch='x86_64' machine='q35'>hvm</type>\
             <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>\
             <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>{}</nvram></os>\
             <features><acpi/></features><devices/></domain>",
            source.name,
            vars.display()
        ),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    let handle = spawn(SESSION_URI.to_owned(), quiet_options());

    let clone_vm = DomainGuard::session("nvram-clone");
    let (made, _) = clone(
        &handle,
        &uuid_of(&source.name),
        &clone_vm.name,
        CloneKind::Full,
    );
    made.unwrap_or_else(|e| panic!("clone: {e}"));

    let dumped = virsh_ok(SESSION_URI, &["dumpxml", "--inactive", &clone_vm.name]);
    let copy = pool.dir.join(format!("{}_VARS.fd", clone_vm.name));
    assert!(
        dumped.contains(&format!("{}</nvram>", copy.display())),
        "the clone's variables are its own copy: {dumped}"
    );
    assert_eq!(std::fs::read(&copy).expect("the copy exists"), bytes);
    assert_eq!(
        std::fs::read(&vars).unwrap(),
        bytes,
        "the source's are untouched"
    );
    handle.quit_and_join();
}
