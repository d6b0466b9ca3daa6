//! `Request::GuestAddresses` on `qemu:///session`: a running guest without an agent and
//! without a DHCP lease is answered (no source, no agent), not failed; so is a machine
//! that does not run; only a machine that does not exist is an error.

mod common;

use std::time::Duration;

use common::{
    connect_and_snapshot, ensure_libvirtd, quiet_options, virsh_ok, DomainGuard, SESSION_URI,
};
use virtdeck::libvirt::{ConnectionHandle, GuestAddresses, Reply, Request, RequestError};

const TIMEOUT: Duration = Duration::from_secs(60);

fn ask<T: Send + 'static>(
    handle: &ConnectionHandle,
    make: impl FnOnce(Reply<T>) -> Request,
) -> Result<T, RequestError> {
    let answer = handle.ask(make);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(answer.recv_blocking());
    });
    rx.recv_timeout(TIMEOUT)
        .expect("the worker answers within the timeout")
}

fn addresses(handle: &ConnectionHandle, uuid: &str) -> Result<GuestAddresses, RequestError> {
    let uuid = uuid.to_owned();
    ask(handle, |reply| Request::GuestAddresses {
        uuid,
        agent: true,
        reply,
    })
}

#[test]
fn a_guest_without_agent_or_lease_is_answered_with_nothing() {
    ensure_libvirtd();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());

    let stopped = DomainGuard::session("addr-off");
    stopped.virsh_tiny("define");
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &stopped.name])
        .trim()
        .to_owned();
    let answer = addresses(&handle, &uuid).expect("a machine that is off is answered");
    assert_eq!(answer, GuestAddresses::default());

    // SeaBIOS with nothing to boot: no agent, no network lease, nothing in ARP.
    let running = DomainGuard::session("addr-on");
    running.virsh_tiny("create");
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &running.name])
        .trim()
        .to_owned();
    let answer = addresses(&handle, &uuid).expect("a running machine without an agent is answered");
    assert_eq!(answer.source, None, "{answer:?}");
    assert!(!answer.agent, "no agent in SeaBIOS: {answer:?}");
    assert!(answer.nics.is_empty(), "{answer:?}");
    assert_eq!(answer.first(), None);

    let error =
        addresses(&handle, "00000000-0000-0000-0000-000000000000").expect_err("no such machine");
    assert!(matches!(error, RequestError::Libvirt(_)), "{error:?}");
    handle.quit_and_join();
}
