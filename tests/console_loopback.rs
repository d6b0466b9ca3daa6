//! The console session against an in-process RFB server on 127.0.0.1: decoding into the
//! framebuffer, input on the wire, events, and the end of a connection.

mod common;

use std::io::Read;
use std::thread;
use std::time::{Duration, Instant};

use common::console::{expect, expect_disconnect, open_loopback, tap};
use common::rfb::{self, ClientMsg, Conn};
use virtdeck::console::{
    ConnectOptions, ConsoleError, ConsoleEvent, ConsoleSession, ConsoleSource, Input, Scroll,
    SendKey,
};

const DEADLINE: Duration = Duration::from_secs(10);

/// Polls the client's framebuffer until it shows `model`; fails with the first
/// differing pixel.
fn wait_for_pixels(session: &ConsoleSession, width: usize, model: &[u32]) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let mismatch = {
            let fb = session.framebuffer().lock().unwrap();
            model.iter().enumerate().find_map(|(i, &p)| {
                let (x, y) = ((i % width) as u32, (i / width) as u32);
                let want = [p as u8, (p >> 8) as u8, (p >> 16) as u8, 255];
                let got = fb.pixel(x, y);
                (got != Some(want)).then_some((x, y, got, want))
            })
        };
        let Some((x, y, got, want)) = mismatch else {
            return;
        };
        assert!(
            Instant::now() < deadline,
            "pixel ({x}, {y}) is {got:?}, expected {want:?}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn decodes_raw_copyrect_and_zrle_into_the_framebuffer() {
    let (w, h) = (320usize, 200usize);
    let first = rfb::test_picture(w, h, 1);
    let second = rfb::test_picture(w, h, 2);
    // The model of what the client must show after all three updates.
    let mut model = first.clone();
    for y in 5..195 {
        for x in 10..310 {
            model[y * w + x] = second[y * w + x];
        }
    }
    let moved = model.clone();
    for y in 0..50 {
        for x in 0..100 {
            model[(y + 20) * w + x + 30] = moved[y * w + x];
        }
    }

    let (listener, port) = rfb::listen();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        let encodings = conn.handshake(w as u16, h as u16);
        for wanted in [
            rfb::ZRLE,
            rfb::COPY_RECT,
            rfb::RAW,
            rfb::CURSOR,
            rfb::DESKTOP_SIZE,
        ] {
            assert!(
                encodings.contains(&wanted),
                "{wanted} missing in {encodings:?}"
            );
        }
        let mut update = rfb::update_header(1);
        update.extend(rfb::raw_rect(0, 0, w as u16, h as u16, &first));
        conn.write(&update).unwrap();
        conn.until_update_request();

        let region: Vec<u32> = (5..195)
            .flat_map(|y| second[y * w + 10..y * w + 310].iter().copied())
            .collect();
        let mut update = rfb::update_header(2);
        update.extend(conn.zrle_rect(10, 5, 300, 190, &region));
        update.extend(rfb::copy_rect(30, 20, 100, 50, 0, 0));
        conn.write(&update).unwrap();
        conn.until_update_request();
        conn
    });

    let session = open_loopback(port);
    let connected = expect(&session, DEADLINE, "Connected", |e| {
        matches!(e, ConsoleEvent::Connected { .. })
    });
    assert_eq!(
        connected,
        ConsoleEvent::Connected {
            width: 320,
            height: 200
        }
    );
    expect(&session, DEADLINE, "Damaged", |e| {
        *e == ConsoleEvent::Damaged
    });
    let _conn = server.join().expect("server thread");
    wait_for_pixels(&session, w, &model);
    let damage = session.framebuffer().lock().unwrap().take_damage();
    assert!(!damage.is_empty(), "updates must leave damaged tiles");
}

#[test]
fn input_goes_out_on_the_wire_exactly() {
    let (listener, port) = rfb::listen();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        conn.handshake(640, 480);
        let mut inputs = Vec::new();
        while inputs.len() < 16 {
            match conn.read_msg().expect("client message") {
                ClientMsg::UpdateRequest { .. } => {}
                msg => inputs.push(msg),
            }
        }
        inputs
    });
    let session = open_loopback(port);
    expect(&session, DEADLINE, "Connected", |e| {
        matches!(e, ConsoleEvent::Connected { .. })
    });
    tap(&session, 0x61);
    session.send(Input::SendKey(SendKey::CtrlAltDelete));
    session.send(Input::Motion { x: 600, y: 470 });
    session.send(Input::Button {
        button: 1,
        down: true,
    });
    session.send(Input::Scroll(Scroll::Up));
    session.send(Input::Key {
        keysym: 0xffe1,
        keycode: None,
        down: true,
    });
    session.send(Input::ReleaseAll);
    let key = |keysym, down| ClientMsg::Key { down, keysym };
    let pointer = |buttons| ClientMsg::Pointer {
        buttons,
        x: 600,
        y: 470,
    };
    let expected = vec![
        key(0x61, true),
        key(0x61, false),
        key(0xffe3, true),
        key(0xffe9, true),
        key(0xffff, true),
        key(0xffff, false),
        key(0xffe9, false),
        key(0xffe3, false),
        pointer(0),
        pointer(1),
        pointer(0b1001),
        pointer(1),
        key(0xffe1, true),
        key(0xffe1, false),
        pointer(0),
    ];
    // Sixteen were awaited; send one more key to complete the count.
    session.send(Input::Key {
        keysym: 0x7a,
        keycode: None,
        down: true,
    });
    let mut inputs = server.join().expect("server thread");
    assert_eq!(inputs.pop(), Some(key(0x7a, true)));
    assert_eq!(inputs, expected);
}

#[test]
fn resize_cursor_bell_and_cut_text_become_events() {
    let (listener, port) = rfb::listen();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        conn.handshake(640, 480);
        let mut update = rfb::update_header(2);
        update.extend(rfb::rect_header(0, 0, 800, 600, rfb::DESKTOP_SIZE));
        // A 16×2 cursor with hot spot (3, 1): pixels, then a mask of 2 bytes per row.
        update.extend(rfb::rect_header(3, 1, 16, 2, rfb::CURSOR));
        for i in 0..32u32 {
            update.extend((0x0010_2030 + i).to_le_bytes());
        }
        update.extend([0xff, 0x00, 0x0f, 0xf0]);
        conn.write(&update).unwrap();
        conn.write(&[2]).unwrap(); // Bell
        conn.write(&rfb::cut_text(5, b"hello")).unwrap();
        conn.until_update_request();
        conn
    });
    let session = open_loopback(port);
    expect(&session, DEADLINE, "Resized", |e| {
        *e == ConsoleEvent::Resized {
            width: 800,
            height: 600,
        }
    });
    expect(&session, DEADLINE, "CursorChanged", |e| {
        *e == ConsoleEvent::CursorChanged
    });
    expect(&session, DEADLINE, "Bell", |e| *e == ConsoleEvent::Bell);
    expect(&session, DEADLINE, "CutText", |e| {
        *e == ConsoleEvent::CutText("hello".into())
    });
    let _conn = server.join().expect("server thread");
    let fb = session.framebuffer().lock().unwrap();
    assert_eq!((fb.width(), fb.height()), (800, 600));
    let cursor = fb.cursor().expect("a cursor");
    assert_eq!(
        (cursor.width, cursor.height, cursor.hot_x, cursor.hot_y),
        (16, 2, 3, 1)
    );
    // Row 0: mask 0xff 0x00: pixel 0 opaque, pixel 8 transparent (premultiplied zero).
    assert_eq!(&cursor.pixels[..4], &[0x30, 0x20, 0x10, 255]);
    assert_eq!(&cursor.pixels[8 * 4..9 * 4], &[0, 0, 0, 0]);
    // Row 1: mask 0x0f 0xf0: pixel 4 opaque.
    assert_eq!(cursor.pixels[(16 + 4) * 4 + 3], 255);
    assert_eq!(cursor.pixels[(16 + 3) * 4 + 3], 0);
}

#[test]
fn a_static_screen_leaves_one_request_outstanding_and_nothing_else() {
    let (listener, port) = rfb::listen();
    let session = open_loopback(port);
    let mut conn = Conn::accept(&listener);
    conn.handshake(64, 64);
    let mut update = rfb::update_header(1);
    update.extend(rfb::raw_rect(0, 0, 64, 64, &[0x00ff_ffff; 64 * 64]));
    conn.write(&update).unwrap();
    assert!(conn.until_update_request().is_empty());
    // No timer: the client says nothing more until the server sends something.
    conn.stream
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    let mut byte = [0u8; 1];
    let quiet = conn.stream.read(&mut byte);
    assert!(
        quiet.is_err(),
        "the idle client sent {quiet:?} (first byte {})",
        byte[0]
    );
    expect(&session, DEADLINE, "Damaged", |e| {
        *e == ConsoleEvent::Damaged
    });
}

#[test]
fn dropping_the_session_closes_the_connection() {
    let (listener, port) = rfb::listen();
    let session = open_loopback(port);
    let mut conn = Conn::accept(&listener);
    conn.handshake(64, 64);
    expect(&session, DEADLINE, "Connected", |e| {
        matches!(e, ConsoleEvent::Connected { .. })
    });
    drop(session);
    let mut rest = Vec::new();
    conn.stream
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    let end = conn.stream.read_to_end(&mut rest);
    assert!(end.is_ok(), "expected EOF after the drop, got {end:?}");
}

#[test]
fn server_closing_ends_the_session_with_an_error() {
    let (listener, port) = rfb::listen();
    let session = open_loopback(port);
    let mut conn = Conn::accept(&listener);
    conn.handshake(64, 64);
    drop(conn);
    let error = expect_disconnect(&session, DEADLINE, "Disconnected");
    assert_eq!(error, Some(ConsoleError::ServerClosed));
}

/// VNC authentication: the right password connects; none, or a wrong one, ends the
/// session with the error that makes the console ask for one.
#[test]
fn vnc_authentication_checks_the_password() {
    let cases = [
        (Some("secret"), None),
        (None, Some(ConsoleError::PasswordRequired)),
        (
            Some("wrong"),
            Some(ConsoleError::AuthenticationFailed(
                "Authentication failed".into(),
            )),
        ),
    ];
    for (password, expected) in cases {
        let (listener, port) = rfb::listen();
        let server = thread::spawn(move || {
            let mut conn = Conn::accept(&listener);
            // The client hangs up without answering when it has no password.
            if conn.security_vnc("secret").unwrap_or(false) {
                conn.client_setup(64, 48);
            }
            conn
        });
        let session = ConsoleSession::open(
            ConsoleSource::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
            ConnectOptions {
                password: password.map(str::to_owned),
                ..ConnectOptions::default()
            },
        );
        match expected {
            None => {
                let event = expect(&session, DEADLINE, "Connected", |e| {
                    matches!(e, ConsoleEvent::Connected { .. })
                });
                assert_eq!(
                    event,
                    ConsoleEvent::Connected {
                        width: 64,
                        height: 48
                    }
                );
            }
            Some(expected) => {
                let error = expect_disconnect(&session, DEADLINE, "Disconnected");
                assert_eq!(error, Some(expected), "password {password:?}");
            }
        }
        let _conn = server.join().expect("server thread");
    }
}

/// "Resize Guest to Window" is offered while the server's layout is one screen: told
/// when the server first sends its layout, and again when that changes.
#[test]
fn a_single_screen_layout_makes_the_guest_resizable() {
    let (listener, port) = rfb::listen();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        let encodings = conn.handshake(640, 480);
        assert!(encodings.contains(&rfb::EXTENDED_DESKTOP_SIZE));
        for screens in [
            vec![(0, 0, 640, 480)],
            vec![(0, 0, 320, 480), (320, 0, 320, 480)],
        ] {
            let mut update = rfb::update_header(1);
            update.extend(rfb::desktop_layout(640, 480, &screens));
            conn.write(&update).unwrap();
            conn.until_update_request();
        }
        conn
    });
    let session = open_loopback(port);
    for resizable in [true, false] {
        expect(
            &session,
            DEADLINE,
            &format!("GuestResizable({resizable})"),
            |e| *e == ConsoleEvent::GuestResizable(resizable),
        );
    }
    let _conn = server.join().expect("server thread");
}
