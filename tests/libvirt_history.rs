//! The statistics a graph draws, from a real guest: the test guest booting from its ISO
//! reads its CD-ROM, and the worker's disk read rate, kept in a [`StatsHistory`], shows
//! it; no series ever holds a negative value.

mod common;

use std::time::{Duration, Instant};

use common::guest::{GuestOptions, TestGuest};
use common::{ensure_libvirtd, expect_event, quiet_options, virsh_ok, SESSION_URI};
use virtdeck::libvirt::history::Series;
use virtdeck::libvirt::{spawn, Command, Event, StatsHistory};

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

    let mut history = StatsHistory::default();
    let deadline = Instant::now() + TIMEOUT;
    while history.series(Series::DiskRead).max() == 0.0 {
        assert!(
            Instant::now() < deadline,
            "no disk reads while the guest boots: {history:?}"
        );
        let Ok(Event::Stats(stats)) = handle.events.recv_blocking() else {
            continue;
        };
        if let Some((_, st)) = stats.iter().find(|(u, _)| *u == uuid) {
            history.push(st);
        }
    }
    guest.wait_ready(TIMEOUT);
    eprintln!(
        "{} samples; disk reads up to {} bytes/s, CPU up to {} %",
        history.len(),
        history.series(Series::DiskRead).max(),
        history.series(Series::Cpu).max()
    );
    for series in Series::ALL {
        assert!(
            history
                .series(series)
                .iter()
                .all(|v| v.is_nan() || v >= 0.0),
            "{series:?}"
        );
    }
    assert!(history.series(Series::Cpu).max() > 0.0);
    handle
        .commands
        .send_blocking(Command::SetStatsInterval(None))
        .unwrap();
    handle.quit_and_join();
}
