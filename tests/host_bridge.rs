//! Bridges made from a NIC, for real, inside a network namespace each test creates: a veth
//! pair stands for the NIC and its LAN — `vdnic0` with 10.231.0.2/24 and fd00:231::2/64 and
//! default routes through the other end, `vdpeer0` (.1, ::1), which lives in a second
//! namespace playing the LAN. The host's own links are never touched; both namespaces
//! (with everything in them) are deleted when the test ends, even on failure.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::net::{self as testnet, addresses, ip};
use virtdeck::host::net::{
    self, create_bridge, delete_bridge, BridgeRequest, Link, NetError, Runner, CONFIRM_WITHIN,
};

/// A network namespace with the NIC end of the veth pair and one for the LAN end,
/// deleted on drop.
struct Netns {
    name: String,
    lan: String,
    runner: Runner,
}

impl Netns {
    fn new() -> Netns {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "vdtest-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let lan = format!("{name}-lan");
        ip(&["netns", "add", &name]);
        let ns = Netns {
            runner: Runner::in_netns(&name),
            name,
            lan,
        };
        ip(&["netns", "add", &ns.lan]);
        for cmd in [
            "link set lo up",
            &format!(
                "link add vdnic0 type veth peer name vdpeer0 netns {}",
                ns.lan
            ),
            "addr add 10.231.0.2/24 brd + dev vdnic0",
            "addr add fd00:231::2/64 dev vdnic0 nodad",
            "link set vdnic0 up",
        ] {
            ns.ip(cmd);
        }
        for cmd in [
            "addr add 10.231.0.1/24 brd + dev vdpeer0",
            "addr add fd00:231::1/64 dev vdpeer0 nodad",
            "link set vdpeer0 up",
        ] {
            let mut args = vec!["-n", ns.lan.as_str()];
            args.extend(cmd.split_whitespace());
            ip(&args);
        }
        // The default routes leave through the NIC; the peer is the gateway.
        ns.ip("route add default via 10.231.0.1 dev vdnic0 proto static");
        ns.ip("route add default via fd00:231::1 dev vdnic0");
        // A static route through a gateway outside the NIC's prefix.
        ns.ip("route add 10.77.0.0/16 via 10.232.0.1 dev vdnic0 onlink metric 5");
        ns
    }

    /// `ip -n NS ARGS`, failing the test if it fails.
    fn ip(&self, args: &str) -> String {
        let mut full = vec!["-n", &self.name];
        full.extend(args.split_whitespace());
        ip(&full)
    }

    fn links(&self) -> Vec<Link> {
        testnet::links(&self.runner)
    }

    fn link(&self, name: &str) -> Link {
        testnet::link(&self.runner, name)
    }

    /// Everything a bridge change may touch: the links (without the kernel's operational
    /// state, which settles on its own) and every route of both families, kernel routes
    /// included. Taken once IPv6 duplicate address detection has finished, since the
    /// kernel adds routes for link-local addresses only then.
    fn state(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.ip("-6 addr show tentative").trim().is_empty() {
            assert!(Instant::now() < deadline, "IPv6 addresses stay tentative");
            std::thread::sleep(Duration::from_millis(100));
        }
        // By name: a bridge made again comes with a new interface index.
        let mut links = self.links();
        links.sort_by(|a, b| a.name.cmp(&b.name));
        for l in &mut links {
            l.operstate.clear();
        }
        let routes = |family| {
            let mut lines: Vec<String> = self
                .ip(&format!("{family} route show table all"))
                .lines()
                .map(str::to_owned)
                .collect();
            lines.sort();
            lines.join("\n")
        };
        format!("{links:#?}\n{}\n{}", routes("-4"), routes("-6"))
    }

    /// Waits (the kernel adds some routes asynchronously) until the state is `expected`.
    fn expect_state(&self, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.state() != expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let now = self.state();
        if now != expected {
            let diff: Vec<String> = diff_lines(expected, &now);
            panic!(
                "the state differs (- expected, + found):\n{}",
                diff.join("\n")
            );
        }
    }

    fn ping(&self, address: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ok = Command::new("ip")
                .args(["netns", "exec", &self.name, "ping", "-c1", "-W1", address])
                .output()
                .expect("run ping")
                .status
                .success();
            if ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{address} does not answer through the bridge"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for name in [&self.name, &self.lan] {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// The lines only in `a` (`-`) and only in `b` (`+`).
fn diff_lines(a: &str, b: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let gone = a
        .iter()
        .filter(|l| !b.contains(l))
        .map(|l| format!("- {l}"));
    let new = b
        .iter()
        .filter(|l| !a.contains(l))
        .map(|l| format!("+ {l}"));
    gone.chain(new).collect()
}

/// Asserts the bridge made from vdnic0 holds its configuration and forwards traffic.
fn assert_bridged(ns: &Netns, bridge: &str) {
    let br = ns.link(bridge);
    let nic = ns.link("vdnic0");
    assert!(br.is_bridge() && br.up, "{br:#?}");
    assert_eq!(addresses(&br), ["10.231.0.2/24", "fd00:231::2/64"]);
    assert_eq!(br.stp, Some(false));
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
    ns.ping("10.231.0.1");
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
    change.confirm(&ns.runner).expect("confirm");

    let undo = delete_bridge(&ns.runner, "br0").expect("delete br0");
    undo.confirm(&ns.runner).expect("confirm the delete");
    assert!(ns.links().iter().all(|l| l.name != "br0"));
    assert_eq!(ns.link("vdtap0").master, None, "the tap is left unattached");
    ns.ip("link del vdtap0");
    ns.expect_state(&before);
    ns.ping("10.231.0.1");
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
    change.expire(&ns.runner).expect("roll back");
    ns.expect_state(&before);
}

#[test]
fn an_unconfirmed_delete_brings_the_bridge_and_its_members_back() {
    let ns = Netns::new();
    create_bridge(&ns.runner, &BridgeRequest::new("vdnic0"))
        .expect("create")
        .confirm(&ns.runner)
        .expect("confirm");
    ns.ip("tuntap add vdtap0 mode tap");
    ns.ip("link set vdtap0 master br0");
    ns.ip("link set vdtap0 up");
    let bridged = ns.state();

    let undo = delete_bridge(&ns.runner, "br0").expect("delete");
    assert!(ns.links().iter().all(|l| l.name != "br0"));
    assert_eq!(
        addresses(&ns.link("vdnic0")),
        ["10.231.0.2/24", "fd00:231::2/64"]
    );
    undo.expire(&ns.runner).expect("roll back the delete");
    ns.expect_state(&bridged);
    assert_eq!(ns.link("vdtap0").master.as_deref(), Some("br0"));
}

#[test]
fn bad_requests_fail_and_change_nothing() {
    let ns = Netns::new();
    let before = ns.state();
    let request = |nic: &str, name: &str| BridgeRequest {
        nic: nic.to_owned(),
        name: name.to_owned(),
        stp: false,
    };
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
        .confirm(&ns.runner)
        .expect("confirm");
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
        matches!(&**cause, NetError::Command { command, .. } if command.contains("fd00:231::2")),
        "{cause}"
    );
    assert!(err
        .to_string()
        .starts_with("The network change failed and the previous configuration was restored."));
    ns.expect_state(&before);
}
