//! The connection's storage through the worker, on real parts: a directory pool on
//! `qemu:///session` (volumes made, resized, refused while a machine uses them, a 50 MiB
//! upload whose checksum matches, a cancelled upload that leaves nothing), a filesystem
//! pool on an ext4 loop device, a netfs pool that cannot mount (this kernel has no NFS
//! client) and leaves nothing behind, and the logical path on the test driver (this
//! kernel has no device-mapper, so LVM cannot activate a volume group here).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{
    connect_and_snapshot, ensure_libvirtd, fixture, prefix, quiet_options, virsh, virsh_ok,
    DomainGuard, SESSION_URI,
};
use virtdeck::libvirt::{
    ConnectionHandle, PoolChange, PoolInfo, PoolKind, PoolSource, PoolSpec, Reply, Request,
    RequestError, StorageError, StorageRequest, VolumeFormat, VolumeInfo, VolumeSpec,
};

const TIMEOUT: Duration = Duration::from_secs(60);

fn ask<T: Send + 'static>(
    handle: &ConnectionHandle,
    make: impl FnOnce(Reply<T>) -> StorageRequest,
) -> Result<T, RequestError> {
    let answer = handle.ask(|reply| Request::Storage(make(reply)));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(answer.recv_blocking());
    });
    rx.recv_timeout(TIMEOUT)
        .expect("the worker answers within the timeout")
}

fn pools(handle: &ConnectionHandle) -> Vec<PoolInfo> {
    ask(handle, StorageRequest::Pools).expect("Pools")
}

fn pool(handle: &ConnectionHandle, name: &str) -> Option<PoolInfo> {
    pools(handle).into_iter().find(|p| p.name == name)
}

fn volumes(handle: &ConnectionHandle, pool: &str) -> Vec<VolumeInfo> {
    let pool = pool.to_owned();
    ask(handle, |reply| StorageRequest::Volumes { pool, reply }).expect("Volumes")
}

fn create_pool(handle: &ConnectionHandle, spec: PoolSpec) -> Result<(), RequestError> {
    ask(handle, |reply| StorageRequest::CreatePool { spec, reply })
}

fn change(handle: &ConnectionHandle, name: &str, change: PoolChange) -> Result<(), RequestError> {
    let name = name.to_owned();
    ask(handle, |reply| StorageRequest::ChangePool {
        name,
        change,
        reply,
    })
}

fn create_volume(
    handle: &ConnectionHandle,
    pool: &str,
    name: &str,
    format: VolumeFormat,
    capacity: u64,
) -> Result<(), RequestError> {
    let pool = pool.to_owned();
    let spec = VolumeSpec {
        name: name.to_owned(),
        format,
        capacity,
    };
    ask(handle, |reply| StorageRequest::CreateVolume {
        pool,
        spec,
        reply,
    })
}

fn delete_volume(handle: &ConnectionHandle, pool: &str, name: &str) -> Result<(), RequestError> {
    let (pool, name) = (pool.to_owned(), name.to_owned());
    ask(handle, |reply| StorageRequest::DeleteVolume {
        pool,
        name,
        reply,
    })
}

/// Removes a pool left by a failed test (never another test's: the names are ours).
struct PoolCleanup {
    uri: String,
    name: String,
}

impl Drop for PoolCleanup {
    fn drop(&mut self) {
        let _ = virsh(&self.uri, &["pool-destroy", &self.name]);
        let _ = virsh(&self.uri, &["pool-undefine", &self.name]);
    }
}

fn sha256(path: &Path) -> String {
    let out = Process::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Process::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} could not run: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn directory_pool_volumes_upload_and_deletion() {
    ensure_libvirtd();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    let name = format!("{}storage-dir", prefix());
    let dir = std::env::temp_dir().join(&name).join("images");
    let _cleanup = PoolCleanup {
        uri: SESSION_URI.into(),
        name: name.clone(),
    };
    let spec = PoolSpec {
        name: name.clone(),
        source: PoolSource::Dir {
            path: dir.display().to_string(),
        },
        autostart: true,
    };
    create_pool(&handle, spec.clone()).expect("CreatePool dir");
    assert!(dir.is_dir(), "the pool's directory was made");
    let info = pool(&handle, &name).expect("the new pool is listed");
    assert_eq!(info.kind, PoolKind::Dir);
    assert!(info.active && info.autostart && info.persistent, "{info:?}");
    assert!(info.capacity > 0 && info.available > 0, "{info:?}");
    assert_eq!(info.target.as_deref(), Some(dir.to_str().unwrap()));
    match create_pool(&handle, spec) {
        Err(RequestError::Storage(StorageError::PoolExists(n))) => assert_eq!(n, name),
        other => panic!("a second pool of the same name: {other:?}"),
    }

    // A volume, its name taken, a resize that grows and one that would shrink.
    create_volume(&handle, &name, "disk.qcow2", VolumeFormat::Qcow2, 1 << 30).expect("qcow2");
    match create_volume(&handle, &name, "disk.qcow2", VolumeFormat::Raw, 1 << 20) {
        Err(RequestError::Storage(StorageError::VolumeExists(n))) => assert_eq!(n, "disk.qcow2"),
        other => panic!("the same volume again: {other:?}"),
    }
    let (p, n) = (name.clone(), "disk.qcow2".to_owned());
    ask(&handle, |reply| StorageRequest::ResizeVolume {
        pool: p,
        name: n,
        capacity: 2 << 30,
        reply,
    })
    .expect("grow");
    let (p, n) = (name.clone(), "disk.qcow2".to_owned());
    assert!(matches!(
        ask(&handle, |reply| StorageRequest::ResizeVolume {
            pool: p,
            name: n,
            capacity: 1 << 20,
            reply,
        }),
        Err(RequestError::Storage(StorageError::Shrink))
    ));
    let vols = volumes(&handle, &name);
    let disk = vols
        .iter()
        .find(|v| v.name == "disk.qcow2")
        .expect("listed");
    assert_eq!(disk.format, "qcow2");
    assert_eq!(disk.capacity, 2 << 30);
    assert!(disk.allocation < disk.capacity, "qcow2 allocates lazily");
    let info = run("qemu-img", &["info", "--output=json", &disk.path]);
    assert!(info.contains("\"virtual-size\": 2147483648"), "{info}");

    // A machine that uses it: the volume says so, and cannot be deleted.
    let domain = DomainGuard::session("storage-user");
    let xml = fixture::temp_xml(
        "storage-user",
        &fixture::tiny_qemu_domain_xml(&domain.name, Some(&disk.path)),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);
    let vols = volumes(&handle, &name);
    let disk = vols.iter().find(|v| v.name == "disk.qcow2").unwrap();
    assert_eq!(disk.used_by, vec![domain.name.clone()]);
    match delete_volume(&handle, &name, "disk.qcow2") {
        Err(RequestError::Storage(e @ StorageError::VolumeInUse { .. })) => {
            assert!(e.to_string().contains(&domain.name), "{e}");
        }
        other => panic!("deleting a used volume: {other:?}"),
    }
    drop(domain);
    delete_volume(&handle, &name, "disk.qcow2").expect("deleted once unused");

    // Upload 50 MiB of random bytes with progress; the volume has the same checksum.
    let file = std::env::temp_dir().join(format!("{}upload.bin", prefix()));
    run(
        "dd",
        &[
            "if=/dev/urandom",
            &format!("of={}", file.display()),
            "bs=1M",
            "count=50",
            "status=none",
        ],
    );
    let (progress, reports) = async_channel::unbounded();
    let started = Instant::now();
    let (p, f) = (name.clone(), file.clone());
    let sent = ask(&handle, |reply| StorageRequest::Upload {
        pool: p,
        name: "upload.img".into(),
        file: f,
        progress,
        cancel: Arc::new(AtomicBool::new(false)),
        reply,
    })
    .expect("Upload");
    eprintln!("uploaded 50 MiB in {:?}", started.elapsed());
    assert_eq!(sent, 50 << 20);
    let reports: Vec<u64> = std::iter::from_fn(|| reports.try_recv().ok()).collect();
    assert!(reports.len() > 10, "progress after each chunk: {reports:?}");
    assert!(reports.windows(2).all(|w| w[0] <= w[1]), "{reports:?}");
    assert_eq!(reports.last(), Some(&(50 << 20)));
    let uploaded = vols_path(&handle, &name, "upload.img");
    assert_eq!(
        sha256(&uploaded),
        sha256(&file),
        "the volume holds the file"
    );

    // A cancelled upload leaves no volume.
    let (progress, _reports) = async_channel::unbounded();
    let (p, f) = (name.clone(), file.clone());
    let cancelled = ask(&handle, |reply| StorageRequest::Upload {
        pool: p,
        name: "cancelled.img".into(),
        file: f,
        progress,
        cancel: Arc::new(AtomicBool::new(true)),
        reply,
    });
    assert!(
        matches!(
            cancelled,
            Err(RequestError::Storage(StorageError::Cancelled))
        ),
        "{cancelled:?}"
    );
    assert!(!volumes(&handle, &name)
        .iter()
        .any(|v| v.name == "cancelled.img"));
    let _ = std::fs::remove_file(&file);

    // Stop, start, refresh; then delete with its data: the volumes and directory go.
    change(&handle, &name, PoolChange::Stop).expect("stop");
    assert!(!pool(&handle, &name).unwrap().active);
    change(&handle, &name, PoolChange::Start).expect("start");
    change(&handle, &name, PoolChange::Refresh).expect("refresh");
    change(&handle, &name, PoolChange::Autostart(false)).expect("autostart off");
    assert!(!pool(&handle, &name).unwrap().autostart);
    change(&handle, &name, PoolChange::Delete { data: true }).expect("delete");
    assert!(pool(&handle, &name).is_none(), "the pool is gone");
    assert!(!dir.exists(), "its directory is gone");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

fn vols_path(handle: &ConnectionHandle, pool: &str, name: &str) -> PathBuf {
    let vols = volumes(handle, pool);
    let vol = vols
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("no volume {name} in {vols:?}"));
    PathBuf::from(&vol.path)
}

/// Detaches a loop device when dropped.
struct LoopDevice(String);

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = Process::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn filesystem_pool_on_a_loop_device() {
    ensure_libvirtd();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    let name = format!("{}storage-fs", prefix());
    let base = std::env::temp_dir().join(&name);
    std::fs::create_dir_all(&base).unwrap();
    let image = base.join("disk.img");
    run("truncate", &["-s", "64M", image.to_str().unwrap()]);
    run("mkfs.ext4", &["-q", "-F", image.to_str().unwrap()]);
    let device = LoopDevice(run(
        "losetup",
        &["--find", "--show", image.to_str().unwrap()],
    ));
    let mount = base.join("mnt");
    let _cleanup = PoolCleanup {
        uri: SESSION_URI.into(),
        name: name.clone(),
    };
    create_pool(
        &handle,
        PoolSpec {
            name: name.clone(),
            source: PoolSource::Fs {
                device: device.0.clone(),
                target: mount.display().to_string(),
            },
            autostart: false,
        },
    )
    .expect("CreatePool fs");
    let info = pool(&handle, &name).unwrap();
    assert_eq!(info.kind, PoolKind::Fs);
    assert_eq!(info.source.as_deref(), Some(device.0.as_str()));
    assert!(info.active, "{info:?}");
    // The ext4 file system is what is mounted: its size, not the host's disk.
    assert!(
        info.capacity < 64 << 20 && info.capacity > 32 << 20,
        "{info:?}"
    );
    create_volume(&handle, &name, "small.raw", VolumeFormat::Raw, 8 << 20).expect("volume");
    let vol = vols_path(&handle, &name, "small.raw");
    assert!(vol.starts_with(&mount), "{}", vol.display());
    // Deleting the pool without its data unmounts it; the file system keeps the volume.
    change(&handle, &name, PoolChange::Delete { data: false }).expect("delete fs pool");
    assert!(pool(&handle, &name).is_none());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
    assert!(!mounts.contains(mount.to_str().unwrap()), "unmounted");
    let listing = run("debugfs", &["-R", "ls -l /", image.to_str().unwrap()]);
    assert!(listing.contains("small.raw"), "{listing}");
    drop(device);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn netfs_pool_that_cannot_mount_leaves_nothing() {
    // This kernel has neither an NFS client (CONFIG_NFS_FS) nor nfsd, so no NFS export
    // can be mounted here, from the kernel's nfsd or nfs-ganesha alike; libvirt's mount
    // fails and the pool must not stay defined.
    ensure_libvirtd();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    let name = format!("{}storage-nfs", prefix());
    let _cleanup = PoolCleanup {
        uri: SESSION_URI.into(),
        name: name.clone(),
    };
    let mount = std::env::temp_dir().join(&name);
    let failed = create_pool(
        &handle,
        PoolSpec {
            name: name.clone(),
            source: PoolSource::Netfs {
                host: "127.0.0.1".into(),
                export: "/srv/vdtest".into(),
                target: mount.display().to_string(),
            },
            autostart: true,
        },
    );
    let Err(RequestError::Storage(StorageError::Libvirt(message))) = failed else {
        panic!("a netfs pool mounted without NFS in the kernel: {failed:?}");
    };
    assert!(!message.is_empty());
    assert!(pool(&handle, &name).is_none(), "nothing left: {message}");
    let _ = std::fs::remove_dir_all(&mount);
}

#[test]
fn logical_pool_on_the_test_driver() {
    // LVM needs device-mapper, which this kernel lacks (no /dev/mapper/control), so the
    // logical path is proven on libvirt's test driver.
    let uri = "test:///default";
    let (handle, _) = connect_and_snapshot(uri, quiet_options());
    let name = "vdtest-storage-vg".to_owned();
    create_pool(
        &handle,
        PoolSpec {
            name: name.clone(),
            source: PoolSource::Logical {
                group: "vdtestvg".into(),
                device: None,
            },
            autostart: false,
        },
    )
    .expect("CreatePool logical");
    let info = pool(&handle, &name).unwrap();
    assert_eq!(info.kind, PoolKind::Logical);
    assert_eq!(info.source.as_deref(), Some("vdtestvg"));
    assert_eq!(info.target.as_deref(), Some("/dev/vdtestvg"));
    create_volume(&handle, &name, "lv0", VolumeFormat::Raw, 1 << 30).expect("lv");
    assert_eq!(
        volumes(&handle, &name)
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        ["lv0"]
    );
    change(&handle, &name, PoolChange::Delete { data: false }).expect("delete");
    assert!(pool(&handle, &name).is_none());
}
