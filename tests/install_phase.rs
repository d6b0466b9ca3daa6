//! The install phase on the real `qemu:///session` daemon with the test guest: the wizard's
//! machine boots the guest ISO, the guest "installs" itself onto the disk labelled
//! VDINSTALL (tests/guest: it copies the hybrid ISO there) and reboots; then the machine
//! boots its disk with the CD-ROM empty. Once with a connection worker watching (it
//! redefines and restarts the machine), once with none (the next worker to see the machine
//! shut off finishes the job).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use virt::connect::Connect;
use virtdeck::libvirt::{spawn, Command, ConnectionHandle, ConnectionState, Event, Request};
use virtdeck::spec::create::create_vm_on;
use virtdeck::spec::edit::tree::{Element, Node};
use virtdeck::spec::install::INSTALL_NS;
use virtdeck::spec::{
    DeviceModels, DiskFormat, DomainType, Firmware, InstallMethod, Network, OsChoice, Storage,
    VmSpec,
};

use common::guest::{guest_iso, serial_text, wait_for_serial};
use common::{virsh_ok, DomainGuard, SESSION_URI};

/// Generous: two TCG boots on a busy machine.
const BOOT: Duration = Duration::from_secs(300);

/// A worker that is stopped and joined when dropped, also when a test fails: a worker left
/// running would finish the next test's install.
struct Worker(Option<ConnectionHandle>);

impl Worker {
    fn spawn() -> Worker {
        Worker(Some(spawn(SESSION_URI.into(), common::quiet_options())))
    }

    fn handle(&self) -> &ConnectionHandle {
        self.0.as_ref().expect("running until dropped")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.quit_and_join();
        }
    }
}

/// A machine being installed: its domain, its disk and serial log.
struct Install {
    guard: DomainGuard,
    dir: PathBuf,
    serial_log: PathBuf,
    spec: VmSpec,
}

impl Install {
    /// A raw 64 MiB disk with an empty FAT file system labelled VDINSTALL, which the test
    /// guest installs itself onto, and the wizard's spec for installing from the guest ISO.
    fn new(tag: &str) -> Install {
        common::ensure_libvirtd();
        let guard = DomainGuard::session(tag);
        let dir = std::env::temp_dir().join(&guard.name);
        std::fs::create_dir_all(&dir).unwrap();
        let disk = dir.join("disk.img");
        let file = std::fs::File::create(&disk).unwrap();
        file.set_len(64 << 20).unwrap();
        let status = Process::new("mformat")
            .args(["-i", disk.to_str().unwrap(), "-v", "VDINSTALL", "::"])
            .status()
            .expect("mformat (mtools) is needed: build-aux/install-deps.sh test");
        assert!(status.success(), "mformat failed");
        let spec = VmSpec {
            uri: SESSION_URI.into(),
            name: guard.name.clone(),
            domain_type: DomainType::Qemu,
            install: InstallMethod::LocalIso {
                path: guest_iso().to_string_lossy().into_owned(),
                upload_pool: None,
            },
            os: OsChoice {
                id: "http://libosinfo.org/linux/2022".into(),
                name: "Linux".into(),
                devices: DeviceModels::VIRTIO,
            },
            memory_mib: 256,
            vcpus: 1,
            storage: Storage::Existing {
                path: disk.to_string_lossy().into_owned(),
                format: DiskFormat::Raw,
            },
            network: Network::User,
            firmware: Firmware::Bios,
            start_after: false,
        };
        Install {
            serial_log: dir.join("serial.log"),
            guard,
            dir,
            spec,
        }
    }

    fn name(&self) -> &str {
        &self.guard.name
    }

    fn inactive_xml(&self) -> Element {
        let xml = virsh_ok(SESSION_URI, &["dumpxml", "--inactive", self.name()]);
        Element::parse(&xml).unwrap()
    }

    /// The defined machine writes its serial port to [`Install::serial_log`] (the wizard
    /// gives it a pty): the only change to the wizard's XML, made with the edit tree.
    fn log_serial_to_file(&self) {
        let mut root = self.inactive_xml();
        let devices = root.child_mut("devices").unwrap();
        devices.remove_children(|e| e.name == "serial" || e.name == "console");
        let path = self.serial_log.to_str().unwrap();
        devices.children.push(Node::Element(
            Element::new("serial")
                .with_attr("type", "file")
                .with_child(Element::new("source").with_attr("path", path))
                .with_child(Element::new("target").with_attr("port", "0")),
        ));
        let file = self.dir.join("domain.xml");
        std::fs::write(&file, root.to_xml()).unwrap();
        virsh_ok(SESSION_URI, &["define", file.to_str().unwrap()]);
    }

    fn state(&self) -> String {
        virsh_ok(SESSION_URI, &["domstate", self.name()])
            .trim()
            .to_owned()
    }
}

impl Drop for Install {
    fn drop(&mut self) {
        let _ = common::virsh(SESSION_URI, &["destroy", self.name()]);
        let _ = common::virsh(SESSION_URI, &["undefine", self.name()]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn boot_devices(root: &Element) -> Vec<String> {
    let os = root.child("os").unwrap();
    os.elements()
        .filter(|e| e.name == "boot")
        .filter_map(|e| e.attr("dev").map(str::to_owned))
        .collect()
}

fn cdrom_source(root: &Element) -> Option<String> {
    let devices = root.child("devices").unwrap();
    let cdrom = devices
        .elements()
        .find(|e| e.name == "disk" && e.attr("device") == Some("cdrom"))
        .expect("the CD-ROM is kept");
    cdrom
        .child("source")
        .and_then(|s| s.attr("file").map(str::to_owned))
}

fn has_mark(root: &Element) -> bool {
    root.child("metadata").is_some_and(|m| {
        m.elements()
            .any(|e| e.attributes.iter().any(|(_, v)| v == INSTALL_NS))
    })
}

/// The install configuration as the wizard defines it.
fn assert_installing(install: &Install) {
    let root = install.inactive_xml();
    assert_eq!(boot_devices(&root), ["cdrom", "hd"]);
    assert_eq!(root.child("on_reboot").unwrap().text(), "destroy");
    assert!(has_mark(&root), "no install mark: {}", root.to_xml());
    assert_eq!(
        cdrom_source(&root).as_deref(),
        Some(iso_path(&install.spec))
    );
}

/// The final configuration: the disk boots, the CD-ROM is empty, a reboot restarts.
fn assert_finished(install: &Install) {
    let root = install.inactive_xml();
    assert_eq!(boot_devices(&root), ["hd"], "{}", root.to_xml());
    assert_eq!(root.child("on_reboot").unwrap().text(), "restart");
    assert!(!has_mark(&root), "the mark stayed: {}", root.to_xml());
    assert_eq!(cdrom_source(&root), None, "{}", root.to_xml());
}

fn iso_path(spec: &VmSpec) -> &str {
    match &spec.install {
        InstallMethod::LocalIso { path, .. } => path,
        other => panic!("not an ISO install: {other:?}"),
    }
}

/// One test at a time: a worker watching the daemon would finish the other test's install.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wait_installed(log: &Path) {
    wait_for_serial(log, "INSTALL: done", BOOT);
}

/// The guest booted from the disk: GRUB passed its hard disk root on.
fn wait_booted_from_disk(log: &Path) {
    let line = wait_for_serial(log, "BOOT: ", BOOT);
    assert!(line.contains("BOOT: hd"), "{line}");
    wait_for_serial(log, common::guest::GUEST_READY, BOOT);
    let text = serial_text(log);
    assert!(
        !text.contains("INSTALL:"),
        "the installer ran again:\n{text}"
    );
}

/// Waits for the machine's second run to reach its boot line; when it does not, says what
/// the worker reported meanwhile (its errors, its connection, the machine's states) and
/// the machine's state and reason, so a failure names the broken link.
fn wait_restarted_by(handle: &ConnectionHandle, install: &Install) {
    let deadline = Instant::now() + BOOT;
    let mut seen = Vec::new();
    while !serial_text(&install.serial_log).contains("BOOT: ") {
        while let Ok(event) = handle.events.try_recv() {
            let about_it = match &event {
                Event::DomainChanged(d) | Event::DomainAdded(d) => d.name == install.name(),
                Event::Error { .. } | Event::ConnectionState(_) => true,
                _ => false,
            };
            if about_it {
                seen.push(common::summary(&event));
            }
        }
        if Instant::now() >= deadline {
            let state = Process::new("virsh")
                .args(["-c", SESSION_URI, "domstate", "--reason", install.name()])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
            panic!(
                "the machine did not boot again within {BOOT:?}; it is {state:?}; \
                 the worker reported {seen:#?}; its inactive XML:\n{}",
                install.inactive_xml().to_xml()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_watched_install_is_finished_and_the_machine_boots_its_disk() {
    let _one = one_at_a_time();
    let install = Install::new("inst-watched");
    let worker = Worker::spawn();
    let handle = worker.handle();
    common::expect_event(&handle.events, BOOT, "connected", |e| {
        matches!(e, Event::ConnectionState(ConnectionState::Connected { .. }))
    });
    let spec = Box::new(install.spec.clone());
    let (progress, _steps) = async_channel::unbounded();
    let created = handle
        .ask(|reply| Request::CreateVm {
            spec,
            progress,
            reply,
        })
        .recv_blocking()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_installing(&install);
    install.log_serial_to_file();

    handle
        .commands
        .send_blocking(Command::Start(created.uuid.clone()))
        .unwrap();
    wait_installed(&install.serial_log);
    // The worker sees the run end, redefines and starts the machine; QEMU starts a new
    // serial log.
    wait_restarted_by(handle, &install);
    wait_booted_from_disk(&install.serial_log);
    assert_eq!(install.state(), "running");
    assert_finished(&install);
    let live = virsh_ok(SESSION_URI, &["domblklist", install.name()]);
    let cdrom = live
        .lines()
        .find(|l| l.trim_start().starts_with("sda"))
        .unwrap_or_else(|| panic!("no CD-ROM in {live}"));
    assert_eq!(cdrom.split_whitespace().nth(1), Some("-"), "{live}");
}

#[test]
fn an_install_that_ended_unwatched_is_finished_when_next_seen() {
    let _one = one_at_a_time();
    let install = Install::new("inst-away");
    let conn = Connect::open(Some(SESSION_URI)).unwrap();
    create_vm_on(&conn, &install.spec, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    install.log_serial_to_file();
    virsh_ok(SESSION_URI, &["start", install.name()]);
    wait_installed(&install.serial_log);
    common::wait_for("the install run to end", BOOT, || {
        install.state() == "shut off"
    });
    // Nobody watched: the machine waits with its install configuration.
    assert_installing(&install);

    let worker = Worker::spawn();
    let handle = worker.handle();
    let snapshot = common::expect_event(&handle.events, BOOT, "the domain list", |e| {
        matches!(e, Event::Snapshot(_))
    });
    let Event::Snapshot(domains) = snapshot else {
        unreachable!()
    };
    let info = domains
        .iter()
        .find(|d| d.name == install.name())
        .expect("the machine is listed");
    assert!(!info.state.is_active(), "started again: {:?}", info.state);
    assert_finished(&install);
    drop(worker);

    virsh_ok(SESSION_URI, &["start", install.name()]);
    wait_booted_from_disk(&install.serial_log);
}
