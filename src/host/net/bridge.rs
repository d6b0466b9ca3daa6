//! Create a bridge from a NIC (its IP configuration moves to the bridge, it joins the
//! bridge) and delete one (the configuration moves back). Both are transactional: the
//! state before is recorded first, a failing step restores it at once, and a successful
//! change stays pending until confirmed — the "Keep this configuration?" countdown, which
//! the UI drives and which restores the old state when it runs out.
//!
//! The change is made at runtime with iproute2; it does not survive a reboot.

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
    /// The state before the change.
    pub snapshot: Snapshot,
    /// When the change is undone unless confirmed.
    pub deadline: Instant,
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

    /// Keeps the change.
    pub fn confirm(self) {
        tracing::info!("network change confirmed");
    }

    /// Not confirmed in time (or refused): restores the state before the change.
    pub fn expire(self, runner: &Runner) -> Result<(), NetError> {
        tracing::info!("network change not confirmed; restoring the previous state");
        rollback(runner, &self.snapshot)
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
    refuse_network_manager(runner, &nic.name)?;

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
    let target_links = match uplinks.as_slice() {
        [] => Vec::new(),
        [nic] => {
            refuse_network_manager(runner, &nic.name)?;
            vec![Link {
                master: None,
                up: true,
                addresses: br.addresses.clone(),
                routes: br.routes.clone(),
                ..(**nic).clone()
            }]
        }
        many => {
            return Err(NetError::SeveralUplinks {
                bridge: bridge.to_owned(),
                nics: many.iter().map(|l| l.name.clone()).collect(),
            })
        }
    };
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

fn refuse_network_manager(runner: &Runner, nic: &str) -> Result<(), NetError> {
    if nm::manages(runner, nic) {
        return Err(NetError::NetworkManager(nic.to_owned()));
    }
    Ok(())
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
            snapshot: before,
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
