//! A private D-Bus system bus for tests that talk to a NetworkManager of their own.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts a system bus that lets everyone do everything, listening in `dir` (which must
/// exist); returns the daemon and its address, for `DBUS_SYSTEM_BUS_ADDRESS`.
pub fn start_private_bus(dir: &Path) -> (Child, String) {
    let socket = dir.join("bus.socket");
    let config = dir.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .expect("write the bus configuration");
    let mut bus = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dbus-daemon (apt install dbus)");
    let mut address = String::new();
    BufReader::new(bus.stdout.take().expect("bus stdout"))
        .read_line(&mut address)
        .expect("read the bus address");
    let address = address.trim().to_owned();
    assert!(address.starts_with("unix:"), "bus address {address:?}");
    (bus, address)
}
