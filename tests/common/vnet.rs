//! A libvirt NAT network with DHCP for tests: transient (`virsh net-create`), on a
//! 10.x.y.0/24 subnet no other network of the host uses, destroyed when dropped.

use std::net::Ipv4Addr;

use super::fixture::temp_xml;
use super::{virsh, virsh_ok, SESSION_URI};

/// A running NAT network on [`SESSION_URI`]; dropping it destroys it (a transient network
/// leaves nothing behind).
pub struct NatNetwork {
    pub name: String,
    /// The host's address on it, the guests' router.
    pub gateway: Ipv4Addr,
}

impl NatNetwork {
    /// Creates and starts `name` with DHCP on a free 10.x.y.0/24 (tries a few subnets
    /// derived from the process id; libvirt refuses one that a host route already uses).
    pub fn create(name: &str) -> NatNetwork {
        let seed = std::process::id();
        let mut refusals = Vec::new();
        for attempt in 0..16u32 {
            let n = seed.wrapping_add(attempt * 7919);
            let (b, c) = (200 + (n / 256 % 50) as u8, (n % 256) as u8);
            let gateway = Ipv4Addr::new(10, b, c, 1);
            let xml = format!(
                "<network><name>{name}</name><forward mode='nat'/>\
                 <ip address='{gateway}' netmask='255.255.255.0'><dhcp>\
                 <range start='10.{b}.{c}.100' end='10.{b}.{c}.200'/></dhcp></ip></network>"
            );
            let file = temp_xml(name, &xml);
            let out = virsh(SESSION_URI, &["net-create", &file.to_string_lossy()]);
            let _ = std::fs::remove_file(&file);
            if out.status.success() {
                return NatNetwork {
                    name: name.to_owned(),
                    gateway,
                };
            }
            refusals.push(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        panic!("could not create the network {name}: {refusals:#?}");
    }

    /// The DHCP leases libvirt's dnsmasq gave, as `virsh net-dhcp-leases` prints them.
    pub fn leases(&self) -> String {
        virsh_ok(SESSION_URI, &["net-dhcp-leases", &self.name])
    }
}

impl Drop for NatNetwork {
    fn drop(&mut self) {
        let _ = virsh(SESSION_URI, &["net-destroy", &self.name]);
    }
}
