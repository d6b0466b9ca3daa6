//! Create a bridge from a NIC (its IP configuration moves to the bridge, it joins the
//! bridge) and delete one (the configuration moves back). Both are transactional: the
//! state before is recorded first, a failing step restores it at once, and a successful
//! change stays pending until kept — the "Keep this configuration?" countdown — and is
//! undone otherwise, even when this program is gone.
//!
//! When NetworkManager manages the NIC (or the bridge), the change goes through it
//! ([`nm`]): a NetworkManager checkpoint replaces the recorded state, and NetworkManager
//! rolls back by itself when the countdown runs out; the profiles it saves survive a
//! reboot. Otherwise the privileged helper ([`super::privileged`], one process per change)
//! makes the change at runtime with iproute2 and rolls it back by itself unless told to
//! keep it; it does not survive a reboot.

use std::time::{Duration, Instant};

use super::plan::Snapshot;
use super::protocol::{check_name, check_new_bridge_name, Change, Report};
use super::spawn::Helper;
use super::state::{read_links, Link, MADE_HERE};
use super::{nm, NetError, Runner};

/// The bridge name offered by default, as in the tutorial (`virsh iface-bridge ens32 br0`).
pub const DEFAULT_BRIDGE: &str = "br0";

/// How long the user has to confirm a change before it is undone.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(30);

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

/// A network change that is made but not yet kept. Dropping it undoes the change, as
/// [`PendingChange::revert`] does, without waiting for the result.
#[derive(Debug)]
pub struct PendingChange {
    undo: Undo,
    /// When the change is undone unless kept. The helper (or NetworkManager) holds the
    /// deadline that counts; this one is a moment later.
    pub deadline: Instant,
}

/// How a pending change is undone.
#[derive(Debug)]
enum Undo {
    /// iproute2: the helper process that made the change undoes it unless told `keep`.
    Helper(Helper),
    /// NetworkManager: roll its checkpoint back (it does so by itself at the deadline).
    Checkpoint(nm::Checkpoint, Runner),
    /// Kept or reverted already.
    Settled,
}

impl PendingChange {
    fn checkpoint(checkpoint: nm::Checkpoint, runner: &Runner) -> PendingChange {
        PendingChange {
            deadline: checkpoint.deadline,
            undo: Undo::Checkpoint(checkpoint, runner.clone()),
        }
    }

    /// Starts the helper for `change` and waits until it has made it (or refused, or
    /// failed and restored the state before).
    fn through_helper(runner: &Runner, change: Change) -> Result<PendingChange, NetError> {
        let mut helper = Helper::start(runner, change)?;
        match helper.next()? {
            Report::Applied { countdown_secs, .. } => Ok(PendingChange {
                undo: Undo::Helper(helper),
                deadline: Instant::now() + Duration::from_secs(countdown_secs),
            }),
            Report::Refused { error } => Err(error),
            Report::FailedAndRestored { error, .. } => Err(NetError::RolledBack(Box::new(error))),
            Report::RestoreFailed {
                error,
                restore_error,
            } => Err(NetError::RollbackFailed {
                failure: Box::new(error),
                rollback: Box::new(restore_error),
            }),
            other => Err(unexpected(&other)),
        }
    }

    /// Time left to confirm.
    pub fn remaining(&self, now: Instant) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// Whether the countdown has run out: the change is being undone (call
    /// [`PendingChange::revert`] to wait for it).
    pub fn is_due(&self, now: Instant) -> bool {
        now >= self.deadline
    }

    /// Whether NetworkManager made the change (and undoes it by itself at the deadline).
    pub fn through_network_manager(&self) -> bool {
        matches!(self.undo, Undo::Checkpoint(..))
    }

    /// Keeps the change. Fails with [`NetError::Expired`] (or
    /// [`NetError::NmExpired`]) when the countdown ran out and the change is undone.
    pub fn keep(mut self) -> Result<(), NetError> {
        tracing::info!("network change kept");
        match std::mem::replace(&mut self.undo, Undo::Settled) {
            Undo::Helper(mut helper) => {
                helper.say("keep");
                match helper.next()? {
                    Report::Kept => Ok(()),
                    Report::RolledBack { .. } => Err(NetError::Expired),
                    Report::RollbackFailed { error, .. } => Err(NetError::RollbackFailed {
                        failure: Box::new(NetError::Expired),
                        rollback: Box::new(error),
                    }),
                    other => Err(unexpected(&other)),
                }
            }
            Undo::Checkpoint(c, runner) => c.confirm(&runner),
            Undo::Settled => Ok(()),
        }
    }

    /// Undoes the change now (or waits for the undoing that the countdown started).
    /// Returns how many `ip` steps restoring took: 0 when nothing had to change back, and
    /// through NetworkManager, which restores by itself.
    pub fn revert(mut self) -> Result<usize, NetError> {
        tracing::info!("network change not kept; restoring the previous state");
        match std::mem::replace(&mut self.undo, Undo::Settled) {
            Undo::Helper(mut helper) => {
                helper.say("revert");
                match helper.next()? {
                    Report::RolledBack { steps, .. } => Ok(steps),
                    Report::RollbackFailed { error, .. } => Err(error),
                    other => Err(unexpected(&other)),
                }
            }
            Undo::Checkpoint(c, runner) => c.rollback(&runner).map(|()| 0),
            Undo::Settled => Ok(0),
        }
    }
}

impl Drop for PendingChange {
    /// Nobody keeps the change: the helper sees the end of its input and rolls back;
    /// NetworkManager's checkpoint is rolled back on a thread of its own.
    fn drop(&mut self) {
        match std::mem::replace(&mut self.undo, Undo::Settled) {
            Undo::Helper(helper) => drop(helper),
            Undo::Checkpoint(c, runner) => {
                std::thread::spawn(move || {
                    if let Err(e) = c.rollback(&runner) {
                        tracing::error!("rolling back an abandoned network change: {e}");
                    }
                });
            }
            Undo::Settled => {}
        }
    }
}

fn unexpected(report: &Report) -> NetError {
    NetError::HelperFailed(format!("it reported {} out of turn", report.to_line()))
}

/// Checks a new bridge name against the kernel's rules and the links that exist.
pub fn validate_bridge_name(name: &str, links: &[Link]) -> Result<(), NetError> {
    check_new_bridge_name(name)?;
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
    // The helper checks again; asking first spares a password prompt for nothing.
    let (_, nic) = plan_create(&links, request)?;
    if nm::manages(runner, &nic.name)? {
        return nm::create_bridge(runner, request, nic)
            .map(|c| PendingChange::checkpoint(c, runner));
    }
    PendingChange::through_helper(
        runner,
        Change::CreateBridge {
            nic: request.nic.clone(),
            bridge: request.name.clone(),
            stp: request.stp,
        },
    )
}

/// Deletes `bridge` and gives its addresses and routes back to the NIC that joined it
/// (its one member that is not a tap). Virtual machine taps are left unattached.
pub fn delete_bridge(runner: &Runner, bridge: &str) -> Result<PendingChange, NetError> {
    let links = read_links(runner)?;
    let (_, uplink) = plan_delete(&links, bridge)?;
    if nm::owns(runner, bridge)? {
        return nm::delete_bridge(runner, bridge, uplink)
            .map(|c| PendingChange::checkpoint(c, runner));
    }
    PendingChange::through_helper(
        runner,
        Change::DeleteBridge {
            bridge: bridge.to_owned(),
        },
    )
}

/// The state before and after a change: what the helper records and what it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub before: Snapshot,
    pub target: Snapshot,
}

/// Checks `request` against `links` and plans it; also returns the NIC.
pub fn plan_create<'a>(
    links: &'a [Link],
    request: &BridgeRequest,
) -> Result<(Transition, &'a Link), NetError> {
    check_name(&request.nic)?;
    validate_bridge_name(&request.name, links)?;
    let nic = find(links, &request.nic)?;
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
    let before = Snapshot {
        links: vec![nic.clone()],
        absent: vec![request.name.clone()],
    };
    let bridge = Link {
        name: request.name.clone(),
        kind: Some("bridge".to_owned()),
        stp: Some(request.stp),
        alias: Some(MADE_HERE.to_owned()),
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
    Ok((Transition { before, target }, nic))
}

/// Checks that `bridge` can be deleted and plans it; also returns the NIC that gets the
/// bridge's addresses and routes back, if it has one.
pub fn plan_delete<'a>(
    links: &'a [Link],
    bridge: &str,
) -> Result<(Transition, Option<&'a Link>), NetError> {
    check_name(bridge)?;
    let br = find(links, bridge)?;
    if !br.is_bridge() {
        return Err(NetError::NotABridge(bridge.to_owned()));
    }
    let members: Vec<&Link> = links
        .iter()
        .filter(|l| l.master.as_deref() == Some(bridge))
        .collect();
    let uplinks = uplinks(links, bridge);
    let uplink = match uplinks.as_slice() {
        [] => None,
        [nic] => Some(*nic),
        many => {
            return Err(NetError::SeveralUplinks {
                bridge: bridge.to_owned(),
                nics: many.iter().map(|l| l.name.clone()).collect(),
            })
        }
    };
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
    Ok((Transition { before, target }, uplink))
}

/// The members of `bridge` that are not taps of virtual machines: the network cards (or,
/// in a namespace, veth ends) that joined it.
pub fn uplinks<'a>(links: &'a [Link], bridge: &str) -> Vec<&'a Link> {
    links
        .iter()
        .filter(|l| l.master.as_deref() == Some(bridge) && l.kind.as_deref() != Some("tun"))
        .collect()
}

fn find<'a>(links: &'a [Link], name: &str) -> Result<&'a Link, NetError> {
    links
        .iter()
        .find(|l| l.name == name)
        .ok_or_else(|| NetError::NoSuchLink(name.to_owned()))
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
