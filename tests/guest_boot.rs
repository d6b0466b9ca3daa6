//! The tiny test guest (tests/guest) boots under TCG on `qemu:///session` and reports on
//! its serial port the keys, pointer events and power button it receives.

mod common;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::guest::{
    guest_domain_xml, guest_image, GuestBoot, GuestOptions, GuestVideo, TestGuest,
};
use common::{ensure_libvirtd, virsh_ok, wait_for, SESSION_URI};

/// Boots take about 15 s under TCG on an idle host; this only catches a hang.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
const TIMEOUT: Duration = Duration::from_secs(30);

/// One TCG guest at a time: two would share the host's cores and boot twice as slowly.
static ONE_GUEST: Mutex<()> = Mutex::new(());

fn one_guest() -> MutexGuard<'static, ()> {
    ONE_GUEST.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn guest_boots_from_the_iso_and_reports_input() {
    let _one = one_guest();
    ensure_libvirtd();
    guest_image();
    let started = Instant::now();
    let guest = TestGuest::start(SESSION_URI, "guest-iso", &GuestOptions::default());
    guest.wait_ready(BOOT_TIMEOUT);
    eprintln!("the guest booted from its ISO in {:?}", started.elapsed());
    let screen = guest.wait_line_after(0, &["SCREEN: "], TIMEOUT);
    assert_ne!(
        screen, "SCREEN: text",
        "the bochs DRM driver gave no framebuffer"
    );

    // send-key presses all keys of one call at once: one key per call.
    guest.type_line("hi");
    guest.wait_line_after(0, &["TYPED: hi"], TIMEOUT);
    // Key events come from another reporter: they may lag behind the typed line.
    let from = guest.log_len();
    guest.send_key("KEY_A");
    guest.wait_line_after(from, &["KEY: 30 down"], TIMEOUT);
    guest.wait_line_after(from, &["KEY: 30 up"], TIMEOUT);

    let from = guest.log_len();
    guest.monitor("mouse_move 10 10");
    guest.monitor("mouse_button 1");
    guest.monitor("mouse_button 0");
    guest.wait_line_after(from, &["MOUSE: "], TIMEOUT);
    let pointer = guest.wait_line_after(from, &["POINTER: abs "], TIMEOUT);
    let fields: Vec<&str> = pointer.split_whitespace().collect();
    assert_eq!(fields.len(), 5, "malformed {pointer:?}");
    // Absolute movement, as from a VNC client, reaches the tablet.
    let from = guest.log_len();
    guest.move_pointer_abs(16000, 8000);
    guest.wait_line_after(from, &["POINTER: abs 16000 8000 0"], TIMEOUT);

    // ACPI power button: the guest powers itself off.
    let from = guest.log_len();
    virsh_ok(SESSION_URI, &["shutdown", &guest.name]);
    guest.wait_line_after(from, &["POWER: off"], TIMEOUT);
    wait_for("the guest to shut off", TIMEOUT, || guest.is_shut_off());

    let log = common::guest::serial_text(&guest.serial_log);
    let reported: Vec<&str> = log
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && !l.starts_with('['))
        .collect();
    eprintln!("what the guest reported:\n{}", reported.join("\n"));
}

#[test]
fn guest_paints_1920x1080_when_booted_in_framebuffer_mode() {
    let _one = one_guest();
    ensure_libvirtd();
    guest_image();
    // bochs-display here, so that both display adapters are proven.
    let opts = GuestOptions {
        boot: GuestBoot::painting(),
        video: GuestVideo::Bochs,
        ..GuestOptions::default()
    };
    let started = Instant::now();
    let guest = TestGuest::start(SESSION_URI, "guest-fb", &opts);
    guest.wait_ready(BOOT_TIMEOUT);
    eprintln!(
        "the guest booted from its kernel in {:?}",
        started.elapsed()
    );
    assert_eq!(
        guest.wait_line_after(0, &["SCREEN: "], TIMEOUT),
        "SCREEN: 1920x1080"
    );
    guest.wait_line_after(0, &["FB: painting 1920x1080"], TIMEOUT);

    // The screen keeps changing.
    let shot = |n: u32| {
        let path = std::env::temp_dir().join(format!("{}-{n}.ppm", guest.name));
        virsh_ok(
            SESSION_URI,
            &["screenshot", &guest.name, &path.to_string_lossy()],
        );
        let bytes = std::fs::read(&path).expect("read the screenshot");
        let _ = std::fs::remove_file(&path);
        bytes
    };
    let first = shot(1);
    assert_eq!(
        image_size(&first),
        Some((1920, 1080)),
        "the screenshot's size"
    );
    let mut changed = false;
    wait_for("the screen to change", TIMEOUT, || {
        changed = shot(2) != first;
        changed
    });
}

/// Width and height of a PNG or binary PPM image (what `virsh screenshot` writes).
fn image_size(image: &[u8]) -> Option<(u32, u32)> {
    if image.starts_with(b"\x89PNG") {
        let be = |at: usize| Some(u32::from_be_bytes(image.get(at..at + 4)?.try_into().ok()?));
        return Some((be(16)?, be(20)?));
    }
    let header = std::str::from_utf8(image.get(..32)?.split(|&b| b == 255).next()?).ok()?;
    let mut words = header.strip_prefix("P6")?.split_ascii_whitespace();
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

#[test]
fn guest_domain_xml_escapes_names_and_paths() {
    let name = "vdtest <a&b> \"q\" 'q' ünï";
    let log = std::path::Path::new("/tmp/odd & <dir>/serial.log");
    let xml = guest_domain_xml(name, log, &GuestOptions::default());
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.attribute("type"), Some("qemu"));
    let child = |tag: &str| {
        root.descendants()
            .find(|n| n.has_tag_name(tag))
            .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
    };
    assert_eq!(child("name").text(), Some(name));
    let serial = child("serial");
    let source = serial
        .children()
        .find(|n| n.has_tag_name("source"))
        .expect("serial source");
    assert_eq!(source.attribute("path"), log.to_str());
    assert!(root
        .descendants()
        .any(|n| n.has_tag_name("input") && n.attribute("type") == Some("tablet")));
    assert_eq!(child("graphics").attribute("listen"), Some("127.0.0.1"));
}
