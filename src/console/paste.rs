//! "Paste as keystrokes": text typed into the guest key by key, for guests whose
//! clipboard this side cannot reach (a login prompt, an installer, a text console).
//!
//! Each character becomes the key that types it in this side's keyboard layout, with the
//! Shift and AltGr it needs ([`Stroke`]; the UI finds them in the toolkit's keymap). Sent
//! as physical keys, the guest types the same text when its layout is this side's.

use super::input::Input;
use super::keymap::Key;

/// How one character is typed: a key, pressed with Shift and/or AltGr (the layout's
/// shift levels 2–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stroke {
    pub key: Key,
    pub shift: bool,
    pub altgr: bool,
}

/// The modifier keys of this side's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modifiers {
    pub shift: Key,
    pub altgr: Key,
}

/// How long the server takes for one key event. QEMU feeds VNC keys to the guest 10 ms
/// apart and drops what does not fit its queue (1024 entries), so a long text is sent
/// no faster than it is typed.
pub const KEY_EVENT_PACE: std::time::Duration = std::time::Duration::from_millis(12);

/// The key events that type `strokes`, one group per character: its modifiers down,
/// the key down and up, the modifiers up. Nothing is left held.
pub fn keystrokes(strokes: &[Stroke], modifiers: Modifiers) -> Vec<Vec<Input>> {
    strokes
        .iter()
        .map(|s| stroke_events(s, modifiers))
        .collect()
}

fn stroke_events(stroke: &Stroke, modifiers: Modifiers) -> Vec<Input> {
    let mut out = Vec::with_capacity(6);
    let key = |key: Key, down: bool| Input::Key {
        keysym: key.keysym,
        keycode: key.keycode,
        down,
    };
    let held: Vec<Key> = [
        (stroke.shift, modifiers.shift),
        (stroke.altgr, modifiers.altgr),
    ]
    .into_iter()
    .filter_map(|(needed, modifier)| needed.then_some(modifier))
    .collect();
    out.extend(held.iter().map(|&m| key(m, true)));
    out.push(key(stroke.key, true));
    out.push(key(stroke.key, false));
    out.extend(held.iter().rev().map(|&m| key(m, false)));
    out
}

/// The keysym of a character of pasted text: line ends are Return, tabs Tab; other
/// control characters are not typed.
pub fn char_keysym(c: char) -> Option<u32> {
    match c {
        '\n' => Some(0xff0d),
        '\t' => Some(0xff09),
        c if c.is_control() => None,
        // Latin-1 keysyms are the code points; the rest is Unicode (keysymdef.h).
        c if (' '..='~').contains(&c) || ('\u{a0}'..='\u{ff}').contains(&c) => Some(c as u32),
        c => Some(0x0100_0000 | c as u32),
    }
}

/// The text as typed: `\r\n` and lone `\r` become one line end.
pub fn normalized(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::keymap::keysym;

    fn modifiers() -> Modifiers {
        Modifiers {
            shift: Key::evdev(keysym::SHIFT_L, 42),
            altgr: Key::evdev(0xfe03, 100),
        }
    }

    fn events(inputs: &[Input]) -> Vec<(u32, bool)> {
        inputs
            .iter()
            .map(|i| match i {
                Input::Key { keysym, down, .. } => (*keysym, *down),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn each_character_brings_its_modifiers_and_leaves_nothing_held() {
        // "a@" on a German layout: a, then AltGr+q.
        let strokes = [
            Stroke {
                key: Key::evdev(0x61, 30),
                shift: false,
                altgr: false,
            },
            Stroke {
                key: Key::evdev(0x40, 16),
                shift: false,
                altgr: true,
            },
            Stroke {
                key: Key::evdev(0x7c, 86),
                shift: true,
                altgr: true,
            },
        ];
        let groups = keystrokes(&strokes, modifiers());
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [2, 4, 6]);
        let inputs = groups.concat();
        assert_eq!(
            events(&inputs),
            [
                (0x61, true),
                (0x61, false),
                (0xfe03, true),
                (0x40, true),
                (0x40, false),
                (0xfe03, false),
                (keysym::SHIFT_L, true),
                (0xfe03, true),
                (0x7c, true),
                (0x7c, false),
                (0xfe03, false),
                (keysym::SHIFT_L, false),
            ]
        );
        let Input::Key { keycode, .. } = inputs[3] else {
            unreachable!()
        };
        assert_eq!(keycode, Some(16 + 8));
        let mut state = crate::console::InputState::default();
        for input in &inputs {
            state.apply(input);
        }
        assert!(state.held_keys().is_empty());
    }

    #[test]
    fn characters_become_keysyms() {
        assert_eq!(char_keysym('a'), Some(0x61));
        assert_eq!(char_keysym('~'), Some(0x7e));
        assert_eq!(char_keysym('ä'), Some(0xe4));
        assert_eq!(char_keysym('€'), Some(0x0100_20ac));
        assert_eq!(char_keysym('\n'), Some(0xff0d));
        assert_eq!(char_keysym('\t'), Some(0xff09));
        assert_eq!(char_keysym('\u{7}'), None);
        assert_eq!(normalized("a\r\nb\rc\n"), "a\nb\nc\n");
    }
}
