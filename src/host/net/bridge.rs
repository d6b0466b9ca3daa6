//! Create a bridge from a NIC (its IP configuration moves to the bridge, it joins the
//! bridge) and delete one (the configuration moves back). Both are transactional: the
//! state before is recorded first, a failing step restores it at once, and a successful
//! change stays pending until confirmed — the "Keep this configuration?" countdown, which
//! the UI drives and which restores the old state when it runs out.
//!
//! When NetworkManager manages the NIC (or the bridge), the change goes through it
//! ([`nm`]): a NetworkManager checkpoint replaces the recorded state, and NetworkManager
//! rolls back by itself when the countdown runs out even if this program is gone; the
//! profiles it saves survive a reboot. Otherwise the change is made at runtime with
//! iproute2 and does not survive a reboot.

use std::time::{Duration, Instant};

use super::plan::{plan, rollback, Snapshot};
use super::state::{read_links, Link};
use super::{nm, NetError, Runner};

/// The bridge name offered by default, as in the tutorial (`virsh iface-bridge ens32 br0`).
pub const DEFAULT_BRIDGE: &str = "br0";

/// How long the user has to confirm a change before it is undone.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(30);

/// The longest interface name Linux takes (`IFNAMSIZ` − 1).
const MAX_NAME: usize = 15;

/// What bridge to make from which NIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeRequest {
    pub nic: String,
    pub name: String,
    /// Spanning tree protocol; off by default, as in the tutorial (`--no-stp`).
    pub stp: bool,
}

impl BridgeRequest {
    /// A bridge called [`DEFAULT_BRIDGE`] without STP.
    pub fn new(nic: &str) -> BridgeRequest {
        BridgeRequest {
            nic: nic.to_owned(),
            name: DEFAULT_BRIDGE.to_owned(),
            stp: false,
        }
    }
}

/// A network change that is made but not yet confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    undo: Undo,
    /// When the change is undone unless confirmed.
    pub deadline: Instant,
}

/// How a pending change is undone.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Undo {
    /// iproute2: go back to the state before the change.
    Snapshot(Snapshot),
    /// NetworkManager: roll its checkpoint back (it does so by itself at the deadline).
    Checkpoint(nm::Checkpoint),
}

impl From<nm::Checkpoint> for PendingChange {
    fn from(checkpoint: nm::Checkpoint) -> PendingChange {
        PendingChange {
            deadline: checkpoint.deadline,
            undo: Undo::Checkpoint(checkpoint),
        }
    }
}

impl PendingChange {
    /// Time left to confirm.
    pub fn remaining(&self, now: Instant) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// Whether the countdown has run out: call [`PendingChange::expire`].
    pub fn is_due(&self, now: Instant) -> bool {
        now >= self.deadline
    }

    /// Whether NetworkManager made the change (and undoes it by itself at the deadline).
    pub fn through_network_manager(&self) -> bool {
        matches!(self.undo, Undo::Checkpoint(_))
    }

    /// Keeps the change. Through NetworkManager this fails when NetworkManager has rolled
    /// back already ([`NetError::NmExpired`]).
    pub fn confirm(self, runner: &Runner) -> Result<(), NetError> {
        tracing::info!("network change confirmed");
        match self.undo {
            Undo::Snapshot(_) => Ok(()),
            Undo::Checkpoint(c) => c.confirm(runner),
        }
    }

    /// Not confirmed in time (or refused): restores the state before the change.
    pub fn expire(self, runner: &Runner) -> Result<(), NetError> {
        tracing::info!("network change not confirmed; restoring the previous state");
        match self.undo {
            Undo::Snapshot(s) => rollback(runner, &s),
            Undo::Checkpoint(c) => c.rollback(runner),
        }
    }
}

/// Checks a new bridge name against the kernel's rules and the links that exist.
pub fn validate_bridge_name(name: &str, links: &[Link]) -> Result<(), NetError> {
    let invalid = |reason: &str| NetError::InvalidName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.len() > MAX_NAME {
        return Err(invalid("it is longer than 15 characters"));
    }
    if name == "." || name == ".." {
        return Err(invalid("it is reserved"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(invalid("use only letters, digits, “_”, “.” and “-”"));
    }
    if links.iter().any(|l| l.name == name) {
        return Err(NetError::NameTaken(name.to_owned()));
    }
    Ok(())
}

/// Makes bridge `request.name` from `request.nic`: the NIC's addresses and routes move to
/// the bridge (which takes the NIC's MAC address, so DHCP leases and neighbours stay
/// valid), the NIC joins it, both come up. Nothing changes when a check fails; a failing
/// step restores the previous state.
pub fn create_bridge(runner: &Runner, request: &BridgeRequest) -> Result<PendingChange, NetError> {
    let links = read_links(runner)?;
    validate_bridge_name(&request.name, &links)?;
    let nic = find(&links, &request.nic)?;
    if nic.is_bridge() {
        return Err(NetError::IsABridge(nic.name.clone()));
    }
    if let Some(master) = &nic.master {
        return Err(NetError::AlreadyBridged {
            nic: nic.name.clone(),
            bridge: master.clone(),
        });
    }
    if nic.link_type != "ether" {
        return Err(NetError::NotEthernet(nic.name.clone()));
    }
    if nm::manages(runner, &nic.name) {
        return nm::create_bridge(runner, request, nic).map(PendingChange::from);
    }

    let before = Snapshot {
        links: vec![nic.clone()],
        absent: vec![request.name.clone()],
    };
    let bridge = Link {
        name: request.name.clone(),
        kind: Some("bridge".to_owned()),
        stp: Some(request.stp),
        master: None,
        up: true,
        physical: false,
        ..nic.clone()
    };
    let member = Link {
        master: Some(request.name.clone()),
        up: true,
        addresses: Vec::new(),
        routes: Vec::new(),
        ..nic.clone()
    };
    let target = Snapshot {
        links: vec![bridge, member],
        absent: Vec::new(),
    };
    transition(runner, before, &target, &links)
}

/// Deletes `bridge` and gives its addresses and routes back to the NIC that joined it
/// (its one member that is not a tap). Virtual machine taps are left unattached.
pub fn delete_bridge(runner: &Runner, bridge: &str) -> Result<PendingChange, NetError> {
    let links = read_links(runner)?;
    let br = find(&links, bridge)?;
    if !br.is_bridge() {
        return Err(NetError::NotABridge(bridge.to_owned()));
    }
    let members: Vec<&Link> = links
        .iter()
        .filter(|l| l.master.as_deref() == Some(bridge))
        .collect();
    let uplinks: Vec<&&Link> = members
        .iter()
        .filter(|l| l.kind.as_deref() != Some("tun"))
        .collect();
    let uplink = match uplinks.as_slice() {
        [] => None,
        [nic] => Some(**nic),
        many => {
            return Err(NetError::SeveralUplinks {
                bridge: bridge.to_owned(),
                nics: many.iter().map(|l| l.name.clone()).collect(),
            })
        }
    };
    if nm::owns(runner, bridge) {
        return nm::delete_bridge(runner, bridge, uplink).map(PendingChange::from);
    }
    let target_links = uplink
        .map(|nic| Link {
            master: None,
            up: true,
            addresses: br.addresses.clone(),
            routes: br.routes.clone(),
            ..nic.clone()
        })
        .into_iter()
        .collect();
    let before = Snapshot {
        links: std::iter::once(br).chain(members).cloned().collect(),
        absent: Vec::new(),
    };
    let target = Snapshot {
        links: target_links,
        absent: vec![bridge.to_owned()],
    };
    transition(runner, before, &target, &links)
}

fn find<'a>(links: &'a [Link], name: &str) -> Result<&'a Link, NetError> {
    links
        .iter()
        .find(|l| l.name == name)
        .ok_or_else(|| NetError::NoSuchLink(name.to_owned()))
}

/// Goes from `current` to `target`; on failure back to `before` at once.
fn transition(
    runner: &Runner,
    before: Snapshot,
    target: &Snapshot,
    current: &[Link],
) -> Result<PendingChange, NetError> {
    match runner.ip_batch(&plan(target, current)) {
        Ok(()) => Ok(PendingChange {
            undo: Undo::Snapshot(before),
            deadline: Instant::now() + CONFIRM_WITHIN,
        }),
        Err(failure) => match rollback(runner, &before) {
            Ok(()) => Err(NetError::RolledBack(Box::new(failure))),
            Err(second) => Err(NetError::RollbackFailed {
                failure: Box::new(failure),
                rollback: Box::new(second),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_names_follow_the_kernel_rules() {
        let ok = |n: &str| validate_bridge_name(n, &[]).is_ok();
        assert!(ok("br0") && ok("br-lan.1_x") && ok("abcdefghijklmno"));
        assert!(!ok("") && !ok("abcdefghijklmnop") && !ok("br 0") && !ok("br/0"));
        assert!(!ok("..") && !ok("brü") && !ok("br0\nallow all"));
        let e = validate_bridge_name("abcdefghijklmnop", &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "“abcdefghijklmnop” cannot be a bridge name: it is longer than 15 characters."
        );
    }
}
