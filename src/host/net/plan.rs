//! From the links as they are to the links as they should be, in `ip -batch` lines. The
//! same planner creates a bridge, deletes one and rolls either back: each is a
//! [`Snapshot`] to reach.

use super::state::{read_links, Address, Link, Route};
use super::{NetError, Runner};

/// A recorded (or wanted) state of some links: each of `links` as given — kind for
/// bridges, bridge master, up or down, addresses, routes — and those named in `absent`
/// not there at all. Links not mentioned are left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub links: Vec<Link>,
    pub absent: Vec<String>,
}

/// Puts the links back as `snapshot` recorded them, comparing first: returns the number of
/// steps it took, 0 (and no command run) when they are as recorded already.
pub fn rollback(runner: &Runner, snapshot: &Snapshot) -> Result<usize, NetError> {
    let current = read_links(runner)?;
    let lines = plan(snapshot, &current);
    runner.ip_batch(&lines)?;
    Ok(lines.len())
}

/// The `ip -batch` lines that turn `current` into `target`, none when they are equal.
/// Order matters: routes and addresses leave the old links before bridges are deleted or
/// made, links join their bridge, then addresses arrive, links come up, and routes (which
/// need both) come last. A route already in place stays untouched unless its link lost an
/// address, changed bridge or went up or down (the kernel may have dropped it then).
pub fn plan(target: &Snapshot, current: &[Link]) -> Vec<String> {
    let absent = |name: &str| target.absent.iter().any(|a| a == name);
    // A link as it will be once the absent links are deleted.
    let now = |name: &str| -> Option<Link> {
        let mut link = current
            .iter()
            .find(|l| l.name == name && !absent(name))?
            .clone();
        if link.master.as_deref().is_some_and(absent) {
            link.master = None;
        }
        Some(link)
    };
    // Each target link paired with its present state; a bridge that is missing is made
    // (and starts empty, down, without a master); another missing link cannot be.
    let pairs: Vec<(&Link, Option<Link>)> = target
        .links
        .iter()
        .filter_map(|t| match now(&t.name) {
            Some(c) => Some((t, Some(c))),
            None if t.is_bridge() => Some((t, None)),
            None => {
                tracing::warn!("{} is gone and cannot be restored", t.name);
                None
            }
        })
        .collect();

    let mut lines = Vec::new();
    for (t, c) in pairs.iter().filter_map(|(t, c)| Some((t, c.as_ref()?))) {
        for r in c.routes.iter().filter(|r| !t.routes.contains(r)) {
            lines.push(format!("route del {} dev {}", route_spec(r), t.name));
        }
        // Newest first, so that removing a primary IPv4 address never takes a
        // secondary one with it before its own line.
        for a in c
            .addresses
            .iter()
            .rev()
            .filter(|a| !t.addresses.contains(a))
        {
            lines.push(format!(
                "addr del {}/{} dev {}",
                a.local, a.prefixlen, t.name
            ));
        }
    }
    for name in target
        .absent
        .iter()
        .filter(|n| current.iter().any(|l| &l.name == *n))
    {
        lines.push(format!("link del dev {name}"));
    }
    for (t, c) in &pairs {
        let stp = u8::from(t.stp == Some(true));
        match c {
            None => {
                lines.push(format!("link add {} type bridge stp_state {stp}", t.name));
                lines.push(format!("link set dev {} address {}", t.name, t.mac));
            }
            Some(c) if t.is_bridge() && c.stp != t.stp => {
                lines.push(format!(
                    "link set dev {} type bridge stp_state {stp}",
                    t.name
                ));
            }
            Some(_) => {}
        }
        // An alias is set, never cleared: links without one in the target keep theirs.
        if let Some(alias) = &t.alias {
            if c.as_ref().and_then(|c| c.alias.as_ref()) != Some(alias) {
                lines.push(format!("link set dev {} alias {alias}", t.name));
            }
        }
    }
    for (t, c) in &pairs {
        if c.as_ref().and_then(|c| c.master.as_ref()) != t.master.as_ref() {
            lines.push(match &t.master {
                Some(m) => format!("link set dev {} master {m}", t.name),
                None => format!("link set dev {} nomaster", t.name),
            });
        }
    }
    for (t, c) in &pairs {
        let had = |a: &Address| c.as_ref().is_some_and(|c| c.addresses.contains(a));
        for a in t.addresses.iter().filter(|a| !had(a)) {
            lines.push(add_address(a, &t.name));
        }
    }
    for (t, c) in &pairs {
        if c.as_ref().map(|c| c.up) != Some(t.up) {
            let state = if t.up { "up" } else { "down" };
            lines.push(format!("link set dev {} {state}", t.name));
        }
    }
    for (t, c) in &pairs {
        let kept = |r: &Route| {
            c.as_ref()
                .is_some_and(|c| c.routes.contains(r) && !disturbed(t, c))
        };
        for r in t.routes.iter().filter(|r| !kept(r)) {
            lines.push(format!("route replace {} dev {}", route_spec(r), t.name));
        }
    }
    lines
}

/// Whether going from `current` to `target` may cost the link routes it has: it loses an
/// address, joins or leaves a bridge, or goes up or down.
fn disturbed(target: &Link, current: &Link) -> bool {
    current.master != target.master
        || current.up != target.up
        || current
            .addresses
            .iter()
            .any(|a| !target.addresses.contains(a))
}

/// `addr add` of an address that moves from another link of this host: IPv6 skips
/// duplicate address detection, since the address was ours a moment ago.
fn add_address(a: &Address, dev: &str) -> String {
    let mut line = format!("addr add {}/{}", a.local, a.prefixlen);
    if let Some(brd) = &a.broadcast {
        line += &format!(" brd {brd}");
    }
    line += &format!(" dev {dev}");
    if a.v6 {
        line += " nodad";
    }
    line
}

/// A route's destination and attributes as `ip route` takes them (without `dev`).
fn route_spec(r: &Route) -> String {
    let dst = if r.v6 && r.dst == "default" {
        "::/0"
    } else {
        &r.dst
    };
    let mut spec = dst.to_owned();
    let attrs = [
        ("via", r.gateway.clone()),
        ("proto", r.protocol.clone()),
        ("metric", r.metric.map(|m| m.to_string())),
        ("scope", r.scope.clone()),
        ("src", r.prefsrc.clone()),
    ];
    for (key, value) in attrs {
        if let Some(v) = value {
            spec += &format!(" {key} {v}");
        }
    }
    if r.onlink {
        spec += " onlink";
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic() -> Link {
        Link {
            name: "eth9".into(),
            kind: None,
            link_type: "ether".into(),
            mac: "02:00:00:00:00:09".into(),
            master: None,
            up: true,
            operstate: "UP".into(),
            physical: true,
            stp: None,
            alias: None,
            addresses: vec![
                Address {
                    v6: false,
                    local: "10.0.0.2".into(),
                    prefixlen: 24,
                    broadcast: Some("10.0.0.255".into()),
                },
                Address {
                    v6: true,
                    local: "fd00::2".into(),
                    prefixlen: 64,
                    broadcast: None,
                },
            ],
            routes: vec![
                Route {
                    v6: false,
                    dst: "default".into(),
                    gateway: Some("10.0.0.1".into()),
                    protocol: Some("static".into()),
                    metric: None,
                    scope: None,
                    prefsrc: None,
                    onlink: false,
                },
                Route {
                    v6: true,
                    dst: "default".into(),
                    gateway: Some("fd00::1".into()),
                    protocol: None,
                    metric: Some(1024),
                    scope: None,
                    prefsrc: None,
                    onlink: false,
                },
            ],
        }
    }

    fn bridged() -> Snapshot {
        let nic = nic();
        let bridge = Link {
            name: "br0".into(),
            kind: Some("bridge".into()),
            stp: Some(false),
            alias: Some("virtdeck-bridge".into()),
            ..nic.clone()
        };
        let member = Link {
            master: Some("br0".into()),
            addresses: vec![],
            routes: vec![],
            ..nic
        };
        Snapshot {
            links: vec![bridge, member],
            absent: vec![],
        }
    }

    #[test]
    fn making_a_bridge_moves_addresses_and_routes_in_order() {
        assert_eq!(
            plan(&bridged(), &[nic()]),
            [
                "route del default via 10.0.0.1 proto static dev eth9",
                "route del ::/0 via fd00::1 metric 1024 dev eth9",
                "addr del fd00::2/64 dev eth9",
                "addr del 10.0.0.2/24 dev eth9",
                "link add br0 type bridge stp_state 0",
                "link set dev br0 address 02:00:00:00:00:09",
                "link set dev br0 alias virtdeck-bridge",
                "link set dev eth9 master br0",
                "addr add 10.0.0.2/24 brd 10.0.0.255 dev br0",
                "addr add fd00::2/64 dev br0 nodad",
                "link set dev br0 up",
                "route replace default via 10.0.0.1 proto static dev br0",
                "route replace ::/0 via fd00::1 metric 1024 dev br0",
            ]
        );
    }

    #[test]
    fn going_back_deletes_the_bridge_and_restores_the_nic() {
        let before = Snapshot {
            links: vec![nic()],
            absent: vec!["br0".into()],
        };
        assert_eq!(
            plan(&before, &bridged().links),
            [
                "link del dev br0",
                "addr add 10.0.0.2/24 brd 10.0.0.255 dev eth9",
                "addr add fd00::2/64 dev eth9 nodad",
                "route replace default via 10.0.0.1 proto static dev eth9",
                "route replace ::/0 via fd00::1 metric 1024 dev eth9",
            ]
        );
    }

    #[test]
    fn reaching_the_present_state_takes_no_step() {
        assert_eq!(plan(&bridged(), &bridged().links), Vec::<String>::new());
        let before = Snapshot {
            links: vec![nic()],
            absent: vec!["br0".into()],
        };
        assert_eq!(plan(&before, &[nic()]), Vec::<String>::new());
    }

    #[test]
    fn only_routes_not_in_place_are_replaced() {
        let mut current = nic();
        current.routes.truncate(1);
        let target = Snapshot {
            links: vec![nic()],
            absent: vec![],
        };
        assert_eq!(
            plan(&target, &[current.clone()]),
            ["route replace ::/0 via fd00::1 metric 1024 dev eth9"]
        );
        // A link that goes up again may have lost its routes: all of them are replaced.
        current.up = false;
        assert_eq!(plan(&target, &[current]).len(), 3);
    }
}
