//! A virtual machine joins a bridge made from a NIC: the bridge is made with the public
//! API from a test link in the host's namespace (`vdt<pid>…` with a 198.51.100.0/24 test
//! address; eth0 is never touched; one end of a veth pair, since not every kernel has the
//! dummy driver), a tiny TCG domain with a bridged NIC starts on `qemu:///system`, and its
//! tap must be a port of the bridge. Destroying the domain and
//! deleting the bridge gives the link its address back. Drop guards remove the domain,
//! the bridge and the veth pair even when the test fails.

mod common;

use common::net::{ip, ports_of, Links, VIRTDECK};
use common::{ensure_libvirtd, virsh_ok, wait_for, DomainGuard};
use virtdeck::host::net::{self, create_bridge, delete_bridge, BridgeRequest, Runner};
use virtdeck::spec::{Network, VmSpec};

const SYSTEM_URI: &str = "qemu:///system";

/// The IPv4 addresses (`a.b.c.d/n`) on `link`.
fn addresses(link: &str) -> Vec<String> {
    let out = ip(&["-j", "-4", "addr", "show", "dev", link]);
    let links: Vec<serde_json::Value> = serde_json::from_str(&out).expect("ip -j output");
    links
        .iter()
        .flat_map(|l| l["addr_info"].as_array().cloned().unwrap_or_default())
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap_or(""), a["prefixlen"]))
        .collect()
}

#[test]
fn a_started_vm_attaches_its_tap_to_the_bridge() {
    ensure_libvirtd();
    let pid = std::process::id();
    let nic = format!("vdt{pid}a");
    let peer = format!("vdt{pid}b");
    let bridge = format!("vdt{pid}br");
    let address = format!("198.51.100.{}/24", pid % 250 + 2);
    let _links = Links(vec![bridge.clone(), nic.clone()]);
    ip(&["link", "add", &nic, "type", "veth", "peer", "name", &peer]);
    ip(&["addr", "add", &address, "dev", &nic]);
    ip(&["link", "set", &nic, "up"]);

    let runner = Runner::host().with_helper(VIRTDECK);
    let request = BridgeRequest {
        nic: nic.clone(),
        name: bridge.clone(),
        stp: false,
    };
    create_bridge(&runner, &request)
        .unwrap_or_else(|e| panic!("create {bridge}: {e}"))
        .keep()
        .expect("keep");
    assert_eq!(addresses(&bridge), [address.as_str()]);
    assert!(addresses(&nic).is_empty());
    assert_eq!(ports_of(&bridge), [nic.as_str()]);

    // The domain as the wizard makes it: network boot, no disk, a NIC on the bridge.
    let guard = DomainGuard {
        uri: SYSTEM_URI.into(),
        name: format!("{}bridged", common::prefix()),
    };
    let xml = virtdeck::spec::domain_xml::domain_xml(&VmSpec {
        uri: SYSTEM_URI.into(),
        name: guard.name.clone(),
        network: Network::Bridge {
            name: bridge.clone(),
        },
        ..common::specs::netboot_user()
    })
    .expect("domain XML");
    assert!(
        xml.contains(&format!("bridge=\"{bridge}\"")),
        "no bridged interface in:\n{xml}"
    );
    let file = common::fixture::temp_xml("bridged", &xml);
    virsh_ok(SYSTEM_URI, &["create", file.to_str().expect("UTF-8 path")]);

    let iflist = virsh_ok(SYSTEM_URI, &["domiflist", &guard.name]);
    let tap = iflist
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|name| *name != "-")
        .unwrap_or_else(|| panic!("no tap in domiflist:\n{iflist}"))
        .to_owned();
    assert!(
        iflist.contains(&bridge),
        "the NIC's source is not the bridge:\n{iflist}"
    );
    let ports = ports_of(&bridge);
    assert!(
        ports.contains(&tap) && ports.contains(&nic),
        "{tap} is not a port of {bridge}: {ports:?}"
    );
    let listed = net::list(&runner).expect("list the host's links");
    let members = &listed
        .bridges
        .iter()
        .find(|b| b.link.name == bridge)
        .expect("the bridge is listed")
        .members;
    assert!(members.contains(&tap), "{members:?}");

    virsh_ok(SYSTEM_URI, &["destroy", &guard.name]);
    wait_for("the tap to go", std::time::Duration::from_secs(10), || {
        !ports_of(&bridge).contains(&tap)
    });
    delete_bridge(&runner, &bridge)
        .unwrap_or_else(|e| panic!("delete {bridge}: {e}"))
        .keep()
        .expect("keep");
    assert_eq!(addresses(&nic), [address.as_str()]);
    let left = ip(&["-j", "link", "show"]);
    assert!(
        !left.contains(&format!("\"{bridge}\"")),
        "{bridge} is still there"
    );
}
