//! Bridges through a real NetworkManager that can only ever see test links. The test makes
//! a network namespace with one end of a veth pair (`vdtnic0`; the other end lives in a
//! second namespace playing the LAN), starts a private D-Bus system bus that listens in a
//! temporary directory, and runs NetworkManager inside the namespace on that bus, with a
//! configuration that keeps it off the host: no DNS or resolv.conf handling, only `vdt*`
//! devices managed, profiles, state and pid file in the temporary directory, and its
//! `/run/NetworkManager` and `/var/lib/NetworkManager` on tmpfs in a private mount
//! namespace. `vdtnic0` gets a saved profile with 198.51.100.2/24 (a documentation range).
//!
//! Then bridges are made and deleted through the public API, kept, reverted, and left to
//! NetworkManager's own rollback. NetworkManager, the bus and both namespaces go away when
//! the test ends, even on failure. Everything runs in one test: the client finds the bus
//! through `DBUS_SYSTEM_BUS_ADDRESS`, which is set once for this process.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::net::ip;
use common::wait_for;
use virtdeck::host::net::{
    self, create_bridge, delete_bridge, nm, BridgeRequest, Link, NetError, PendingChange, Runner,
    CONFIRM_WITHIN,
};

const NIC: &str = "vdtnic0";
const BRIDGE: &str = "vdtbr0";
const ADDRESS: &str = "198.51.100.2/24";
const GATEWAY: &str = "198.51.100.1";

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
        lab.ip(&format!(
            "link add {NIC} type veth peer name vdtpeer0 netns {}",
            lab.lan
        ));
        ip(&["-n", &lab.lan, "link", "set", "vdtpeer0", "up"]);
        lab.save_profile();
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

    /// The NIC's profile: manual address and gateway, no IPv6.
    fn save_profile(&self) {
        let path = self
            .dir
            .join("profiles")
            .join(format!("{NIC}.nmconnection"));
        let text = format!(
            "[connection]\nid={NIC}\ntype=ethernet\ninterface-name={NIC}\n\n\
             [ipv4]\nmethod=manual\naddress1={ADDRESS},{GATEWAY}\ndns=198.51.100.53;\n\n\
             [ipv6]\nmethod=disabled\n"
        );
        std::fs::write(&path, text).expect("write the profile");
        // NetworkManager ignores profiles others can read.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod the profile");
    }

    /// A system bus of our own that lets everyone do everything, listening in the
    /// temporary directory; `DBUS_SYSTEM_BUS_ADDRESS` names it.
    fn start_bus(&mut self) {
        let socket = self.dir.join("bus.socket");
        let config = self.dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .expect("write the bus configuration");
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("bus stdout"))
            .read_line(&mut address)
            .expect("read the bus address");
        self.bus = Some(bus);
        let address = address.trim();
        assert!(address.starts_with("unix:"), "bus address {address:?}");
        // Set before any thread of this test reads the environment.
        std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", address);
    }

    /// NetworkManager in the namespace, on the private bus, seeing only `vdt*` devices.
    fn start_network_manager(&mut self, binary: &Path) {
        // Never where it could see eth0: the namespace holds only lo and the test NIC.
        let links: Vec<serde_json::Value> =
            serde_json::from_str(&self.ip("-j link show")).expect("ip -j link");
        let names: Vec<&str> = links.iter().filter_map(|l| l["ifname"].as_str()).collect();
        assert_eq!(names, ["lo", NIC], "unexpected links in {}", self.ns);

        let config = self.dir.join("NetworkManager.conf");
        std::fs::write(
            &config,
            format!(
                "[main]\ndns=none\nrc-manager=unmanaged\nno-auto-default=*\nplugins=keyfile\n\
                 auth-polkit=false\n\n\
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
        // In a private mount namespace: tmpfs over NetworkManager's run and state
        // directories, and a read-only /sys, so that it does not wait for a udev that
        // does not run here (`ip netns exec` mounts the namespace's own /sys).
        let script = format!(
            "set -e; mount -o remount,ro /sys; mkdir -p /run/NetworkManager \
             /var/lib/NetworkManager; mount -t tmpfs vdtest /run/NetworkManager; \
             mount -t tmpfs vdtest /var/lib/NetworkManager; exec {nm}"
        );
        let log = std::fs::File::create(self.dir.join("NetworkManager.log")).expect("log file");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns, "unshare", "--mount", "sh", "-c"])
            .arg(script)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start NetworkManager");
        self.nm = Some(child);
        wait_for(
            "NetworkManager to manage the test NIC and give it its address",
            Duration::from_secs(30),
            || {
                nm::manages(&self.runner, NIC)
                    && addresses(&self.link(NIC)) == [ADDRESS]
                    && self.default_route() == Some(NIC.to_owned())
            },
        );
    }

    fn links(&self) -> Vec<Link> {
        net::read_links(&self.runner).expect("read links")
    }

    fn link(&self, name: &str) -> Link {
        self.links()
            .into_iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("{name} is missing"))
    }

    /// The link the IPv4 default route leaves through.
    fn default_route(&self) -> Option<String> {
        self.links()
            .into_iter()
            .find(|l| l.routes.iter().any(|r| !r.v6 && r.dst == "default"))
            .map(|l| l.name)
    }

    /// The NIC alone with its address, the gateway behind it, no bridge.
    fn assert_unbridged(&self) {
        wait_for(
            "the NIC to hold its address again",
            Duration::from_secs(20),
            || {
                let links = self.links();
                let nic = links.iter().find(|l| l.name == NIC);
                links.iter().all(|l| l.name != BRIDGE)
                    && nic.is_some_and(|n| n.master.is_none() && addresses(n) == [ADDRESS])
                    && self.default_route() == Some(NIC.to_owned())
            },
        );
    }

    /// The bridge holds the address and the default route, with the NIC as its port, STP
    /// off and the NIC's MAC address.
    fn assert_bridged(&self) {
        wait_for(
            "the bridge to hold the address",
            Duration::from_secs(20),
            || {
                let links = self.links();
                let br = links.iter().find(|l| l.name == BRIDGE);
                let nic = links.iter().find(|l| l.name == NIC);
                br.is_some_and(|b| b.is_bridge() && addresses(b) == [ADDRESS])
                    && nic.is_some_and(|n| n.addresses.is_empty())
                    && self.default_route() == Some(BRIDGE.to_owned())
            },
        );
        let (br, nic) = (self.link(BRIDGE), self.link(NIC));
        assert_eq!(nic.master.as_deref(), Some(BRIDGE), "{nic:#?}");
        assert_eq!(br.mac, nic.mac, "the bridge keeps the NIC's MAC address");
        // STP as the kernel reports it.
        let details: Vec<serde_json::Value> =
            serde_json::from_str(&self.ip(&format!("-j -d link show {BRIDGE}"))).unwrap();
        assert_eq!(
            details[0]["linkinfo"]["info_data"]["stp_state"].as_u64(),
            Some(0),
            "STP is off"
        );
        assert!(
            nm::owns(&self.runner, BRIDGE),
            "NetworkManager owns the bridge"
        );
    }

    fn create(&self) -> PendingChange {
        let request = BridgeRequest {
            nic: NIC.to_owned(),
            name: BRIDGE.to_owned(),
            stp: false,
        };
        let change = create_bridge(&self.runner, &request).expect("create the bridge");
        assert!(change.through_network_manager());
        change
    }

    fn delete(&self) -> PendingChange {
        let change = delete_bridge(&self.runner, BRIDGE).expect("delete the bridge");
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

fn addresses(link: &Link) -> Vec<String> {
    link.addresses
        .iter()
        .map(|a| format!("{}/{}", a.local, a.prefixlen))
        .collect()
}

#[test]
fn bridges_through_network_manager_are_kept_reverted_and_rolled_back() {
    let lab = Lab::new();
    lab.assert_unbridged();

    // Made and kept: the checkpoint is gone, so nothing can roll it back any more.
    let change = lab.create();
    lab.assert_bridged();
    let copy = change.clone();
    change.confirm(&lab.runner).expect("confirm");
    let err = copy.confirm(&lab.runner).unwrap_err();
    assert!(matches!(err, NetError::NmExpired), "{err}");
    lab.assert_bridged();

    // Deleted, then reverted: the bridge is back.
    lab.delete().expire(&lab.runner).expect("revert the delete");
    lab.assert_bridged();

    // Deleted and kept: the NIC holds its profile again.
    lab.delete()
        .confirm(&lab.runner)
        .expect("confirm the delete");
    lab.assert_unbridged();

    // Made, then reverted at once.
    lab.create().expire(&lab.runner).expect("revert");
    lab.assert_unbridged();

    // Made, and nobody answers: NetworkManager rolls back by itself.
    let change = lab.create();
    lab.assert_bridged();
    wait_for(
        "NetworkManager's own rollback",
        CONFIRM_WITHIN + Duration::from_secs(20),
        || lab.links().iter().all(|l| l.name != BRIDGE),
    );
    lab.assert_unbridged();
    let late = change.clone();
    let err = late.confirm(&lab.runner).unwrap_err();
    assert!(matches!(err, NetError::NmExpired), "{err}");
    change
        .expire(&lab.runner)
        .expect("expiring after NetworkManager's rollback is fine");
}
