//! The few parts of VTE's C API that GObject's generic calls do not reach.
#![allow(unsafe_code)]

use gtk::glib;
use gtk::glib::translate::{FromGlib, ToGlibPtr};
use gtk::prelude::*;

/// `VteTerminal`'s type, registered so that templates can build one.
pub fn terminal_type() -> glib::Type {
    // SAFETY: registers (once) and returns the type; no arguments.
    unsafe { glib::Type::from_glib(vte_sys::vte_terminal_get_type()) }
}

/// Makes `VteTerminal` known to GtkBuilder.
pub fn ensure_type() {
    let _ = terminal_type();
}

/// Shows `bytes` in `terminal` as if the program behind it had written them
/// (`vte_terminal_feed`). Does nothing when `terminal` is not a `VteTerminal`.
pub fn feed(terminal: &gtk::Widget, bytes: &[u8]) {
    if !terminal.type_().is_a(terminal_type()) || bytes.is_empty() {
        return;
    }
    let ptr: *mut gtk::ffi::GtkWidget = terminal.to_glib_none().0;
    // SAFETY: `terminal` is a live VteTerminal (checked above) for the call, and VTE
    // copies `bytes` before it returns.
    unsafe {
        vte_sys::vte_terminal_feed(
            ptr.cast::<vte_sys::VteTerminal>(),
            bytes.as_ptr(),
            bytes.len() as isize,
        );
    }
}
