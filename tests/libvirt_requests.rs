//! Requests to the connection worker, answered on the worker's own connection: host info,
//! virtual networks, the wizard's host facts, the default pool, VM creation, a domain's
//! display (socket and VNC password), a guest's addresses, and the errors when there is no
//! connection.
//!
//! The test driver keeps its state per connection: a change one request makes shows in the
//! answer to the next only when both ran on the same connection, which is how these tests
//! see that the worker's one connection serves them all (and `tests/architecture.rs` that
//! the UI opens none of its own).

mod common;

use std::io::Read;
use std::time::Duration;

use common::{
    connect_and_snapshot, ensure_libvirtd, expect_event, prefix, quiet_options, virsh, virsh_ok,
    DomainGuard, SESSION_URI,
};
use virtdeck::libvirt::{
    spawn, Command, ConnectionHandle, ConnectionState, Event, GuestAddresses, NetworkChange, Reply,
    Request, RequestError, VirtualNetwork, WorkerOptions,
};
use virtdeck::spec::create::{CreateError, CreateFailure, Created, Progress};
use virtdeck::spec::{DomainType, HostFacts, Network, Storage, VmSpec};

const TIMEOUT: Duration = Duration::from_secs(30);
const TEST_URI: &str = "test:///default";

/// Asks the worker and waits for the answer; fails the test if none comes in time.
fn ask<T: Send + 'static>(
    handle: &ConnectionHandle,
    make: impl FnOnce(Reply<T>) -> Request,
) -> Result<T, RequestError> {
    common::ask_within(handle, TIMEOUT, make)
}

fn networks(handle: &ConnectionHandle) -> Vec<VirtualNetwork> {
    ask(handle, Request::Networks).unwrap_or_else(|e| panic!("Networks: {e}"))
}

fn network<'a>(nets: &'a [VirtualNetwork], name: &str) -> &'a VirtualNetwork {
    nets.iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no network {name} in {nets:?}"))
}

fn change(handle: &ConnectionHandle, name: &str, change: NetworkChange) {
    let name = name.to_owned();
    ask(handle, |reply| Request::ChangeNetwork {
        name,
        change,
        reply,
    })
    .unwrap_or_else(|e| panic!("{change:?}: {e}"));
}

fn host_facts(handle: &ConnectionHandle) -> HostFacts {
    ask(handle, |reply| Request::HostFacts {
        domain_type: DomainType::Qemu,
        reply,
    })
    .unwrap_or_else(|e| panic!("HostFacts: {e}"))
}

/// Creates `spec` through the worker; the answer and the steps it reported.
fn create(
    handle: &ConnectionHandle,
    spec: &VmSpec,
) -> (Result<Created, RequestError>, Vec<Progress>) {
    let (progress, steps) = async_channel::unbounded();
    let spec = Box::new(spec.clone());
    let result = ask(handle, |reply| Request::CreateVm {
        spec,
        progress,
        reply,
    });
    assert!(steps.is_closed(), "the worker keeps the progress sender");
    (
        result,
        std::iter::from_fn(|| steps.try_recv().ok()).collect(),
    )
}

/// A machine with a new 1 GiB disk in the test driver's pool.
fn test_spec(name: &str) -> VmSpec {
    VmSpec {
        uri: TEST_URI.into(),
        name: name.into(),
        storage: Storage::NewVolume {
            pool: "default-pool".into(),
            size_gib: 1,
        },
        network: Network::User,
        ..common::specs::netboot_user()
    }
}

fn assert_sentence(message: &str) {
    assert!(message.ends_with('.'), "{message}");
    assert!(!message.contains("error:"), "{message}");
}

#[test]
fn requests_on_the_test_driver_share_the_workers_connection() {
    let (handle, _) = connect_and_snapshot(TEST_URI, quiet_options());

    let info = ask(&handle, Request::HostInfo).expect("HostInfo");
    eprintln!("{info:?}");
    assert!(info.cpus > 0 && info.memory_kib > 0, "{info:?}");
    assert!(!info.hypervisor.is_empty() && !info.libvirt.is_empty());
    assert!(!info.cpu_model.is_empty());
    // The test host: one machine, "test", running; one pool, "default-pool".
    assert_eq!(info.running, 1, "{info:?}");
    assert!(info.committed_kib > 0, "{info:?}");
    let pool = info
        .pools
        .iter()
        .find(|p| p.name == "default-pool")
        .unwrap_or_else(|| panic!("the default pool in {:?}", info.pools));
    assert!(pool.active && pool.capacity_bytes > 0, "{pool:?}");

    // A change shows in the next answer: the same connection served both.
    assert!(network(&networks(&handle), "default").active);
    change(&handle, "default", NetworkChange::Active(false));
    assert!(!network(&networks(&handle), "default").active);
    change(&handle, "default", NetworkChange::Autostart(true));
    assert!(network(&networks(&handle), "default").autostart);
    let missing = ask(&handle, |reply| Request::ChangeNetwork {
        name: "no-such-network".into(),
        change: NetworkChange::Active(true),
        reply,
    })
    .expect_err("no such network");
    assert!(matches!(missing, RequestError::Libvirt(_)), "{missing:?}");
    assert_sentence(&missing.to_string());

    // The wizard's reading only reads; the default pool is a request of its own.
    let facts = host_facts(&handle);
    assert!(facts.existing_names.contains("test"), "{facts:?}");
    assert!(facts.networks.contains("default"), "{facts:?}");
    assert!(!facts.pool_free_bytes.contains_key("default"), "{facts:?}");
    ask(&handle, |reply| Request::EnsurePool {
        name: "default".into(),
        reply,
    })
    .expect("EnsurePool");
    assert!(host_facts(&handle).pool_free_bytes.contains_key("default"));

    // Creation on the worker's connection: steps reported, the new domain arrives as an
    // event of this worker, its disk is in the pool.
    let name = format!("{}made", prefix());
    let (created, steps) = create(&handle, &test_spec(&name));
    let created = created.unwrap_or_else(|e| panic!("CreateVm: {e}"));
    assert_eq!(created.name, name);
    assert!(created.started);
    assert_eq!(steps, common::specs::new_disk_and_start_steps());
    expect_event(
        &handle.events,
        TIMEOUT,
        "the new domain",
        |e| matches!(e, Event::DomainAdded(d) | Event::DomainChanged(d) if d.name == name),
    );
    let facts = host_facts(&handle);
    assert!(facts.existing_names.contains(&name));
    assert!(facts
        .volumes
        .iter()
        .any(|v| v.name == format!("{name}.qcow2")));

    // All or nothing: a name that is taken leaves no new volume behind.
    let (failed, steps) = create(&handle, &test_spec("test"));
    let failed = failed.expect_err("the name is taken");
    assert!(
        matches!(
            &failed,
            RequestError::Create(CreateFailure {
                error: CreateError::Define { .. },
                left_behind,
            }) if left_behind.is_empty()
        ),
        "{failed:?}"
    );
    assert!(steps.contains(&Progress::Defining), "{steps:?}");
    let facts = host_facts(&handle);
    assert!(
        !facts.volumes.iter().any(|v| v.name == "test.qcow2"),
        "{:?}",
        facts.volumes
    );

    // The test driver has no graphics sockets: a readable error, and the worker carries on.
    let uuid = virsh_ok(TEST_URI, &["domuuid", "test"]).trim().to_owned();
    let no_socket = ask(&handle, |reply| Request::GraphicsSocket {
        uuid: uuid.clone(),
        reply,
    })
    .expect_err("not supported by the test driver");
    eprintln!("graphics socket on the test driver: {no_socket}");
    assert_sentence(&no_socket.to_string());
    let password = ask(&handle, |reply| Request::VncPassword { uuid, reply });
    assert_eq!(password.expect("VncPassword"), None);

    // Disconnected: "Not connected."; connected again: answers from the new connection,
    // which starts from the test driver's initial state.
    handle.commands.send_blocking(Command::Disconnect).unwrap();
    expect_event(&handle.events, TIMEOUT, "Disconnected", |e| {
        matches!(
            e,
            Event::ConnectionState(ConnectionState::Disconnected { retry_in: None, .. })
        )
    });
    let error = ask(&handle, Request::HostInfo).expect_err("not connected");
    assert!(matches!(error, RequestError::NotConnected), "{error:?}");
    handle.commands.send_blocking(Command::Connect).unwrap();
    expect_event(&handle.events, TIMEOUT, "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    });
    ask(&handle, Request::HostInfo).expect("HostInfo after reconnecting");
    assert!(network(&networks(&handle), "default").active);
    assert!(!host_facts(&handle).existing_names.contains(&name));
    handle.quit_and_join();
}

#[test]
fn without_a_connection_every_request_says_so_and_a_stopped_worker_too() {
    let handle = spawn(
        TEST_URI.into(),
        WorkerOptions {
            stats_interval: None,
            autoconnect: false,
        },
    );
    let uuid = || "00000000-0000-0000-0000-000000000000".to_owned();
    let not_connected = |error: RequestError| {
        assert!(matches!(error, RequestError::NotConnected), "{error:?}");
        assert_eq!(error.to_string(), "Not connected.");
    };
    not_connected(ask(&handle, Request::HostInfo).unwrap_err());
    not_connected(ask(&handle, Request::Networks).unwrap_err());
    not_connected(
        ask(&handle, |reply| Request::ChangeNetwork {
            name: "default".into(),
            change: NetworkChange::Active(false),
            reply,
        })
        .unwrap_err(),
    );
    not_connected(
        ask(&handle, |reply| Request::GraphicsSocket {
            uuid: uuid(),
            reply,
        })
        .unwrap_err(),
    );
    not_connected(
        ask(&handle, |reply| Request::VncPassword {
            uuid: uuid(),
            reply,
        })
        .unwrap_err(),
    );
    not_connected(
        ask(&handle, |reply| Request::HostFacts {
            domain_type: DomainType::Qemu,
            reply,
        })
        .unwrap_err(),
    );
    not_connected(
        ask(&handle, |reply| Request::EnsurePool {
            name: "default".into(),
            reply,
        })
        .unwrap_err(),
    );
    let (result, steps) = create(&handle, &test_spec("never"));
    not_connected(result.unwrap_err());
    assert!(steps.is_empty(), "{steps:?}");

    // A request sent after Quit is never served: its answer says the worker stopped.
    handle.commands.send_blocking(Command::Quit).unwrap();
    let error = ask(&handle, Request::HostInfo).unwrap_err();
    assert!(matches!(error, RequestError::Stopped), "{error:?}");
    assert_sentence(&error.to_string());
    handle.quit_and_join();
}

/// An isolated virtual network of this test process (a bridge without addresses, no
/// DHCP or DNS), destroyed and undefined on drop.
struct NetworkGuard {
    name: String,
    bridge: String,
}

impl NetworkGuard {
    fn define() -> Self {
        let guard = Self {
            name: format!("{}net", prefix()),
            bridge: format!("vdtrq{}", std::process::id() % 10_000_000),
        };
        let xml = common::fixture::temp_xml(
            "net",
            &format!(
                "<network><name>{}</name><bridge name='{}' stp='off'/></network>",
                guard.name, guard.bridge
            ),
        );
        virsh_ok(SESSION_URI, &["net-define", xml.to_str().unwrap()]);
        let _ = std::fs::remove_file(xml);
        guard
    }

    /// `virsh net-info` as key → value.
    fn info(&self) -> std::collections::HashMap<String, String> {
        virsh_ok(SESSION_URI, &["net-info", &self.name])
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }
}

impl Drop for NetworkGuard {
    fn drop(&mut self) {
        let _ = virsh(SESSION_URI, &["net-destroy", &self.name]);
        let _ = virsh(SESSION_URI, &["net-undefine", &self.name]);
    }
}

#[test]
fn virtual_networks_are_listed_and_changed_on_the_daemon() {
    ensure_libvirtd();
    let net = NetworkGuard::define();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());

    let listed = networks(&handle);
    let ours = network(&listed, &net.name);
    assert!(
        !ours.active && !ours.autostart && ours.persistent,
        "{ours:?}"
    );
    assert_eq!(ours.bridge.as_deref(), Some(net.bridge.as_str()));
    assert!(
        listed.windows(2).all(|w| w[0].name <= w[1].name),
        "sorted by name: {listed:?}"
    );

    change(&handle, &net.name, NetworkChange::Active(true));
    assert!(network(&networks(&handle), &net.name).active);
    assert_eq!(net.info()["Active"], "yes");
    change(&handle, &net.name, NetworkChange::Autostart(true));
    assert!(network(&networks(&handle), &net.name).autostart);
    assert_eq!(net.info()["Autostart"], "yes");
    change(&handle, &net.name, NetworkChange::Active(false));
    change(&handle, &net.name, NetworkChange::Autostart(false));
    let ours = network(&networks(&handle), &net.name).clone();
    assert!(!ours.active && !ours.autostart, "{ours:?}");
    assert_eq!(
        (
            net.info()["Active"].as_str(),
            net.info()["Autostart"].as_str()
        ),
        ("no", "no")
    );

    // Stopping a stopped network: libvirt's reason, as a sentence.
    let error = ask(&handle, |reply| Request::ChangeNetwork {
        name: net.name.clone(),
        change: NetworkChange::Active(false),
        reply,
    })
    .expect_err("not running");
    eprintln!("stopping a stopped network: {error}");
    assert_sentence(&error.to_string());
    handle.quit_and_join();
}

#[test]
fn a_session_domain_s_graphics_socket_and_vnc_password() {
    ensure_libvirtd();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());

    // The password is in the secure XML of a defined domain.
    let locked = DomainGuard::session("locked");
    let xml = common::fixture::tiny_qemu_domain_xml(&locked.name, None);
    let with_password = xml.replace(r#"type="vnc""#, r#"type="vnc" passwd="s3cretpw""#);
    assert_ne!(xml, with_password, "the tiny domain has a VNC display");
    let path = common::fixture::temp_xml("locked", &with_password);
    virsh_ok(SESSION_URI, &["define", path.to_str().unwrap()]);
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &locked.name])
        .trim()
        .to_owned();
    let password = ask(&handle, |reply| Request::VncPassword { uuid, reply });
    assert_eq!(password.expect("VncPassword").as_deref(), Some("s3cretpw"));

    // A running domain without a password: none, and libvirt's socket speaks RFB.
    let running = DomainGuard::session("socket");
    running.virsh_tiny("create");
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &running.name])
        .trim()
        .to_owned();
    let password = ask(&handle, |reply| Request::VncPassword {
        uuid: uuid.clone(),
        reply,
    });
    assert_eq!(password.expect("VncPassword"), None);
    let fd = ask(&handle, |reply| Request::GraphicsSocket { uuid, reply }).expect("socket");
    let mut socket = std::fs::File::from(fd);
    let mut banner = [0u8; 12];
    socket.read_exact(&mut banner).expect("the server's banner");
    assert!(banner.starts_with(b"RFB 003."), "{banner:?}");

    // A domain that does not exist: a sentence.
    let error = ask(&handle, |reply| Request::GraphicsSocket {
        uuid: "00000000-0000-0000-0000-000000000000".into(),
        reply,
    })
    .expect_err("no such domain");
    assert_sentence(&error.to_string());
    handle.quit_and_join();
}

fn addresses(handle: &ConnectionHandle, uuid: &str) -> Result<GuestAddresses, RequestError> {
    let uuid = uuid.to_owned();
    ask(handle, |reply| Request::GuestAddresses {
        uuid,
        agent: true,
        reply,
    })
}

/// A running guest without an agent or a DHCP lease is answered (no source, no agent),
/// not failed; so is a machine that does not run; only one that does not exist is an error.
#[test]
fn a_guest_without_agent_or_lease_is_answered_with_nothing() {
    ensure_libvirtd();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());

    let stopped = DomainGuard::session("addr-off");
    stopped.virsh_tiny("define");
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &stopped.name])
        .trim()
        .to_owned();
    let answer = addresses(&handle, &uuid).expect("a machine that is off is answered");
    assert_eq!(answer, GuestAddresses::default());

    // SeaBIOS with nothing to boot: no agent, no network lease, nothing in ARP.
    let running = DomainGuard::session("addr-on");
    running.virsh_tiny("create");
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &running.name])
        .trim()
        .to_owned();
    let answer = addresses(&handle, &uuid).expect("a running machine without an agent is answered");
    assert_eq!(answer.source, None, "{answer:?}");
    assert!(!answer.agent, "no agent in SeaBIOS: {answer:?}");
    assert!(answer.nics.is_empty(), "{answer:?}");
    assert_eq!(answer.first(), None);

    let error =
        addresses(&handle, "00000000-0000-0000-0000-000000000000").expect_err("no such machine");
    assert!(matches!(error, RequestError::Libvirt(_)), "{error:?}");
    handle.quit_and_join();
}
