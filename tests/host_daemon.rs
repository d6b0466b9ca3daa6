//! The libvirt daemon status against the real daemon: stopped, the status says "not
//! running" with the command that starts it; started again, it says all is well and
//! libvirt connects ("Try again").
//!
//! This stops the host's root `libvirtd`, so it lives alone in this file (cargo runs test
//! files one after another); a guard starts the daemon again whatever happens.

mod common;

use std::process::Command;
use std::time::Duration;

use virtdeck::host::daemon::{self, Status};
use virtdeck::host::libvirtd::SYSTEM_URI;

/// Starts libvirtd again when dropped, if it is not running.
struct Restart;

impl Drop for Restart {
    fn drop(&mut self) {
        common::ensure_libvirtd();
    }
}

#[test]
fn stopped_daemon_is_not_running_with_the_fix_and_comes_back() {
    common::ensure_libvirtd();
    assert!(
        matches!(daemon::diagnose().status, Status::Ok { .. }),
        "{:?}",
        daemon::diagnose()
    );
    let _restart = Restart;

    // SIGTERM: the daemon shuts down cleanly, as `systemctl stop` would. A daemon with
    // work in flight (guests left by earlier test files, a monitor that is slow under
    // TCG) gives its drivers up to 30 s before its own watchdog ends it: wait past that.
    let asked = std::time::Instant::now();
    common::signal_libvirtd("TERM", Duration::from_secs(90));
    println!("libvirtd exited {:?} after SIGTERM", asked.elapsed());
    let stopped = daemon::diagnose_connection(SYSTEM_URI);
    println!("{stopped:#?}");
    assert_eq!(stopped.status, Status::NotRunning);
    assert_eq!(
        stopped.problem,
        "The libvirt daemon is installed but not running."
    );
    // Debian 12 without systemd running (this test host): started by hand.
    let start = if std::path::Path::new("/run/systemd/system").is_dir() {
        "sudo systemctl enable --now libvirtd"
    } else {
        "sudo libvirtd -d"
    };
    assert_eq!(stopped.fix, [start]);

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/build-aux/ensure-libvirt.sh");
    let status = Command::new(script)
        .status()
        .expect("run ensure-libvirt.sh");
    assert!(status.success(), "{script} failed");

    // "Try again": the status clears and libvirt itself connects.
    common::wait_for("the daemon to answer", Duration::from_secs(30), || {
        matches!(
            daemon::diagnose_connection(SYSTEM_URI).status,
            Status::Ok { .. }
        )
    });
    let again = daemon::diagnose_connection(SYSTEM_URI);
    assert!(again.fix.is_empty(), "{again:?}");
    virt::connect::Connect::open(Some(SYSTEM_URI)).expect("libvirt connects again");
}
