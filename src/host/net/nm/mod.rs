//! Bridges through NetworkManager, for NICs it manages (behind its back, it would undo
//! the change). Each change starts with a checkpoint of the devices involved, with
//! NetworkManager's own rollback after [`CONFIRM_WITHIN`]: confirming destroys the
//! checkpoint, anything else — refusing, running out, this program dying, the network
//! change cutting off a remote user — brings the previous configuration back. The
//! profiles are saved, so a confirmed change survives a reboot.
//!
//! - [`client`]: the D-Bus calls and NetworkManager's errors as sentences.
//! - [`profile`]: the bridge and port profiles.

mod client;
mod profile;

use std::time::{Duration, Instant};

use zbus::zvariant::OwnedObjectPath;

use self::client::{
    object_path, Client, Profile, CONNECTION, DEVICE, NM, NM_PATH, NONE, SETTINGS, SETTINGS_PATH,
};
use super::bridge::{BridgeRequest, CONFIRM_WITHIN};
use super::state::Link;
use super::{NetError, Runner};

/// Checkpoint flag: rolling back also deletes the profiles made after the checkpoint,
/// which takes a new bridge down with its profile. (Taking down new devices as well needs a
/// checkpoint of every device, which would touch unrelated ones.)
const DELETE_NEW_CONNECTIONS: u32 = 0x02;

/// How long a change waits for its devices to come up before it is handed over for
/// confirmation. Less than [`CONFIRM_WITHIN`], so that there is time to answer; a slow DHCP
/// server may still be answering then.
const ACTIVATION_WAIT: Duration = Duration::from_secs(15);

/// A NetworkManager checkpoint that rolls a change back unless destroyed in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    path: String,
    /// When NetworkManager rolls back by itself.
    pub deadline: Instant,
}

/// Whether NetworkManager manages interface `iface` (connected or not). NetworkManager
/// only counts for a runner that has one ([`Runner::network_manager`]); when it is not
/// running (or there is no system bus), nothing is managed. Any other failure to find
/// out is an error ([`NetError::NmUnsure`]): the change must not go around NetworkManager
/// on a guess.
pub fn manages(runner: &Runner, iface: &str) -> Result<bool, NetError> {
    let client = Client::connect(runner).map_err(|e| unsure(iface, e))?;
    let Some(client) = client else {
        return Ok(false);
    };
    managed(&client, iface).map_err(|e| unsure(iface, e))
}

/// The interfaces of `ifaces` that NetworkManager manages, asked over one connection (for
/// showing; a failure to ask counts as not managed and is logged).
pub fn managed_among<'a>(
    runner: &Runner,
    ifaces: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let client = Client::connect(runner).unwrap_or_else(|e| {
        tracing::warn!("asking NetworkManager: {e}");
        None
    });
    let Some(client) = client else {
        return Vec::new();
    };
    ifaces
        .into_iter()
        .filter(|iface| {
            managed(&client, iface).unwrap_or_else(|e| {
                tracing::warn!("asking NetworkManager about {iface}: {e}");
                false
            })
        })
        .map(str::to_owned)
        .collect()
}

/// Whether NetworkManager manages `iface`; a device it does not know is not managed.
fn managed(client: &Client, iface: &str) -> Result<bool, NetError> {
    let device = match client.device(iface) {
        Ok(device) => device,
        Err(NetError::NmNoDevice(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    client.property(&device, DEVICE, "Managed")
}

fn unsure(iface: &str, cause: NetError) -> NetError {
    NetError::NmUnsure {
        iface: iface.to_owned(),
        cause: Box::new(cause),
    }
}

/// Whether bridge `bridge` is up through a profile of NetworkManager's (not one it made up
/// for a bridge made without it): such a bridge is deleted through NetworkManager. A
/// failure to find out is an error, as for [`manages`].
pub fn owns(runner: &Runner, bridge: &str) -> Result<bool, NetError> {
    const GENERATED_OR_EXTERNAL: u32 = 0x02 | 0x08;
    let client = Client::connect(runner).map_err(|e| unsure(bridge, e))?;
    let Some(client) = client else {
        return Ok(false);
    };
    let owned = || -> Result<bool, NetError> {
        if !managed(&client, bridge)? {
            return Ok(false);
        }
        let Some((path, _)) = client.active_profile(client.device(bridge)?.as_str())? else {
            return Ok(false);
        };
        let flags: u32 = client.property(&path, CONNECTION, "Flags")?;
        Ok(flags & GENERATED_OR_EXTERNAL == 0)
    };
    owned().map_err(|e| unsure(bridge, e))
}

/// Makes bridge `request.name` from `nic` through NetworkManager: a checkpoint, a bridge
/// profile with the NIC's IP settings, a port profile for the NIC, and the bridge brought
/// up with its port. A failure rolls back at once.
pub fn create_bridge(
    runner: &Runner,
    request: &BridgeRequest,
    nic: &Link,
) -> Result<Checkpoint, NetError> {
    let client = connect(runner)?;
    let device = client.device(&nic.name)?;
    let current = client.active_profile(&device)?.map(|(_, p)| p);
    let checkpoint = checkpoint(&client, &[&device])?;
    tracing::info!(
        "bridge {} from {} through NetworkManager",
        request.name,
        nic.name
    );
    let made = (|| {
        let bridge = profile::bridge(&request.name, request.stp, &nic.mac, current.as_ref());
        let bridge: OwnedObjectPath =
            client.call(SETTINGS_PATH, SETTINGS, "AddConnection", &bridge)?;
        let port = profile::port(&request.name, &nic.name);
        let _: OwnedObjectPath = client.call(SETTINGS_PATH, SETTINGS, "AddConnection", &port)?;
        let active = activate(&client, &bridge, NONE)?;
        client.wait_activated(&active, &request.name, ACTIVATION_WAIT)?;
        Ok(())
    })();
    settle(&client, checkpoint, made)
}

/// Deletes NetworkManager's bridge `bridge` (whose one NIC is `nic`, if any): a
/// checkpoint, the bridge and port profiles deleted, and the NIC's own profile (the one
/// used last) brought up again. A failure rolls back at once.
pub fn delete_bridge(
    runner: &Runner,
    bridge: &str,
    nic: Option<&Link>,
) -> Result<Checkpoint, NetError> {
    let client = connect(runner)?;
    let bridge_device = client.device(bridge)?;
    let nic_device = nic.map(|n| client.device(&n.name)).transpose()?;
    let devices: Vec<&str> = std::iter::once(bridge_device.as_str())
        .chain(nic_device.as_ref().map(|d| d.as_str()))
        .collect();
    let checkpoint = checkpoint(&client, &devices)?;
    tracing::info!("deleting bridge {bridge} through NetworkManager");
    let done = (|| {
        let uuid = client
            .active_profile(&bridge_device)?
            .and_then(|(_, p)| profile::string(&p, "connection", "uuid").map(str::to_owned))
            .unwrap_or_default();
        let all: Vec<OwnedObjectPath> =
            client.call(SETTINGS_PATH, SETTINGS, "ListConnections", &())?;
        for path in all {
            let p: Profile = client.call(&path, CONNECTION, "GetSettings", &())?;
            let own = profile::string(&p, "connection", "uuid") == Some(uuid.as_str());
            if own || profile::is_port_of(&p, bridge, &uuid) {
                client.call::<_, ()>(&path, CONNECTION, "Delete", &())?;
            }
        }
        if let (Some(nic), Some(device)) = (nic, &nic_device) {
            if let Some(previous) = last_used(&client, device)? {
                let active = activate(&client, &previous, device)?;
                client.wait_activated(&active, &nic.name, ACTIVATION_WAIT)?;
            }
        }
        Ok(())
    })();
    settle(&client, checkpoint, done)
}

fn connect(runner: &Runner) -> Result<Client, NetError> {
    Client::connect(runner)?.ok_or(NetError::NmNotRunning)
}

fn checkpoint(client: &Client, devices: &[&str]) -> Result<Checkpoint, NetError> {
    let devices = devices
        .iter()
        .map(|d| object_path(d))
        .collect::<Result<Vec<_>, _>>()?;
    let seconds = u32::try_from(CONFIRM_WITHIN.as_secs()).unwrap_or(u32::MAX);
    let deadline = Instant::now() + CONFIRM_WITHIN;
    let path: OwnedObjectPath = client.call(
        NM_PATH,
        NM,
        "CheckpointCreate",
        &(devices, seconds, DELETE_NEW_CONNECTIONS),
    )?;
    tracing::info!("NetworkManager checkpoint {}", path.as_str());
    Ok(Checkpoint {
        path: path.to_string(),
        deadline,
    })
}

/// The change is made: hand the checkpoint over. It failed: roll back now.
fn settle(
    client: &Client,
    checkpoint: Checkpoint,
    outcome: Result<(), NetError>,
) -> Result<Checkpoint, NetError> {
    match outcome {
        Ok(()) => Ok(checkpoint),
        Err(failure) => match rollback(client, &checkpoint) {
            Ok(()) => Err(NetError::RolledBack(Box::new(failure))),
            Err(second) => Err(NetError::RollbackFailed {
                failure: Box::new(failure),
                rollback: Box::new(second),
            }),
        },
    }
}

fn activate(client: &Client, profile: &str, device: &str) -> Result<OwnedObjectPath, NetError> {
    let args = (
        object_path(profile)?,
        object_path(device)?,
        object_path(NONE)?,
    );
    client.call(NM_PATH, NM, "ActivateConnection", &args)
}

/// The profile for `device` that is no port of anything and was used last.
fn last_used(client: &Client, device: &str) -> Result<Option<OwnedObjectPath>, NetError> {
    let available: Vec<OwnedObjectPath> =
        client.property(device, DEVICE, "AvailableConnections")?;
    let mut best: Option<(u64, OwnedObjectPath)> = None;
    for path in available {
        let p: Profile = client.call(&path, CONNECTION, "GetSettings", &())?;
        if profile::string(&p, "connection", "master").is_some() {
            continue;
        }
        let used = p
            .get("connection")
            .and_then(|c| c.get("timestamp"))
            .and_then(|t| u64::try_from(t).ok())
            .unwrap_or(0);
        if best.as_ref().is_none_or(|(b, _)| used >= *b) {
            best = Some((used, path));
        }
    }
    Ok(best.map(|(_, p)| p))
}

/// Whether NetworkManager still holds `checkpoint` (it drops it when rolling back by
/// itself).
fn exists(client: &Client, checkpoint: &Checkpoint) -> Result<bool, NetError> {
    let all: Vec<OwnedObjectPath> = client.property(NM_PATH, NM, "Checkpoints")?;
    Ok(all.iter().any(|p| p.as_str() == checkpoint.path))
}

fn rollback(client: &Client, checkpoint: &Checkpoint) -> Result<(), NetError> {
    if !exists(client, checkpoint)? {
        tracing::info!("NetworkManager already rolled back {}", checkpoint.path);
        return Ok(());
    }
    let results: std::collections::HashMap<String, u32> = client.call(
        NM_PATH,
        NM,
        "CheckpointRollback",
        &object_path(&checkpoint.path)?,
    )?;
    let failed: Vec<&String> = results
        .iter()
        .filter(|(_, r)| **r != 0)
        .map(|(d, _)| d)
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(NetError::NmFailed(format!(
            "could not restore {}",
            failed
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

impl Checkpoint {
    /// Keeps the change: NetworkManager forgets the checkpoint.
    pub fn confirm(self, runner: &Runner) -> Result<(), NetError> {
        let client = connect(runner)?;
        if !exists(&client, &self)? {
            return Err(NetError::NmExpired);
        }
        client.call(NM_PATH, NM, "CheckpointDestroy", &object_path(&self.path)?)
    }

    /// Brings the configuration of the checkpoint back (unless NetworkManager did already).
    pub fn rollback(self, runner: &Runner) -> Result<(), NetError> {
        rollback(&connect(runner)?, &self)
    }
}
