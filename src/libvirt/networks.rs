//! libvirt's virtual networks: listing them and the changes the Networking page makes
//! (start, stop, autostart).

use virt::connect::Connect;
use virt::error::Error;

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
