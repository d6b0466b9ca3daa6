//! Keyboard and mouse input as RFB messages, with the state needed to undo it.
//!
//! [`InputState`] turns what the widget reports ([`Input`]) into wire events ([`Wire`]),
//! remembering which keys and buttons are down so that [`Input::ReleaseAll`] (focus
//! lost, grab released) lifts every one of them and the guest never sees a stuck key.

use super::keymap::{self, SendKey};
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
    Key {
        keysym: u32,
        down: bool,
    },
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

/// An RFB client message carrying input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Key { keysym: u32, down: bool },
    Pointer { x: u16, y: u16, buttons: u8 },
}

impl Wire {
    /// Appends the RFB client message: KeyEvent (type 4) or PointerEvent (type 5).
    pub fn encode(self, out: &mut Vec<u8>) {
        match self {
            Wire::Key { keysym, down } => {
                out.extend_from_slice(&[4, u8::from(down), 0, 0]);
                out.extend_from_slice(&keysym.to_be_bytes());
            }
            Wire::Pointer { x, y, buttons } => {
                out.extend_from_slice(&[5, buttons]);
                out.extend_from_slice(&x.to_be_bytes());
                out.extend_from_slice(&y.to_be_bytes());
            }
        }
    }
}

/// Keys and buttons currently held down, and the last pointer position.
#[derive(Debug, Default, Clone)]
pub struct InputState {
    keys: Vec<u32>,
    buttons: u8,
    x: u16,
    y: u16,
}

impl InputState {
    pub fn held_keys(&self) -> &[u32] {
        &self.keys
    }

    pub fn buttons(&self) -> u8 {
        self.buttons
    }

    /// The wire events for one input, updating the held state.
    pub fn apply(&mut self, input: &Input) -> Vec<Wire> {
        match *input {
            Input::Key { keysym, down } => {
                self.track_key(keysym, down);
                vec![Wire::Key { keysym, down }]
            }
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
                .keysyms()
                .map(|keys| keymap::chord(&keys))
                .unwrap_or_default()
                .into_iter()
                .map(|(keysym, down)| Wire::Key { keysym, down })
                .collect(),
            Input::ReleaseAll => {
                let mut wire: Vec<Wire> = self
                    .keys
                    .drain(..)
                    .rev()
                    .map(|keysym| Wire::Key {
                        keysym,
                        down: false,
                    })
                    .collect();
                if self.buttons != 0 {
                    self.buttons = 0;
                    wire.push(self.pointer());
                }
                wire
            }
        }
    }

    fn track_key(&mut self, keysym: u32, down: bool) {
        let held = self.keys.iter().position(|&k| k == keysym);
        match (down, held) {
            (true, None) => self.keys.push(keysym),
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
        Input::Key { keysym, down }
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
        assert_eq!(state.held_keys(), &[keysym::CONTROL_L, 0x61]);
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
