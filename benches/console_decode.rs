//! Console benchmark: CPU time per megapixel to decode a 1920×1080 stream from a loopback
//! RFB server (Raw and ZRLE), the wall time of copying damaged tiles out (what the widget
//! does before uploading), CPU used while the screen is static, and the latency from the
//! input API to the bytes arriving at the server.
//!
//! Run with `cargo bench --bench console_decode`. Prints a table; asserts nothing.

#[path = "../tests/common/rfb.rs"]
mod rfb;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rfb::{ClientMsg, Conn};
use virtdeck::console::{
    ConnectOptions, ConsoleEvent, ConsoleSession, ConsoleSource, Input, RUNTIME,
};

const WIDTH: u16 = 1920;
const HEIGHT: u16 = 1080;
const FRAMES: usize = 24;
const LATENCY_SAMPLES: usize = 2000;

/// CPU time (ns) of the threads of this process whose name is `comm`.
fn cpu_ns_of_threads(comm: &str) -> u64 {
    let tasks = std::fs::read_dir("/proc/self/task").expect("read /proc/self/task");
    tasks
        .flatten()
        .filter(|t| std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim() == comm))
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn open(port: u16) -> ConsoleSession {
    ConsoleSession::open(
        ConsoleSource::Tcp {
            host: "127.0.0.1".into(),
            port,
        },
        ConnectOptions::default(),
    )
}

fn wait_for(session: &ConsoleSession, mut pred: impl FnMut(&ConsoleEvent) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the benchmark session stalled");
        match session.events().recv_blocking() {
            Ok(event) if pred(&event) => return,
            Ok(ConsoleEvent::Disconnected { error }) => panic!("disconnected: {error:?}"),
            Ok(_) => {}
            Err(_) => panic!("the session ended"),
        }
    }
}

struct DecodeResult {
    name: &'static str,
    wire_mib: f64,
    decode_ms_per_mpix: f64,
    copy_ms_per_mpix: f64,
    copied_mpix: f64,
    fps: f64,
}

/// Streams `FRAMES` full-screen frames encoded by `encode`, one per update request.
fn decode_run(name: &'static str, zrle: bool) -> DecodeResult {
    let (listener, port) = rfb::listen();
    let (ready_tx, ready_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        conn.handshake(WIDTH, HEIGHT);
        let (w, h) = (WIDTH as usize, HEIGHT as usize);
        let frames: Vec<Vec<u8>> = (0..FRAMES as u32)
            .map(|seed| {
                let picture = rfb::test_picture(w, h, seed);
                let mut update = rfb::update_header(1);
                if zrle {
                    update.extend(conn.zrle_rect(0, 0, WIDTH, HEIGHT, &picture));
                } else {
                    update.extend(rfb::raw_rect(0, 0, WIDTH, HEIGHT, &picture));
                }
                update
            })
            .collect();
        let bytes: usize = frames.iter().map(Vec::len).sum();
        ready_tx.send(bytes).unwrap();
        for frame in &frames {
            conn.write(frame).unwrap();
            conn.until_update_request();
        }
        // Bell: once the client reports it, everything before it was decoded.
        conn.write(&[2]).unwrap();
        conn
    });
    let session = open(port);
    wait_for(&session, |e| matches!(e, ConsoleEvent::Connected { .. }));
    let bytes = ready_rx.recv().expect("frames encoded");
    let mut tile = Vec::new();
    let mut copy_ns = 0;
    let mut copied = 0usize;
    let started = Instant::now();
    let cpu_before = cpu_ns_of_threads("vd-console");
    wait_for(&session, |event| {
        if *event == ConsoleEvent::Damaged {
            // Wall time: short, on this thread, holding the lock (schedstat lags by a tick).
            let before = Instant::now();
            let mut fb = session.framebuffer().lock().unwrap();
            for rect in fb.take_damage() {
                fb.copy_tile(rect, &mut tile).unwrap();
                copied += (rect.width * rect.height) as usize;
            }
            drop(fb);
            copy_ns += before.elapsed().as_nanos();
        }
        *event == ConsoleEvent::Bell
    });
    let decode_ns = cpu_ns_of_threads("vd-console") - cpu_before;
    let elapsed = started.elapsed();
    let _conn = server.join().expect("server");
    let mpix = FRAMES as f64 * f64::from(WIDTH) * f64::from(HEIGHT) / 1e6;
    DecodeResult {
        name,
        wire_mib: bytes as f64 / FRAMES as f64 / 1024.0 / 1024.0,
        decode_ms_per_mpix: decode_ns as f64 / 1e6 / mpix,
        copy_ms_per_mpix: copy_ns as f64 / 1e6 / (copied as f64 / 1e6),
        copied_mpix: copied as f64 / 1e6,
        fps: FRAMES as f64 / elapsed.as_secs_f64(),
    }
}

/// Microseconds from `ConsoleSession::send` to the key message read by the server.
fn latency_run() -> Vec<f64> {
    let (listener, port) = rfb::listen();
    let (arrived_tx, arrived_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        // Keys may overtake the client's first update request: read any order.
        conn.security_none().expect("security handshake");
        conn.server_init(640, 480).expect("ServerInit");
        for _ in 0..LATENCY_SAMPLES {
            loop {
                match conn.read_msg().expect("client message") {
                    ClientMsg::Key { .. } => break,
                    _ => continue,
                }
            }
            arrived_tx.send(Instant::now()).unwrap();
        }
        conn
    });
    let session = open(port);
    wait_for(&session, |e| matches!(e, ConsoleEvent::Connected { .. }));
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let sent = Instant::now();
        session.send(Input::Key {
            keysym: 0x61,
            keycode: None,
            down: i % 2 == 0,
        });
        let arrived = arrived_rx.recv().expect("server alive");
        samples.push(arrived.duration_since(sent).as_secs_f64() * 1e6);
        // Space the keys out like typing does, so that each one wakes the runtime.
        thread::sleep(Duration::from_micros(500));
    }
    let _conn = server.join().expect("server");
    samples.sort_by(f64::total_cmp);
    samples
}

/// CPU of the console runtime while a connected session shows a static screen.
fn idle_run(seconds: u64) -> f64 {
    let (listener, port) = rfb::listen();
    let session = open(port);
    let mut conn = Conn::accept(&listener);
    conn.handshake(WIDTH, HEIGHT);
    wait_for(&session, |e| matches!(e, ConsoleEvent::Connected { .. }));
    thread::sleep(Duration::from_millis(200));
    let before = cpu_ns_of_threads("vd-console");
    thread::sleep(Duration::from_secs(seconds));
    (cpu_ns_of_threads("vd-console") - before) as f64 / 1e6
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // Start the runtime before counting its threads.
    RUNTIME.block_on(async {});
    let results = [decode_run("Raw", false), decode_run("ZRLE", true)];
    let latency = latency_run();
    let idle_ms = idle_run(2);

    println!();
    println!("console decode, {WIDTH}×{HEIGHT}, {FRAMES} frames of changing content, loopback TCP");
    println!("| encoding | wire MiB/frame | decode CPU ms/Mpix | tiles copied Mpix | tile copy ms/Mpix | frames/s |");
    println!("|----------|---------------:|-------------------:|------------------:|------------------:|---------:|");
    for r in &results {
        println!(
            "| {:<8} | {:>14.2} | {:>18.2} | {:>17.1} | {:>17.2} | {:>8.1} |",
            r.name, r.wire_mib, r.decode_ms_per_mpix, r.copied_mpix, r.copy_ms_per_mpix, r.fps
        );
    }
    println!();
    println!("input → socket latency ({LATENCY_SAMPLES} key events)");
    println!("| p50 µs | p99 µs | max µs |");
    println!("|-------:|-------:|-------:|");
    println!(
        "| {:>6.0} | {:>6.0} | {:>6.0} |",
        percentile(&latency, 0.5),
        percentile(&latency, 0.99),
        latency[latency.len() - 1]
    );
    println!();
    println!("static screen: console runtime used {idle_ms:.2} ms CPU in 2 s");
}
