//! Hostile and broken RFB servers: every case must end the session with an error event
//! within a deadline, never a panic (a panicking session task closes the event channel
//! without `Disconnected`, which fails the case), a hang, or unbounded memory.
//!
//! One test runs the cases one after another so that the peak RSS of the process can be
//! compared before and after.

mod common;

use std::io::Read;
use std::thread;
use std::time::{Duration, Instant};

use common::console::expect_disconnect;
use common::rfb::{self, Conn};
use virtdeck::console::{ConnectOptions, ConsoleError, ConsoleSession, ConsoleSource};

const DEADLINE: Duration = Duration::from_secs(10);
const RSS_BUDGET_KIB: u64 = 100 * 1024;

type Script = fn(&mut Conn) -> std::io::Result<()>;

fn handshake(conn: &mut Conn) -> std::io::Result<()> {
    conn.handshake(640, 480);
    Ok(())
}

fn send_update(conn: &mut Conn, rects: &[Vec<u8>]) -> std::io::Result<()> {
    handshake(conn)?;
    let mut update = rfb::update_header(rects.len() as u16);
    rects.iter().for_each(|r| update.extend(r));
    conn.write(&update)
}

fn oversized_rectangle(conn: &mut Conn) -> std::io::Result<()> {
    send_update(conn, &[rfb::rect_header(0, 0, 9000, 9000, rfb::RAW)])
}

fn rectangle_outside(conn: &mut Conn) -> std::io::Result<()> {
    send_update(conn, &[rfb::raw_rect(600, 400, 100, 100, &[0; 100 * 100])])
}

fn copy_source_outside(conn: &mut Conn) -> std::io::Result<()> {
    send_update(conn, &[rfb::copy_rect(0, 0, 10, 10, 635, 475)])
}

fn bad_zlib(conn: &mut Conn) -> std::io::Result<()> {
    let mut rect = rfb::rect_header(0, 0, 64, 64, rfb::ZRLE);
    rect.extend(100u32.to_be_bytes());
    rect.extend([0xab; 100]);
    send_update(conn, &[rect])
}

fn zlib_length_too_short(conn: &mut Conn) -> std::io::Result<()> {
    handshake(conn)?;
    let noise = rfb::test_picture(64, 64, 9);
    let full = conn.zrle_rect(0, 0, 64, 64, &noise);
    let (header, data) = full.split_at(16);
    let half = (data.len() / 2) as u32;
    let mut rect = header[..12].to_vec();
    rect.extend(half.to_be_bytes());
    rect.extend(&data[..half as usize]);
    let mut update = rfb::update_header(1);
    update.extend(rect);
    conn.write(&update)
}

fn zlib_length_too_long(conn: &mut Conn) -> std::io::Result<()> {
    handshake(conn)?;
    let full = conn.zrle_rect(0, 0, 64, 64, &[0x0011_2233; 64 * 64]);
    let (header, data) = full.split_at(16);
    let mut rect = header[..12].to_vec();
    rect.extend((data.len() as u32 + 64).to_be_bytes());
    rect.extend(data);
    rect.extend([0u8; 64]);
    let mut update = rfb::update_header(1);
    update.extend(rect);
    conn.write(&update)
}

fn zrle_claims_4_gib(conn: &mut Conn) -> std::io::Result<()> {
    let mut rect = rfb::rect_header(0, 0, 64, 64, rfb::ZRLE);
    rect.extend(u32::MAX.to_be_bytes());
    send_update(conn, &[rect])
}

/// A large (32 MiB) payload of garbage, streamed in full: memory stays near its size.
fn zrle_32_mib_of_garbage(conn: &mut Conn) -> std::io::Result<()> {
    let len = 32 * 1024 * 1024;
    let mut rect = rfb::rect_header(0, 0, 640, 480, rfb::ZRLE);
    rect.extend((len as u32).to_be_bytes());
    send_update(conn, &[rect])?;
    let chunk = vec![0x5a; 1024 * 1024];
    for _ in 0..32 {
        conn.write(&chunk)?;
    }
    Ok(())
}

fn cut_text_claims_4_gib(conn: &mut Conn) -> std::io::Result<()> {
    handshake(conn)?;
    conn.write(&rfb::cut_text(u32::MAX, b"abc"))
}

fn cut_text_over_1_mib(conn: &mut Conn) -> std::io::Result<()> {
    handshake(conn)?;
    conn.write(&rfb::cut_text(1024 * 1024 + 1, &[b'x'; 4096]))
}

fn desktop_size_65535(conn: &mut Conn) -> std::io::Result<()> {
    send_update(
        conn,
        &[rfb::rect_header(0, 0, 65535, 65535, rfb::DESKTOP_SIZE)],
    )
}

fn server_init_65535(conn: &mut Conn) -> std::io::Result<()> {
    conn.security_none()?;
    conn.server_init(65535, 65535)
}

fn cursor_too_large(conn: &mut Conn) -> std::io::Result<()> {
    let mut rect = rfb::rect_header(0, 0, 1024, 2, rfb::CURSOR);
    rect.extend(vec![0xff; 1024 * 2 * 4 + 128 * 2]);
    send_update(conn, &[rect])
}

fn unknown_message(conn: &mut Conn) -> std::io::Result<()> {
    handshake(conn)?;
    conn.write(&[200, 1, 2, 3])
}

fn unrequested_encoding(conn: &mut Conn) -> std::io::Result<()> {
    send_update(conn, &[rfb::rect_header(0, 0, 16, 16, 5)])
}

fn close_mid_rectangle(conn: &mut Conn) -> std::io::Result<()> {
    let mut rect = rfb::rect_header(0, 0, 64, 64, rfb::RAW);
    rect.extend([0; 100]);
    send_update(conn, &[rect])?;
    conn.stream.shutdown(std::net::Shutdown::Both)
}

fn close_mid_handshake(conn: &mut Conn) -> std::io::Result<()> {
    conn.write(b"RFB 003.008\n")?;
    conn.stream.shutdown(std::net::Shutdown::Both)
}

fn silent_server(_conn: &mut Conn) -> std::io::Result<()> {
    Ok(())
}

/// The process's peak resident set size.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

/// Runs `script` as the server and returns how the session ended and how long it took.
fn run_case(name: &str, script: Script) -> (Option<ConsoleError>, Duration) {
    let (listener, port) = rfb::listen();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        let _ = script(&mut conn);
        // Stay connected until the client hangs up, so its own checks must end it.
        let mut sink = [0u8; 4096];
        while matches!(conn.stream.read(&mut sink), Ok(n) if n > 0) {}
    });
    let started = Instant::now();
    let session = ConsoleSession::open(
        ConsoleSource::Tcp {
            host: "127.0.0.1".into(),
            port,
        },
        ConnectOptions {
            handshake_timeout: Duration::from_secs(2),
            ..ConnectOptions::default()
        },
    );
    let error = expect_disconnect(&session, DEADLINE, &format!("the end of case {name}"));
    let took = started.elapsed();
    drop(session);
    server
        .join()
        .unwrap_or_else(|_| panic!("server of case {name} panicked"));
    (error, took)
}

#[test]
fn hostile_servers_end_in_an_error_without_panic_hang_or_memory_growth() {
    let cases: &[(&str, Script)] = &[
        ("oversized rectangle", oversized_rectangle),
        ("rectangle outside the framebuffer", rectangle_outside),
        ("CopyRect source outside", copy_source_outside),
        ("bad zlib data in ZRLE", bad_zlib),
        ("ZRLE length too short", zlib_length_too_short),
        ("ZRLE length too long", zlib_length_too_long),
        ("ZRLE claims 4 GiB", zrle_claims_4_gib),
        ("ZRLE 32 MiB of garbage", zrle_32_mib_of_garbage),
        ("cut text claims 4 GiB", cut_text_claims_4_gib),
        ("cut text over 1 MiB", cut_text_over_1_mib),
        ("desktop size 65535×65535", desktop_size_65535),
        ("ServerInit 65535×65535", server_init_65535),
        ("cursor 1024×2", cursor_too_large),
        ("unknown message type", unknown_message),
        ("encoding not asked for", unrequested_encoding),
        ("close in the middle of a rectangle", close_mid_rectangle),
        ("close in the middle of the handshake", close_mid_handshake),
        ("silent server", silent_server),
    ];
    let before = peak_rss_kib();
    let mut report = Vec::new();
    for &(name, script) in cases {
        let (error, took) = run_case(name, script);
        let error = error.unwrap_or_else(|| panic!("case {name}: ended without an error"));
        report.push(format!("{name}: {error} ({took:.0?})"));
    }
    let growth = peak_rss_kib().saturating_sub(before);
    eprintln!("{}\npeak RSS growth: {growth} KiB", report.join("\n"));
    assert!(
        growth < RSS_BUDGET_KIB,
        "peak RSS grew by {growth} KiB over the hostile cases"
    );
    // The expected classifications of a few cases.
    assert!(report[7].contains("understood"), "{}", report[7]);
    assert!(report[12].contains("pointer shape"), "{}", report[12]);
    assert!(report[15].contains("closed"), "{}", report[15]);
    assert!(report[17].contains("in time"), "{}", report[17]);
}
