//! Keys as X11 keysyms, the currency of the RFB `KeyEvent`.
//!
//! GDK keyvals are X11 keysyms (`gdk/gdkkeysyms.h` is generated from X's `keysymdef.h`),
//! Unicode keyvals included (`0x0100_0000 | code point`). [`keyval_to_keysym`] only fixes
//! the few values a VNC server would not understand.

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
    pub fn keysyms(self) -> Option<Vec<u32>> {
        use keysym::*;
        Some(match self {
            SendKey::CtrlAltDelete => vec![CONTROL_L, ALT_L, DELETE],
            SendKey::CtrlAltBackspace => vec![CONTROL_L, ALT_L, BACKSPACE],
            SendKey::CtrlAltF(n @ 1..=12) => vec![CONTROL_L, ALT_L, F1 + u32::from(n) - 1],
            SendKey::CtrlAltF(_) => return None,
            SendKey::PrintScreen => vec![PRINT],
        })
    }
}

/// Key events that type `keys` as one chord: all pressed in order, released in reverse.
pub fn chord(keys: &[u32]) -> Vec<(u32, bool)> {
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
        let keys = SendKey::CtrlAltDelete.keysyms().unwrap();
        assert_eq!(
            chord(&keys),
            vec![
                (0xffe3, true),
                (0xffe9, true),
                (0xffff, true),
                (0xffff, false),
                (0xffe9, false),
                (0xffe3, false),
            ]
        );
        assert_eq!(SendKey::CtrlAltF(12).keysyms().unwrap()[2], 0xffc9);
        assert_eq!(SendKey::CtrlAltF(13).keysyms(), None);
        assert_eq!(SendKey::PrintScreen.keysyms(), Some(vec![0xff61]));
        assert_eq!(SendKey::all().len(), 15);
        assert!(SendKey::all().iter().all(|k| k.keysyms().is_some()));
    }
}
