//! The wizard's facts about a remote host (tests/remote/host.sh: a private sshd and
//! libvirtd in a network namespace) list that host's bridges, read through the connection's
//! worker from libvirt's interfaces: a bridge made inside the host's namespace appears, one
//! made on this computer does not, and the host's other links are no bridges.

mod common;

use std::process::Command;

use common::remote::RemoteHost;
use common::{ask, connect_and_snapshot, quiet_options};
use virtdeck::libvirt::Request;
use virtdeck::spec::{DomainType, HostFacts};

const REMOTE_BRIDGE: &str = "br-vdtri";
const LOCAL_BRIDGE: &str = "br-vdtril";

/// A bridge on this computer, removed again when dropped.
struct LocalBridge;

impl LocalBridge {
    fn add() -> Self {
        let _ = Command::new("ip")
            .args(["link", "del", LOCAL_BRIDGE])
            .stderr(std::process::Stdio::null())
            .status();
        let status = Command::new("ip")
            .args(["link", "add", LOCAL_BRIDGE, "type", "bridge"])
            .status()
            .expect("ip runs");
        assert!(status.success(), "ip link add {LOCAL_BRIDGE} type bridge");
        LocalBridge
    }
}

impl Drop for LocalBridge {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", LOCAL_BRIDGE])
            .status();
    }
}

#[test]
fn the_wizard_lists_the_remote_hosts_bridges_not_this_computers() {
    let host = RemoteHost::up("rbrdg", 78);
    let _local = LocalBridge::add();
    assert!(
        std::path::Path::new("/sys/class/net")
            .join(LOCAL_BRIDGE)
            .join("bridge")
            .is_dir(),
        "{LOCAL_BRIDGE} is a bridge here"
    );
    let (handle, _) = connect_and_snapshot(&host.uri(), quiet_options());
    let facts = |handle| -> HostFacts {
        ask(handle, |reply| Request::HostFacts {
            domain_type: DomainType::Qemu,
            reply,
        })
        .unwrap_or_else(|e| panic!("HostFacts: {e}"))
    };

    let before = facts(&handle);
    assert!(!before.paths_are_local);
    assert!(
        before.bridges.is_empty(),
        "a fresh host has no bridges: {:?}",
        before.bridges
    );

    // Made after the connection: the list is read again for each look at the host.
    host.exec(&["ip", "link", "add", REMOTE_BRIDGE, "type", "bridge"]);
    let after = facts(&handle);
    assert_eq!(
        after.bridges.iter().map(String::as_str).collect::<Vec<_>>(),
        [REMOTE_BRIDGE],
        "only the remote host's bridge; its lan0 and lo are none, {LOCAL_BRIDGE} is here \
         (the rig's libvirtd lists bridges through libvirt-daemon-driver-interface: \
         build-aux/install-deps.sh run)"
    );
}
