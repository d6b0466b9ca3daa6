//! The worker's initial list against `virsh list --all` on the `test:///` fixture.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::fixture::{fixture_domains, node_xml, states_fixture, STATES_FIXTURE_COUNT};
use common::{connect_and_snapshot, expect_event, quiet_options, test_uri, virsh_ok};
use virtdeck::libvirt::worker::FIRST_LOOK_FROM;
use virtdeck::libvirt::{spawn, ConnectionState, DomainState, Event, WorkerOptions};

const TIMEOUT: Duration = Duration::from_secs(10);

/// virsh's words for each state (`virshDomainStateToString`).
fn virsh_state(word: &str) -> Option<DomainState> {
    Some(match word {
        "no state" => DomainState::NoState,
        "running" => DomainState::Running,
        "idle" => DomainState::Blocked,
        "paused" => DomainState::Paused,
        "in shutdown" => DomainState::ShuttingDown,
        "shut off" => DomainState::Shutoff,
        "crashed" => DomainState::Crashed,
        "pmsuspended" => DomainState::PmSuspended,
        _ => return None,
    })
}

/// Parses `virsh -q list --all`: `<id or -> <name…> <state>`. Names may contain spaces, so
/// the state is matched as a known suffix and the name is what lies between.
fn parse_virsh_list(out: &str) -> Vec<(String, DomainState)> {
    const WORDS: [&str; 8] = [
        "no state",
        "running",
        "idle",
        "paused",
        "in shutdown",
        "shut off",
        "crashed",
        "pmsuspended",
    ];
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let line = line.trim();
            let (_id, rest) = line
                .split_once(char::is_whitespace)
                .unwrap_or_else(|| panic!("unexpected virsh line {line:?}"));
            let rest = rest.trim_start();
            let word = WORDS
                .iter()
                .find(|w| rest.ends_with(*w))
                .unwrap_or_else(|| panic!("no known state in {line:?}"));
            let name = rest[..rest.len() - word.len()].trim_end();
            (name.to_owned(), virsh_state(word).unwrap())
        })
        .collect()
}

#[test]
fn committed_fixture_matches_the_generator() {
    let path = states_fixture();
    let generated = node_xml(STATES_FIXTURE_COUNT);
    if std::env::var_os("VIRTDECK_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, &generated).expect("write fixture");
    }
    let committed =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert_eq!(
        committed, generated,
        "tests/fixtures/states.xml is stale: run VIRTDECK_WRITE_FIXTURES=1 cargo test"
    );
}

#[test]
fn snapshot_matches_virsh_list() {
    let uri = test_uri(&states_fixture());
    let (handle, list) = connect_and_snapshot(&uri, quiet_options());

    let mut ours: Vec<(String, DomainState)> =
        list.iter().map(|d| (d.name.clone(), d.state)).collect();
    let mut virsh = parse_virsh_list(&virsh_ok(&uri, &["list", "--all"]));
    ours.sort();
    virsh.sort();
    assert_eq!(ours.len(), STATES_FIXTURE_COUNT);
    assert_eq!(ours, virsh, "worker snapshot vs virsh list --all");

    // Every state is present, and so are the odd names.
    let states: BTreeSet<_> = list.iter().map(|d| d.state.to_raw()).collect();
    assert_eq!(
        states.len(),
        DomainState::ALL.len(),
        "all eight states: {states:?}"
    );
    for name in [
        "Ünïcødé 测试",
        "a&b",
        "<tag>",
        "double \"quoted\"",
        "single 'quoted'",
    ] {
        assert!(list.iter().any(|d| d.name == name), "missing {name:?}");
    }

    // Transient domains agree with virsh too.
    let transient_virsh: BTreeSet<String> =
        virsh_ok(&uri, &["list", "--all", "--transient", "--name"])
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
    let transient_ours: BTreeSet<String> = list
        .iter()
        .filter(|d| !d.persistent)
        .map(|d| d.name.clone())
        .collect();
    assert_eq!(transient_ours, transient_virsh);
    assert_eq!(transient_ours.len(), 1);

    // And the rest of each domain matches what the fixture was made of.
    for expected in fixture_domains(STATES_FIXTURE_COUNT) {
        let d = list
            .iter()
            .find(|d| d.uuid == expected.uuid)
            .unwrap_or_else(|| panic!("missing {}", expected.uuid));
        assert_eq!(d.name, expected.name);
        assert_eq!(d.state, expected.state, "{}", d.name);
        assert_eq!(d.persistent, expected.persistent, "{}", d.name);
        assert_eq!(d.vcpus, expected.vcpus, "{}", d.name);
        assert_eq!(d.max_memory_kib, expected.memory_kib, "{}", d.name);
        assert_eq!(d.os_id.as_deref(), expected.os_id, "{}", d.name);
        assert_eq!(d.nics.len(), 1);
        assert!(d.nics[0]
            .mac
            .as_deref()
            .is_some_and(|m| m.starts_with("52:54:00:5e:")));
        assert_eq!(d.graphics.len(), 1);
        assert_eq!(d.disks[0].target, "vda");
        assert_eq!(
            d.id.is_some(),
            d.state.is_active(),
            "{} {:?}",
            d.name,
            d.state
        );
    }
    handle.quit_and_join();
}

#[test]
fn scaled_fixtures_load_completely() {
    for count in [10, 200] {
        let path = common::fixture::write_node_file(count);
        let (handle, list) = connect_and_snapshot(&test_uri(&path), quiet_options());
        assert_eq!(list.len(), count);
        let names: BTreeSet<_> = list.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names.len(), count, "unique names");
        handle.quit_and_join();
        let _ = std::fs::remove_file(path);
    }
}

/// Connects to a fixture of `count` domains and returns the event after Connected (the
/// first one about the list) and the worker, the fixture file removed.
fn first_list_event(count: usize) -> (virtdeck::libvirt::ConnectionHandle, Event) {
    let path = common::fixture::write_node_file(count);
    let handle = spawn(test_uri(&path), quiet_options());
    expect_event(&handle.events, TIMEOUT, "Connected", |e| {
        matches!(e, Event::ConnectionState(ConnectionState::Connected { .. }))
    });
    let next = handle
        .events
        .recv_blocking()
        .expect("an event after Connected");
    let _ = std::fs::remove_file(path);
    (handle, next)
}

/// A long list comes first as a first look (names, states, persistence: no call per
/// domain), then in full; a short one comes in full at once.
#[test]
fn a_long_list_is_shown_before_its_domains_are_read() {
    // Not 200: another test writes (and removes) that fixture file.
    let count = FIRST_LOOK_FROM + 1;
    let (handle, first) = first_list_event(count);
    let Event::Listed(first) = first else {
        panic!("the first look comes right after Connected, not {first:?}");
    };
    let Event::Snapshot(full) = expect_event(&handle.events, TIMEOUT, "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    }) else {
        unreachable!()
    };
    handle.quit_and_join();

    assert_eq!((first.len(), full.len()), (count, count));
    assert!(first.iter().all(|d| !d.detailed) && full.iter().all(|d| d.detailed));
    for expected in fixture_domains(count) {
        let seen = first
            .iter()
            .find(|d| d.uuid == expected.uuid)
            .unwrap_or_else(|| panic!("missing {} in the first look", expected.name));
        let d = full.iter().find(|d| d.uuid == expected.uuid).unwrap();
        assert_eq!(
            (&seen.name, seen.state, seen.persistent, seen.id),
            (&d.name, d.state, d.persistent, d.id),
            "the first look agrees with the full read"
        );
        assert_eq!(d.state, expected.state, "{}", d.name);
        assert_eq!(d.os_id.as_deref(), expected.os_id, "{}", d.name);
    }

    let short = FIRST_LOOK_FROM - 1;
    let (handle, next) = first_list_event(short);
    assert!(
        matches!(&next, Event::Snapshot(list) if list.len() == short),
        "a shorter list comes in full at once: {}",
        common::summary(&next)
    );
    handle.quit_and_join();
}

#[test]
fn stats_tick_for_active_domains() {
    let uri = test_uri(&states_fixture());
    let options = WorkerOptions {
        stats_interval: Some(Duration::from_millis(100)),
        autoconnect: true,
    };
    let (handle, list) = connect_and_snapshot(&uri, options);
    let Event::Stats(stats) = expect_event(&handle.events, TIMEOUT, "Stats", |e| {
        matches!(e, Event::Stats(_))
    }) else {
        unreachable!()
    };
    let active: BTreeSet<&str> = list
        .iter()
        .filter(|d| d.state.is_active())
        .map(|d| d.uuid.as_str())
        .collect();
    let sampled: BTreeSet<&str> = stats.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(sampled, active, "one bulk call covers every active domain");

    // Paused statistics: no more ticks.
    handle
        .commands
        .send_blocking(virtdeck::libvirt::Command::SetStatsInterval(None))
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    while handle.events.try_recv().is_ok() {}
    std::thread::sleep(Duration::from_millis(400));
    assert!(handle.events.try_recv().is_err(), "no stats while disabled");
    handle.quit_and_join();
}

#[test]
fn virsh_list_parser() {
    let out = " 1    a b   running\n 2    <tag>   in shutdown\n -    x  y    shut off\n";
    assert_eq!(
        parse_virsh_list(out),
        vec![
            ("a b".to_owned(), DomainState::Running),
            ("<tag>".to_owned(), DomainState::ShuttingDown),
            ("x  y".to_owned(), DomainState::Shutoff),
        ]
    );
}
