//! The connection profiles NetworkManager gets for a bridge made from a NIC: the bridge
//! (with the NIC's IP configuration and MAC address) and the NIC as its port.

use std::collections::HashMap;

use zbus::zvariant::{OwnedValue, Str};

use super::client::Profile;

/// The IP settings a bridge takes over from the NIC's profile; both families.
const IP_SETTINGS: [&str; 2] = ["ipv4", "ipv6"];

fn text(s: &str) -> OwnedValue {
    OwnedValue::from(Str::from(s.to_owned()))
}

/// A new random connection UUID, from the kernel.
fn new_uuid() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            let hex = format!("{nanos:032x}");
            format!(
                "{}-{}-4{}-8{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[13..16],
                &hex[17..20],
                &hex[20..32]
            )
        })
}

fn connection(id: &str, kind: &str, iface: &str) -> HashMap<String, OwnedValue> {
    HashMap::from([
        ("id".to_owned(), text(id)),
        ("uuid".to_owned(), text(&new_uuid())),
        ("type".to_owned(), text(kind)),
        ("interface-name".to_owned(), text(iface)),
    ])
}

/// Bridge `name` with `stp`, the NIC's `mac` (so that DHCP leases and neighbours stay
/// valid) and the IPv4/IPv6 settings of the NIC's profile `nic` as they are: automatic
/// stays automatic, manual addresses, gateway, routes and DNS move over. Without a profile
/// both families are automatic. Its ports come up with it.
pub(super) fn bridge(name: &str, stp: bool, mac: &str, nic: Option<&Profile>) -> Profile {
    let mut conn = connection(name, "bridge", name);
    conn.insert("autoconnect-slaves".to_owned(), OwnedValue::from(1i32));
    let mut profile = Profile::from([
        ("connection".to_owned(), conn),
        (
            "bridge".to_owned(),
            HashMap::from([("stp".to_owned(), OwnedValue::from(stp))]),
        ),
        (
            "802-3-ethernet".to_owned(),
            HashMap::from([("assigned-mac-address".to_owned(), text(mac))]),
        ),
    ]);
    for family in IP_SETTINGS {
        let setting = nic
            .and_then(|p| p.get(family))
            .and_then(|s| {
                s.iter()
                    .map(|(k, v)| Some((k.clone(), v.try_clone().ok()?)))
                    .collect()
            })
            .unwrap_or_else(|| HashMap::from([("method".to_owned(), text("auto"))]));
        profile.insert(family.to_owned(), setting);
    }
    profile
}

/// NIC `nic` as a port of bridge `bridge`.
pub(super) fn port(bridge: &str, nic: &str) -> Profile {
    let mut conn = connection(&format!("{bridge} port {nic}"), "802-3-ethernet", nic);
    conn.insert("master".to_owned(), text(bridge));
    conn.insert("slave-type".to_owned(), text("bridge"));
    Profile::from([
        ("connection".to_owned(), conn),
        ("802-3-ethernet".to_owned(), HashMap::new()),
    ])
}

/// A string property of a profile.
pub(super) fn string<'a>(profile: &'a Profile, setting: &str, key: &str) -> Option<&'a str> {
    profile
        .get(setting)?
        .get(key)
        .and_then(|v| <&str>::try_from(v).ok())
}

/// Whether `profile` is a port of the bridge with interface name `bridge` or UUID `uuid`.
pub(super) fn is_port_of(profile: &Profile, bridge: &str, uuid: &str) -> bool {
    string(profile, "connection", "slave-type") == Some("bridge")
        && string(profile, "connection", "master").is_some_and(|m| m == bridge || m == uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_takes_the_ip_settings_of_the_nic() {
        let nic = Profile::from([(
            "ipv4".to_owned(),
            HashMap::from([
                ("method".to_owned(), text("manual")),
                ("gateway".to_owned(), text("198.51.100.1")),
            ]),
        )]);
        let br = bridge("br0", false, "02:00:00:00:00:01", Some(&nic));
        assert_eq!(string(&br, "ipv4", "method"), Some("manual"));
        assert_eq!(string(&br, "ipv4", "gateway"), Some("198.51.100.1"));
        assert_eq!(string(&br, "ipv6", "method"), Some("auto"));
        assert_eq!(string(&br, "connection", "type"), Some("bridge"));
        assert_eq!(bool::try_from(&br["bridge"]["stp"]).ok(), Some(false));
        let uuid = string(&br, "connection", "uuid").unwrap();
        assert_eq!(uuid.len(), 36);

        let p = port("br0", "eth9");
        assert!(is_port_of(&p, "br0", "x"));
        assert!(!is_port_of(&p, "br1", "x"));
        assert_ne!(string(&p, "connection", "uuid"), Some(uuid));
    }
}
