//! Virtual networks through the worker on `qemu:///session`: an isolated network with DHCP
//! and a NAT network made and read back; a subnet overlapping a host route or another
//! network refused, naming what it clashes with; deletion refused while a machine on the
//! network runs, naming it, and done once it is off. Every network is removed afterwards.

mod common;

use std::time::Duration;

use common::guest::{wait_for_serial, GuestBoot, GuestOptions, TestGuest};
use common::{
    connect_and_snapshot, ensure_libvirtd, fixture, prefix, quiet_options, virsh, virsh_ok,
    DomainGuard, SESSION_URI,
};
use virtdeck::libvirt::networks::create::local_routes;
use virtdeck::libvirt::{
    ConnectionHandle, ForwardMode, Ipv4Subnet, NetworkDetails, NetworkError, NetworkRequest,
    NetworkSpec, Reply, Request, RequestError,
};

const TIMEOUT: Duration = Duration::from_secs(60);

fn ask<T: Send + 'static>(
    handle: &ConnectionHandle,
    make: impl FnOnce(Reply<T>) -> NetworkRequest,
) -> Result<T, RequestError> {
    let answer = handle.ask(|reply| Request::Network(make(reply)));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(answer.recv_blocking());
    });
    rx.recv_timeout(TIMEOUT)
        .expect("the worker answers within the timeout")
}

/// Removes a network the test made, also when it fails.
struct NetworkCleanup(String);

impl Drop for NetworkCleanup {
    fn drop(&mut self) {
        let _ = virsh(SESSION_URI, &["net-destroy", &self.0]);
        let _ = virsh(SESSION_URI, &["net-undefine", &self.0]);
    }
}

fn spec(name: &str, forward: ForwardMode, ip: &str, dhcp: Option<(&str, &str)>) -> NetworkSpec {
    NetworkSpec {
        name: name.to_owned(),
        forward,
        ipv4: Ipv4Subnet::parse(ip).expect("a subnet"),
        dhcp: dhcp.map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap())),
        ipv6: None,
        domain: Some("vdtest".into()),
        autostart: false,
    }
}

fn create(handle: &ConnectionHandle, spec: NetworkSpec) -> Result<(), RequestError> {
    ask(handle, |reply| NetworkRequest::Create {
        spec,
        local: true,
        reply,
    })
}

fn details(handle: &ConnectionHandle, name: &str) -> NetworkDetails {
    let name = name.to_owned();
    ask(handle, |reply| NetworkRequest::Details { name, reply }).expect("Details")
}

#[test]
fn isolated_and_nat_networks_checks_and_deletion() {
    ensure_libvirtd();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    let tag = std::process::id() % 250;
    let isolated = format!("{}iso", prefix());
    let nat = format!("{}nat", prefix());
    let _cleanup = [
        NetworkCleanup(isolated.clone()),
        NetworkCleanup(nat.clone()),
    ];

    let lab = format!("172.31.{tag}.1/24");
    create(
        &handle,
        spec(
            &isolated,
            ForwardMode::Isolated,
            &lab,
            Some((&format!("172.31.{tag}.100"), &format!("172.31.{tag}.199"))),
        ),
    )
    .expect("an isolated network");
    let info = details(&handle, &isolated);
    assert_eq!(info.forward, "isolated");
    assert_eq!(
        info.subnet.as_deref(),
        Some(format!("172.31.{tag}.0/24").as_str())
    );
    assert!(info.bridge.is_some(), "libvirt gave it a bridge: {info:?}");
    let xml = virsh_ok(SESSION_URI, &["net-dumpxml", &isolated]);
    assert!(xml.contains(&format!("start='172.31.{tag}.100'")), "{xml}");

    create(
        &handle,
        spec(
            &nat,
            ForwardMode::Nat { device: None },
            &format!("172.30.{tag}.1/24"),
            None,
        ),
    )
    .expect("a NAT network");
    assert_eq!(details(&handle, &nat).forward, "nat");

    // The same subnet again names the network that has it.
    let clash = create(
        &handle,
        spec(
            &format!("{}clash", prefix()),
            ForwardMode::Isolated,
            &format!("172.31.{tag}.5/25"),
            None,
        ),
    );
    match clash {
        Err(RequestError::Network(NetworkError::OverlapsNetwork { network, .. })) => {
            assert_eq!(network, isolated);
        }
        other => panic!("an overlapping subnet: {other:?}"),
    }
    // A subnet on a host route (not a network's bridge) names the route and its device.
    let bridges: Vec<String> = virsh_ok(SESSION_URI, &["net-list", "--all", "--name"])
        .lines()
        .filter(|n| !n.trim().is_empty())
        .filter_map(|n| {
            let out = virsh(SESSION_URI, &["net-info", n.trim()]);
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("Bridge:").map(|b| b.trim().to_owned()))
        })
        .collect();
    let route = local_routes()
        .into_iter()
        .find(|r| !bridges.contains(&r.device) && r.destination.prefix <= 30)
        .expect("this host has a route to a subnet");
    let host = std::net::Ipv4Addr::from(u32::from(route.destination.network()) + 1);
    let on_route = format!("{host}/{}", route.destination.prefix);
    let clash = create(
        &handle,
        spec(
            &format!("{}route", prefix()),
            ForwardMode::Isolated,
            &on_route,
            None,
        ),
    );
    match clash {
        Err(RequestError::Network(e @ NetworkError::OverlapsRoute { .. })) => {
            let words = e.to_string();
            assert!(words.contains(&route.destination.to_cidr()), "{words}");
            assert!(words.contains(&route.device), "{words}");
        }
        other => panic!("a subnet on the host route {route:?}: {other:?}"),
    }

    // A running machine on the isolated network: deletion names it.
    let domain = DomainGuard::session("net-user");
    let xml = fixture::tiny_qemu_domain_xml(&domain.name, None).replace(
        "</devices>",
        &format!(
            "<interface type='network'><source network='{isolated}'/><mac address='52:54:00:7d:{:02x}:01'/><model type='e1000'/></interface></devices>",
            tag
        ),
    );
    let path = fixture::temp_xml("net-user", &xml);
    virsh_ok(SESSION_URI, &["create", path.to_str().unwrap()]);
    assert_eq!(
        details(&handle, &isolated).running_vms,
        vec![domain.name.clone()]
    );
    let name = isolated.clone();
    match ask(&handle, |reply| NetworkRequest::Delete { name, reply }) {
        Err(RequestError::Network(e @ NetworkError::InUse { .. })) => {
            assert!(e.to_string().contains(&domain.name), "{e}");
        }
        other => panic!("deleting a network in use: {other:?}"),
    }
    drop(domain);
    for name in [&isolated, &nat] {
        let name = name.clone();
        ask(&handle, |reply| NetworkRequest::Delete { name, reply }).expect("Delete");
    }
    let left = virsh_ok(SESSION_URI, &["net-list", "--all", "--name"]);
    assert!(!left.contains(&isolated) && !left.contains(&nat), "{left}");
}

#[test]
fn a_guest_s_dhcp_lease_is_in_the_network_s_details() {
    ensure_libvirtd();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    let tag = (std::process::id() + 7) % 250;
    let name = format!("{}lease", prefix());
    let _cleanup = NetworkCleanup(name.clone());
    create(
        &handle,
        spec(
            &name,
            ForwardMode::Isolated,
            &format!("172.28.{tag}.1/24"),
            Some((&format!("172.28.{tag}.100"), &format!("172.28.{tag}.199"))),
        ),
    )
    .expect("an isolated network with DHCP");
    let guest = TestGuest::start(
        SESSION_URI,
        "lease-guest",
        &GuestOptions {
            boot: GuestBoot::Kernel {
                extra_cmdline: "virtdeck.net=dhcp".into(),
            },
            network: Some(name.clone()),
            ..GuestOptions::default()
        },
    );
    let line = wait_for_serial(
        &guest.serial_log,
        "DHCP: eth0 172.28.",
        Duration::from_secs(120),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let info = loop {
        let info = details(&handle, &name);
        if !info.leases.is_empty() || std::time::Instant::now() > deadline {
            break info;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(info.leases.len(), 1, "one lease after {line:?}: {info:?}");
    let lease = &info.leases[0];
    assert_eq!(lease.vm.as_deref(), Some(guest.name.as_str()));
    assert!(
        line.contains(lease.address.split('/').next().unwrap_or("?")),
        "the guest says {line:?}, libvirt {lease:?}"
    );
    assert_eq!(info.running_vms, vec![guest.name.clone()]);
    drop(guest);
}
