//! The clipboard exchange of a console session against an in-process RFB server: QEMU's
//! Extended Clipboard both ways (offer, request, provide), plain cut text, and the bounds
//! a hostile server meets.

mod common;

use std::thread;
use std::time::Duration;

use common::console::{expect, expect_disconnect, open_loopback};
use common::rfb::{self, ClientMsg, Conn};
use virtdeck::console::ConsoleEvent;

const DEADLINE: Duration = Duration::from_secs(10);

/// The next message that is not an update request.
fn next_message(conn: &mut Conn) -> ClientMsg {
    loop {
        match conn.read_msg().expect("a client message") {
            ClientMsg::UpdateRequest { .. } => {}
            msg => return msg,
        }
    }
}

#[test]
fn extended_clipboard_goes_both_ways_on_demand() {
    let (listener, port) = rfb::listen();
    let (tx, rx) = std::sync::mpsc::channel::<&str>();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        let encodings = conn.handshake(640, 480);
        assert!(
            encodings.contains(&rfb::EXTENDED_CLIPBOARD),
            "{encodings:?}"
        );
        // QEMU's capabilities: text, and every action but peek.
        let caps = rfb::CLIP_CAPS | rfb::CLIP_REQUEST | rfb::CLIP_NOTIFY | rfb::CLIP_PROVIDE;
        conn.write(&rfb::extended_cut_text(caps | rfb::CLIP_TEXT, &[0; 4]))
            .unwrap();
        let ClientMsg::ExtendedCutText { flags, payload } = next_message(&mut conn) else {
            panic!("the client did not answer with its capabilities");
        };
        assert_eq!(flags & caps, caps, "{flags:#x}");
        assert_eq!(flags & rfb::CLIP_TEXT, rfb::CLIP_TEXT);
        assert_eq!(payload, (1024u32 * 1024).to_be_bytes(), "the text limit");

        // Guest → client: notify, the client asks, the text follows.
        conn.write(&rfb::extended_cut_text(
            rfb::CLIP_NOTIFY | rfb::CLIP_TEXT,
            &[],
        ))
        .unwrap();
        let request = next_message(&mut conn);
        assert_eq!(
            request,
            ClientMsg::ExtendedCutText {
                flags: rfb::CLIP_REQUEST | rfb::CLIP_TEXT,
                payload: vec![]
            }
        );
        let text = "From the guest:\r\nÄpfel & <Birnen>\0".as_bytes();
        conn.write(&rfb::extended_cut_text(
            rfb::CLIP_PROVIDE | rfb::CLIP_TEXT,
            &rfb::clipboard_stream(text),
        ))
        .unwrap();

        // Client → guest: the offer comes alone; the text only when asked for.
        assert_eq!(rx.recv().unwrap(), "offered");
        assert_eq!(
            next_message(&mut conn),
            ClientMsg::ExtendedCutText {
                flags: rfb::CLIP_NOTIFY | rfb::CLIP_TEXT,
                payload: vec![]
            }
        );
        conn.write(&rfb::extended_cut_text(
            rfb::CLIP_REQUEST | rfb::CLIP_TEXT,
            &[],
        ))
        .unwrap();
        let ClientMsg::ExtendedCutText { flags, payload } = next_message(&mut conn) else {
            panic!("no provide");
        };
        assert_eq!(flags, rfb::CLIP_PROVIDE | rfb::CLIP_TEXT);
        assert_eq!(
            rfb::clipboard_text(&payload),
            "To the guest: ✓\n".as_bytes()
        );
        conn
    });
    let session = open_loopback(port);
    expect(&session, DEADLINE, "ClipboardExtended", |e| {
        *e == ConsoleEvent::ClipboardExtended
    });
    expect(&session, DEADLINE, "GuestClipboardChanged", |e| {
        *e == ConsoleEvent::GuestClipboardChanged { text: true }
    });
    session.request_clipboard();
    expect(&session, DEADLINE, "the guest's text", |e| {
        *e == ConsoleEvent::CutText("From the guest:\nÄpfel & <Birnen>".into())
    });
    session.offer_clipboard(true);
    tx.send("offered").unwrap();
    expect(&session, DEADLINE, "ClipboardRequested", |e| {
        *e == ConsoleEvent::ClipboardRequested
    });
    session.provide_clipboard("To the guest: ✓\n".into());
    let _conn = server.join().expect("server thread");
}

#[test]
fn plain_cut_text_goes_to_a_server_without_the_extended_clipboard() {
    let (listener, port) = rfb::listen();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        conn.handshake(640, 480);
        assert_eq!(
            next_message(&mut conn),
            ClientMsg::CutText(b"plain text".to_vec())
        );
        conn
    });
    let session = open_loopback(port);
    expect(&session, DEADLINE, "Connected", |e| {
        matches!(e, ConsoleEvent::Connected { .. })
    });
    // More than the limit is not sent at all; the session goes on.
    session.send_cut_text("x".repeat(1024 * 1024 + 1));
    session.send_cut_text("plain text".into());
    let _conn = server.join().expect("server thread");
}

/// A server whose extended clipboard message is `message` after the handshake; the
/// session must end with an error, having allocated no more than the limit.
fn hostile(message: Vec<u8>) -> String {
    let (listener, port) = rfb::listen();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        conn.handshake(640, 480);
        let _ = conn.write(&message);
        // Keep the connection until the client closes it.
        while conn.read_msg().is_ok() {}
    });
    let session = open_loopback(port);
    let error = expect_disconnect(&session, DEADLINE, "the end of the session")
        .expect("an error, not a clean end");
    drop(session);
    server.join().expect("server thread");
    error.to_string()
}

#[test]
fn hostile_clipboard_sizes_end_the_session_without_allocating_them() {
    // A payload that claims 2 GiB, with nothing behind it.
    let mut claims = vec![3, 0, 0, 0];
    claims.extend(i32::MIN.to_be_bytes());
    let error = hostile(claims);
    assert!(error.contains("size limit"), "{error}");

    // A provide whose text claims 4 GiB inside 64 MiB of zeros that compress to 64 KiB.
    let mut bomb = u32::MAX.to_be_bytes().to_vec();
    bomb.extend(vec![0u8; 64 * 1024 * 1024]);
    let stream = {
        use std::io::Write;
        let mut out = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        out.write_all(&bomb).unwrap();
        out.finish().unwrap()
    };
    drop(bomb);
    assert!(stream.len() < 1024 * 1024, "{}", stream.len());
    let error = hostile(rfb::extended_cut_text(
        rfb::CLIP_PROVIDE | rfb::CLIP_TEXT,
        &stream,
    ));
    assert!(error.contains("size limit"), "{error}");

    // Garbage instead of zlib.
    let error = hostile(rfb::extended_cut_text(
        rfb::CLIP_PROVIDE | rfb::CLIP_TEXT,
        &[0xab; 100],
    ));
    assert!(error.contains("zlib"), "{error}");
}
