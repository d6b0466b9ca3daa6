//! Keys on the wire against an in-process RFB server: QEMU Extended Key Events once the
//! server acknowledges them, keysyms for a server that does not, and the guest's lock
//! keys kept in step with this side's through QEMU's LED State.

mod common;

use std::thread;
use std::time::Duration;

use common::console::{expect, open_loopback};
use common::rfb::{self, ClientMsg, Conn};
use virtdeck::console::{ConsoleEvent, ConsoleSession, Input, Locks, SendKey};

const DEADLINE: Duration = Duration::from_secs(10);

/// X keycodes (evdev rules) of the keys typed here.
const KEYCODE_Y_OF_QWERTY: u32 = 29; // z on a German keyboard
const KEYCODE_102ND: u32 = 94; // < > | on a German keyboard
const KEYCODE_ALTGR: u32 = 108;

/// Presses and releases one physical key.
fn tap(session: &ConsoleSession, keysym: u32, keycode: u32) {
    for down in [true, false] {
        session.send(Input::Key {
            keysym,
            keycode: Some(keycode),
            down,
        });
    }
}

/// Connects to a server that sends `hello` (pseudo-encoding rectangles) with its first
/// update; returns the session once the client took that update, and the server's
/// connection, which then reads `count` input messages.
fn session_with(
    hello: Vec<Vec<u8>>,
    count: usize,
    input: impl FnOnce(&ConsoleSession),
) -> (Vec<i32>, Vec<ClientMsg>) {
    let (listener, port) = rfb::listen();
    let server = thread::spawn(move || {
        let mut conn = Conn::accept(&listener);
        let encodings = conn.handshake(64, 48);
        let mut update = rfb::update_header(hello.len() as u16 + 1);
        for rect in &hello {
            update.extend(rect);
        }
        update.extend(rfb::raw_rect(0, 0, 64, 48, &[0x0020_4060; 64 * 48]));
        conn.write(&update).unwrap();
        // The next request comes once the client applied all of it.
        assert!(conn.until_update_request().is_empty());
        conn.write(&[2]).unwrap(); // Bell: now the test may type.
        let mut inputs = Vec::new();
        while inputs.len() < count {
            match conn.read_msg().expect("client message") {
                ClientMsg::UpdateRequest { .. } => {}
                msg => inputs.push(msg),
            }
        }
        (encodings, inputs)
    });
    let session = open_loopback(port);
    expect(&session, DEADLINE, "Bell", |e| *e == ConsoleEvent::Bell);
    input(&session);
    server.join().expect("server thread")
}

fn qemu_key(keysym: u32, scancode: u32, down: bool) -> ClientMsg {
    ClientMsg::QemuKey {
        down,
        keysym,
        scancode,
    }
}

fn key(keysym: u32, down: bool) -> ClientMsg {
    ClientMsg::Key { down, keysym }
}

#[test]
fn an_acknowledging_server_gets_scancodes_with_keysyms() {
    let (encodings, inputs) = session_with(vec![rfb::qemu_key_ack(64, 48)], 8, |session| {
        tap(session, 0x7a, KEYCODE_Y_OF_QWERTY);
        session.send(Input::Key {
            keysym: 0xfe03,
            keycode: Some(KEYCODE_ALTGR),
            down: true,
        });
        tap(session, 0x7c, KEYCODE_102ND);
        session.send(Input::ReleaseAll);
        // No physical key known: the keysym alone, even now.
        session.send(Input::Key {
            keysym: 0x20ac,
            keycode: None,
            down: true,
        });
        session.send(Input::SendKey(SendKey::PrintScreen));
    });
    for wanted in [rfb::QEMU_EXTENDED_KEY_EVENT, rfb::QEMU_LED_STATE] {
        assert!(encodings.contains(&wanted), "{wanted} not asked for");
    }
    assert_eq!(
        inputs,
        [
            qemu_key(0x7a, 0x15, true),
            qemu_key(0x7a, 0x15, false),
            qemu_key(0xfe03, 0xb8, true),
            qemu_key(0x7c, 0x56, true),
            qemu_key(0x7c, 0x56, false),
            qemu_key(0xfe03, 0xb8, false),
            key(0x20ac, true),
            qemu_key(0xff61, 0x54, true),
        ]
    );
}

#[test]
fn a_server_without_extended_key_events_still_gets_keysyms() {
    let (_, inputs) = session_with(Vec::new(), 5, |session| {
        tap(session, 0x7a, KEYCODE_Y_OF_QWERTY);
        session.send(Input::SendKey(SendKey::CtrlAltF(1)));
    });
    assert_eq!(
        inputs,
        [
            key(0x7a, true),
            key(0x7a, false),
            key(0xffe3, true),
            key(0xffe9, true),
            key(0xffbe, true),
        ]
    );
}

#[test]
fn lock_keys_are_tapped_where_the_guest_differs() {
    // The guest has Caps Lock on and Num Lock off; here Caps Lock is off and Num Lock on.
    let hello = vec![rfb::qemu_key_ack(64, 48), rfb::led_state(0b100)];
    let here = Locks {
        caps_lock: false,
        num_lock: true,
    };
    let (_, inputs) = session_with(hello, 8, |session| {
        session.send(Input::Locks(here));
        tap(session, 0x61, 38);
        // In step now: nothing more is tapped.
        session.send(Input::Locks(here));
        tap(session, 0x62, 56);
    });
    assert_eq!(
        inputs,
        [
            qemu_key(0xffe5, 0x3a, true),
            qemu_key(0xffe5, 0x3a, false),
            qemu_key(0xff7f, 0x45, true),
            qemu_key(0xff7f, 0x45, false),
            qemu_key(0x61, 0x1e, true),
            qemu_key(0x61, 0x1e, false),
            qemu_key(0x62, 0x30, true),
            qemu_key(0x62, 0x30, false),
        ]
    );
}
