//! Network interfaces of an existing machine: change one's source (the same choices as
//! the wizard: host bridge, virtual network, macvtap, user-mode), model and MAC address.
//! Its link state, boot order and guest address stay.

use super::tree::Element;
use super::{devices, devices_mut, interface_xml, is_mac, is_nic, EditError, Limits, Touched};
use crate::spec::{Network, NicModel};

/// Children of the old `<interface>` the changed one keeps.
const KEPT: [&str; 6] = ["link", "boot", "address", "alias", "mtu", "rom"];

/// The refusals of [`change`], before anything changes.
pub fn check(
    root: &Element,
    mac: &str,
    network: &Network,
    new_mac: &str,
    limits: &Limits,
) -> Result<(), EditError> {
    if !devices(root)?.elements().any(|e| is_nic(e, mac)) {
        return Err(EditError::NoNic(mac.to_owned()));
    }
    check_source(network)?;
    if !is_mac(new_mac) {
        return Err(EditError::BadMac(new_mac.to_owned()));
    }
    let moved = !new_mac.eq_ignore_ascii_case(mac);
    if moved
        && limits
            .macs_in_use
            .iter()
            .any(|m| m.eq_ignore_ascii_case(new_mac))
    {
        return Err(EditError::MacInUse(new_mac.to_owned()));
    }
    Ok(())
}

/// A bridge, network or host device needs its name.
pub fn check_source(network: &Network) -> Result<(), EditError> {
    match network {
        Network::Bridge { name }
        | Network::VirtualNetwork { name }
        | Network::Macvtap { dev: name }
            if name.trim().is_empty() =>
        {
            Err(EditError::NoNicSource)
        }
        _ => Ok(()),
    }
}

/// Replaces NIC `mac` by one on `network` with `model` and `new_mac`.
pub fn change(
    root: &mut Element,
    mac: &str,
    network: &Network,
    model: NicModel,
    new_mac: &str,
) -> Result<Touched, EditError> {
    let xml = interface_xml(network, model, Some(new_mac))
        .map_err(|e| EditError::Interface(e.to_string()))?;
    let mut nic = Element::parse(&xml)?;
    let devices = devices_mut(root)?;
    let old = devices
        .elements_mut()
        .find(|e| is_nic(e, mac))
        .ok_or_else(|| EditError::NoNic(mac.to_owned()))?;
    nic.children.extend(
        old.children
            .iter()
            .filter(
                |n| matches!(n, super::tree::Node::Element(e) if KEPT.contains(&e.name.as_str())),
            )
            .cloned(),
    );
    *old = nic.clone();
    Ok(Touched::Updated(nic))
}
