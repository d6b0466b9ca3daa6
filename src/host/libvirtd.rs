//! Which libvirt daemon to talk to.

use std::os::unix::net::UnixStream;
use std::path::Path;

/// The privileged QEMU/KVM connection.
pub const SYSTEM_URI: &str = "qemu:///system";
/// The unprivileged per-user QEMU connection; libvirt starts its daemon on demand.
pub const SESSION_URI: &str = "qemu:///session";

/// Sockets of the system daemon: the modular `virtqemud` first, then monolithic `libvirtd`.
pub(crate) const SYSTEM_SOCKETS: [&str; 2] =
    ["/run/libvirt/virtqemud-sock", "/run/libvirt/libvirt-sock"];

/// The connection to open when the user has not chosen any: the system daemon when this
/// user can reach it, else the user session.
pub fn default_uri() -> &'static str {
    if SYSTEM_SOCKETS.iter().any(|s| socket_accepts(Path::new(s))) {
        SYSTEM_URI
    } else {
        SESSION_URI
    }
}

/// Whether a daemon listens on `path` and lets this user connect. Socket activation by
/// systemd counts: the socket accepts before the daemon runs.
fn socket_accepts(path: &Path) -> bool {
    UnixStream::connect(path).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn a_listening_socket_accepts_and_a_missing_one_does_not() {
        let dir = std::env::temp_dir().join(format!("vd-sock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sock");
        let _ = std::fs::remove_file(&path);
        assert!(!socket_accepts(&path));
        let _listener = UnixListener::bind(&path).unwrap();
        assert!(socket_accepts(&path));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
