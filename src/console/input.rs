//! Keyboard and mouse input as RFB messages, with the state needed to undo it.
//!
//! [`InputState`] turns what the widget reports ([`Input`]) into wire events ([`Wire`]),
//! remembering which keys and buttons are down so that [`Input::ReleaseAll`] (focus
//! lost, grab released) lifts every one of them and the guest never sees a stuck key.
//!
//! Once the server acknowledged QEMU Extended Key Events, a key whose physical key is
//! known goes out as its scancode with its keysym ([`Wire::QemuKey`]), so the guest's own
//! layout decides what it types; before that, or for keys without a scancode, as its
//! keysym alone. The guest's Caps Lock and Num Lock follow this side's: before a key is
//! typed, [`Input::Locks`] says which are on here, and a lock that differs from the
//! guest's LEDs is pressed once in the guest.

use super::keymap::{self, evdev, keysym, Key, SendKey};
use super::pointer::{moved_by, RELATIVE_START};

/// A mouse button as GTK numbers them: 1 left, 2 middle, 3 right.
pub type Button = u8;

/// A scroll step of the wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scroll {
    Up,
    Down,
    Left,
    Right,
}

/// What the user did, in framebuffer coordinates for an absolute pointer (a guest with a
/// tablet) or as motion for a relative one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A key pressed or released: the keysym it typed and, when known, the physical key
    /// as an XKB keycode (GDK's hardware keycode).
    Key {
        keysym: u32,
        keycode: Option<u32>,
        down: bool,
    },
    /// The lock keys that are on here, told before a key is typed.
    Locks(Locks),
    Motion {
        x: u16,
        y: u16,
    },
    /// The guest's pointer is relative from now on: the position goes to
    /// [`RELATIVE_START`], which QEMU takes as the starting point of the motion.
    StartRelative,
    /// Relative motion: the position moves by this much (see [`moved_by`]).
    MoveBy {
        dx: i32,
        dy: i32,
    },
    Button {
        button: Button,
        down: bool,
    },
    Scroll(Scroll),
    SendKey(SendKey),
    ReleaseAll,
}

/// Which lock keys are on, here or in the guest (its keyboard LEDs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Locks {
    pub caps_lock: bool,
    pub num_lock: bool,
}

/// An RFB client message carrying input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Key {
        keysym: u32,
        down: bool,
    },
    /// QEMU Extended Key Event: the key's scancode (qnum) with its keysym.
    QemuKey {
        keysym: u32,
        scancode: u8,
        down: bool,
    },
    Pointer {
        x: u16,
        y: u16,
        buttons: u8,
    },
}

impl Wire {
    /// Appends the RFB client message: KeyEvent (type 4), PointerEvent (type 5) or the
    /// QEMU client message (type 255) with its Extended Key Event (submessage 0).
    pub fn encode(self, out: &mut Vec<u8>) {
        match self {
            Wire::Key { keysym, down } => {
                out.extend_from_slice(&[4, u8::from(down), 0, 0]);
                out.extend_from_slice(&keysym.to_be_bytes());
            }
            Wire::QemuKey {
                keysym,
                scancode,
                down,
            } => {
                out.extend_from_slice(&[255, 0, 0, u8::from(down)]);
                out.extend_from_slice(&keysym.to_be_bytes());
                out.extend_from_slice(&u32::from(scancode).to_be_bytes());
            }
            Wire::Pointer { x, y, buttons } => {
                out.extend_from_slice(&[5, buttons]);
                out.extend_from_slice(&x.to_be_bytes());
                out.extend_from_slice(&y.to_be_bytes());
            }
        }
    }
}

/// Keys and buttons currently held down, the last pointer position, and what the server
/// said about keys.
#[derive(Debug, Default, Clone)]
pub struct InputState {
    keys: Vec<Key>,
    buttons: u8,
    x: u16,
    y: u16,
    /// The server acknowledged QEMU Extended Key Events.
    scancodes: bool,
    /// The guest's lock LEDs, once the server told them (QEMU LED State).
    guest_locks: Option<Locks>,
}

impl InputState {
    /// The keysyms of the keys held down, in pressing order.
    pub fn held_keys(&self) -> Vec<u32> {
        self.keys.iter().map(|k| k.keysym).collect()
    }

    /// Keys go out as scancodes from now on (the server acknowledged them).
    pub fn set_scancodes(&mut self, scancodes: bool) {
        self.scancodes = scancodes;
    }

    pub fn scancodes(&self) -> bool {
        self.scancodes
    }

    /// The guest's lock LEDs as last reported (or as the taps sent since will leave them).
    pub fn guest_locks(&self) -> Option<Locks> {
        self.guest_locks
    }

    /// The guest's lock LEDs as the server reported them.
    pub fn set_guest_locks(&mut self, locks: Locks) {
        self.guest_locks = Some(locks);
    }

    pub fn buttons(&self) -> u8 {
        self.buttons
    }

    /// The wire events for one input, updating the held state.
    pub fn apply(&mut self, input: &Input) -> Vec<Wire> {
        match *input {
            Input::Key {
                keysym,
                keycode,
                down,
            } => {
                let key = Key { keysym, keycode };
                self.track_key(key, down);
                vec![self.key(key, down)]
            }
            Input::Locks(here) => self.sync_locks(here),
            Input::Motion { x, y } => {
                (self.x, self.y) = (x, y);
                vec![self.pointer()]
            }
            Input::StartRelative => {
                (self.x, self.y) = RELATIVE_START;
                vec![self.pointer()]
            }
            Input::MoveBy { dx, dy } => {
                let from = (self.x, self.y);
                (self.x, self.y) = moved_by(from, dx, dy);
                if (self.x, self.y) == from {
                    Vec::new()
                } else {
                    vec![self.pointer()]
                }
            }
            Input::Button { button, down } => match button_bit(button) {
                Some(bit) if down => {
                    self.buttons |= bit;
                    vec![self.pointer()]
                }
                Some(bit) => {
                    self.buttons &= !bit;
                    vec![self.pointer()]
                }
                None => Vec::new(),
            },
            Input::Scroll(direction) => {
                let bit = 1 << (scroll_button(direction) - 1);
                let pressed = Wire::Pointer {
                    x: self.x,
                    y: self.y,
                    buttons: self.buttons | bit,
                };
                vec![pressed, self.pointer()]
            }
            Input::SendKey(combo) => combo
                .keys()
                .map(|keys| keymap::chord(&keys))
                .unwrap_or_default()
                .into_iter()
                .map(|(key, down)| self.key(key, down))
                .collect(),
            Input::ReleaseAll => {
                let held = std::mem::take(&mut self.keys);
                let mut wire: Vec<Wire> =
                    held.into_iter().rev().map(|k| self.key(k, false)).collect();
                if self.buttons != 0 {
                    self.buttons = 0;
                    wire.push(self.pointer());
                }
                wire
            }
        }
    }

    /// The wire event of one key: its scancode when the server takes them and the key
    /// has one, else its keysym.
    fn key(&self, key: Key, down: bool) -> Wire {
        match key.qnum() {
            Some(scancode) if self.scancodes => Wire::QemuKey {
                keysym: key.keysym,
                scancode,
                down,
            },
            _ => Wire::Key {
                keysym: key.keysym,
                down,
            },
        }
    }

    /// Taps the guest's Caps Lock and Num Lock where they differ from `here`.
    fn sync_locks(&mut self, here: Locks) -> Vec<Wire> {
        let Some(guest) = self.guest_locks else {
            return Vec::new();
        };
        let mut wire = Vec::new();
        let locks = [
            (
                guest.caps_lock != here.caps_lock,
                keysym::CAPS_LOCK,
                evdev::CAPSLOCK,
            ),
            (
                guest.num_lock != here.num_lock,
                keysym::NUM_LOCK,
                evdev::NUMLOCK,
            ),
        ];
        for (differs, keysym, code) in locks {
            if differs {
                let key = Key::evdev(keysym, code);
                wire.extend([self.key(key, true), self.key(key, false)]);
            }
        }
        // What the guest will report once it took the taps; until then no second tap.
        self.guest_locks = Some(here);
        wire
    }

    /// Remembers a held key. A key is the same key by its keycode when it has one: the
    /// keysym of a release may differ from its press (Shift let go in between).
    fn track_key(&mut self, key: Key, down: bool) {
        let same = |k: &Key| match (k.keycode, key.keycode) {
            (Some(a), Some(b)) => a == b,
            _ => k.keysym == key.keysym,
        };
        let held = self.keys.iter().position(same);
        match (down, held) {
            (true, None) => self.keys.push(key),
            (false, Some(index)) => {
                self.keys.remove(index);
            }
            // Auto-repeat presses and releases of keys pressed before focus came in.
            _ => {}
        }
    }

    fn pointer(&self) -> Wire {
        Wire::Pointer {
            x: self.x,
            y: self.y,
            buttons: self.buttons,
        }
    }
}

/// The RFB button-mask bit of a GTK button (1–3; 8 and 9, back/forward, are not sent).
fn button_bit(button: Button) -> Option<u8> {
    match button {
        1..=3 => Some(1 << (button - 1)),
        _ => None,
    }
}

/// Wheel steps are buttons 4 (up), 5 (down), 6 (left), 7 (right), pressed and released.
fn scroll_button(direction: Scroll) -> u8 {
    match direction {
        Scroll::Up => 4,
        Scroll::Down => 5,
        Scroll::Left => 6,
        Scroll::Right => 7,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::keymap::keysym;

    fn key(keysym: u32, down: bool) -> Input {
        Input::Key {
            keysym,
            keycode: None,
            down,
        }
    }

    /// A key with its X keycode.
    fn physical(keysym: u32, keycode: u32, down: bool) -> Input {
        Input::Key {
            keysym,
            keycode: Some(keycode),
            down,
        }
    }

    fn qemu_key(keysym: u32, scancode: u8, down: bool) -> Wire {
        Wire::QemuKey {
            keysym,
            scancode,
            down,
        }
    }

    #[test]
    fn keys_go_as_keysyms_until_the_server_takes_scancodes() {
        let mut state = InputState::default();
        // "z" on a German keyboard: the key right of T (X keycode 29, scancode 0x15).
        assert_eq!(
            state.apply(&physical(0x7a, 29, true)),
            vec![Wire::Key {
                keysym: 0x7a,
                down: true
            }]
        );
        state.set_scancodes(true);
        assert_eq!(
            state.apply(&physical(0x7a, 29, false)),
            vec![qemu_key(0x7a, 0x15, false)]
        );
        // AltGr and the 102nd key.
        assert_eq!(
            state.apply(&physical(0xfe03, 108, true)),
            vec![qemu_key(0xfe03, 0xb8, true)]
        );
        assert_eq!(
            state.apply(&physical(0x7c, 94, true)),
            vec![qemu_key(0x7c, 0x56, true)]
        );
        // Without a known key, the keysym alone.
        assert_eq!(
            state.apply(&key(0x20ac, true)),
            vec![Wire::Key {
                keysym: 0x20ac,
                down: true
            }]
        );
        assert_eq!(
            state.apply(&physical(0x61, 8 + 240, true)),
            vec![Wire::Key {
                keysym: 0x61,
                down: true
            }]
        );
        let mut wire = Vec::new();
        qemu_key(0x7c, 0x56, true).encode(&mut wire);
        assert_eq!(wire, [255, 0, 0, 1, 0, 0, 0, 0x7c, 0, 0, 0, 0x56]);
    }

    #[test]
    fn a_key_released_with_another_keysym_is_no_longer_held() {
        let mut state = InputState::default();
        state.set_scancodes(true);
        // Shift+2 types @ on a US layout; Shift goes up first, so 2 comes up as "2".
        state.apply(&physical(keysym::SHIFT_L, 50, true));
        state.apply(&physical(0x40, 11, true));
        state.apply(&physical(keysym::SHIFT_L, 50, false));
        state.apply(&physical(0x32, 11, false));
        assert!(state.held_keys().is_empty());
        assert!(state.apply(&Input::ReleaseAll).is_empty());
        // Held keys come up as they went down: by scancode.
        state.apply(&physical(0xfe03, 108, true));
        assert_eq!(
            state.apply(&Input::ReleaseAll),
            vec![qemu_key(0xfe03, 0xb8, false)]
        );
        // The Send Key combinations too.
        let wire = state.apply(&Input::SendKey(SendKey::CtrlAltDelete));
        assert_eq!(wire[0], qemu_key(keysym::CONTROL_L, 0x1d, true));
        assert_eq!(wire[2], qemu_key(keysym::DELETE, 0xd3, true));
        assert_eq!(wire[5], qemu_key(keysym::CONTROL_L, 0x1d, false));
    }

    #[test]
    fn lock_keys_follow_this_side() {
        let mut state = InputState::default();
        state.set_scancodes(true);
        let here = Locks {
            caps_lock: false,
            num_lock: true,
        };
        // Nothing is known of the guest yet: nothing to fix.
        assert!(state.apply(&Input::Locks(here)).is_empty());
        state.set_guest_locks(Locks {
            caps_lock: true,
            num_lock: true,
        });
        assert_eq!(
            state.apply(&Input::Locks(here)),
            vec![
                qemu_key(keysym::CAPS_LOCK, 0x3a, true),
                qemu_key(keysym::CAPS_LOCK, 0x3a, false)
            ]
        );
        // Tapped once, not again before the guest reports.
        assert!(state.apply(&Input::Locks(here)).is_empty());
        state.set_guest_locks(Locks::default());
        assert_eq!(
            state.apply(&Input::Locks(here)),
            vec![
                qemu_key(keysym::NUM_LOCK, 0x45, true),
                qemu_key(keysym::NUM_LOCK, 0x45, false)
            ]
        );
        assert!(state.held_keys().is_empty());
    }

    #[test]
    fn release_all_lifts_held_keys_in_reverse_and_buttons() {
        let mut state = InputState::default();
        state.apply(&key(keysym::CONTROL_L, true));
        state.apply(&key(0x61, true));
        state.apply(&key(0x61, true)); // auto-repeat
        state.apply(&key(0x62, true));
        state.apply(&key(0x62, false));
        state.apply(&Input::Motion { x: 7, y: 9 });
        state.apply(&Input::Button {
            button: 3,
            down: true,
        });
        assert_eq!(state.held_keys(), vec![keysym::CONTROL_L, 0x61]);
        assert_eq!(
            state.apply(&Input::ReleaseAll),
            vec![
                Wire::Key {
                    keysym: 0x61,
                    down: false
                },
                Wire::Key {
                    keysym: keysym::CONTROL_L,
                    down: false
                },
                Wire::Pointer {
                    x: 7,
                    y: 9,
                    buttons: 0
                },
            ]
        );
        assert!(state.apply(&Input::ReleaseAll).is_empty());
    }

    #[test]
    fn buttons_build_a_mask_and_wheel_clicks() {
        let mut state = InputState::default();
        state.apply(&Input::Motion { x: 1, y: 2 });
        let press = |b| Input::Button {
            button: b,
            down: true,
        };
        state.apply(&press(1));
        state.apply(&press(2));
        assert_eq!(state.buttons(), 0b011);
        assert!(state.apply(&press(8)).is_empty());
        assert_eq!(
            state.apply(&Input::Scroll(Scroll::Down)),
            vec![
                Wire::Pointer {
                    x: 1,
                    y: 2,
                    buttons: 0b1_0011
                },
                Wire::Pointer {
                    x: 1,
                    y: 2,
                    buttons: 0b011
                },
            ]
        );
        state.apply(&Input::Button {
            button: 1,
            down: false,
        });
        assert_eq!(state.buttons(), 0b010);
    }

    fn pointer(x: u16, y: u16, buttons: u8) -> Wire {
        Wire::Pointer { x, y, buttons }
    }

    #[test]
    fn relative_motion_keeps_buttons_and_the_wheel_stays_in_place() {
        let mut state = InputState::default();
        let (x, y) = RELATIVE_START;
        assert_eq!(state.apply(&Input::StartRelative), vec![pointer(x, y, 0)]);
        let move_by = |dx, dy| Input::MoveBy { dx, dy };
        assert_eq!(state.apply(&move_by(40, 0)), vec![pointer(x + 40, y, 0)]);
        state.apply(&Input::Button {
            button: 1,
            down: true,
        });
        // Dragging: the button stays down while moving.
        assert_eq!(
            state.apply(&move_by(-50, 7)),
            vec![pointer(x - 10, y + 7, 1)]
        );
        assert_eq!(
            state.apply(&Input::Scroll(Scroll::Up)),
            vec![pointer(x - 10, y + 7, 0b1001), pointer(x - 10, y + 7, 1)]
        );
        // At the end of the range motion that way is dropped, back is not.
        assert_eq!(
            state.apply(&move_by(i32::MAX, 0)),
            vec![pointer(u16::MAX, y + 7, 1)]
        );
        assert!(state.apply(&move_by(3, 0)).is_empty());
        assert_eq!(
            state.apply(&move_by(-3, 0)),
            vec![pointer(u16::MAX - 3, y + 7, 1)]
        );
        assert_eq!(
            state.apply(&Input::ReleaseAll),
            vec![pointer(u16::MAX - 3, y + 7, 0)]
        );
    }

    #[test]
    fn send_key_is_a_chord_that_leaves_nothing_held() {
        let mut state = InputState::default();
        let wire = state.apply(&Input::SendKey(SendKey::CtrlAltF(2)));
        assert_eq!(wire.len(), 6);
        assert_eq!(
            wire[2],
            Wire::Key {
                keysym: 0xffbf,
                down: true
            }
        );
        assert!(state.held_keys().is_empty());
    }
}
