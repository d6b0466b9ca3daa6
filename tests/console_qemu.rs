//! The console against a real QEMU VNC server: a TCG domain without disks under libvirt
//! (its firmware prints to the VGA screen). Connects twice, through the socket libvirt
//! hands over (`virDomainOpenGraphicsFD`) and over TCP to the listen address, and checks
//! that the screen shows something and that keys go out.

mod common;

use std::time::{Duration, Instant};

use common::console::{expect, tap};
use common::{ensure_libvirtd, prefix, virsh_ok, DomainGuard, SESSION_URI};
use virtdeck::console::{
    ConnectOptions, ConsoleEvent, ConsoleSession, ConsoleSource, Input, SendKey,
};
use virtdeck::libvirt::events::{ensure_event_loop, open_graphics_fd};

const DEADLINE: Duration = Duration::from_secs(60);

fn start_domain(tag: &str) -> DomainGuard {
    ensure_libvirtd();
    let guard = DomainGuard::session(tag);
    guard.virsh_tiny("create");
    guard
}

/// Waits until the framebuffer has at least `count` pixels that are not black.
fn wait_for_picture(session: &ConsoleSession, count: usize) -> usize {
    let deadline = Instant::now() + DEADLINE;
    loop {
        while session.events().try_recv().is_ok() {}
        let lit = {
            let fb = session.framebuffer().lock().unwrap();
            fb.pixels()
                .chunks_exact(4)
                .filter(|p| p[..3] != [0, 0, 0])
                .count()
        };
        if lit >= count {
            return lit;
        }
        assert!(
            Instant::now() < deadline,
            "the guest screen stayed black ({lit} lit pixels) for {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Reads a binary PPM (what QEMU's screendump writes): width, height, RGB bytes.
fn read_ppm(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let data = std::fs::read(path).expect("read the screenshot");
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while data[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !data[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&data[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6", "not a binary PPM");
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, data[at + 1..].to_vec())
}

/// Compares the framebuffer with QEMU's screendump until they match exactly (the
/// encodings are lossless); the firmware may still be drawing, hence the retries.
fn matches_screenshot(session: &ConsoleSession, domain: &str, how: &str) {
    let path = std::env::temp_dir().join(format!("{}shot.ppm", prefix()));
    let deadline = Instant::now() + DEADLINE;
    loop {
        // QEMU's own screendump writes PPM (virsh screenshot gives PNG here).
        let command = format!("screendump {}", path.display());
        virsh_ok(
            SESSION_URI,
            &["qemu-monitor-command", "--hmp", domain, &command],
        );
        let (w, h, rgb) = read_ppm(&path);
        let differing = {
            let fb = session.framebuffer().lock().unwrap();
            if (fb.width(), fb.height()) != (w, h) {
                usize::MAX
            } else {
                fb.pixels()
                    .chunks_exact(4)
                    .zip(rgb.chunks_exact(3))
                    .filter(|(bgra, rgb)| [bgra[2], bgra[1], bgra[0]] != rgb[..3])
                    .count()
            }
        };
        if differing == 0 {
            let _ = std::fs::remove_file(&path);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{how}: {differing} pixels differ from QEMU's screendump ({w}×{h})"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn exercise(session: &ConsoleSession, domain: &str, how: &str) {
    let connected = expect(session, DEADLINE, &format!("Connected ({how})"), |e| {
        matches!(e, ConsoleEvent::Connected { .. })
    });
    let ConsoleEvent::Connected { width, height } = connected else {
        unreachable!()
    };
    assert!(width >= 320 && height >= 200, "{how}: {width}×{height}");
    // QEMU tells its one-screen layout (ExtendedDesktopSize): the guest is resizable.
    expect(session, DEADLINE, &format!("GuestResizable ({how})"), |e| {
        *e == ConsoleEvent::GuestResizable(true)
    });
    // This machine's VGA cannot be told a new size: QEMU refuses, and the console stops
    // offering "Resize Guest to Window" on that answer.
    session.resize_desktop(800, 600);
    let refused = expect(session, DEADLINE, &format!("DesktopResized ({how})"), |e| {
        matches!(e, ConsoleEvent::DesktopResized(_))
    });
    assert!(
        matches!(&refused, ConsoleEvent::DesktopResized(Err(reason)) if reason.contains("InvalidLayout")),
        "{how}: {refused:?}"
    );
    let lit = wait_for_picture(session, 100);
    eprintln!("{how}: {width}×{height}, {lit} lit pixels");
    matches_screenshot(session, domain, how);
    // QEMU takes keys as scancodes and tells the guest's keyboard LEDs.
    let deadline = Instant::now() + DEADLINE;
    while session.keyboard().1.is_none() {
        assert!(
            Instant::now() < deadline,
            "{how}: keys as scancodes and LEDs: {:?}",
            session.keyboard()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        session.keyboard().0,
        "{how}: QEMU did not acknowledge Extended Key Events"
    );
    tap(session, 0xff0d);
    session.send(Input::SendKey(SendKey::CtrlAltF(2)));
    session.send(Input::Motion { x: 10, y: 10 });
    session.send(Input::ReleaseAll);
    // Still connected afterwards: QEMU took the input.
    std::thread::sleep(Duration::from_millis(300));
    while let Ok(event) = session.events().try_recv() {
        assert!(
            !matches!(event, ConsoleEvent::Disconnected { .. }),
            "{how}: {event:?}"
        );
    }
}

#[test]
fn qemu_console_over_libvirt_socket_and_tcp() {
    let guard = start_domain("console");
    ensure_event_loop();
    let conn = virt::connect::Connect::open(Some(SESSION_URI)).expect("open the connection");
    let domain = conn
        .lookup_domain_by_name(&guard.name)
        .expect("find the domain");
    let fd = open_graphics_fd(&domain, 0, true).expect("virDomainOpenGraphicsFD");
    let local = ConsoleSession::open(ConsoleSource::Socket(fd), ConnectOptions::default());
    exercise(&local, &guard.name, "libvirt socket");

    let display = virsh_ok(SESSION_URI, &["vncdisplay", &guard.name]);
    let (host, number) = display
        .trim()
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("unexpected vncdisplay output {display:?}"));
    let number: u16 = number.parse().expect("display number");
    let remote = ConsoleSession::open(
        ConsoleSource::Tcp {
            host: host.into(),
            port: 5900 + number,
        },
        ConnectOptions::default(),
    );
    exercise(&remote, &guard.name, "TCP");

    drop(local);
    drop(remote);
    drop(domain);
    let _ = conn;
}
