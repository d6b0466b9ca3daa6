//! Lifecycle events from another process reach the worker's list within a second.
//!
//! A separate `virsh` process defines, starts, pauses, resumes, destroys and undefines a
//! tiny TCG domain on the daemon; the worker (statistics off) must report each change.

mod common;

use std::time::{Duration, Instant};

use common::{
    connect_and_snapshot, ensure_libvirtd, expect_event, quiet_options, virsh_ok, DomainGuard,
    SESSION_URI,
};
use virtdeck::libvirt::{spawn, Command, DomainInfo, DomainState, Event};

/// How quickly an event must show up after the virsh command returned.
const LATENCY: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(20);

fn added(events: &async_channel::Receiver<Event>, name: &str) -> DomainInfo {
    let start = Instant::now();
    let Event::DomainAdded(info) = expect_event(
        events,
        LATENCY,
        &format!("DomainAdded({name})"),
        |e| matches!(e, Event::DomainAdded(d) if d.name == name),
    ) else {
        unreachable!()
    };
    eprintln!("added {name} after {:?}", start.elapsed());
    info
}

fn changed_to(
    events: &async_channel::Receiver<Event>,
    uuid: &str,
    state: DomainState,
) -> DomainInfo {
    let start = Instant::now();
    let Event::DomainChanged(info) = expect_event(
        events,
        LATENCY,
        &format!("DomainChanged(→ {state:?})"),
        |e| matches!(e, Event::DomainChanged(d) if d.uuid == uuid && d.state == state),
    ) else {
        unreachable!()
    };
    eprintln!("{state:?} after {:?}", start.elapsed());
    info
}

fn removed(events: &async_channel::Receiver<Event>, uuid: &str) {
    let start = Instant::now();
    expect_event(
        events,
        LATENCY,
        "DomainRemoved",
        |e| matches!(e, Event::DomainRemoved(u) if u == uuid),
    );
    eprintln!("removed after {:?}", start.elapsed());
}

#[test]
fn lifecycle_changes_from_another_process_update_the_list() {
    ensure_libvirtd();
    let guard = DomainGuard::session("events");
    let name = guard.name.clone();
    let (handle, list) = connect_and_snapshot(SESSION_URI, quiet_options());
    assert!(list.iter().all(|d| d.name != name));

    guard.virsh_tiny("define");
    let info = added(&handle.events, &name);
    assert_eq!(info.state, DomainState::Shutoff);
    assert!(info.persistent);
    assert_eq!(info.memory_kib, 48 * 1024);
    assert_eq!(info.graphics.len(), 1);
    assert_eq!(info.graphics[0].port, None, "no VNC port before start");
    let uuid = info.uuid.clone();

    // A description changed elsewhere defines nothing and changes nothing the list shows,
    // yet screens showing the configuration hear of it.
    virsh_ok(
        SESSION_URI,
        &["desc", "--config", &name, "changed elsewhere"],
    );
    expect_event(
        &handle.events,
        LATENCY,
        "ConfigChanged",
        |e| matches!(e, Event::ConfigChanged(u) if *u == uuid),
    );

    virsh_ok(SESSION_URI, &["start", &name]);
    let running = changed_to(&handle.events, &uuid, DomainState::Running);
    assert!(running.id.is_some());
    assert!(running.graphics[0].port.is_some(), "VNC port allocated");

    virsh_ok(SESSION_URI, &["suspend", &name]);
    changed_to(&handle.events, &uuid, DomainState::Paused);
    virsh_ok(SESSION_URI, &["resume", &name]);
    changed_to(&handle.events, &uuid, DomainState::Running);

    virsh_ok(SESSION_URI, &["destroy", &name]);
    let off = changed_to(&handle.events, &uuid, DomainState::Shutoff);
    assert_eq!(off.id, None);

    virsh_ok(SESSION_URI, &["undefine", &name]);
    removed(&handle.events, &uuid);

    // A transient domain: created running, gone when stopped.
    let transient_guard = DomainGuard::session("transient");
    transient_guard.virsh_tiny("create");
    let transient = transient_guard.name.clone();
    let info = added(&handle.events, &transient);
    assert_eq!(info.state, DomainState::Running);
    assert!(!info.persistent);
    virsh_ok(SESSION_URI, &["destroy", &transient]);
    removed(&handle.events, &info.uuid);

    handle.quit_and_join();
    drop(guard);
}

#[test]
fn statistics_of_a_running_guest() {
    ensure_libvirtd();
    let guard = DomainGuard::session("stats");
    guard.virsh_tiny("create");
    let name = guard.name.clone();
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &name]).trim().to_owned();

    let handle = spawn(SESSION_URI.into(), quiet_options());
    expect_event(&handle.events, TIMEOUT, "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    });
    handle
        .commands
        .send_blocking(Command::SetStatsInterval(Some(Duration::from_millis(300))))
        .unwrap();
    let Event::Stats(stats) = expect_event(
        &handle.events,
        TIMEOUT,
        "Stats",
        |e| matches!(e, Event::Stats(s) if s.iter().any(|(u, _)| *u == uuid)),
    ) else {
        unreachable!()
    };
    let (_, st) = stats.iter().find(|(u, _)| *u == uuid).unwrap();
    eprintln!("{st:?}");
    assert!((0.0..=100.0).contains(&st.cpu_percent));
    assert!(st.cpu_percent > 0.0, "an emulated guest uses some CPU");
    assert!(st.memory_used_kib.is_some_and(|m| m > 0));
    assert_eq!(st.memory_total_kib, Some(48 * 1024));

    handle
        .commands
        .send_blocking(Command::SetStatsInterval(None))
        .unwrap();
    handle.quit_and_join();
}
