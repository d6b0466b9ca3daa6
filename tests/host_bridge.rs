//! Bridges made from a NIC, for real, inside a network namespace each test creates
//! ([`Netns`]): a veth pair stands for the NIC and its LAN — `vdnic0` with 192.0.2.2/24 and
//! 2001:db8:2::2/64 and default routes through the other end, `vdpeer0` (.1, ::1), which
//! lives in a second namespace playing the LAN. The changes go through the privileged
//! helper (`virtdeck --net-helper`, a child process here since the tests run as root). The
//! host's own links are never touched; both namespaces (with everything in them) are
//! deleted when the test ends, even on failure.

mod common;

use std::process::Command;
use std::time::Instant;

use common::net::{addresses, request, Netns, NIC_V4, NIC_V6, PEER_V4};
use virtdeck::host::net::{
    self, create_bridge, delete_bridge, BridgeRequest, NetError, Runner, CONFIRM_WITHIN,
};

/// Asserts the bridge made from vdnic0 holds its configuration and forwards traffic.
fn assert_bridged(ns: &Netns, bridge: &str) {
    let br = ns.link(bridge);
    let nic = ns.link("vdnic0");
    assert!(br.is_bridge() && br.up, "{br:#?}");
    assert_eq!(addresses(&br), [NIC_V4, NIC_V6]);
    assert_eq!(br.stp, Some(false));
    assert!(
        br.made_here(),
        "the bridge is marked as made here: {:?}",
        br.alias
    );
    assert_eq!(br.mac, nic.mac, "the bridge takes the NIC's MAC address");
    assert_eq!(nic.master.as_deref(), Some(bridge));
    assert!(
        nic.addresses.is_empty() && nic.routes.is_empty(),
        "{nic:#?}"
    );
    // The kernel's own words, not our parser's.
    let stp = ns.ip(&format!("-d link show dev {bridge}"));
    assert!(stp.contains("stp_state 0"), "{stp}");
    assert!(ns
        .ip("route show default")
        .contains(&format!("dev {bridge}")));
    assert!(ns
        .ip("-6 route show default")
        .contains(&format!("dev {bridge}")));
    ns.ping(PEER_V4);
}

#[test]
fn create_then_delete_restores_the_nic_exactly() {
    let ns = Netns::new();
    let before = ns.state();
    let change = create_bridge(&ns.runner, &BridgeRequest::new("vdnic0")).expect("create br0");
    assert_bridged(&ns, "br0");

    // A VM's tap joins the bridge.
    ns.ip("tuntap add vdtap0 mode tap");
    ns.ip("link set vdtap0 master br0");
    let networks = net::list(&ns.runner).unwrap();
    let bridge = networks
        .bridges
        .iter()
        .find(|b| b.link.name == "br0")
        .unwrap();
    assert_eq!(bridge.members, ["vdnic0", "vdtap0"]);
    let nics: Vec<&str> = networks.nics.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        nics,
        ["vdnic0"],
        "in a namespace the veth plays the card, taps do not"
    );
    change.keep().expect("keep");

    let undo = delete_bridge(&ns.runner, "br0").expect("delete br0");
    undo.keep().expect("keep the delete");
    assert!(ns.links().iter().all(|l| l.name != "br0"));
    assert_eq!(ns.link("vdtap0").master, None, "the tap is left unattached");
    ns.ip("link del vdtap0");
    ns.expect_state(&before);
    ns.ping(PEER_V4);
}

#[test]
fn an_unconfirmed_bridge_is_undone_when_the_countdown_expires() {
    let ns = Netns::new();
    let before = ns.state();
    let mut request = BridgeRequest::new("vdnic0");
    request.name = "vdbr-x.1".to_owned();
    let change = create_bridge(&ns.runner, &request).expect("create");
    assert_bridged(&ns, "vdbr-x.1");

    let start = Instant::now();
    assert!(!change.is_due(start));
    assert!(change.remaining(start) <= CONFIRM_WITHIN);
    assert!(change.is_due(start + CONFIRM_WITHIN));
    assert!(change.revert().expect("roll back") > 0);
    ns.expect_state(&before);
}

#[test]
fn an_unconfirmed_delete_brings_the_bridge_and_its_members_back() {
    let ns = Netns::new();
    create_bridge(&ns.runner, &BridgeRequest::new("vdnic0"))
        .expect("create")
        .keep()
        .expect("keep");
    ns.ip("tuntap add vdtap0 mode tap");
    ns.ip("link set vdtap0 master br0");
    ns.ip("link set vdtap0 up");
    let bridged = ns.state();

    let undo = delete_bridge(&ns.runner, "br0").expect("delete");
    assert!(ns.links().iter().all(|l| l.name != "br0"));
    assert_eq!(addresses(&ns.link("vdnic0")), [NIC_V4, NIC_V6]);
    undo.revert().expect("roll back the delete");
    ns.expect_state(&bridged);
    assert_eq!(ns.link("vdtap0").master.as_deref(), Some("br0"));
}

#[test]
fn bad_requests_fail_and_change_nothing() {
    let ns = Netns::new();
    let before = ns.state();
    let err = create_bridge(&ns.runner, &request("vdnic0", "vdbridge-too-long")).unwrap_err();
    assert!(matches!(err, NetError::InvalidName { .. }), "{err}");
    let err = create_bridge(&ns.runner, &request("vdnic0", "lo")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "A network interface named “lo” already exists."
    );
    let err = create_bridge(&ns.runner, &request("vdnone0", "br0")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "There is no network interface named “vdnone0”."
    );
    let err = create_bridge(&ns.runner, &request("lo", "br0")).unwrap_err();
    assert!(matches!(err, NetError::NotEthernet(_)), "{err}");
    let err = delete_bridge(&ns.runner, "vdnic0").unwrap_err();
    assert!(matches!(err, NetError::NotABridge(_)), "{err}");
    ns.expect_state(&before);

    // A NIC already in a bridge cannot make another one.
    create_bridge(&ns.runner, &BridgeRequest::new("vdnic0"))
        .unwrap()
        .keep()
        .expect("keep");
    let bridged = ns.state();
    let err = create_bridge(&ns.runner, &request("vdnic0", "br1")).unwrap_err();
    assert!(matches!(err, NetError::AlreadyBridged { .. }), "{err}");
    ns.expect_state(&bridged);
}

#[test]
fn the_host_listing_reads_without_changing_anything() {
    let networks = net::list(&Runner::host()).expect("list the host's links");
    for nic in &networks.nics {
        assert!(
            std::path::Path::new("/sys/class/net")
                .join(&nic.name)
                .join("device")
                .exists(),
            "{} is listed as physical",
            nic.name
        );
    }
    for bridge in &networks.bridges {
        assert!(bridge.link.is_bridge());
    }
}

#[test]
fn a_step_failing_midway_restores_the_previous_state_at_once() {
    let ns = Netns::new();
    // New links of this namespace get no IPv6, so the NIC's IPv6 address cannot move to
    // the bridge: the change fails after the bridge was made and the NIC joined it.
    Command::new("ip")
        .args(["netns", "exec", &ns.name, "sysctl", "-qw"])
        .arg("net.ipv6.conf.default.disable_ipv6=1")
        .status()
        .expect("run sysctl");
    let before = ns.state();
    let err = create_bridge(&ns.runner, &BridgeRequest::new("vdnic0")).unwrap_err();
    println!("{err}");
    let NetError::RolledBack(cause) = &err else {
        panic!("not rolled back: {err}");
    };
    assert!(
        matches!(&**cause, NetError::Command { command, .. } if command.contains(NIC_V6)),
        "{cause}"
    );
    assert!(err
        .to_string()
        .starts_with("The network change failed and the previous configuration was restored."));
    ns.expect_state(&before);
}
