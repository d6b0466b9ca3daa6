//! Which of a remote host's network interfaces are bridges, from what libvirt says of
//! them: the interface driver's XML (`<interface type='bridge'>`), or, where a host has no
//! interface driver, the node devices of class net, which do not say whether a link is a
//! bridge: there the usual bridge names decide.

/// Names that bridges get from the tools that make them: `br0`/`br-lan` (the usual name,
/// NetworkManager, ifupdown), `virbr0` (libvirt's networks), `vmbr0` (Proxmox),
/// `xenbr0` (Xen), `lxcbr0` (LXC).
const BRIDGE_NAME_PREFIXES: &[&str] = &["br", "virbr", "vmbr", "xenbr", "lxcbr"];

/// The bridge an interface XML (`virInterfaceGetXMLDesc`) describes, if it is one.
pub fn bridge_of_interface_xml(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let root = doc.root_element();
    (root.has_tag_name("interface") && root.attribute("type") == Some("bridge"))
        .then(|| root.attribute("name"))
        .flatten()
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// The bridge a node device XML (`virNodeDeviceGetXMLDesc`) of class net describes, if
/// its interface name is a bridge's.
pub fn bridge_of_node_device_xml(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let name = doc
        .root_element()
        .children()
        .filter(|c| c.has_tag_name("capability") && c.attribute("type") == Some("net"))
        .flat_map(|c| c.children())
        .find(|c| c.has_tag_name("interface"))?
        .text()?
        .trim();
    is_bridge_name(name).then(|| name.to_owned())
}

/// Whether `name` is one that bridges are given: a known prefix followed by nothing, a
/// digit or a separator (`br0`, `br-lan`, `virbr1`; not `brcmf0`, a Wi-Fi card).
fn is_bridge_name(name: &str) -> bool {
    BRIDGE_NAME_PREFIXES.iter().any(|prefix| {
        name.strip_prefix(prefix).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_xml() {
        let bridge = "<interface type='bridge' name='br-lan'>\n  <mtu size='1500'/>\n  \
                      <bridge stp='off' delay='1500'>\n  </bridge>\n</interface>";
        assert_eq!(bridge_of_interface_xml(bridge).as_deref(), Some("br-lan"));
        let ethernet =
            "<interface type='ethernet' name='eth0'><mac address='52:54:00:00:00:01'/></interface>";
        assert_eq!(bridge_of_interface_xml(ethernet), None);
        assert_eq!(bridge_of_interface_xml("<interface type='bridge'/>"), None);
        assert_eq!(bridge_of_interface_xml("not xml"), None);
    }

    fn node_device(interface: &str) -> String {
        format!(
            "<device><name>net_{interface}_52_54_00_00_00_01</name>\
             <path>/sys/devices/virtual/net/{interface}</path><parent>computer</parent>\
             <capability type='net'><interface>{interface}</interface>\
             <address>52:54:00:00:00:01</address><link state='up'/>\
             <capability type='80203'/></capability></device>"
        )
    }

    #[test]
    fn node_device_xml() {
        for bridge in ["br0", "br-lan", "virbr0", "vmbr1", "xenbr0", "lxcbr0", "br"] {
            assert_eq!(
                bridge_of_node_device_xml(&node_device(bridge)).as_deref(),
                Some(bridge)
            );
        }
        for other in ["eth0", "lan0", "lo", "brcmf0", "bridgehead", "enp1s0"] {
            assert_eq!(
                bridge_of_node_device_xml(&node_device(other)),
                None,
                "{other}"
            );
        }
        let storage = "<device><name>block_sda</name><capability type='storage'>\
                       <block>/dev/sda</block></capability></device>";
        assert_eq!(bridge_of_node_device_xml(storage), None);
        assert_eq!(bridge_of_node_device_xml("<device"), None);
    }
}
