//! The daemon dies under a running worker: Disconnected, then back with a fresh snapshot.
//!
//! As root, libvirt routes `qemu:///session` to the system daemon and does not start it on
//! demand, so the test starts it again itself; the worker's retries pick it up.

mod common;

use std::time::Duration;

use common::{
    ensure_libvirtd, expect_event, kill_libvirtd, quiet_options, virsh_ok, DomainGuard, SESSION_URI,
};
use virtdeck::libvirt::{spawn, ConnectionState, DisconnectReason, Event};

const TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn reconnects_after_the_daemon_dies() {
    ensure_libvirtd();
    let guard = DomainGuard::session("reconnect");
    guard.virsh_tiny("define");
    let name = guard.name.clone();

    let handle = spawn(SESSION_URI.into(), quiet_options());
    let Event::Snapshot(before) = expect_event(&handle.events, TIMEOUT, "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    }) else {
        unreachable!()
    };
    assert!(before.iter().any(|d| d.name == name));

    let killed = kill_libvirtd();
    eprintln!("killed libvirtd {killed:?}");
    let event = expect_event(&handle.events, TIMEOUT, "Disconnected", |e| {
        matches!(
            e,
            Event::ConnectionState(ConnectionState::Disconnected { .. })
        )
    });
    let Event::ConnectionState(ConnectionState::Disconnected { reason, retry_in }) = event else {
        unreachable!()
    };
    eprintln!("disconnected: {reason:?}, retry in {retry_in:?}");
    assert!(matches!(reason, DisconnectReason::Closed(_)), "{reason:?}");
    assert!(retry_in.is_some());

    // While the daemon is down the worker keeps retrying, each failure a Disconnected event.
    expect_event(&handle.events, TIMEOUT, "a failed retry", |e| {
        matches!(
            e,
            Event::ConnectionState(ConnectionState::Disconnected {
                reason: DisconnectReason::OpenFailed(_),
                retry_in: Some(_),
            })
        )
    });

    ensure_libvirtd();
    expect_event(&handle.events, TIMEOUT, "Connected", |e| {
        matches!(e, Event::ConnectionState(ConnectionState::Connected { .. }))
    });
    let Event::Snapshot(after) = expect_event(&handle.events, TIMEOUT, "fresh Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    }) else {
        unreachable!()
    };
    assert!(
        after.iter().any(|d| d.name == name),
        "the domain defined before the crash is in the new snapshot"
    );

    // Events flow on the new connection.
    virsh_ok(SESSION_URI, &["undefine", &name]);
    let uuid = after.iter().find(|d| d.name == name).unwrap().uuid.clone();
    expect_event(
        &handle.events,
        Duration::from_secs(5),
        "DomainRemoved",
        |e| matches!(e, Event::DomainRemoved(u) if *u == uuid),
    );
    handle.quit_and_join();
}
