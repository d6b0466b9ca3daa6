//! libvirt's virtual networks: listing them and the changes the Networking page makes
//! (start, stop, autostart), and ([`create`]) making one, its details with DHCP leases,
//! deleting one; asked through [`NetworkRequest`].

pub mod create;

use virt::connect::Connect;
use virt::error::Error;

use super::requests::{Reply, RequestError};
pub use create::{
    ForwardMode, Ipv4Subnet, Lease, NetworkDetails, NetworkError, NetworkSpec, TakenSubnet,
};

/// A question about virtual networks beyond listing and switching them.
#[derive(Debug)]
pub enum NetworkRequest {
    /// The other networks' names and subnets, for checking a new one as it is typed.
    Taken(Reply<Vec<TakenSubnet>>),
    /// Make a network (checked against the host's routes too when `local`).
    Create {
        spec: NetworkSpec,
        local: bool,
        reply: Reply<()>,
    },
    /// Bridge, forward mode, subnet, DHCP leases and the running machines on it.
    Details {
        name: String,
        reply: Reply<NetworkDetails>,
    },
    /// Stop and forget it, unless running machines use it.
    Delete { name: String, reply: Reply<()> },
}

impl NetworkRequest {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Self::Taken(_) => "Network::Taken",
            Self::Create { .. } => "Network::Create",
            Self::Details { .. } => "Network::Details",
            Self::Delete { .. } => "Network::Delete",
        }
    }
}

impl From<NetworkError> for RequestError {
    fn from(error: NetworkError) -> Self {
        Self::Network(error)
    }
}

/// Answers `request` on `conn`. Blocks.
pub(super) fn serve(conn: Option<&Connect>, request: NetworkRequest) {
    match request {
        NetworkRequest::Taken(reply) => reply.answer(conn, |c| Ok(create::taken(c)?)),
        NetworkRequest::Create { spec, local, reply } => {
            reply.answer(conn, |c| Ok(create::create(c, &spec, local)?));
        }
        NetworkRequest::Details { name, reply } => {
            reply.answer(conn, |c| Ok(create::details(c, &name)?));
        }
        NetworkRequest::Delete { name, reply } => {
            reply.answer(conn, |c| Ok(create::delete(c, &name)?));
        }
    }
}

/// One virtual network as libvirt has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualNetwork {
    pub name: String,
    pub bridge: Option<String>,
    pub active: bool,
    pub autostart: bool,
    pub persistent: bool,
}

/// A change to one virtual network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkChange {
    /// Start (`true`) or stop (`false`) it.
    Active(bool),
    /// Start it with the host, or not.
    Autostart(bool),
}

/// The virtual networks of `conn`, sorted by name. Blocks.
pub fn list(conn: &Connect) -> Result<Vec<VirtualNetwork>, Error> {
    let mut nets: Vec<VirtualNetwork> = conn
        .list_all_networks(0)?
        .into_iter()
        .filter_map(|n| {
            // Gone since the listing: skipped.
            Some(VirtualNetwork {
                name: n.name().ok()?,
                bridge: n.bridge_name().ok(),
                active: n.is_active().unwrap_or(false),
                autostart: n.autostart().unwrap_or(false),
                persistent: n.is_persistent().unwrap_or(false),
            })
        })
        .collect();
    nets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nets)
}

/// Applies `change` to the network called `name`. Blocks.
pub fn apply(conn: &Connect, name: &str, change: NetworkChange) -> Result<(), Error> {
    let net = conn.lookup_network_by_name(name)?;
    match change {
        NetworkChange::Active(true) => net.create(),
        NetworkChange::Active(false) => net.destroy(),
        NetworkChange::Autostart(on) => net.set_autostart(on),
    }
}
