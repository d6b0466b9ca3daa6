//! Paste as keystrokes: the keys of this side's keyboard layout that type a text, found in
//! GDK's keymap, sent to the guest as physical keys (`console::paste`).

use super::ConsoleView;
use crate::console::keymap::{self, keysym, XKB_EVDEV_OFFSET};
use crate::console::paste::{self, Modifiers, Stroke};
use crate::console::{Input, Key, Locks};
use glib::prelude::ToValue;
use gtk::prelude::*;
use gtk::{gdk, glib};

/// ISO_Level3_Shift: AltGr on layouts that have one.
const LEVEL3_SHIFT: u32 = 0xfe03;

impl ConsoleView {
    /// Types `text` into the guest key by key, as this side's layout types it, at the
    /// pace the server takes keys. The guest's Caps Lock is off while it types, and
    /// follows this side's again after.
    pub async fn type_text(&self, text: &str) {
        let display = self.display();
        let strokes: Vec<Stroke> = paste::normalized(text)
            .chars()
            .filter_map(|c| stroke(&display, c))
            .collect();
        let modifiers = Modifiers {
            shift: layout_key(&display, keysym::SHIFT_L),
            altgr: layout_key(&display, LEVEL3_SHIFT),
        };
        let here = self.local_locks().unwrap_or_default();
        self.send(Input::Locks(Locks {
            caps_lock: false,
            ..here
        }));
        for events in paste::keystrokes(&strokes, modifiers) {
            let pause = paste::KEY_EVENT_PACE * events.len() as u32;
            for input in events {
                self.send(input);
            }
            glib::timeout_future(pause).await;
        }
        self.send(Input::Locks(here));
    }
}

/// The key with `keysym` at the lowest level of the first group, or the keysym alone.
fn layout_key(display: &gdk::Display, keysym: u32) -> Key {
    find(display, keysym)
        .map(|(keycode, _)| Key {
            keysym,
            keycode: Some(keycode),
        })
        .unwrap_or(Key {
            keysym,
            keycode: None,
        })
}

/// The keycode and shift level (0–3) that type `keysym` in the first group. Keys of the
/// PC keyboard come first: XKB also puts ( and ) on the keypad parentheses of some
/// keyboards, which a PC guest does not have.
fn find(display: &gdk::Display, keysym: u32) -> Option<(u32, i32)> {
    // A keyval is a keysym; GDK's key type takes one through a GValue of type u32.
    let keyval = keysym.to_value().get::<gdk::Key>().ok()?;
    display
        .map_keyval(keyval)?
        .into_iter()
        .filter(|k| k.group() == 0 && (0..=3).contains(&k.level()))
        .min_by_key(|k| (!is_pc_key(k.keycode()), k.level(), k.keycode()))
        .map(|k| (k.keycode(), k.level()))
}

/// Whether the key is on a 105-key PC keyboard (or a Japanese or Korean one).
fn is_pc_key(keycode: u32) -> bool {
    (1 + XKB_EVDEV_OFFSET..128 + XKB_EVDEV_OFFSET).contains(&keycode)
        && keymap::xkb_to_qnum(keycode).is_some()
}

/// How `c` is typed here: its key and shift level, or its keysym alone when no key of
/// the layout types it (the server then picks a key).
fn stroke(display: &gdk::Display, c: char) -> Option<Stroke> {
    let keysym = paste::char_keysym(c)?;
    let stroke = match find(display, keysym) {
        Some((keycode, level)) => Stroke {
            key: Key {
                keysym,
                keycode: Some(keycode),
            },
            shift: level % 2 == 1,
            altgr: level >= 2,
        },
        None => Stroke {
            key: Key {
                keysym,
                keycode: None,
            },
            shift: false,
            altgr: false,
        },
    };
    Some(stroke)
}
