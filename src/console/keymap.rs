//! Keys as the RFB protocol carries them: X11 keysyms (the `KeyEvent` message) and, for
//! servers that accept QEMU Extended Key Events, the physical key as an XT scancode.
//!
//! GDK keyvals are X11 keysyms (`gdk/gdkkeysyms.h` is generated from X's `keysymdef.h`),
//! Unicode keyvals included (`0x0100_0000 | code point`). [`keyval_to_keysym`] only fixes
//! the few values a VNC server would not understand.
//!
//! A keysym alone makes QEMU guess the key through its own (US) keymap, which types the
//! wrong characters for a guest with another layout. The physical key does not depend on
//! any layout: GDK's hardware keycode is an XKB keycode, the Linux evdev code plus 8, and
//! [`evdev_to_qnum`] turns the evdev code into QEMU's "qnum": the XT set 1 scancode in
//! one byte, with the high bit standing for the 0xE0 prefix.

/// XKB keycodes (X11, and GDK on Wayland) are evdev codes offset by 8.
pub const XKB_EVDEV_OFFSET: u32 = 8;

/// Keysyms used by the send-key combinations and the grab logic.
pub mod keysym {
    pub const BACKSPACE: u32 = 0xff08;
    pub const TAB: u32 = 0xff09;
    pub const ISO_LEFT_TAB: u32 = 0xfe20;
    pub const PRINT: u32 = 0xff61;
    pub const DELETE: u32 = 0xffff;
    pub const F1: u32 = 0xffbe;
    pub const SHIFT_L: u32 = 0xffe1;
    pub const CONTROL_L: u32 = 0xffe3;
    pub const CONTROL_R: u32 = 0xffe4;
    pub const ALT_L: u32 = 0xffe9;
    pub const ALT_R: u32 = 0xffea;
    pub const VOID_SYMBOL: u32 = 0x00ff_ffff;
    pub const CAPS_LOCK: u32 = 0xffe5;
    pub const NUM_LOCK: u32 = 0xff7f;
}

/// Linux evdev codes (`KEY_*` in `linux/input-event-codes.h`) of the keys Virtdeck
/// presses by itself.
pub mod evdev {
    pub const BACKSPACE: u16 = 14;
    pub const LEFTCTRL: u16 = 29;
    pub const LEFTALT: u16 = 56;
    pub const CAPSLOCK: u16 = 58;
    pub const F1: u16 = 59;
    pub const NUMLOCK: u16 = 69;
    pub const F11: u16 = 87;
    pub const SYSRQ: u16 = 99;
    pub const DELETE: u16 = 111;
}

/// The QEMU "qnum" scancode of a Linux evdev key code, or `None` for codes no PC
/// keyboard has (those keys then go as keysyms only).
///
/// Codes 1–83 (the 83-key PC keyboard) are the set 1 scancodes themselves. Keys that
/// send 0xE0 and a byte are that byte with the high bit set (Right Ctrl, 0xE0 0x1D, is
/// 0x9D). The Korean keys are QEMU's LANG1 and LANG2, which its PS/2 keyboard sends as
/// the single bytes 0xF2 and 0xF1.
pub fn evdev_to_qnum(code: u16) -> Option<u8> {
    let qnum = match code {
        // Escape, digits, letters, modifiers, F1–F10, locks and the keypad.
        1..=83 => code as u8,
        85 => 0x76,  // Zenkaku/Hankaku
        86 => 0x56,  // the 102nd key: < > | on ISO keyboards
        87 => 0x57,  // F11
        88 => 0x58,  // F12
        89 => 0x73,  // Ro
        90 => 0x78,  // Katakana
        91 => 0x77,  // Hiragana
        92 => 0x79,  // Henkan
        93 => 0x70,  // Katakana/Hiragana
        94 => 0x7b,  // Muhenkan
        95 => 0x5c,  // keypad Japanese comma
        96 => 0x9c,  // keypad Enter
        97 => 0x9d,  // Right Ctrl
        98 => 0xb5,  // keypad /
        99 => 0x54,  // SysRq / Print Screen
        100 => 0xb8, // Right Alt, AltGr
        101 => 0x5b, // Line Feed
        102 => 0xc7, // Home
        103 => 0xc8, // Up
        104 => 0xc9, // Page Up
        105 => 0xcb, // Left
        106 => 0xcd, // Right
        107 => 0xcf, // End
        108 => 0xd0, // Down
        109 => 0xd1, // Page Down
        110 => 0xd2, // Insert
        111 => 0xd3, // Delete
        112 => 0xef, // Macro
        113 => 0xa0, // Mute
        114 => 0xae, // Volume Down
        115 => 0xb0, // Volume Up
        116 => 0xde, // Power
        117 => 0x59, // keypad =
        118 => 0xce, // keypad ±
        119 => 0xc6, // Pause
        120 => 0x8b, // Scale
        121 => 0x7e, // keypad comma
        122 => 0x72, // Hangeul (LANG1)
        123 => 0x71, // Hanja (LANG2)
        124 => 0x7d, // Yen
        125 => 0xdb, // Left Super
        126 => 0xdc, // Right Super
        127 => 0xdd, // Menu (Compose)
        128 => 0xe8, // Stop
        129 => 0x85, // Again
        130 => 0x86, // Props
        131 => 0x87, // Undo
        132 => 0x8c, // Front
        133 => 0xf8, // Copy
        134 => 0x64, // Open
        135 => 0x65, // Paste
        136 => 0xc1, // Find
        137 => 0xbc, // Cut
        138 => 0xf5, // Help
        139 => 0x9e, // Menu
        140 => 0xa1, // Calculator
        142 => 0xdf, // Sleep
        143 => 0xe3, // Wake Up
        148 => 0x9f, // Prog1
        149 => 0x97, // Prog2
        150 => 0x82, // WWW
        155 => 0xec, // Mail
        156 => 0xe6, // Bookmarks
        157 => 0xeb, // Computer
        158 => 0xea, // Back
        159 => 0xe9, // Forward
        161 => 0x6c, // Eject
        163 => 0x99, // Next Song
        164 => 0xa2, // Play/Pause
        165 => 0x90, // Previous Song
        166 => 0xa4, // Stop CD
        168 => 0x98, // Rewind
        172 => 0xb2, // Home Page
        173 => 0xe7, // Refresh
        179 => 0xf6, // keypad (
        180 => 0xfb, // keypad )
        183 => 0x5d, // F13
        184 => 0x5e, // F14
        185 => 0x5f, // F15
        186 => 0x55, // F16
        187 => 0x83, // F17
        188 => 0xf7, // F18
        189 => 0x84, // F19
        190 => 0x5a, // F20
        191 => 0x74, // F21
        192 => 0xf9, // F22
        193 => 0x6d, // F23
        194 => 0x6f, // F24
        208 => 0xb4, // Fast Forward
        217 => 0xe5, // Search
        222 => 0x94, // Alt Erase
        223 => 0xca, // Cancel
        224 => 0xcc, // Brightness Down
        225 => 0xd4, // Brightness Up
        226 => 0xed, // Media
        227 => 0xd6, // Switch Video Mode
        228 => 0xd7, // Keyboard Light Toggle
        229 => 0xd8, // Keyboard Light Down
        230 => 0xd9, // Keyboard Light Up
        _ => return None,
    };
    Some(qnum)
}

/// The qnum scancode of an XKB keycode as GDK reports it (its hardware keycode).
pub fn xkb_to_qnum(keycode: u32) -> Option<u8> {
    let evdev = keycode.checked_sub(XKB_EVDEV_OFFSET)?;
    evdev_to_qnum(u16::try_from(evdev).ok()?)
}

/// A key to press: the keysym it types and, when known, the physical key as an XKB
/// keycode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub keysym: u32,
    pub keycode: Option<u32>,
}

impl Key {
    /// A key named by its keysym and Linux evdev code.
    pub const fn evdev(keysym: u32, code: u16) -> Self {
        Self {
            keysym,
            keycode: Some(code as u32 + XKB_EVDEV_OFFSET),
        }
    }

    /// The qnum scancode, when the physical key is known and a PC keyboard has it.
    pub fn qnum(self) -> Option<u8> {
        self.keycode.and_then(xkb_to_qnum)
    }
}

/// The keysym to send for a GDK keyval, or `None` for keyvals that name no key.
///
/// Shift+Tab arrives as `ISO_Left_Tab`, which servers that map keysyms to scancodes
/// (QEMU) may not know: it is sent as `Tab`, with Shift still held.
pub fn keyval_to_keysym(keyval: u32) -> Option<u32> {
    match keyval {
        0 | keysym::VOID_SYMBOL => None,
        keysym::ISO_LEFT_TAB => Some(keysym::TAB),
        other => Some(other),
    }
}

/// Key combinations offered in the console's "Send key" menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendKey {
    CtrlAltDelete,
    CtrlAltBackspace,
    /// Ctrl+Alt+F1 … F12; the value is 1 to 12.
    CtrlAltF(u8),
    PrintScreen,
}

impl SendKey {
    /// Every combination, in menu order.
    pub fn all() -> Vec<SendKey> {
        let mut all = vec![SendKey::CtrlAltDelete, SendKey::CtrlAltBackspace];
        all.extend((1..=12).map(SendKey::CtrlAltF));
        all.push(SendKey::PrintScreen);
        all
    }

    /// The keys of the combination, in pressing order; `None` for F0 or F13 and above.
    pub fn keys(self) -> Option<Vec<Key>> {
        let control = Key::evdev(keysym::CONTROL_L, evdev::LEFTCTRL);
        let alt = Key::evdev(keysym::ALT_L, evdev::LEFTALT);
        Some(match self {
            SendKey::CtrlAltDelete => vec![control, alt, Key::evdev(keysym::DELETE, evdev::DELETE)],
            SendKey::CtrlAltBackspace => vec![
                control,
                alt,
                Key::evdev(keysym::BACKSPACE, evdev::BACKSPACE),
            ],
            SendKey::CtrlAltF(n @ 1..=12) => {
                let keysym = keysym::F1 + u32::from(n) - 1;
                // F11 and F12 are not next to F10 in the scancodes.
                let code = match n {
                    1..=10 => evdev::F1 + u16::from(n) - 1,
                    _ => evdev::F11 + u16::from(n) - 11,
                };
                vec![control, alt, Key::evdev(keysym, code)]
            }
            SendKey::CtrlAltF(_) => return None,
            SendKey::PrintScreen => vec![Key::evdev(keysym::PRINT, evdev::SYSRQ)],
        })
    }
}

/// Key events that type `keys` as one chord: all pressed in order, released in reverse.
pub fn chord<K: Copy>(keys: &[K]) -> Vec<(K, bool)> {
    let presses = keys.iter().map(|&k| (k, true));
    let releases = keys.iter().rev().map(|&k| (k, false));
    presses.chain(releases).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyvals_pass_through_except_the_exceptions() {
        assert_eq!(keyval_to_keysym(0x61), Some(0x61)); // a
        assert_eq!(keyval_to_keysym(0xff0d), Some(0xff0d)); // Return
        assert_eq!(keyval_to_keysym(0x0100_20ac), Some(0x0100_20ac)); // U+20AC
        assert_eq!(keyval_to_keysym(keysym::ISO_LEFT_TAB), Some(keysym::TAB));
        assert_eq!(keyval_to_keysym(keysym::VOID_SYMBOL), None);
        assert_eq!(keyval_to_keysym(0), None);
    }

    #[test]
    fn combinations_press_in_order_and_release_in_reverse() {
        let keysyms: Vec<u32> = SendKey::CtrlAltDelete
            .keys()
            .unwrap()
            .iter()
            .map(|k| k.keysym)
            .collect();
        assert_eq!(
            chord(&keysyms),
            vec![
                (0xffe3, true),
                (0xffe9, true),
                (0xffff, true),
                (0xffff, false),
                (0xffe9, false),
                (0xffe3, false),
            ]
        );
        let f12 = SendKey::CtrlAltF(12).keys().unwrap()[2];
        assert_eq!((f12.keysym, f12.qnum()), (0xffc9, Some(0x58)));
        let f10 = SendKey::CtrlAltF(10).keys().unwrap()[2];
        assert_eq!((f10.keysym, f10.qnum()), (0xffc7, Some(0x44)));
        assert_eq!(SendKey::CtrlAltF(13).keys(), None);
        let print = SendKey::PrintScreen.keys().unwrap();
        assert_eq!((print[0].keysym, print[0].qnum()), (0xff61, Some(0x54)));
        assert_eq!(SendKey::all().len(), 15);
        // Every key of every combination has its scancode.
        for combo in SendKey::all() {
            assert!(combo.keys().unwrap().iter().all(|k| k.qnum().is_some()));
        }
        let delete = SendKey::CtrlAltDelete.keys().unwrap();
        let qnums: Vec<_> = delete.iter().map(|k| k.qnum().unwrap()).collect();
        assert_eq!(qnums, [0x1d, 0x38, 0xd3]);
    }

    /// X keycodes as `xev` shows them on a PC keyboard (evdev rules), and the scancodes
    /// a PC keyboard sends for those keys.
    #[test]
    fn xkb_keycodes_map_to_the_scancodes_of_a_pc_keyboard() {
        let cases = [
            (9, 0x01),   // Escape
            (24, 0x10),  // Q (A on AZERTY)
            (29, 0x15),  // Y (Z on QWERTZ)
            (52, 0x2c),  // Z (Y on QWERTZ, W on AZERTY)
            (20, 0x0c),  // minus (ß on QWERTZ)
            (51, 0x2b),  // backslash (# on QWERTZ)
            (94, 0x56),  // the 102nd key, < > |
            (108, 0xb8), // AltGr
            (105, 0x9d), // Right Ctrl
            (133, 0xdb), // Super
            (135, 0xdd), // Menu
            (66, 0x3a),  // Caps Lock
            (77, 0x45),  // Num Lock
            (90, 0x52),  // keypad 0
            (104, 0x9c), // keypad Enter
            (106, 0xb5), // keypad /
            (63, 0x37),  // keypad *
            (110, 0xc7), // Home
            (111, 0xc8), // Up
            (119, 0xd3), // Delete
            (127, 0xc6), // Pause
            (107, 0x54), // Print
            (121, 0xa0), // Mute
            (122, 0xae), // Volume Down
            (123, 0xb0), // Volume Up
            (172, 0xa2), // Play/Pause
            (171, 0x99), // Next
            (173, 0x90), // Previous
            (97, 0x73),  // Ro (Japanese)
            (100, 0x79), // Henkan
            (102, 0x7b), // Muhenkan
            (101, 0x70), // Katakana/Hiragana
            (132, 0x7d), // Yen
            (49, 0x29),  // Zenkaku/Hankaku on a Japanese keyboard, grave elsewhere
            (130, 0x72), // Hangeul
            (131, 0x71), // Hanja
            (95, 0x57),  // F11
            (96, 0x58),  // F12
        ];
        for (keycode, qnum) in cases {
            assert_eq!(xkb_to_qnum(keycode), Some(qnum), "X keycode {keycode}");
        }
        for unknown in [0, 7, 8, 8 + 84, 8 + 141, 8 + 240, 8 + 0x2ff, u32::MAX] {
            assert_eq!(xkb_to_qnum(unknown), None, "X keycode {unknown}");
        }
    }

    /// No two keys share a scancode: the guest could not tell them apart.
    #[test]
    fn every_scancode_belongs_to_one_key() {
        let mut owner = std::collections::HashMap::new();
        for code in 0..=u16::MAX {
            if let Some(qnum) = evdev_to_qnum(code) {
                assert_ne!(qnum, 0, "evdev {code}");
                if let Some(other) = owner.insert(qnum, code) {
                    panic!("evdev {other} and {code} both map to {qnum:#x}");
                }
            }
        }
        // The 83 keys of the first PC keyboard, then the others listed.
        assert!(owner.len() > 83 + 80, "{} keys", owner.len());
        for code in 1..=83 {
            assert_eq!(evdev_to_qnum(code), Some(code as u8));
        }
    }
}
