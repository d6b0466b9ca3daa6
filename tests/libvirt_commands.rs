//! Commands sent to the worker: their effects come back as list events, failures as errors.

mod common;

use std::time::Duration;

use common::fixture::{
    fixture_domains, states_fixture, temp_xml, tiny_qemu_domain_xml, STATES_FIXTURE_COUNT,
};
use common::{
    connect_and_snapshot, expect_event, prefix, quiet_options, test_uri, virsh, virsh_ok,
    DomainGuard, PoolGuard, SESSION_URI,
};
use virtdeck::libvirt::{
    Action, Command, ConnectionHandle, ConnectionState, DeleteStorage, DomainState, Event, Reply,
    RequestError,
};

const TIMEOUT: Duration = Duration::from_secs(10);

fn send(handle: &ConnectionHandle, command: Command) {
    handle
        .commands
        .send_blocking(command)
        .expect("worker alive");
}

fn expect_state(handle: &ConnectionHandle, uuid: &str, state: DomainState) {
    expect_event(
        &handle.events,
        TIMEOUT,
        &format!("{uuid} → {state:?}"),
        |e| matches!(e, Event::DomainChanged(d) if d.uuid == uuid && d.state == state),
    );
}

fn expect_removed(handle: &ConnectionHandle, uuid: &str) {
    expect_event(
        &handle.events,
        TIMEOUT,
        &format!("{uuid} removed"),
        |e| matches!(e, Event::DomainRemoved(u) if u == uuid),
    );
}

fn expect_error(handle: &ConnectionHandle, action: Action) -> String {
    let Event::Error { message, .. } = expect_event(
        &handle.events,
        TIMEOUT,
        "Error",
        |e| matches!(e, Event::Error { action: a, .. } if *a == action),
    ) else {
        unreachable!()
    };
    message
}

/// The first fixture domain in `state`.
fn uuid_in(state: DomainState) -> String {
    fixture_domains(STATES_FIXTURE_COUNT)
        .into_iter()
        .find(|d| d.state == state && d.persistent)
        .map(|d| d.uuid)
        .unwrap()
}

#[test]
fn power_commands_on_the_test_driver() {
    // The test driver keeps its state per connection, so each worker has a private copy.
    let (handle, list) = connect_and_snapshot(&test_uri(&states_fixture()), quiet_options());

    let running = uuid_in(DomainState::Running);
    send(&handle, Command::Pause(running.clone()));
    expect_state(&handle, &running, DomainState::Paused);
    send(&handle, Command::Resume(running.clone()));
    expect_state(&handle, &running, DomainState::Running);
    send(&handle, Command::Shutdown(running.clone()));
    expect_state(&handle, &running, DomainState::Shutoff);
    send(&handle, Command::Start(running.clone()));
    expect_state(&handle, &running, DomainState::Running);
    send(&handle, Command::ForceOff(running.clone()));
    expect_state(&handle, &running, DomainState::Shutoff);

    // Resuming a power-management suspended domain means waking it up, which the test
    // driver does not implement: the worker says so in a sentence.
    let suspended = uuid_in(DomainState::PmSuspended);
    send(&handle, Command::Resume(suspended.clone()));
    let message = expect_error(&handle, Action::Resume);
    assert!(message.contains("virDomainPMWakeup"), "{message}");

    // A transient domain disappears when forced off.
    let transient = list.iter().find(|d| !d.persistent).unwrap().uuid.clone();
    send(&handle, Command::ForceOff(transient.clone()));
    expect_removed(&handle, &transient);

    // Delete: a shut-off domain, and a running one (stopped first).
    let off = uuid_in(DomainState::Shutoff);
    send(
        &handle,
        Command::Delete {
            uuid: off.clone(),
            storage: DeleteStorage::default(),
        },
    );
    expect_removed(&handle, &off);
    let paused = uuid_in(DomainState::Paused);
    send(
        &handle,
        Command::Delete {
            uuid: paused.clone(),
            storage: DeleteStorage::default(),
        },
    );
    expect_removed(&handle, &paused);

    // Failures are reported, readable, and the worker carries on.
    send(
        &handle,
        Command::Start("00000000-0000-0000-0000-000000000000".into()),
    );
    let message = expect_error(&handle, Action::Start);
    assert!(!message.contains("error:"), "{message}");
    assert!(message.ends_with('.'), "{message}");
    send(&handle, Command::Pause(off.clone()));
    expect_error(&handle, Action::Pause);
    let shutoff = fixture_domains(STATES_FIXTURE_COUNT)
        .into_iter()
        .filter(|d| d.state == DomainState::Shutoff)
        .nth(1)
        .unwrap()
        .uuid;
    send(&handle, Command::Resume(shutoff));
    let message = expect_error(&handle, Action::Resume);
    eprintln!("resume of a shut-off domain: {message}");

    // Disconnect and connect again: a fresh snapshot of this connection's state.
    send(&handle, Command::Disconnect);
    expect_event(&handle.events, TIMEOUT, "Disconnected", |e| {
        matches!(
            e,
            Event::ConnectionState(ConnectionState::Disconnected { retry_in: None, .. })
        )
    });
    send(&handle, Command::Pause(running.clone()));
    assert_eq!(expect_error(&handle, Action::Pause), "Not connected.");
    send(&handle, Command::Connect);
    let Event::Snapshot(again) = expect_event(&handle.events, TIMEOUT, "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    }) else {
        unreachable!()
    };
    assert_eq!(
        again.len(),
        STATES_FIXTURE_COUNT,
        "a new test:/// connection starts afresh"
    );
    handle.quit_and_join();
}

#[test]
fn delete_with_storage_removes_the_volumes() {
    let pool = PoolGuard::session_dir("pool");
    let image = pool.create_volume("disk.img");

    let name = format!("{}delete", prefix());
    let _guard = DomainGuard {
        uri: SESSION_URI.into(),
        name: name.clone(),
    };
    let xml = temp_xml(
        "delete",
        &tiny_qemu_domain_xml(&name, Some(image.to_str().unwrap())),
    );
    virsh_ok(SESSION_URI, &["define", xml.to_str().unwrap()]);

    let (handle, list) = connect_and_snapshot(SESSION_URI, quiet_options());
    let info = list
        .iter()
        .find(|d| d.name == name)
        .expect("in the snapshot");
    assert_eq!(info.disks.len(), 1);
    assert_eq!(
        info.disks[0].size_bytes,
        Some(1024 * 1024),
        "size from the hypervisor"
    );
    let uuid = info.uuid.clone();

    send(&handle, Command::Start(uuid.clone()));
    expect_state(&handle, &uuid, DomainState::Running);
    send(
        &handle,
        Command::Delete {
            uuid: uuid.clone(),
            storage: DeleteStorage {
                volumes: vec![image.to_str().unwrap().to_owned()],
                ..DeleteStorage::default()
            },
        },
    );
    expect_removed(&handle, &uuid);
    common::wait_for("the volume to be deleted", TIMEOUT, || !image.exists());
    assert!(
        !virsh(SESSION_URI, &["dominfo", &name]).status.success(),
        "the domain is gone"
    );
    handle.quit_and_join();
}

/// A reported command answers its own asker: nothing on success, libvirt's reason on
/// failure, and no error event either way (actions on several machines show each result).
#[test]
fn a_reported_command_answers_its_outcome_instead_of_an_error_event() {
    let (handle, _) = connect_and_snapshot(&test_uri(&states_fixture()), quiet_options());
    let reported = |command: Command| {
        let (reply, answer) = Reply::new();
        send(
            &handle,
            Command::Reported {
                command: Box::new(command),
                reply,
            },
        );
        answer.recv_blocking()
    };

    let off = uuid_in(DomainState::Shutoff);
    assert!(reported(Command::Start(off.clone())).is_ok());
    expect_state(&handle, &off, DomainState::Running);

    // Started twice: the test driver refuses, and says why.
    match reported(Command::Start(off.clone())) {
        Err(RequestError::Libvirt(message)) => {
            assert!(message.contains("already running"), "{message}")
        }
        other => panic!("expected libvirt's refusal, got {other:?}"),
    }
    match reported(Command::ForceOff("no-such-uuid".into())) {
        Err(RequestError::Libvirt(message)) => assert!(!message.is_empty()),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Neither failure came as an error event.
    std::thread::sleep(Duration::from_millis(300));
    while let Ok(event) = handle.events.try_recv() {
        assert!(!matches!(event, Event::Error { .. }), "{event:?}");
    }
    handle.quit_and_join();
}
#[test]
fn statistics_only_for_the_watched_domains() {
    let (handle, list) = connect_and_snapshot(&test_uri(&states_fixture()), quiet_options());
    let active: Vec<String> = list
        .iter()
        .filter(|d| d.state.is_active())
        .map(|d| d.uuid.clone())
        .collect();
    assert!(active.len() > 2, "the fixture runs several domains");
    let is_stats = |e: &Event| matches!(e, Event::Stats(s) if !s.is_empty());
    send(
        &handle,
        Command::SetStatsInterval(Some(Duration::from_millis(200))),
    );
    // Nothing watched yet: every active domain is sampled.
    let Event::Stats(all) = expect_event(&handle.events, TIMEOUT, "Stats of all", is_stats) else {
        unreachable!()
    };
    assert_eq!(all.len(), active.len(), "{all:?}");

    let watched = active[1].clone();
    send(&handle, Command::WatchStats(vec![watched.clone()]));
    skip_ticks(&handle, 2);
    for _ in 0..3 {
        let Event::Stats(some) = expect_event(&handle.events, TIMEOUT, "Stats of one", is_stats)
        else {
            unreachable!()
        };
        let uuids: Vec<&String> = some.iter().map(|(uuid, _)| uuid).collect();
        assert_eq!(uuids, [&watched]);
    }

    // Watching none: ticks go on (the host's load) without any domain's statistics.
    send(&handle, Command::WatchStats(Vec::new()));
    skip_ticks(&handle, 2);
    for _ in 0..3 {
        expect_event(&handle.events, TIMEOUT, "HostLoad", |e| {
            assert!(!is_stats(e), "statistics of an unwatched domain: {e:?}");
            matches!(e, Event::HostLoad(_))
        });
    }
    handle.quit_and_join();
}

/// Lets `ticks` statistics ticks pass (whatever was sampled before a command).
fn skip_ticks(handle: &ConnectionHandle, ticks: usize) {
    for _ in 0..ticks {
        expect_event(&handle.events, TIMEOUT, "HostLoad", |e| {
            matches!(e, Event::HostLoad(_))
        });
    }
}
