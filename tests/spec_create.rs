//! Creating machines from a VmSpec on the real `qemu:///session` daemon, and leaving
//! nothing behind when creation fails.

mod common;

use std::path::PathBuf;
use std::process::Command as Process;

use virt::connect::Connect;
use virtdeck::spec::create::{create_vm_on, ensure_dir_pool, CreateError, Created, Progress};
use virtdeck::spec::{facts, DomainType, Network, Storage, VmSpec};

use common::{DomainGuard, SESSION_URI};

/// A directory storage pool of this test process, destroyed, undefined and deleted on drop.
struct TestPool {
    name: String,
    dir: PathBuf,
}

impl TestPool {
    fn new(tag: &str) -> TestPool {
        common::ensure_libvirtd();
        let name = format!("{}{tag}", common::prefix());
        let dir = PathBuf::from("/var/tmp").join(&name);
        let conn = Connect::open(Some(SESSION_URI)).unwrap();
        ensure_dir_pool(&conn, &name, &dir).unwrap();
        assert!(dir.is_dir(), "the pool's directory was not built");
        TestPool { name, dir }
    }

    fn volumes(&self) -> Vec<String> {
        let conn = Connect::open(Some(SESSION_URI)).unwrap();
        let pool = conn.lookup_storage_pool_by_name(&self.name).unwrap();
        pool.refresh(0).unwrap();
        pool.list_volumes().unwrap()
    }
}

impl Drop for TestPool {
    fn drop(&mut self) {
        let _ = common::virsh(SESSION_URI, &["pool-destroy", &self.name]);
        let _ = common::virsh(SESSION_URI, &["pool-undefine", &self.name]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A network-boot machine with a new 1 GiB disk in `pool` and user networking.
fn spec(name: &str, pool: &TestPool) -> VmSpec {
    VmSpec {
        uri: SESSION_URI.into(),
        name: name.into(),
        domain_type: DomainType::Qemu,
        storage: Storage::NewVolume {
            pool: pool.name.clone(),
            size_gib: 1,
        },
        ..common::specs::netboot_user()
    }
}

/// Opens `spec.uri` and creates the machine there.
fn create_vm(spec: &VmSpec, progress: &mut dyn FnMut(Progress)) -> Result<Created, CreateError> {
    let conn = Connect::open(Some(&spec.uri)).unwrap_or_else(|e| panic!("open {}: {e}", spec.uri));
    create_vm_on(&conn, spec, progress).map_err(|failure| {
        assert!(
            failure.left_behind.is_empty(),
            "cleanup left {:?}",
            failure.left_behind
        );
        failure.error
    })
}

/// A domain name unique to this process, and the guard that removes that domain.
fn guarded_name(tag: &str) -> (String, DomainGuard) {
    let name = format!("{}{tag}", common::prefix());
    let guard = DomainGuard {
        uri: SESSION_URI.into(),
        name: name.clone(),
    };
    (name, guard)
}

fn domain_exists(name: &str) -> bool {
    common::virsh(SESSION_URI, &["domstate", name])
        .status
        .success()
}

#[test]
fn creates_defines_and_starts_a_machine_with_a_new_disk() {
    let pool = TestPool::new("pool-ok");
    let (name, _guard) = guarded_name("made");
    let spec = spec(&name, &pool);
    let mut steps = Vec::new();
    let created = create_vm(&spec, &mut |p| steps.push(p)).unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(created.name, name);
    assert!(created.started);
    assert_eq!(steps, common::specs::new_disk_and_start_steps());
    let state = common::virsh_ok(SESSION_URI, &["domstate", &name]);
    assert_eq!(state.trim(), "running");
    let volume = format!("{name}.qcow2");
    assert_eq!(pool.volumes(), std::slice::from_ref(&volume));
    let path = created.new_volume.expect("the new volume's path");
    assert_eq!(PathBuf::from(&path), pool.dir.join(&volume));
    let info = common::virsh_ok(SESSION_URI, &["vol-dumpxml", "--pool", &pool.name, &volume]);
    assert!(info.contains("<format type='qcow2'/>"), "{info}");
    assert!(
        info.contains("<capacity unit='bytes'>1073741824</capacity>"),
        "{info}"
    );
    let xml = common::virsh_ok(SESSION_URI, &["dumpxml", &name]);
    assert!(xml.contains(&format!("volume='{volume}'")), "{xml}");
    assert!(xml.contains("<interface type='user'>"), "{xml}");

    common::virsh_ok(SESSION_URI, &["destroy", &name]);
    common::virsh_ok(SESSION_URI, &["undefine", &name]);
    common::virsh_ok(SESSION_URI, &["vol-delete", "--pool", &pool.name, &volume]);
}

#[test]
fn a_start_failure_leaves_no_domain_and_no_volume() {
    let pool = TestPool::new("pool-fail");
    let (name, _guard) = guarded_name("nobr");
    let spec = VmSpec {
        network: Network::Bridge {
            name: "vdtest-nobr".into(),
        },
        ..spec(&name, &pool)
    };
    let mut steps = Vec::new();
    let error = create_vm(&spec, &mut |p| steps.push(p)).expect_err("no such bridge");

    assert!(matches!(error, CreateError::Start { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("vdtest-nobr"), "{message}");
    assert!(message.starts_with("The virtual machine could not be started: "));
    assert!(steps.contains(&Progress::Starting), "{steps:?}");
    assert!(!domain_exists(&name), "the domain was left defined");
    assert!(
        pool.volumes().is_empty(),
        "volumes left: {:?}",
        pool.volumes()
    );
    assert!(!pool.dir.join(format!("{name}.qcow2")).exists());
}

#[test]
fn a_name_whose_volume_exists_keeps_that_volume_and_defines_nothing() {
    let pool = TestPool::new("pool-taken");
    let (name, _guard) = guarded_name("taken");
    let volume = format!("{name}.qcow2");
    common::virsh_ok(
        SESSION_URI,
        &[
            "vol-create-as",
            &pool.name,
            &volume,
            "1M",
            "--format",
            "raw",
        ],
    );
    let error = create_vm(&spec(&name, &pool), &mut |_| {}).expect_err("volume exists");

    assert!(
        matches!(error, CreateError::VolumeExists { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains(&volume), "{error}");
    assert_eq!(pool.volumes(), [volume]);
    assert!(!domain_exists(&name));
}

#[test]
fn a_define_failure_deletes_the_new_volume_and_keeps_the_other_domain() {
    let pool = TestPool::new("pool-def");
    let (name, _guard) = guarded_name("twice");
    // Someone defined a machine of that name after the spec was validated.
    let other = VmSpec {
        name: name.clone(),
        ..common::specs::netboot_user()
    };
    let other_xml = virtdeck::spec::domain_xml::domain_xml(&other).unwrap();
    let conn = Connect::open(Some(SESSION_URI)).unwrap();
    let other_uuid = conn
        .define_domain_xml(&other_xml)
        .unwrap()
        .uuid_string()
        .unwrap();

    let error = create_vm(&spec(&name, &pool), &mut |_| {}).expect_err("the name is taken");

    assert!(matches!(error, CreateError::Define { .. }), "{error:?}");
    assert!(error.to_string().contains("already exists"), "{error}");
    assert!(
        pool.volumes().is_empty(),
        "volumes left: {:?}",
        pool.volumes()
    );
    let still = conn
        .lookup_domain_by_name(&name)
        .expect("the other domain stays");
    assert_eq!(still.uuid_string().unwrap(), other_uuid);
}

/// A bridge on no link at all, deleted on drop.
struct TestBridge(String);

impl TestBridge {
    fn new() -> TestBridge {
        let name = format!("vdbr{}", std::process::id() % 100_000);
        let status = Process::new("ip")
            .args(["link", "add", &name, "type", "bridge"])
            .status()
            .expect("iproute2 is needed (install iproute2)");
        assert!(status.success(), "ip link add {name} type bridge failed");
        TestBridge(name)
    }
}

impl Drop for TestBridge {
    fn drop(&mut self) {
        let _ = Process::new("ip").args(["link", "del", &self.0]).status();
    }
}

#[test]
fn host_facts_come_from_the_connection_and_the_host() {
    let pool = TestPool::new("pool-facts");
    let bridge = TestBridge::new();
    let (name, _guard) = guarded_name("facts");
    let xml = virtdeck::spec::domain_xml::domain_xml(&VmSpec {
        name: name.clone(),
        ..common::specs::netboot_user()
    })
    .unwrap();
    let conn = Connect::open(Some(SESSION_URI)).unwrap();
    conn.define_domain_xml(&xml).unwrap();

    let facts = facts::gather(&conn, DomainType::Qemu).unwrap();
    assert!(facts.total_memory_mib > 0 && facts.free_memory_mib <= facts.total_memory_mib);
    assert!(facts.cpus >= 1);
    assert!(facts.paths_are_local);
    assert!(facts.existing_names.contains(&name), "{facts:?}");
    assert!(facts.pool_free_bytes[&pool.name] > 0, "{facts:?}");
    // A folder pool is known as one: a local image may be uploaded into it.
    assert!(facts.dir_pools.contains(&pool.name), "{facts:?}");
    assert!(facts.bridges.contains(&bridge.0), "{facts:?}");
    assert!(!facts.bridges.contains("eth0"), "{facts:?}");
    assert!(
        facts.ovmf_present,
        "OVMF is needed for this test (install the ovmf package)"
    );

    // The spec rules see the same facts: the name is taken now.
    let problems = VmSpec {
        name: name.clone(),
        ..common::specs::netboot_user()
    }
    .validate(&facts)
    .unwrap_err();
    assert_eq!(
        problems,
        [virtdeck::spec::SpecProblem::NameTaken(name.clone())]
    );
}
