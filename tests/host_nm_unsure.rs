//! When asking NetworkManager whether it manages a NIC fails with a D-Bus error, the change
//! is refused with that error — never made with iproute2 behind NetworkManager's back. A
//! private system bus carries a "NetworkManager" that owns the name but answers every call
//! with an error; the namespace ([`Netns`]) has a veth NIC with an address and the default
//! route, and nothing in it changes.

mod common;

use common::net::Netns;
use virtdeck::host::net::{create_bridge, delete_bridge, BridgeRequest, NetError};

/// Owns NetworkManager's name and fails every call to its main object.
struct BrokenNetworkManager;

#[zbus::interface(name = "org.freedesktop.NetworkManager")]
impl BrokenNetworkManager {
    #[zbus(name = "GetDeviceByIpIface")]
    fn get_device_by_ip_iface(&self, _iface: &str) -> zbus::fdo::Result<String> {
        Err(zbus::fdo::Error::Failed(
            "the test's NetworkManager is broken".into(),
        ))
    }
}

#[test]
fn a_dbus_error_while_asking_networkmanager_refuses_the_change() {
    let dir = std::env::temp_dir().join(format!("vdtest-{}-nm-unsure", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (mut bus, address) = common::bus::start_private_bus(&dir);
    // Set before any thread of this test reads the environment.
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", &address);
    let _nm = zbus::blocking::connection::Builder::address(address.as_str())
        .unwrap()
        .name("org.freedesktop.NetworkManager")
        .unwrap()
        .serve_at("/org/freedesktop/NetworkManager", BrokenNetworkManager)
        .unwrap()
        .build()
        .expect("own NetworkManager's name on the private bus");

    let ns = Netns::new();
    ns.ip("link add vdbr9 type bridge");
    let before = ns.state();
    let runner = ns.runner.clone().with_network_manager();

    let err = create_bridge(&runner, &BridgeRequest::new("vdnic0")).unwrap_err();
    println!("{err}");
    let NetError::NmUnsure { iface, cause } = &err else {
        panic!("not refused: {err}");
    };
    assert_eq!(iface, "vdnic0");
    assert!(
        cause
            .to_string()
            .contains("the test's NetworkManager is broken"),
        "{cause}"
    );
    assert!(err.to_string().starts_with(
        "Could not ask NetworkManager whether it manages “vdnic0”, so nothing was changed."
    ));
    let err = delete_bridge(&runner, "vdbr9").unwrap_err();
    assert!(matches!(err, NetError::NmUnsure { .. }), "{err}");
    ns.expect_state(&before);

    let _ = bus.kill();
    let _ = bus.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
