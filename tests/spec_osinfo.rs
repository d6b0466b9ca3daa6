//! The osinfo-db: loading, OS detection from real ISO images built with xorriso, the
//! searchable list and recommendations. Needs the osinfo-db and xorriso packages.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use virtdeck::spec::osinfo::{OsDb, GENERIC_OS_ID};
use virtdeck::spec::{DeviceModels, DiskBus, NicModel, VideoModel};

fn db() -> &'static OsDb {
    OsDb::system().unwrap_or_else(|e| panic!("{e}"))
}

/// A scratch directory of this test, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("vdtest-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(dir.join("root")).unwrap();
        std::fs::write(dir.join("root/README"), "test media\n").unwrap();
        Scratch(dir)
    }

    /// Builds `<name>.iso` with volume id `volume_id`.
    fn iso(&self, name: &str, volume_id: &str) -> PathBuf {
        let path = self.0.join(format!("{name}.iso"));
        let out = Process::new("xorriso")
            .args(["-as", "mkisofs", "-quiet", "-V", volume_id, "-o"])
            .arg(&path)
            .arg(self.0.join("root"))
            .output()
            .expect("xorriso is needed for these tests (install xorriso)");
        assert!(
            out.status.success(),
            "xorriso failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_system_database_loads_once_with_inheritance_resolved() {
    let db = db();
    assert!(std::ptr::eq(db, OsDb::system().unwrap()), "not cached");
    assert!(db.all().len() > 300, "only {} OSes", db.all().len());
    let debian = db.get("http://debian.org/debian/11").expect("Debian 11");
    assert_eq!(debian.name, "Debian 11");
    assert_eq!(debian.version.as_deref(), Some("11"));
    assert_eq!(debian.short_id, "debian11");
    // Debian 11's own file lists only virtio-gpu and virtio-fs: block and net devices
    // come from the releases it derives from.
    assert_eq!(debian.device_models(), DeviceModels::VIRTIO);
    let rec = debian.recommendation();
    assert_eq!(rec.memory_mib, 1024);
    assert_eq!(rec.disk_gib, 20);
    assert!(rec.vcpus >= 1);
    assert_eq!(rec.devices, DeviceModels::VIRTIO);
}

#[test]
fn old_systems_get_compatible_devices() {
    let dos = db()
        .all()
        .iter()
        .find(|os| os.short_id == "msdos6.22")
        .expect("MS-DOS 6.22 is in osinfo-db");
    assert_eq!(dos.device_models(), DeviceModels::COMPATIBLE);
    let generic = db().generic_os();
    assert_eq!(generic.id, GENERIC_OS_ID);
    assert_eq!(generic.name, "Generic OS");
    assert_eq!(generic.recommendation().devices.disk_bus, DiskBus::Sata);
}

#[test]
fn generic_linux_has_virtio_devices() {
    let linux = db().generic_linux();
    assert_eq!(linux.name, "Generic Linux");
    assert!(
        linux.id.starts_with("http://libosinfo.org/linux/"),
        "{}",
        linux.id
    );
    let models = linux.device_models();
    assert_eq!(models.disk_bus, DiskBus::Virtio);
    assert_eq!(models.nic, NicModel::Virtio);
    assert_eq!(models.video, VideoModel::Virtio);
    // Even without a database.
    let empty = OsDb::default().generic_linux();
    assert_eq!(empty.device_models(), DeviceModels::VIRTIO);
    assert_eq!(OsDb::default().generic_os().name, "Generic OS");
}

#[test]
fn a_debian_volume_id_is_detected() {
    let scratch = Scratch::new("iso-debian");
    let iso = scratch.iso("debian", "Debian 11.5.0 amd64 n");
    let os = db().detect_iso(&iso).unwrap().expect("Debian 11 detected");
    assert_eq!(os.id, "http://debian.org/debian/11");
    assert_eq!(os.name, "Debian 11");
    assert_eq!(os.choice().devices, DeviceModels::VIRTIO);
}

#[test]
fn an_ubuntu_volume_id_is_detected() {
    let scratch = Scratch::new("iso-ubuntu");
    let iso = scratch.iso("ubuntu", "Ubuntu-Server 22.04.1 LTS amd64");
    let os = db()
        .detect_iso(&iso)
        .unwrap()
        .expect("Ubuntu 22.04 detected");
    assert_eq!(os.id, "http://ubuntu.com/ubuntu/22.04");
}

#[test]
fn unknown_media_and_non_iso_files_are_not_detected() {
    let scratch = Scratch::new("iso-none");
    let iso = scratch.iso("nothing", "VDTEST NOTHING KNOWN");
    assert_eq!(db().detect_iso(&iso).unwrap(), None);
    let text = scratch.0.join("root/README");
    assert_eq!(db().detect_iso(&text).unwrap(), None);
    let missing = Path::new("/nonexistent/vdtest.iso");
    let error = db().detect_iso(missing).unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/vdtest.iso"),
        "{error}"
    );
}

#[test]
fn the_list_is_searchable_with_fallbacks_first() {
    let db = db();
    let all = db.search("");
    assert_eq!(
        all.len(),
        db.all().len(),
        "each OS once, fallbacks replacing theirs"
    );
    assert_eq!(all[0].name, "Generic Linux");
    assert_eq!(all[1].name, "Generic OS");

    let found = db.search("  DEBIAN  11 ");
    assert!(found
        .iter()
        .any(|os| os.id == "http://debian.org/debian/11"));
    assert!(found
        .iter()
        .all(|os| os.name.to_lowercase().contains("debian")));

    let generic = db.search("generic");
    assert_eq!(generic[0].name, "Generic Linux");
    assert_eq!(generic[1].name, "Generic OS");

    let windows = db.search("windows 10");
    assert!(
        windows
            .iter()
            .any(|os| os.id == "http://microsoft.com/win/10"),
        "{windows:?}"
    );
    assert!(db.search("vdtest no such system").is_empty());
}

#[test]
fn a_missing_database_is_an_error_in_words() {
    let error = OsDb::load(Path::new("/nonexistent/osinfo")).unwrap_err();
    assert!(error.to_string().contains("osinfo-db"), "{error}");
}
