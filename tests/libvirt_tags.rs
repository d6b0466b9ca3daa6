//! Tags live in the machine's own domain XML, under Virtdeck's metadata namespace: another
//! connection to the same host (virsh, another Virtdeck) sees them, they survive a restart
//! (a new worker reads them back), a running machine gets them in its live XML too, and
//! removing the last one removes the element.

mod common;

use common::{
    connect_and_snapshot, ensure_libvirtd, quiet_options, virsh_ok, DomainGuard, SESSION_URI,
};
use virtdeck::libvirt::tags::NAMESPACE;
use virtdeck::libvirt::{ConnectionHandle, HostsRequest, Request, RequestError};

fn set(handle: &ConnectionHandle, uuid: &str, tags: &[&str]) -> Result<Vec<String>, RequestError> {
    let (uuid, tags) = (
        uuid.to_owned(),
        tags.iter().map(|t| t.to_string()).collect(),
    );
    handle
        .ask(|reply| Request::Hosts(HostsRequest::SetTags { uuid, tags, reply }))
        .recv_blocking()
}

fn get(handle: &ConnectionHandle, uuid: &str) -> Result<Vec<String>, RequestError> {
    let uuid = uuid.to_owned();
    handle
        .ask(|reply| Request::Hosts(HostsRequest::Tags { uuid, reply }))
        .recv_blocking()
}

#[test]
fn tags_survive_a_restart_and_are_seen_from_a_second_connection() {
    ensure_libvirtd();
    let guard = DomainGuard::session("hosts-tags");
    guard.virsh_tiny("define");
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &guard.name])
        .trim()
        .to_owned();

    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    let stored = set(&handle, &uuid, &["web", " db ", "web", ""]).expect("tags set");
    assert_eq!(stored, ["db", "web"]);
    handle.quit_and_join();

    // Another process's connection reads them from the domain's metadata.
    let metadata = virsh_ok(
        SESSION_URI,
        &["metadata", &guard.name, "--uri", NAMESPACE, "--config"],
    );
    assert!(metadata.contains("<tag>db</tag>"), "{metadata}");
    assert!(metadata.contains("<tag>web</tag>"), "{metadata}");

    // A new worker, as after a restart, reads them back.
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    assert_eq!(get(&handle, &uuid).expect("tags read"), ["db", "web"]);

    // The last tag removed: no element is left behind.
    assert!(set(&handle, &uuid, &[]).expect("tags cleared").is_empty());
    let xml = virsh_ok(SESSION_URI, &["dumpxml", "--inactive", &guard.name]);
    assert!(!xml.contains(NAMESPACE), "{xml}");
    assert!(get(&handle, &uuid).expect("tags read").is_empty());
    handle.quit_and_join();
}

#[test]
fn a_running_transient_machine_keeps_its_tags_in_its_live_xml() {
    ensure_libvirtd();
    let guard = DomainGuard::session("hosts-tags-live");
    guard.virsh_tiny("create");
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &guard.name])
        .trim()
        .to_owned();
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    assert_eq!(
        set(&handle, &uuid, &["scratch"]).expect("tags set"),
        ["scratch"]
    );
    let live = virsh_ok(
        SESSION_URI,
        &["metadata", &guard.name, "--uri", NAMESPACE, "--live"],
    );
    assert!(live.contains("<tag>scratch</tag>"), "{live}");
    assert_eq!(get(&handle, &uuid).expect("tags read"), ["scratch"]);
    handle.quit_and_join();
}
