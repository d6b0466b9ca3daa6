//! With statistics off and nothing happening, the worker and the event loop sleep.

mod common;

use std::time::Duration;

use common::fixture::states_fixture;
use common::{expect_event, quiet_options, test_uri};
use virtdeck::libvirt::{spawn, Event};

/// CPU time (user + system, in clock ticks) of this process's threads whose name starts
/// with `name` (thread names are cut to 15 bytes).
fn cpu_ticks(name: &str) -> (usize, u64) {
    let mut threads = 0;
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !name.starts_with(comm.trim_end()) || comm.trim_end().is_empty() {
            continue;
        }
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split(' ').collect();
        let utime: u64 = fields[11].parse().unwrap();
        let stime: u64 = fields[12].parse().unwrap();
        threads += 1;
        ticks += utime + stime;
    }
    (threads, ticks)
}

#[test]
fn an_idle_worker_blocks() {
    let handle = spawn(test_uri(&states_fixture()), quiet_options());
    expect_event(&handle.events, Duration::from_secs(10), "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    });
    std::thread::sleep(Duration::from_millis(200));
    let (workers, worker_before) = cpu_ticks("virtdeck-connection");
    let (loops, loop_before) = cpu_ticks("libvirt-events");
    assert_eq!(
        (workers, loops),
        (1, 1),
        "one worker thread, one event loop thread"
    );
    std::thread::sleep(Duration::from_secs(2));
    let (_, worker_after) = cpu_ticks("virtdeck-connection");
    let (_, loop_after) = cpu_ticks("libvirt-events");
    // A busy loop would burn ~200 ticks in 2 s.
    assert!(
        worker_after - worker_before <= 2,
        "worker used {} ticks",
        worker_after - worker_before
    );
    assert!(
        loop_after - loop_before <= 2,
        "event loop used {} ticks",
        loop_after - loop_before
    );
    assert!(
        handle.events.try_recv().is_err(),
        "nothing to report while idle"
    );
    handle.quit_and_join();
}
