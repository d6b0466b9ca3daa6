//! Editing machines through a connection worker on `qemu:///session`: the worker, a
//! machine's UUID, and [`EditRequest::Apply`].

use std::time::Duration;

use virtdeck::libvirt::edit::{Applied, EditRequest};
use virtdeck::libvirt::{spawn, ConnectionHandle, ConnectionState, Event, Request, RequestError};
use virtdeck::spec::edit::DomainEdit;

use super::{ensure_libvirtd, expect_event, quiet_options, virsh_ok, SESSION_URI};

/// A worker on the session connection, once it is connected.
pub fn worker() -> ConnectionHandle {
    ensure_libvirtd();
    let handle = spawn(SESSION_URI.into(), quiet_options());
    expect_event(&handle.events, Duration::from_secs(60), "connected", |e| {
        matches!(e, Event::ConnectionState(ConnectionState::Connected { .. }))
    });
    handle
}

pub fn uuid(name: &str) -> String {
    virsh_ok(SESSION_URI, &["domuuid", name]).trim().to_owned()
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
