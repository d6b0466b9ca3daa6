//! The clipboard between this desktop and the guest, only while the console has the
//! keyboard focus (its window active):
//! - this side's clipboard is offered to the guest when the console gains the focus and
//!   whenever it changes while the console has it;
//! - the guest's clipboard reaches this side's only while the console has the focus. A
//!   guest clipboard that changed in the background is fetched once the focus returns,
//!   never before.
//!
//! With the Extended Clipboard (QEMU with a `qemu-vdagent` channel) only the offer
//! travels until the other side asks for the text; with plain cut text, the text goes at
//! once. What this widget put on the clipboard (the guest's text) is not offered back; text
//! copied from this program's other widgets is offered like any other.

use super::ConsoleView;
use crate::console::ConsoleEvent;
use crate::console::ConsoleSession;
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;

/// What the widget knows of the clipboard exchange of the current session.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ClipboardState {
    /// The server speaks the Extended Clipboard.
    extended: bool,
    /// The guest's clipboard changed while the console did not have the focus.
    guest_pending: bool,
    /// The clipboard is being set to the guest's text (its "changed" comes at once).
    setting: bool,
    /// The clipboard holds the guest's text, put there by this widget.
    holds_guest_text: bool,
}

impl ConsoleView {
    pub(super) fn setup_clipboard(&self) {
        let focus = gtk::EventControllerFocus::new();
        focus.connect_enter(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| view.clipboard_focus_in()
        ));
        self.add_controller(focus);
        let handler = self.clipboard().connect_changed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| {
                let from_guest = {
                    let mut state = view.imp().clipboard_state.borrow_mut();
                    state.holds_guest_text = state.setting;
                    state.setting
                };
                if from_guest {
                    return;
                }
                if view.console_focused() {
                    view.offer_host_clipboard();
                } else {
                    // This side's is newer than what the guest had in the background.
                    view.imp().clipboard_state.borrow_mut().guest_pending = false;
                }
            }
        ));
        self.imp().clipboard_handler.replace(Some(handler));
    }

    /// Forgets the exchange of the session that ended; what the clipboard holds stays known.
    pub(super) fn reset_clipboard(&self) {
        let mut state = self.imp().clipboard_state.borrow_mut();
        *state = ClipboardState {
            holds_guest_text: state.holds_guest_text,
            ..ClipboardState::default()
        };
    }

    /// The console has the keyboard focus and its window is the active one.
    pub(super) fn console_focused(&self) -> bool {
        self.has_focus()
            && self
                .root()
                .and_downcast::<gtk::Window>()
                .is_some_and(|window| window.is_active())
    }

    fn clipboard_focus_in(&self) {
        let pending = std::mem::take(&mut self.imp().clipboard_state.borrow_mut().guest_pending);
        if pending {
            self.with_session(|session| session.request_clipboard());
        } else {
            self.offer_host_clipboard();
        }
    }

    /// Offers this side's clipboard to the guest, unless it holds what came from there.
    fn offer_host_clipboard(&self) {
        let clipboard = self.clipboard();
        if self.imp().clipboard_state.borrow().holds_guest_text || !self.connected() {
            return;
        }
        let text = clipboard.formats().contains_type(String::static_type());
        if self.imp().clipboard_state.borrow().extended {
            self.with_session(|session| session.offer_clipboard(text));
        } else if text {
            self.read_host_text(|view, text| {
                view.with_session(|session| session.send_cut_text(text));
            });
        }
    }

    /// Reads this side's clipboard text, then calls `then` (with no text: empty).
    fn read_host_text(&self, then: impl FnOnce(&ConsoleView, String) + 'static) {
        let clipboard = self.clipboard();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                let text = match clipboard.read_text_future().await {
                    Ok(text) => text.map(String::from).unwrap_or_default(),
                    Err(error) => {
                        tracing::debug!(%error, "clipboard not read");
                        String::new()
                    }
                };
                then(&view, text);
            }
        ));
    }

    /// The session's clipboard events.
    pub(super) fn clipboard_event(&self, event: ConsoleEvent) {
        match event {
            ConsoleEvent::ClipboardExtended => {
                self.imp().clipboard_state.borrow_mut().extended = true;
                if self.console_focused() {
                    self.offer_host_clipboard();
                }
            }
            ConsoleEvent::GuestClipboardChanged { text } => {
                let focused = self.console_focused();
                self.imp().clipboard_state.borrow_mut().guest_pending = text && !focused;
                if text && focused {
                    self.with_session(|session| session.request_clipboard());
                }
            }
            // The text was offered while the console had the focus.
            ConsoleEvent::ClipboardRequested => self.read_host_text(|view, text| {
                view.with_session(|session| session.provide_clipboard(text));
            }),
            ConsoleEvent::CutText(text) if self.console_focused() => {
                self.imp().clipboard_state.borrow_mut().setting = true;
                self.clipboard().set_text(&text);
                let mut state = self.imp().clipboard_state.borrow_mut();
                state.setting = false;
                // Also when the clipboard said nothing (the same text again).
                state.holds_guest_text = true;
            }
            ConsoleEvent::CutText(_) => {
                // Asked for while focused, arrived after the focus left: ask again then.
                let mut state = self.imp().clipboard_state.borrow_mut();
                state.guest_pending = state.extended;
                tracing::debug!("guest clipboard not taken: the console is not focused");
            }
            _ => {}
        }
    }

    fn with_session(&self, f: impl FnOnce(&ConsoleSession)) {
        if let Some(session) = self.imp().session.borrow().as_ref() {
            f(session);
        }
    }

    /// Disconnects from the display's clipboard.
    pub(super) fn dispose_clipboard(&self) {
        if let Some(handler) = self.imp().clipboard_handler.take() {
            self.clipboard().disconnect(handler);
        }
    }
}
