//! Adding a USB tablet through the worker: into the configuration of a shut-off domain,
//! and into a running one (live when QEMU plugs it in, else at its next start).

mod common;

use std::time::Duration;

use common::{connect_and_snapshot, ensure_libvirtd, expect_event, quiet_options, virsh_ok};
use common::{DomainGuard, SESSION_URI};
use virtdeck::libvirt::{Command, ConnectionHandle, DomainInfo, Event, Tablet};

const TIMEOUT: Duration = Duration::from_secs(20);

fn inactive_xml(name: &str) -> String {
    virsh_ok(SESSION_URI, &["dumpxml", "--inactive", name])
}

/// The next update of domain `uuid` whose tablet is not missing.
fn tablet_update(handle: &ConnectionHandle, uuid: &str) -> DomainInfo {
    let Event::DomainChanged(info) =
        expect_event(&handle.events, TIMEOUT, "a domain with a tablet", |e| {
            matches!(e, Event::DomainChanged(d) if d.uuid == uuid && d.tablet != Tablet::Missing)
        })
    else {
        unreachable!()
    };
    info
}

fn uuid_of(list: &[DomainInfo], name: &str) -> String {
    let info = list.iter().find(|d| d.name == name).expect("domain listed");
    assert_eq!(info.tablet, Tablet::Missing, "the tiny domain starts without a tablet");
    info.uuid.clone()
}

#[test]
fn add_tablet_to_a_shut_off_domain() {
    ensure_libvirtd();
    let guard = DomainGuard::session("tablet-off");
    guard.virsh_tiny("define");
    assert!(!inactive_xml(&guard.name).contains("type='tablet'"));
    let (handle, list) = connect_and_snapshot(SESSION_URI, quiet_options());
    let uuid = uuid_of(&list, &guard.name);

    handle
        .commands
        .send_blocking(Command::AddTablet(uuid.clone()))
        .unwrap();
    assert_eq!(tablet_update(&handle, &uuid).tablet, Tablet::Present);
    let xml = inactive_xml(&guard.name);
    assert!(
        xml.contains("<input type='tablet' bus='usb'>"),
        "no tablet in the configuration:\n{xml}"
    );
}

#[test]
fn add_tablet_to_a_running_domain() {
    ensure_libvirtd();
    let guard = DomainGuard::session("tablet-on");
    guard.virsh_tiny("define");
    virsh_ok(SESSION_URI, &["start", &guard.name]);
    let (handle, list) = connect_and_snapshot(SESSION_URI, quiet_options());
    let uuid = uuid_of(&list, &guard.name);

    handle
        .commands
        .send_blocking(Command::AddTablet(uuid.clone()))
        .unwrap();
    let info = tablet_update(&handle, &uuid);
    assert!(inactive_xml(&guard.name).contains("<input type='tablet' bus='usb'>"));
    let live = virsh_ok(SESSION_URI, &["dumpxml", &guard.name]);
    let expected = if live.contains("type='tablet'") {
        Tablet::Present
    } else {
        Tablet::AtNextStart
    };
    assert_eq!(info.tablet, expected);
}
