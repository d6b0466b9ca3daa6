//! Bridges through a real NetworkManager that can only ever see test links. The test makes
//! a network namespace with one end of two veth pairs (`vdtnic0`, `vdtnic1`; the other ends
//! live in a second namespace playing the LAN), starts a private D-Bus system bus that
//! listens in a temporary directory, and runs NetworkManager inside the namespace on that
//! bus, with a configuration that keeps it off the host: no DNS, resolv.conf or hostname
//! handling, only `vdt*` devices managed, profiles, state and pid file in the temporary
//! directory, and its `/run/NetworkManager` and `/var/lib/NetworkManager` on tmpfs in a
//! private mount namespace. Each NIC gets a saved profile with a manual address from a
//! documentation range.
//!
//! Then bridges are made and deleted through the public API, kept, reverted, and left to
//! NetworkManager's own rollback. NetworkManager, the bus and both namespaces go away when
//! the test ends, even on failure. Everything runs in one test: the client finds the bus
//! through `DBUS_SYSTEM_BUS_ADDRESS`, which is set once for this process.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::net::{self as testnet, addresses, ip};
use common::wait_for;
use virtdeck::host::net::{
    create_bridge, delete_bridge, nm, BridgeRequest, Link, NetError, PendingChange, Runner,
    CONFIRM_WITHIN,
};

/// A test NIC (one end of a veth pair), its address and the bridge made from it.
struct Pair {
    nic: &'static str,
    peer: &'static str,
    bridge: &'static str,
    address: &'static str,
    /// The default route's gateway, if the NIC has one.
    gateway: Option<&'static str>,
}

/// The NIC most of the test works on: with the default route.
const MAIN: Pair = Pair {
    nic: "vdtnic0",
    peer: "vdtpeer0",
    bridge: "vdtbr0",
    address: "198.51.100.2/24",
    gateway: Some("198.51.100.1"),
};

/// A NIC bridged and confirmed first, which must still be bridged at the end, after
/// NetworkManager's rollback timeout has long passed.
const KEPT: Pair = Pair {
    nic: "vdtnic1",
    peer: "vdtpeer1",
    bridge: "vdtbr1",
    address: "203.0.113.2/24",
    gateway: None,
};

/// The namespaces, the bus and NetworkManager; all gone on drop.
struct Lab {
    ns: String,
    lan: String,
    dir: PathBuf,
    bus: Option<Child>,
    nm: Option<Child>,
    runner: Runner,
}

impl Lab {
    fn new() -> Lab {
        let nm_binary = ["/usr/sbin/NetworkManager", "/sbin/NetworkManager"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .unwrap_or_else(|| {
                panic!("NetworkManager is not installed: run build-aux/install-deps.sh test")
            });
        for program in ["dbus-daemon", "unshare"] {
            assert!(
                Command::new(program).arg("--version").output().is_ok(),
                "{program} is not installed: run build-aux/install-deps.sh test"
            );
        }
        let ns = format!("vdtest-{}-nm", std::process::id());
        let dir = std::env::temp_dir().join(&ns);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("profiles")).expect("make the temporary directory");
        std::fs::create_dir_all(dir.join("conf.d")).expect("make the temporary directory");
        ip(&["netns", "add", &ns]);
        let mut lab = Lab {
            lan: format!("{ns}-lan"),
            runner: Runner::in_netns(&ns).with_network_manager(),
            ns,
            dir,
            bus: None,
            nm: None,
        };
        ip(&["netns", "add", &lab.lan]);
        lab.ip("link set lo up");
        for pair in [&MAIN, &KEPT] {
            lab.ip(&format!(
                "link add {} type veth peer name {} netns {}",
                pair.nic, pair.peer, lab.lan
            ));
            ip(&["-n", &lab.lan, "link", "set", pair.peer, "up"]);
            lab.save_profile(pair);
        }
        lab.start_bus();
        lab.start_network_manager(nm_binary);
        lab
    }

    /// `ip -n NS ARGS`, failing the test if it fails.
    fn ip(&self, args: &str) -> String {
        let mut full = vec!["-n", &self.ns];
        full.extend(args.split_whitespace());
        ip(&full)
    }

    /// The NIC's profile: manual address (and gateway), no IPv6.
    fn save_profile(&self, pair: &Pair) {
        let nic = pair.nic;
        let path = self
            .dir
            .join("profiles")
            .join(format!("{nic}.nmconnection"));
        let address = match pair.gateway {
            Some(gateway) => format!("{},{gateway}\ndns=198.51.100.53;", pair.address),
            None => pair.address.to_owned(),
        };
        let text = format!(
            "[connection]\nid={nic}\ntype=ethernet\ninterface-name={nic}\n\n\
             [ipv4]\nmethod=manual\naddress1={address}\n\n[ipv6]\nmethod=disabled\n"
        );
        std::fs::write(&path, text).expect("write the profile");
        // NetworkManager ignores profiles others can read.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod the profile");
    }

    /// A system bus of our own that lets everyone do everything, listening in the
    /// temporary directory; `DBUS_SYSTEM_BUS_ADDRESS` names it.
    fn start_bus(&mut self) {
        let (bus, address) = common::bus::start_private_bus(&self.dir);
        self.bus = Some(bus);
        // Set before any thread of this test reads the environment.
        std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", address);
    }

    /// NetworkManager in the namespace, on the private bus, seeing only `vdt*` devices.
    fn start_network_manager(&mut self, binary: &Path) {
        // Never where it could see eth0: the namespace holds only lo and the test NICs.
        let links: Vec<serde_json::Value> =
            serde_json::from_str(&self.ip("-j link show")).expect("ip -j link");
        let names: Vec<&str> = links.iter().filter_map(|l| l["ifname"].as_str()).collect();
        assert_eq!(
            names,
            ["lo", MAIN.nic, KEPT.nic],
            "unexpected links in {}",
            self.ns
        );

        let config = self.dir.join("NetworkManager.conf");
        std::fs::write(
            &config,
            format!(
                "[main]\ndns=none\nrc-manager=unmanaged\nno-auto-default=*\nplugins=keyfile\n\
                 auth-polkit=false\nhostname-mode=none\n\n[connectivity]\nenabled=false\n\n\
                 [keyfile]\npath={}\nunmanaged-devices=except:interface-name:vdt*\n\n\
                 [device-vdtest]\nmatch-device=interface-name:vdt*\nmanaged=1\n",
                self.dir.join("profiles").display()
            ),
        )
        .expect("write NetworkManager.conf");
        let d = |name: &str| self.dir.join(name).display().to_string();
        let nm = format!(
            "{} --debug --config={} --config-dir={} --system-config-dir={} --intern-config={} \
             --state-file={} --pid-file={}",
            binary.display(),
            d("NetworkManager.conf"),
            d("conf.d"),
            d("conf.d"),
            d("intern.conf"),
            d("state"),
            d("pid")
        );
        // In private mount and hostname namespaces: tmpfs over NetworkManager's run and
        // state directories, and a read-only /sys, so that it does not wait for a udev that
        // does not run here (`ip netns exec` mounts the namespace's own /sys).
        let script = format!(
            "set -e; mount -o remount,ro /sys; mkdir -p /run/NetworkManager \
             /var/lib/NetworkManager; mount -t tmpfs vdtest /run/NetworkManager; \
             mount -t tmpfs vdtest /var/lib/NetworkManager; exec {nm}"
        );
        let log = std::fs::File::create(self.dir.join("NetworkManager.log")).expect("log file");
        let child = Command::new("ip")
            .args([
                "netns", "exec", &self.ns, "unshare", "--mount", "--uts", "sh", "-c",
            ])
            .arg(script)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start NetworkManager");
        self.nm = Some(child);
        wait_for(
            "NetworkManager to manage the test NICs",
            Duration::from_secs(30),
            || {
                nm::manages(&self.runner, MAIN.nic) == Ok(true)
                    && nm::manages(&self.runner, KEPT.nic) == Ok(true)
            },
        );
        self.assert_unbridged(&MAIN);
        self.assert_unbridged(&KEPT);
    }

    fn links(&self) -> Vec<Link> {
        testnet::links(&self.runner)
    }

    fn link(&self, name: &str) -> Link {
        testnet::link(&self.runner, name)
    }

    /// The link the IPv4 default route leaves through.
    fn default_route(&self) -> Option<String> {
        self.links()
            .into_iter()
            .find(|l| l.routes.iter().any(|r| !r.v6 && r.dst == "default"))
            .map(|l| l.name)
    }

    /// Whether the default route (if `pair` has one) leaves through `dev`.
    fn routes_through(&self, pair: &Pair, dev: &str) -> bool {
        pair.gateway.is_none() || self.default_route().as_deref() == Some(dev)
    }

    /// The NIC alone with its address (and the default route), no bridge.
    fn assert_unbridged(&self, pair: &Pair) {
        wait_for(
            &format!("{} to hold its address", pair.nic),
            Duration::from_secs(20),
            || {
                let links = self.links();
                let nic = links.iter().find(|l| l.name == pair.nic);
                links.iter().all(|l| l.name != pair.bridge)
                    && nic.is_some_and(|n| n.master.is_none() && addresses(n) == [pair.address])
                    && self.routes_through(pair, pair.nic)
            },
        );
    }

    /// The bridge holds the address (and the default route), with the NIC as its port,
    /// STP off and the NIC's MAC address.
    fn assert_bridged(&self, pair: &Pair) {
        wait_for(
            &format!("{} to hold the address", pair.bridge),
            Duration::from_secs(20),
            || {
                let links = self.links();
                let br = links.iter().find(|l| l.name == pair.bridge);
                let nic = links.iter().find(|l| l.name == pair.nic);
                // NetworkManager brings the NIC in as a port just after the bridge is up.
                br.is_some_and(|b| b.is_bridge() && addresses(b) == [pair.address])
                    && nic.is_some_and(|n| {
                        n.addresses.is_empty() && n.master.as_deref() == Some(pair.bridge)
                    })
                    && self.routes_through(pair, pair.bridge)
            },
        );
        let (br, nic) = (self.link(pair.bridge), self.link(pair.nic));
        assert_eq!(nic.master.as_deref(), Some(pair.bridge), "{nic:#?}");
        assert_eq!(br.mac, nic.mac, "the bridge keeps the NIC's MAC address");
        // STP as the kernel reports it.
        let details: Vec<serde_json::Value> =
            serde_json::from_str(&self.ip(&format!("-j -d link show {}", pair.bridge))).unwrap();
        assert_eq!(
            details[0]["linkinfo"]["info_data"]["stp_state"].as_u64(),
            Some(0),
            "STP is off"
        );
        assert!(
            nm::owns(&self.runner, pair.bridge) == Ok(true),
            "NetworkManager owns the bridge"
        );
        // The saved profile, as NetworkManager's own client reads it: the NIC's manual
        // IPv4 settings moved over, DNS included.
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns, "nmcli", "-g"])
            .args(["ipv4.method,ipv4.addresses,ipv4.gateway,ipv4.dns,bridge.stp"])
            .args(["connection", "show", pair.bridge])
            .output()
            .expect("run nmcli");
        let shown = String::from_utf8_lossy(&out.stdout);
        let expected = match pair.gateway {
            Some(gateway) => format!("manual\n{}\n{gateway}\n198.51.100.53\nno\n", pair.address),
            None => format!("manual\n{}\n\n\nno\n", pair.address),
        };
        assert_eq!(shown, expected, "{}", String::from_utf8_lossy(&out.stderr));
    }

    fn create(&self, pair: &Pair) -> PendingChange {
        let request = BridgeRequest {
            nic: pair.nic.to_owned(),
            name: pair.bridge.to_owned(),
            stp: false,
        };
        let change = create_bridge(&self.runner, &request).expect("create the bridge");
        assert!(change.through_network_manager());
        change
    }

    fn delete(&self, pair: &Pair) -> PendingChange {
        let change = delete_bridge(&self.runner, pair.bridge).expect("delete the bridge");
        assert!(change.through_network_manager());
        change
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("NetworkManager.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("NetworkManager's last words:\n{}", self.log_tail());
        }
        if let Some(mut nm) = self.nm.take() {
            let _ = Command::new("kill").arg(nm.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while !matches!(nm.try_wait(), Ok(Some(_))) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = nm.kill();
            let _ = nm.wait();
        }
        if let Some(mut bus) = self.bus.take() {
            let _ = bus.kill();
            let _ = bus.wait();
        }
        for name in [&self.ns, &self.lan] {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn bridges_through_network_manager_are_kept_reverted_and_rolled_back() {
    let lab = Lab::new();

    // Made and kept: the checkpoint is gone, so nothing can roll it back any more (checked
    // again at the end, long after the rollback timeout).
    let change = lab.create(&KEPT);
    lab.assert_bridged(&KEPT);
    change.keep().expect("keep");

    // Made with the default route, kept, deleted, reverted: the bridge is back.
    lab.create(&MAIN).keep().expect("keep");
    lab.assert_bridged(&MAIN);
    lab.delete(&MAIN).revert().expect("revert the delete");
    lab.assert_bridged(&MAIN);

    // Deleted and kept: the NIC holds its profile again.
    lab.delete(&MAIN).keep().expect("keep the delete");
    lab.assert_unbridged(&MAIN);

    // Made, then reverted at once.
    lab.create(&MAIN).revert().expect("revert");
    lab.assert_unbridged(&MAIN);

    // Made, and nobody answers: NetworkManager rolls back by itself.
    let change = lab.create(&MAIN);
    lab.assert_bridged(&MAIN);
    wait_for(
        "NetworkManager's own rollback",
        CONFIRM_WITHIN + Duration::from_secs(20),
        || lab.links().iter().all(|l| l.name != MAIN.bridge),
    );
    lab.assert_unbridged(&MAIN);
    let err = change.keep().unwrap_err();
    assert!(matches!(err, NetError::NmExpired), "{err}");

    // The bridge kept at the start is still there.
    lab.assert_bridged(&KEPT);
}
