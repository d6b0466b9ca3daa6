//! The statistics a graph draws, from a real guest: the test guest booting from its ISO
//! reads its CD-ROM, and the worker's disk read rate, kept in a [`StatsHistory`], shows
//! it; no series ever holds a negative value. The host's own CPU and memory come at the same
//! tick.

mod common;

use std::time::Duration;

use common::guest::{GuestOptions, TestGuest};
use common::{
    assert_no_negative, ensure_libvirtd, expect_event, history_until, quiet_options, virsh_ok,
    SESSION_URI,
};
use virtdeck::libvirt::history::Series;
use virtdeck::libvirt::{spawn, Command, Event};

const TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn a_booting_guest_s_disk_reads_reach_the_history() {
    ensure_libvirtd();
    let handle = spawn(SESSION_URI.into(), quiet_options());
    expect_event(&handle.events, TIMEOUT, "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    });
    handle
        .commands
        .send_blocking(Command::SetStatsInterval(Some(Duration::from_millis(500))))
        .unwrap();
    let guest = TestGuest::start(SESSION_URI, "history", &GuestOptions::default());
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &guest.name])
        .trim()
        .to_owned();

    let history = history_until(
        &handle,
        &uuid,
        TIMEOUT,
        "disk reads while the guest boots",
        |h| h.series(Series::DiskRead).max() > 0.0,
    );
    guest.wait_ready(TIMEOUT);
    eprintln!(
        "{} samples; disk reads up to {} bytes/s, CPU up to {} %",
        history.len(),
        history.series(Series::DiskRead).max(),
        history.series(Series::Cpu).max()
    );
    assert_no_negative(&history);
    assert!(history.series(Series::Cpu).max() > 0.0);
    handle
        .commands
        .send_blocking(Command::SetStatsInterval(None))
        .unwrap();
    handle.quit_and_join();
}

/// The host's CPU and memory come at each statistics tick: the first without a CPU figure
/// (it needs two readings), then with one; the memory as libvirt's node statistics say.
#[test]
fn the_host_s_load_comes_with_each_tick() {
    ensure_libvirtd();
    let handle = spawn(SESSION_URI.into(), quiet_options());
    expect_event(&handle.events, TIMEOUT, "Snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    });
    handle
        .commands
        .send_blocking(Command::SetStatsInterval(Some(Duration::from_millis(300))))
        .unwrap();
    let Event::HostLoad(first) = expect_event(&handle.events, TIMEOUT, "HostLoad", |e| {
        matches!(e, Event::HostLoad(_))
    }) else {
        unreachable!()
    };
    assert_eq!(
        first.cpu_percent, None,
        "one reading gives no rate: {first:?}"
    );
    let Event::HostLoad(next) = expect_event(&handle.events, TIMEOUT, "HostLoad", |e| {
        matches!(e, Event::HostLoad(_))
    }) else {
        unreachable!()
    };
    let cpu = next
        .cpu_percent
        .expect("a CPU figure from the second reading");
    assert!((0.0..=100.0).contains(&cpu), "{next:?}");
    let memory = next.memory.expect("qemu's node memory statistics");
    let total: u64 = virsh_ok(SESSION_URI, &["nodememstats"])
        .lines()
        .find_map(|l| {
            l.strip_prefix("total")?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .expect("virsh nodememstats says the total");
    assert_eq!(memory.total_kib, total);
    assert!(memory.used_kib > 0 && memory.used_kib < total, "{memory:?}");
    eprintln!("host: {next:?}");
    handle
        .commands
        .send_blocking(Command::SetStatsInterval(None))
        .unwrap();
    handle.quit_and_join();
}
