//! The Text Console's stream: the test guest's shell on its second serial port (a pseudo
//! terminal) answers a command sent through `virDomainOpenConsole` on the connection's
//! worker, on this computer's libvirt and on a remote host over SSH.

mod common;

use std::time::{Duration, Instant};

use common::guest::{GuestBoot, GuestOptions, TestGuest};
use common::remote::RemoteHost;
use common::{ask, connect_and_snapshot, ensure_libvirtd, quiet_options, virsh_ok, SESSION_URI};
use virtdeck::libvirt::graphics::DisplayRequest;
use virtdeck::libvirt::text_console::ConsoleOutput;
use virtdeck::libvirt::Request;

const BOOT_TIMEOUT: Duration = Duration::from_secs(240);

fn shell_guest(uri: &str, tag: &str) -> TestGuest {
    let opts = GuestOptions {
        boot: GuestBoot::Kernel {
            extra_cmdline: String::new(),
        },
        serial_shell: true,
        ..GuestOptions::default()
    };
    let guest = TestGuest::start(uri, tag, &opts);
    guest.wait_ready(BOOT_TIMEOUT);
    guest
}

/// Sends a command to the guest's serial shell until its answer comes back (the shell may
/// still be starting when the first one goes).
fn shell_answers(uri: &str, guest: &TestGuest) {
    let (handle, _) = connect_and_snapshot(uri, quiet_options());
    let uuid = virsh_ok(uri, &["domuuid", &guest.name]).trim().to_owned();
    let console = ask(&handle, |reply| {
        Request::Display(DisplayRequest::TextConsole { uuid, reply })
    })
    .expect("the serial console opens");
    assert_eq!(console.device.as_deref(), Some("serial1"));
    let output = console.output();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let mut next_try = Instant::now();
    while !String::from_utf8_lossy(&seen).contains("vd-42") {
        assert!(
            Instant::now() < deadline,
            "no answer from the serial shell; it said: {:?}",
            String::from_utf8_lossy(&seen)
        );
        if Instant::now() >= next_try {
            console.send(b"echo vd-$((6*7))\r");
            next_try = Instant::now() + Duration::from_secs(3);
        }
        match output.try_recv() {
            Ok(ConsoleOutput::Data(bytes)) => seen.extend(bytes),
            Ok(ConsoleOutput::Closed(reason)) => panic!("the console closed: {reason:?}"),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    // Closing the console ends its stream; the machine's worker carries on.
    drop(console);
    assert!(ask(&handle, Request::HostInfo).is_ok());
    handle.quit_and_join();
}

#[test]
fn the_guest_s_serial_shell_answers_through_the_stream() {
    ensure_libvirtd();
    let guest = shell_guest(SESSION_URI, "text-console");
    shell_answers(SESSION_URI, &guest);
}

#[test]
fn the_serial_shell_answers_over_a_remote_connection() {
    let host = RemoteHost::up("rtxt", 63);
    let uri = host.get("URI").to_owned();
    let guest = shell_guest(&uri, "text-console-remote");
    shell_answers(&uri, &guest);
    drop(guest);
}
