//! A real guest that does things, seen through the connection worker: the test guest on a
//! libvirt NAT network of its own takes a DHCP lease (`virtdeck.net=dhcp`), pings its
//! router and writes to its disk (`virtdeck.disk=write`). It has no guest agent, so its
//! address comes from the lease, said so, matched to its NIC by MAC address; the agent's
//! facts are "no agent"; and its disk and network counters move in the statistics history.
//! One guest for the whole file: it boots once.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::guest::{GuestBoot, GuestOptions, TestGuest};
use common::vnet::NatNetwork;
use common::{
    ask, assert_no_negative, connect_and_snapshot, ensure_libvirtd, history_until, quiet_options,
    virsh_ok, SESSION_URI,
};
use virtdeck::libvirt::history::Series;
use virtdeck::libvirt::{
    AddressSource, Command, GuestAddresses, GuestFacts, Request, RequestError,
};

const TIMEOUT: Duration = Duration::from_secs(120);

/// A scratch file the guest's disk writer may overwrite; removed when dropped.
struct ScratchDisk(PathBuf);

impl ScratchDisk {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{}{tag}.raw", common::prefix()));
        let file = std::fs::File::create(&path).expect("create the scratch disk");
        file.set_len(16 << 20).expect("size the scratch disk");
        ScratchDisk(path)
    }
}

impl Drop for ScratchDisk {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_busy_guest_without_agent_shows_its_lease_and_its_counters_move() {
    ensure_libvirtd();
    let network = NatNetwork::create(&format!("insight-{}", std::process::id()));
    let disk = ScratchDisk::new("activity-disk");
    let opts = GuestOptions {
        boot: GuestBoot::Kernel {
            extra_cmdline: "virtdeck.net=dhcp virtdeck.disk=write".into(),
        },
        network: Some(network.name.clone()),
        disk: Some(disk.0.clone()),
        ..GuestOptions::default()
    };
    let (handle, _) = connect_and_snapshot(SESSION_URI, quiet_options());
    let started = Instant::now();
    let guest = TestGuest::start(SESSION_URI, "activity", &opts);
    let uuid = virsh_ok(SESSION_URI, &["domuuid", &guest.name])
        .trim()
        .to_owned();
    let mac = virsh_ok(SESSION_URI, &["domiflist", &guest.name])
        .split_whitespace()
        .find(|w| w.len() == 17 && w.matches(':').count() == 5)
        .expect("the guest's NIC has a MAC address")
        .to_owned();
    guest.wait_ready(TIMEOUT);
    guest.wait_line_after(0, &["DISK: writing vda"], TIMEOUT);
    let bound = guest.wait_line_after(0, &["DHCP: eth0 1"], TIMEOUT);
    eprintln!("{bound} {:?} after the start", started.elapsed());
    // "DHCP: eth0 10.x.y.z/24 via 10.x.y.1"
    let leased = bound
        .split_whitespace()
        .nth(2)
        .expect("an address in the DHCP line");
    assert!(
        bound.ends_with(&format!("via {}", network.gateway)),
        "{bound}"
    );

    // The addresses: no agent, so the lease answers, and says so.
    let deadline = Instant::now() + TIMEOUT;
    let addresses = loop {
        let uuid = uuid.clone();
        let answer = ask(&handle, |reply| Request::GuestAddresses {
            uuid,
            agent: true,
            reply,
        })
        .expect("a running guest is answered");
        if answer.source.is_some() {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "no lease for {leased} within {TIMEOUT:?}: {answer:?}; the network has {}",
            network.leases()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    eprintln!("addresses: {addresses:?}");
    assert_eq!(
        addresses.source,
        Some(AddressSource::Lease),
        "{addresses:?}"
    );
    assert!(
        !addresses.agent,
        "the test guest has no agent: {addresses:?}"
    );
    assert_eq!(addresses.nics.len(), 1, "{addresses:?}");
    assert_eq!(addresses.nics[0].mac.as_deref(), Some(mac.as_str()));
    assert_eq!(addresses.nics[0].addresses, [leased.to_owned()]);
    assert_eq!(Some(leased.split('/').next().unwrap()), addresses.first());
    // Without the agent the lease is asked first, with the same answer.
    let uuid_again = uuid.clone();
    let without_agent: GuestAddresses = ask(&handle, |reply| Request::GuestAddresses {
        uuid: uuid_again,
        agent: false,
        reply,
    })
    .expect("answered");
    assert_eq!(without_agent, addresses);

    // The agent's facts: none, with libvirt's reason.
    let uuid_facts = uuid.clone();
    let facts = ask(&handle, |reply| Request::GuestInfo {
        uuid: uuid_facts,
        reply,
    })
    .expect("a guest without an agent is answered");
    let GuestFacts::NoAgent(reason) = &facts else {
        panic!("the test guest has no agent, yet: {facts:?}");
    };
    eprintln!("guest info: {reason}");
    assert!(!reason.is_empty());
    let error = ask(&handle, |reply| Request::GuestInfo {
        uuid: "00000000-0000-0000-0000-000000000000".into(),
        reply,
    })
    .expect_err("no such machine");
    assert!(matches!(error, RequestError::Libvirt(_)), "{error:?}");

    // The counters: the disk writes and the pings reach the history.
    handle
        .commands
        .send_blocking(Command::SetStatsInterval(Some(Duration::from_millis(500))))
        .unwrap();
    let moving = [Series::DiskWrite, Series::NetRx, Series::NetTx];
    let history = history_until(&handle, &uuid, TIMEOUT, "disk writes and traffic", |h| {
        moving.iter().all(|s| h.series(*s).max() > 0.0)
    });
    eprintln!(
        "after {} samples: disk writes up to {} B/s, received up to {} B/s, sent up to {} B/s",
        history.len(),
        history.series(Series::DiskWrite).max(),
        history.series(Series::NetRx).max(),
        history.series(Series::NetTx).max()
    );
    // 1 MiB a second: well above what booting alone would write (nothing).
    assert!(history.series(Series::DiskWrite).max() >= 100_000.0);
    assert_no_negative(&history);
    handle
        .commands
        .send_blocking(Command::SetStatsInterval(None))
        .unwrap();
    handle.quit_and_join();
    drop(guest);
    drop(network);
}
