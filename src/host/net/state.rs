//! The network links of a namespace as `ip -j` reports them: kind, bridge master, state,
//! addresses and routes (main table). Only what moving an IP configuration needs, and
//! what the host networking page shows.

use std::path::Path;

use serde::Deserialize;

use super::{NetError, Runner};

/// An IPv4 or IPv6 address on a link (global or site scope; link-local ones are made by
/// the kernel and not moved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub v6: bool,
    pub local: String,
    pub prefixlen: u8,
    pub broadcast: Option<String>,
}

/// A route of the main table through a link, other than the ones the kernel makes for
/// addresses (`proto kernel`) and router advertisements (`proto ra`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub v6: bool,
    /// `default` or a prefix.
    pub dst: String,
    pub gateway: Option<String>,
    pub protocol: Option<String>,
    pub metric: Option<u32>,
    pub scope: Option<String>,
    pub prefsrc: Option<String>,
    /// The gateway is reachable on the link without a matching prefix.
    pub onlink: bool,
}

/// One network link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub name: String,
    /// `bridge`, `veth`, `tun`, … (`linkinfo.info_kind`); `None` for plain devices.
    pub kind: Option<String>,
    /// `ether`, `loopback`, …
    pub link_type: String,
    pub mac: String,
    /// The bridge this link belongs to.
    pub master: Option<String>,
    /// Administratively up.
    pub up: bool,
    /// The kernel's operational state: `UP`, `DOWN`, `UNKNOWN`, …
    pub operstate: String,
    /// A real device (it has a parent device on a bus: PCI, USB, virtio).
    pub physical: bool,
    /// For bridges: whether the spanning tree protocol is on.
    pub stp: Option<bool>,
    /// The interface alias (`ip link set … alias`): [`MADE_HERE`] on bridges this program
    /// made.
    pub alias: Option<String>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
}

/// The alias of the bridges this program makes, which tells them from the bridges of
/// other software.
pub const MADE_HERE: &str = "virtdeck-bridge";

impl Link {
    pub fn is_bridge(&self) -> bool {
        self.kind.as_deref() == Some("bridge")
    }

    /// Whether this program made this link (a bridge; see [`MADE_HERE`]).
    pub fn made_here(&self) -> bool {
        self.alias.as_deref() == Some(MADE_HERE)
    }

    /// Whether the default route (IPv4 or IPv6) leaves through this link.
    pub fn holds_default_route(&self) -> bool {
        self.routes.iter().any(|r| r.dst == "default")
    }
}

#[derive(Deserialize)]
struct IpLink {
    ifname: String,
    #[serde(default)]
    flags: Vec<String>,
    master: Option<String>,
    #[serde(default)]
    operstate: String,
    #[serde(default)]
    link_type: String,
    #[serde(default)]
    address: String,
    linkinfo: Option<LinkInfo>,
    parentbus: Option<String>,
    ifalias: Option<String>,
}

#[derive(Deserialize)]
struct LinkInfo {
    info_kind: Option<String>,
    info_data: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct IpAddrs {
    ifname: String,
    #[serde(default)]
    addr_info: Vec<AddrInfo>,
}

#[derive(Deserialize)]
struct AddrInfo {
    family: String,
    local: Option<String>,
    prefixlen: u8,
    broadcast: Option<String>,
    #[serde(default)]
    scope: String,
}

#[derive(Deserialize)]
struct IpRoute {
    dst: String,
    dev: Option<String>,
    gateway: Option<String>,
    protocol: Option<String>,
    metric: Option<u32>,
    scope: Option<String>,
    prefsrc: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
}

/// Every link of the runner's namespace with its addresses and routes.
pub fn read_links(runner: &Runner) -> Result<Vec<Link>, NetError> {
    let links: Vec<IpLink> = runner.ip_json(&["-d", "link", "show"])?;
    let addrs: Vec<IpAddrs> = runner.ip_json(&["addr", "show"])?;
    let v4: Vec<IpRoute> = runner.ip_json(&["-4", "route", "show", "table", "main"])?;
    let v6: Vec<IpRoute> = runner.ip_json(&["-6", "route", "show", "table", "main"])?;
    // Without a namespace, sysfs also knows which devices are real.
    let sysfs = runner.netns().is_none();
    Ok(links
        .into_iter()
        .map(|l| {
            let addresses = addrs
                .iter()
                .filter(|a| a.ifname == l.ifname)
                .flat_map(|a| &a.addr_info)
                .filter_map(address)
                .collect();
            let routes = v4
                .iter()
                .map(|r| (false, r))
                .chain(v6.iter().map(|r| (true, r)))
                .filter(|(_, r)| r.dev.as_deref() == Some(l.ifname.as_str()))
                .filter_map(|(v6, r)| route(v6, r))
                .collect();
            let physical = l.parentbus.is_some()
                || (sysfs
                    && Path::new("/sys/class/net")
                        .join(&l.ifname)
                        .join("device")
                        .exists());
            let info = l.linkinfo.as_ref();
            Link {
                kind: info.and_then(|i| i.info_kind.clone()),
                stp: info
                    .filter(|i| i.info_kind.as_deref() == Some("bridge"))
                    .and_then(|i| i.info_data.as_ref()?.get("stp_state")?.as_u64())
                    .map(|s| s != 0),
                up: l.flags.iter().any(|f| f == "UP"),
                name: l.ifname,
                link_type: l.link_type,
                mac: l.address,
                master: l.master,
                alias: l.ifalias.filter(|a| !a.is_empty()),
                operstate: l.operstate,
                physical,
                addresses,
                routes,
            }
        })
        .collect())
}

fn address(a: &AddrInfo) -> Option<Address> {
    if a.scope != "global" && a.scope != "site" {
        return None;
    }
    Some(Address {
        v6: a.family == "inet6",
        local: a.local.clone()?,
        prefixlen: a.prefixlen,
        broadcast: a.broadcast.clone(),
    })
}

fn route(v6: bool, r: &IpRoute) -> Option<Route> {
    if matches!(r.protocol.as_deref(), Some("kernel" | "ra")) || r.kind.is_some() {
        return None;
    }
    Some(Route {
        v6,
        dst: r.dst.clone(),
        gateway: r.gateway.clone(),
        protocol: r.protocol.clone(),
        metric: r.metric,
        scope: r.scope.clone(),
        prefsrc: r.prefsrc.clone(),
        onlink: r.flags.iter().any(|f| f == "onlink"),
    })
}

/// A bridge and the links that belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    pub link: Link,
    pub members: Vec<String>,
    /// The members that are no taps of virtual machines: the network cards (or veth
    /// ends) that joined it, whose addresses it holds.
    pub uplinks: Vec<String>,
}

/// Why the Networking page leaves a bridge alone (offers no Delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftAlone {
    /// It belongs to libvirt's virtual network of this name (virbr0 is `default`'s).
    LibvirtNetwork(String),
    /// No network card joined it and this program did not make it: other software did
    /// (docker0, a VPN, a container manager), which relies on it.
    OtherSoftware,
    /// Several network cards joined it: which one would get its addresses back is not
    /// clear.
    SeveralCards(Vec<String>),
}

impl Bridge {
    /// Why this bridge is not to be deleted here, if it is not. `networks` are libvirt's
    /// virtual networks as (network, bridge) names.
    pub fn left_alone(&self, networks: &[(String, String)]) -> Option<LeftAlone> {
        if let Some((network, _)) = networks.iter().find(|(_, b)| *b == self.link.name) {
            return Some(LeftAlone::LibvirtNetwork(network.clone()));
        }
        match self.uplinks.len() {
            0 if !self.link.made_here() => Some(LeftAlone::OtherSoftware),
            0 | 1 => None,
            _ => Some(LeftAlone::SeveralCards(self.uplinks.clone())),
        }
    }
}

/// What the host networking page lists. libvirt's virtual networks are not here: the
/// libvirt connection worker lists and starts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Networks {
    /// Real network cards, bridged or not. Inside a network namespace, which stands for a
    /// host (see [`super::runner::NETNS_VARIABLE`]), every Ethernet link that is not a
    /// bridge or a tap counts as one: veth and dummy links play the cards there.
    pub nics: Vec<Link>,
    pub bridges: Vec<Bridge>,
}

/// The NICs and bridges of the runner's namespace.
pub fn list(runner: &Runner) -> Result<Networks, NetError> {
    Ok(networks(read_links(runner)?, runner.netns().is_some()))
}

/// Whether `link` is listed as a network card; `in_netns` when read inside a namespace.
fn is_card(link: &Link, in_netns: bool) -> bool {
    link.physical
        || (in_netns
            && link.link_type == "ether"
            && !matches!(link.kind.as_deref(), Some("bridge" | "tun")))
}

fn networks(links: Vec<Link>, in_netns: bool) -> Networks {
    let bridges = links
        .iter()
        .filter(|l| l.is_bridge())
        .map(|b| Bridge {
            link: b.clone(),
            members: links
                .iter()
                .filter(|l| l.master.as_deref() == Some(b.name.as_str()))
                .map(|l| l.name.clone())
                .collect(),
            uplinks: super::bridge::uplinks(&links, &b.name)
                .into_iter()
                .map(|l| l.name.clone())
                .collect(),
        })
        .collect();
    Networks {
        nics: links.into_iter().filter(|l| is_card(l, in_netns)).collect(),
        bridges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(name: &str, kind: Option<&str>, master: Option<&str>) -> Link {
        Link {
            name: name.into(),
            kind: kind.map(Into::into),
            link_type: "ether".into(),
            mac: "02:00:00:00:00:01".into(),
            master: master.map(Into::into),
            up: true,
            operstate: "UP".into(),
            physical: false,
            stp: None,
            alias: None,
            addresses: vec![],
            routes: vec![],
        }
    }

    fn bridge(networks: &Networks, name: &str) -> Bridge {
        networks
            .bridges
            .iter()
            .find(|b| b.link.name == name)
            .unwrap()
            .clone()
    }

    #[test]
    fn bridges_of_libvirt_and_of_other_software_are_left_alone() {
        let mut ours = link("br0", Some("bridge"), None);
        ours.alias = Some(MADE_HERE.into());
        let links = vec![
            link("eth0", None, Some("br1")),
            link("vnet0", Some("tun"), Some("br1")),
            link("br1", Some("bridge"), None),
            link("virbr0", Some("bridge"), None),
            link("vnet1", Some("tun"), Some("virbr0")),
            link("docker0", Some("bridge"), None),
            ours,
            link("br2", Some("bridge"), None),
            link("veth1", Some("veth"), Some("br2")),
            link("veth2", Some("veth"), Some("br2")),
        ];
        let networks = networks(links, false);
        let libvirt = [("default".to_owned(), "virbr0".to_owned())];
        let why = |name: &str| bridge(&networks, name).left_alone(&libvirt);
        assert_eq!(bridge(&networks, "br1").uplinks, ["eth0"]);
        assert_eq!(why("br1"), None, "a card joined it");
        assert_eq!(why("br0"), None, "made here, with no card now");
        assert_eq!(
            why("virbr0"),
            Some(LeftAlone::LibvirtNetwork("default".into()))
        );
        assert_eq!(why("docker0"), Some(LeftAlone::OtherSoftware));
        assert_eq!(
            why("br2"),
            Some(LeftAlone::SeveralCards(vec![
                "veth1".into(),
                "veth2".into()
            ]))
        );
    }

    #[test]
    fn the_default_route_is_seen_on_its_link() {
        let mut nic = link("eth0", None, None);
        assert!(!nic.holds_default_route());
        nic.routes.push(Route {
            v6: true,
            dst: "default".into(),
            gateway: Some("2001:db8::1".into()),
            protocol: None,
            metric: None,
            scope: None,
            prefsrc: None,
            onlink: false,
        });
        assert!(nic.holds_default_route());
    }
}
