//! Waiting for console session events with a deadline.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use virtdeck::console::{
    ConnectOptions, ConsoleError, ConsoleEvent, ConsoleSession, ConsoleSource, Input,
};

/// A session to the loopback server on `port`.
pub fn open_loopback(port: u16) -> ConsoleSession {
    ConsoleSession::open(
        ConsoleSource::Tcp {
            host: "127.0.0.1".into(),
            port,
        },
        ConnectOptions::default(),
    )
}

/// Presses and releases one key.
pub fn tap(session: &ConsoleSession, keysym: u32) {
    for down in [true, false] {
        session.send(Input::Key {
            keysym,
            keycode: None,
            down,
        });
    }
}

/// The next event within `timeout`, or `None`.
pub fn next_event(session: &ConsoleSession, timeout: Duration) -> Option<ConsoleEvent> {
    let deadline = Instant::now() + timeout;
    loop {
        match session.events().try_recv() {
            Ok(event) => return Some(event),
            Err(async_channel::TryRecvError::Closed) => return None,
            Err(async_channel::TryRecvError::Empty) if Instant::now() >= deadline => return None,
            Err(async_channel::TryRecvError::Empty) => std::thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Receives events until one matches `pred`; fails the test after `timeout`, listing
/// what arrived instead.
pub fn expect(
    session: &ConsoleSession,
    timeout: Duration,
    what: &str,
    mut pred: impl FnMut(&ConsoleEvent) -> bool,
) -> ConsoleEvent {
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next_event(session, left) {
            Some(event) if pred(&event) => return event,
            Some(event) => seen.push(event),
            None => panic!("no {what} within {timeout:?}; saw {seen:?}"),
        }
    }
}

/// Waits for the session to end and returns its error.
pub fn expect_disconnect(
    session: &ConsoleSession,
    timeout: Duration,
    what: &str,
) -> Option<ConsoleError> {
    match expect(session, timeout, what, |e| {
        matches!(e, ConsoleEvent::Disconnected { .. })
    }) {
        ConsoleEvent::Disconnected { error } => error,
        _ => unreachable!(),
    }
}
