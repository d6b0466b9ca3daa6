//! Making, reading and deleting a virtual network: what the user asks for
//! ([`NetworkSpec`]), checked against the host's routes and the other networks before
//! libvirt sees it; its XML (quick-xml from the structs below); the details of one network
//! with the DHCP leases of the machines on it; deletion refused while machines on it run.

use std::net::{Ipv4Addr, Ipv6Addr};

use quick_xml::se::Serializer;
use serde::Serialize;
use virt::connect::Connect;
use virt_sys as sys;

use super::super::error::describe;
use super::super::ffi;

/// How a network reaches the outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardMode {
    /// NAT through `device`, or through whichever card routes (`None`: "any").
    Nat { device: Option<String> },
    /// Routed (no NAT) through `device` or any.
    Routed { device: Option<String> },
    /// No way out: machines reach each other and the host.
    Isolated,
    /// Routed, with no firewall rules at all from libvirt.
    Open,
}

/// An IPv4 subnet: an address in it (the host's, the gateway) and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Subnet {
    pub address: Ipv4Addr,
    pub prefix: u8,
}

impl Ipv4Subnet {
    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix.min(32)))
        }
    }

    pub fn network(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & self.mask())
    }

    pub fn broadcast(self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) | !self.mask())
    }

    pub fn contains(self, address: Ipv4Addr) -> bool {
        u32::from(address) & self.mask() == u32::from(self.network())
    }

    /// Whether the two subnets share an address.
    pub fn overlaps(self, other: Ipv4Subnet) -> bool {
        let prefix = self.prefix.min(other.prefix);
        let shorter = Ipv4Subnet {
            address: self.address,
            prefix,
        };
        shorter.contains(other.address)
    }

    /// "192.168.100.0/24" (the network, not the address given).
    pub fn to_cidr(self) -> String {
        format!("{}/{}", self.network(), self.prefix)
    }

    /// "192.168.100.1/24" or "192.168.100.1" (a /24 assumed).
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, p.trim().parse().ok()?),
            None => (text.trim(), 24),
        };
        let address = address.trim().parse().ok()?;
        (prefix <= 32).then_some(Self { address, prefix })
    }
}

/// A virtual network to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    pub name: String,
    pub forward: ForwardMode,
    /// The host's address in the network and its subnet.
    pub ipv4: Ipv4Subnet,
    /// The DHCP range, first and last address; `None`: no DHCP.
    pub dhcp: Option<(Ipv4Addr, Ipv4Addr)>,
    /// The host's IPv6 address and prefix length, when the network has IPv6.
    pub ipv6: Option<(Ipv6Addr, u8)>,
    /// The DNS domain of the machines on it.
    pub domain: Option<String>,
    pub autostart: bool,
}

impl NetworkSpec {
    /// libvirt's own default network, as a fresh libvirt install makes it: "default",
    /// NAT through any card, 192.168.122.1/24 with DHCP on .2 to .254, started with the host.
    pub fn default_nat() -> Self {
        Self {
            name: "default".into(),
            forward: ForwardMode::Nat { device: None },
            ipv4: Ipv4Subnet {
                address: Ipv4Addr::new(192, 168, 122, 1),
                prefix: 24,
            },
            dhcp: Some((
                Ipv4Addr::new(192, 168, 122, 2),
                Ipv4Addr::new(192, 168, 122, 254),
            )),
            ipv6: None,
            domain: None,
            autostart: true,
        }
    }
}

/// Why a network cannot be made, or deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("{0}")]
    Libvirt(String),
    #[error("Enter a name.")]
    NoName,
    #[error("There is already a network called “{0}”.")]
    NameTaken(String),
    #[error("“{0}” is not an IPv4 address with a prefix length, such as 192.168.100.1/24.")]
    BadSubnet(String),
    #[error("The DHCP range must lie inside {subnet}, without its first and last address and the host's.")]
    RangeOutside { subnet: String },
    #[error("The DHCP range starts after it ends.")]
    RangeBackwards,
    #[error("{subnet} overlaps the host's route to {route} (via {device}).")]
    OverlapsRoute {
        subnet: String,
        route: String,
        device: String,
    },
    #[error("{subnet} overlaps {other} of virtual network “{network}”.")]
    OverlapsNetwork {
        subnet: String,
        other: String,
        network: String,
    },
    #[error("“{network}” is used by running machines: {}.", vms.join(", "))]
    InUse { network: String, vms: Vec<String> },
}

impl From<virt::error::Error> for NetworkError {
    fn from(error: virt::error::Error) -> Self {
        Self::Libvirt(describe(&error))
    }
}

/// A route of the host: where to, through which device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoute {
    pub destination: Ipv4Subnet,
    pub device: String,
}

/// The host's IPv4 routes from the text of `/proc/net/route`, without the default route
/// (every subnet is inside it).
pub fn parse_routes(text: &str) -> Vec<HostRoute> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let device = (*fields.first()?).to_owned();
            // Little-endian hex, as the kernel stores them.
            let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::from_be);
            let destination = Ipv4Addr::from(hex(fields.get(1)?)?);
            let mask = hex(fields.get(7)?)?;
            let prefix = u8::try_from(mask.count_ones()).ok()?;
            (prefix > 0).then_some(HostRoute {
                destination: Ipv4Subnet {
                    address: destination,
                    prefix,
                },
                device,
            })
        })
        .collect()
}

/// This computer's IPv4 routes (none when they cannot be read).
pub fn local_routes() -> Vec<HostRoute> {
    std::fs::read_to_string("/proc/net/route")
        .map(|text| parse_routes(&text))
        .unwrap_or_default()
}

/// An existing network's name and IPv4 subnet, to check a new one against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenSubnet {
    pub network: String,
    pub subnet: Option<Ipv4Subnet>,
}

/// Checks `spec` against the other networks and the host's routes (the routes of bridges
/// of those networks are theirs, and are named by the network's check).
pub fn check(
    spec: &NetworkSpec,
    networks: &[TakenSubnet],
    routes: &[HostRoute],
    bridges: &[String],
) -> Result<(), NetworkError> {
    let name = spec.name.trim();
    if name.is_empty() {
        return Err(NetworkError::NoName);
    }
    if networks.iter().any(|n| n.network == name) {
        return Err(NetworkError::NameTaken(name.to_owned()));
    }
    let subnet = spec.ipv4;
    if subnet.prefix > 30 || subnet.prefix < 8 {
        return Err(NetworkError::BadSubnet(format!(
            "{}/{}",
            subnet.address, subnet.prefix
        )));
    }
    if subnet.address == subnet.network() || subnet.address == subnet.broadcast() {
        return Err(NetworkError::BadSubnet(format!(
            "{}/{}",
            subnet.address, subnet.prefix
        )));
    }
    if let Some((first, last)) = spec.dhcp {
        let usable = |a: Ipv4Addr| {
            subnet.contains(a)
                && a != subnet.network()
                && a != subnet.broadcast()
                && a != subnet.address
        };
        if !usable(first) || !usable(last) {
            return Err(NetworkError::RangeOutside {
                subnet: subnet.to_cidr(),
            });
        }
        if u32::from(first) > u32::from(last) {
            return Err(NetworkError::RangeBackwards);
        }
    }
    for other in networks {
        if let Some(theirs) = other.subnet.filter(|s| s.overlaps(subnet)) {
            return Err(NetworkError::OverlapsNetwork {
                subnet: subnet.to_cidr(),
                other: theirs.to_cidr(),
                network: other.network.clone(),
            });
        }
    }
    if let Some(route) = routes
        .iter()
        .filter(|r| !bridges.contains(&r.device))
        .find(|r| r.destination.overlaps(subnet))
    {
        return Err(NetworkError::OverlapsRoute {
            subnet: subnet.to_cidr(),
            route: route.destination.to_cidr(),
            device: route.device.clone(),
        });
    }
    Ok(())
}

// ----- XML -----

#[derive(Serialize)]
#[serde(rename = "network")]
struct NetworkXml<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    forward: Option<Forward<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<Domain<'a>>,
    ip: Vec<Ip>,
}

#[derive(Serialize)]
struct Forward<'a> {
    #[serde(rename = "@mode")]
    mode: &'static str,
    #[serde(rename = "@dev", skip_serializing_if = "Option::is_none")]
    dev: Option<&'a str>,
}

#[derive(Serialize)]
struct Domain<'a> {
    #[serde(rename = "@name")]
    name: &'a str,
    #[serde(rename = "@localOnly")]
    local_only: &'static str,
}

#[derive(Serialize)]
struct Ip {
    #[serde(rename = "@family", skip_serializing_if = "Option::is_none")]
    family: Option<&'static str>,
    #[serde(rename = "@address")]
    address: String,
    #[serde(rename = "@prefix")]
    prefix: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    dhcp: Option<Dhcp>,
}

#[derive(Serialize)]
struct Dhcp {
    range: Range,
}

#[derive(Serialize)]
struct Range {
    #[serde(rename = "@start")]
    start: String,
    #[serde(rename = "@end")]
    end: String,
}

/// The XML that defines the network of `spec`.
pub fn network_xml(spec: &NetworkSpec) -> Result<String, quick_xml::SeError> {
    let forward = match &spec.forward {
        ForwardMode::Nat { device } => Some(("nat", device.as_deref())),
        ForwardMode::Routed { device } => Some(("route", device.as_deref())),
        ForwardMode::Open => Some(("open", None)),
        ForwardMode::Isolated => None,
    };
    let mut ip = vec![Ip {
        family: None,
        address: spec.ipv4.address.to_string(),
        prefix: spec.ipv4.prefix,
        dhcp: spec.dhcp.map(|(start, end)| Dhcp {
            range: Range {
                start: start.to_string(),
                end: end.to_string(),
            },
        }),
    }];
    if let Some((address, prefix)) = spec.ipv6 {
        ip.push(Ip {
            family: Some("ipv6"),
            address: address.to_string(),
            prefix,
            dhcp: None,
        });
    }
    let xml = NetworkXml {
        name: spec.name.trim(),
        forward: forward.map(|(mode, dev)| Forward { mode, dev }),
        domain: spec
            .domain
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(|name| Domain {
                name: name.trim(),
                local_only: "yes",
            }),
        ip,
    };
    let mut out = String::new();
    let mut ser = Serializer::new(&mut out);
    ser.indent(' ', 2);
    xml.serialize(ser)?;
    out.push('\n');
    Ok(out)
}

// ----- on the connection -----

/// The IPv4 subnet in a network's XML, if it has one.
fn read_subnet(desc: &str) -> Option<Ipv4Subnet> {
    let doc = roxmltree::Document::parse(desc).ok()?;
    let ip = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("ip") && n.attribute("family").is_none_or(|f| f == "ipv4"))?;
    let address: Ipv4Addr = ip.attribute("address")?.parse().ok()?;
    let prefix = match (ip.attribute("prefix"), ip.attribute("netmask")) {
        (Some(p), _) => p.parse().ok()?,
        (None, Some(mask)) => {
            u8::try_from(u32::from(mask.parse::<Ipv4Addr>().ok()?).count_ones()).ok()?
        }
        (None, None) => 24,
    };
    Some(Ipv4Subnet { address, prefix })
}

/// The forward mode in a network's XML: "nat", "route", "open", …, or "isolated".
fn read_forward(desc: &str) -> (String, Option<String>) {
    let Ok(doc) = roxmltree::Document::parse(desc) else {
        return (String::new(), None);
    };
    match doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("forward"))
    {
        Some(forward) => (
            forward.attribute("mode").unwrap_or("nat").to_owned(),
            forward.attribute("dev").map(str::to_owned),
        ),
        None => ("isolated".to_owned(), None),
    }
}

/// The other networks' names and subnets, for [`check`].
pub fn taken(conn: &Connect) -> Result<Vec<TakenSubnet>, NetworkError> {
    Ok(conn
        .list_all_networks(0)?
        .iter()
        .filter_map(|n| {
            Some(TakenSubnet {
                network: n.name().ok()?,
                subnet: n.xml_desc(0).ok().as_deref().and_then(read_subnet),
            })
        })
        .collect())
}

/// Checks `spec` (against this computer's routes too when `local`), then defines, starts
/// and (if asked) marks the network autostart; a step that fails undoes the ones before.
pub fn create(conn: &Connect, spec: &NetworkSpec, local: bool) -> Result<(), NetworkError> {
    let networks = taken(conn)?;
    let bridges: Vec<String> = conn
        .list_all_networks(0)?
        .iter()
        .filter_map(|n| n.bridge_name().ok())
        .collect();
    let routes = if local { local_routes() } else { Vec::new() };
    check(spec, &networks, &routes, &bridges)?;
    let xml = network_xml(spec).map_err(|e| NetworkError::Libvirt(e.to_string()))?;
    tracing::info!("defining virtual network {:?}", spec.name);
    let net = conn.define_network_xml(&xml)?;
    let made = net.create().and_then(|()| {
        if spec.autostart {
            net.set_autostart(true)
        } else {
            Ok(())
        }
    });
    if let Err(e) = made {
        if net.is_active().unwrap_or(false) {
            let _ = net.destroy();
        }
        let _ = net.undefine();
        return Err(e.into());
    }
    Ok(())
}

/// A DHCP lease of a network and the machine that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub address: String,
    pub mac: String,
    /// The machine of this connection with a card of that MAC address on the network;
    /// `None` for another client (its own name is then in `hostname`).
    pub vm: Option<String>,
    pub hostname: Option<String>,
}

/// What the details of one network show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkDetails {
    pub name: String,
    pub bridge: Option<String>,
    /// "nat", "route", "open", "isolated", …
    pub forward: String,
    pub forward_device: Option<String>,
    pub subnet: Option<String>,
    pub leases: Vec<Lease>,
    /// Running machines with a card on it.
    pub running_vms: Vec<String>,
}

/// The machines with a card on network `name`: (machine, its MAC addresses there).
fn machines_on(
    conn: &Connect,
    name: &str,
    flags: u32,
) -> Vec<(virt::domain::Domain, String, Vec<String>)> {
    conn.list_all_domains(flags)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|domain| {
            let desc = domain.xml_desc(0).ok()?;
            let doc = roxmltree::Document::parse(&desc).ok()?;
            let macs: Vec<String> = doc
                .descendants()
                .filter(|n| n.has_tag_name("interface") && n.attribute("type") == Some("network"))
                .filter(|n| {
                    n.children()
                        .any(|c| c.has_tag_name("source") && c.attribute("network") == Some(name))
                })
                .filter_map(|n| {
                    n.children()
                        .find(|c| c.has_tag_name("mac"))?
                        .attribute("address")
                        .map(str::to_lowercase)
                })
                .collect();
            let vm = domain.name().ok()?;
            (!macs.is_empty()).then_some((domain, vm, macs))
        })
        .collect()
}

/// The details of network `name`: bridge, forward mode, subnet and its DHCP server's
/// leases, each with the machine that holds it when it is one of this connection's. Blocks.
pub fn details(conn: &Connect, name: &str) -> Result<NetworkDetails, NetworkError> {
    let net = conn.lookup_network_by_name(name)?;
    let desc = net.xml_desc(0)?;
    let (forward, forward_device) = read_forward(&desc);
    let running = machines_on(conn, name, sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    let holders: Vec<(String, Vec<String>)> = machines_on(conn, name, 0)
        .into_iter()
        .map(|(_, vm, macs)| (vm, macs))
        .collect();
    let mut leases: Vec<Lease> = ffi::network_dhcp_leases(&net)?
        .into_iter()
        .map(|lease| {
            let mac = lease.mac.unwrap_or_default().to_lowercase();
            let vm = holders
                .iter()
                .find(|(_, macs)| macs.contains(&mac))
                .map(|(vm, _)| vm.clone());
            Lease {
                address: format!("{}/{}", lease.address, lease.prefix),
                mac,
                vm,
                hostname: lease.hostname,
            }
        })
        .collect();
    leases.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(NetworkDetails {
        name: name.to_owned(),
        bridge: net.bridge_name().ok(),
        forward,
        forward_device,
        subnet: read_subnet(&desc).map(Ipv4Subnet::to_cidr),
        leases,
        running_vms: running.into_iter().map(|(_, vm, _)| vm).collect(),
    })
}

/// Stops and forgets network `name`, unless running machines use it. Blocks.
pub fn delete(conn: &Connect, name: &str) -> Result<(), NetworkError> {
    let net = conn.lookup_network_by_name(name)?;
    let mut vms: Vec<String> = machines_on(conn, name, sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        .into_iter()
        .map(|(_, vm, _)| vm)
        .collect();
    if !vms.is_empty() {
        vms.sort();
        return Err(NetworkError::InUse {
            network: name.to_owned(),
            vms,
        });
    }
    if net.is_active()? {
        net.destroy()?;
    }
    if net.is_persistent()? {
        net.undefine()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(text: &str) -> Ipv4Subnet {
        Ipv4Subnet::parse(text).unwrap()
    }

    fn spec(ip: &str, dhcp: Option<(&str, &str)>) -> NetworkSpec {
        NetworkSpec {
            name: "lab".into(),
            forward: ForwardMode::Isolated,
            ipv4: subnet(ip),
            dhcp: dhcp.map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap())),
            ipv6: None,
            domain: None,
            autostart: false,
        }
    }

    #[test]
    fn the_default_nat_network_is_libvirts_own() {
        let default = NetworkSpec::default_nat();
        assert_eq!(check(&default, &[], &[], &[]), Ok(()));
        assert_eq!(
            network_xml(&default).unwrap(),
            "<network>\n  <name>default</name>\n  <forward mode=\"nat\"/>\n  \
             <ip address=\"192.168.122.1\" prefix=\"24\">\n    <dhcp>\n      \
             <range start=\"192.168.122.2\" end=\"192.168.122.254\"/>\n    </dhcp>\n  \
             </ip>\n</network>\n"
        );
    }

    #[test]
    fn subnets_contain_and_overlap() {
        let lab = subnet("192.168.100.1/24");
        assert_eq!(lab.to_cidr(), "192.168.100.0/24");
        assert!(lab.contains("192.168.100.254".parse().unwrap()));
        assert!(!lab.contains("192.168.101.1".parse().unwrap()));
        assert!(lab.overlaps(subnet("192.168.0.0/16")));
        assert!(subnet("192.168.0.0/16").overlaps(lab));
        assert!(!lab.overlaps(subnet("192.168.101.1/24")));
        assert_eq!(Ipv4Subnet::parse("10.0.0.1/33"), None);
        assert_eq!(Ipv4Subnet::parse("ten"), None);
    }

    #[test]
    fn the_kernel_route_table_is_read() {
        let text =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(
            parse_routes(text),
            vec![HostRoute {
                destination: subnet("192.0.2.0/24"),
                device: "eth0".into()
            }]
        );
    }

    #[test]
    fn ranges_and_overlaps_are_refused_with_what_they_clash_with() {
        let routes = vec![HostRoute {
            destination: subnet("192.0.2.0/24"),
            device: "eth0".into(),
        }];
        let nets = vec![TakenSubnet {
            network: "default".into(),
            subnet: Some(subnet("192.168.122.1/24")),
        }];
        let ok = spec(
            "192.168.100.1/24",
            Some(("192.168.100.2", "192.168.100.254")),
        );
        assert_eq!(check(&ok, &nets, &routes, &[]), Ok(()));
        assert_eq!(
            check(&spec("192.0.2.129/25", None), &nets, &routes, &[]),
            Err(NetworkError::OverlapsRoute {
                subnet: "192.0.2.128/25".into(),
                route: "192.0.2.0/24".into(),
                device: "eth0".into()
            })
        );
        let clash = check(&spec("192.168.122.1/24", None), &nets, &routes, &[]);
        assert_eq!(
            clash.unwrap_err().to_string(),
            "192.168.122.0/24 overlaps 192.168.122.0/24 of virtual network “default”."
        );
        assert!(matches!(
            check(
                &spec("192.168.100.1/24", Some(("192.168.100.2", "192.168.101.9"))),
                &nets,
                &routes,
                &[]
            ),
            Err(NetworkError::RangeOutside { .. })
        ));
        assert_eq!(
            check(
                &spec("192.168.100.1/24", Some(("192.168.100.9", "192.168.100.2"))),
                &nets,
                &routes,
                &[]
            ),
            Err(NetworkError::RangeBackwards)
        );
        let mut taken = ok.clone();
        taken.name = "default".into();
        assert_eq!(
            check(&taken, &nets, &routes, &[]),
            Err(NetworkError::NameTaken("default".into()))
        );
    }

    #[test]
    fn network_xml_of_a_nat_network_with_dhcp_ipv6_and_a_domain() {
        let mut nat = spec(
            "192.168.100.1/24",
            Some(("192.168.100.2", "192.168.100.254")),
        );
        nat.forward = ForwardMode::Nat {
            device: Some("eth1".into()),
        };
        nat.ipv6 = Some(("fd00:1::1".parse().unwrap(), 64));
        nat.domain = Some("lab".into());
        assert_eq!(
            network_xml(&nat).unwrap(),
            "<network>\n  <name>lab</name>\n  <forward mode=\"nat\" dev=\"eth1\"/>\n  <domain name=\"lab\" localOnly=\"yes\"/>\n  <ip address=\"192.168.100.1\" prefix=\"24\">\n    <dhcp>\n      <range start=\"192.168.100.2\" end=\"192.168.100.254\"/>\n    </dhcp>\n  </ip>\n  <ip family=\"ipv6\" address=\"fd00:1::1\" prefix=\"64\"/>\n</network>\n"
        );
        let isolated = network_xml(&spec("10.9.0.1/24", None)).unwrap();
        assert!(!isolated.contains("forward"), "{isolated}");
        assert_eq!(read_forward(&isolated).0, "isolated");
        assert_eq!(read_subnet(&isolated), Some(subnet("10.9.0.1/24")));
    }
}
