//! Helpers of the tests that edit machines through the connection worker on
//! `qemu:///session`.

use std::time::Duration;

use virtdeck::libvirt::edit::{Applied, DomainConfig, EditRequest};
use virtdeck::libvirt::{spawn, ConnectionHandle, ConnectionState, Event, Request, RequestError};
use virtdeck::spec::edit::tree::Element;
use virtdeck::spec::edit::DomainEdit;

use super::{virsh_ok, SESSION_URI};

pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A worker on the session connection, once it is connected.
pub fn worker() -> ConnectionHandle {
    super::ensure_libvirtd();
    let handle = spawn(SESSION_URI.into(), super::quiet_options());
    super::expect_event(&handle.events, TIMEOUT, "connected", |e| {
        matches!(e, Event::ConnectionState(ConnectionState::Connected { .. }))
    });
    handle
}

pub fn uuid(name: &str) -> String {
    virsh_ok(SESSION_URI, &["domuuid", name]).trim().to_owned()
}

pub fn read(handle: &ConnectionHandle, uuid: &str) -> DomainConfig {
    let uuid = uuid.to_owned();
    handle
        .ask(|reply| Request::Edit(EditRequest::Read { uuid, reply }))
        .recv_blocking()
        .unwrap_or_else(|e| panic!("Read: {e}"))
}

pub fn apply(
    handle: &ConnectionHandle,
    uuid: &str,
    edits: Vec<DomainEdit>,
) -> Result<Applied, RequestError> {
    let uuid = uuid.to_owned();
    handle
        .ask(|reply| Request::Edit(EditRequest::Apply { uuid, edits, reply }))
        .recv_blocking()
}

pub fn inactive(name: &str) -> Element {
    Element::parse(&virsh_ok(SESSION_URI, &["dumpxml", "--inactive", name])).unwrap()
}

/// The row of `virsh domblklist` for `target`: its source, `-` when empty.
pub fn blk_source(name: &str, target: &str) -> String {
    let list = virsh_ok(SESSION_URI, &["domblklist", name]);
    list.lines()
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some(target)).then(|| words.collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| panic!("no {target} in {list}"))
}
