//! Adding a USB tablet through the worker: into the configuration of a shut-off domain,
//! and into a running one (live when QEMU plugs it in, else at its next start).

mod common;

use std::time::Duration;

use common::{connect_and_snapshot, ensure_libvirtd, expect_event, quiet_options, virsh_ok};
use common::{DomainGuard, SESSION_URI};
use virtdeck::libvirt::{Command, DomainInfo, Event, Tablet};

const TIMEOUT: Duration = Duration::from_secs(20);

fn inactive_xml(name: &str) -> String {
    virsh_ok(SESSION_URI, &["dumpxml", "--inactive", name])
}

/// Defines the tiny domain of `guard` (without a tablet), starts it when `start`, asks the
/// worker to add a tablet and returns the domain's next update with one, after checking
/// that the configuration has it.
fn add_tablet(guard: &DomainGuard, start: bool) -> DomainInfo {
    ensure_libvirtd();
    guard.virsh_tiny("define");
    if start {
        virsh_ok(SESSION_URI, &["start", &guard.name]);
    }
    assert!(!inactive_xml(&guard.name).contains("type='tablet'"));
    let (handle, list) = connect_and_snapshot(SESSION_URI, quiet_options());
    let info = list.iter().find(|d| d.name == guard.name).expect("listed");
    assert_eq!(info.tablet, Tablet::Missing);
    let uuid = info.uuid.clone();

    handle
        .commands
        .send_blocking(Command::AddTablet(uuid.clone()))
        .unwrap();
    let Event::DomainChanged(info) = expect_event(
        &handle.events,
        TIMEOUT,
        "a domain with a tablet",
        |e| matches!(e, Event::DomainChanged(d) if d.uuid == uuid && d.tablet != Tablet::Missing),
    ) else {
        unreachable!()
    };
    let xml = inactive_xml(&guard.name);
    assert!(
        xml.contains("<input type='tablet' bus='usb'>"),
        "no tablet in the configuration:\n{xml}"
    );
    info
}

#[test]
fn add_tablet_to_a_shut_off_domain() {
    let guard = DomainGuard::session("tablet-off");
    assert_eq!(add_tablet(&guard, false).tablet, Tablet::Present);
}

#[test]
fn add_tablet_to_a_running_domain() {
    let guard = DomainGuard::session("tablet-on");
    let info = add_tablet(&guard, true);
    // Plugged in live when QEMU can, else there at the next start.
    let live = virsh_ok(SESSION_URI, &["dumpxml", &guard.name]);
    let expected = if live.contains("type='tablet'") {
        Tablet::Present
    } else {
        Tablet::AtNextStart
    };
    assert_eq!(info.tablet, expected);
}
