//! Network namespaces for the bridge tests: [`Netns`], a namespace whose veth NIC holds
//! documentation addresses and the default routes, with a second namespace playing its LAN.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use virtdeck::host::net::{self, BridgeRequest, Link, Runner};

/// The test NIC's addresses, its LAN peer's (the gateway) and a static route through a
/// gateway outside the NIC's prefix. Documentation ranges: nothing real is reachable.
pub const NIC_V4: &str = "192.0.2.2/24";
pub const NIC_V6: &str = "2001:db8:2::2/64";
pub const PEER_V4: &str = "192.0.2.1";
pub const PEER_V6: &str = "2001:db8:2::1";
pub const STATIC_ROUTE: &str = "198.18.77.0/24 via 198.18.0.1 dev vdnic0 onlink metric 5";

/// The `virtdeck` binary that cargo built for these tests: the privileged helper.
pub const VIRTDECK: &str = env!("CARGO_BIN_EXE_virtdeck");

/// `ip ARGS`, failing the test if it fails.
pub fn ip(args: &[&str]) -> String {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("iproute2 is required (apt install iproute2): {e}"));
    assert!(
        out.status.success(),
        "ip {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The links of `runner`'s namespace.
pub fn links(runner: &Runner) -> Vec<Link> {
    net::read_links(runner).expect("read links")
}

/// Link `name` of `runner`'s namespace, which must exist.
pub fn link(runner: &Runner, name: &str) -> Link {
    links(runner)
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("{name} is missing"))
}

/// A request for bridge `name` from `nic`, without STP.
pub fn request(nic: &str, name: &str) -> BridgeRequest {
    BridgeRequest {
        nic: nic.to_owned(),
        name: name.to_owned(),
        stp: false,
    }
}

/// The addresses of `link` as `ADDRESS/PREFIX`.
pub fn addresses(link: &Link) -> Vec<String> {
    link.addresses
        .iter()
        .map(|a| format!("{}/{}", a.local, a.prefixlen))
        .collect()
}

/// A network namespace with the NIC end of the veth pair and one for the LAN end,
/// deleted on drop. Its runner starts [`VIRTDECK`] as the helper.
pub struct Netns {
    pub name: String,
    pub lan: String,
    pub runner: Runner,
}

impl Netns {
    pub fn new() -> Netns {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "vdtest-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let lan = format!("{name}-lan");
        ip(&["netns", "add", &name]);
        let ns = Netns {
            runner: Runner::in_netns(&name).with_helper(VIRTDECK),
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
            &format!("addr add {NIC_V4} brd + dev vdnic0"),
            &format!("addr add {NIC_V6} dev vdnic0 nodad"),
            "link set vdnic0 up",
        ] {
            ns.ip(cmd);
        }
        for cmd in [
            &format!("addr add {PEER_V4}/24 brd + dev vdpeer0"),
            &format!("addr add {PEER_V6}/64 dev vdpeer0 nodad"),
            "link set vdpeer0 up",
        ] {
            let mut args = vec!["-n", ns.lan.as_str()];
            args.extend(cmd.split_whitespace());
            ip(&args);
        }
        // The default routes leave through the NIC; the peer is the gateway.
        ns.ip(&format!(
            "route add default via {PEER_V4} dev vdnic0 proto static"
        ));
        ns.ip(&format!("route add default via {PEER_V6} dev vdnic0"));
        // A static route through a gateway outside the NIC's prefix.
        ns.ip(&format!("route add {STATIC_ROUTE}"));
        ns
    }

    /// `ip -n NS ARGS`, failing the test if it fails.
    pub fn ip(&self, args: &str) -> String {
        let mut full = vec!["-n", &self.name];
        full.extend(args.split_whitespace());
        ip(&full)
    }

    pub fn links(&self) -> Vec<Link> {
        links(&self.runner)
    }

    pub fn link(&self, name: &str) -> Link {
        link(&self.runner, name)
    }

    /// Everything a bridge change may touch: the links (without the kernel's operational
    /// state, which settles on its own) and every route of both families, kernel routes
    /// included. Taken once IPv6 duplicate address detection has finished, since the
    /// kernel adds routes for link-local addresses only then.
    pub fn state(&self) -> String {
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
    pub fn expect_state(&self, expected: &str) {
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

    pub fn ping(&self, address: &str) {
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
pub fn diff_lines(a: &str, b: &str) -> Vec<String> {
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

/// Links made by the test in the host's namespace, deleted on drop in order (the bridge
/// first; deleting one end of a veth pair deletes both).
pub struct Links(pub Vec<String>);

impl Drop for Links {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("ip")
                .args(["link", "del", name])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

/// The names of the links whose master is `bridge`, as the kernel reports them.
pub fn ports_of(bridge: &str) -> Vec<String> {
    let out = ip(&["-j", "link", "show", "master", bridge]);
    let links: Vec<serde_json::Value> = serde_json::from_str(&out).expect("ip -j output");
    links
        .iter()
        .filter_map(|l| Some(l.get("ifname")?.as_str()?.to_owned()))
        .collect()
}
