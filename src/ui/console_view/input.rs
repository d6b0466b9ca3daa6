//! Keyboard and mouse: GTK events become [`Input`] for the session. A click grabs the
//! keyboard (system shortcuts go to the guest), and the pointer too when it is relative
//! (pointer.rs); Ctrl+Alt releases them.

use super::ConsoleView;
use crate::console::{input_times, keyval_to_keysym, Input, Locks, Scroll};
use glib::translate::IntoGlib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, glib};

/// Whether pressing `keyval` with `state` completes the Ctrl+Alt release combination.
fn is_release_combo(keyval: gdk::Key, state: gdk::ModifierType) -> bool {
    let control = matches!(keyval, gdk::Key::Control_L | gdk::Key::Control_R)
        || state.contains(gdk::ModifierType::CONTROL_MASK);
    let alt = matches!(
        keyval,
        gdk::Key::Alt_L | gdk::Key::Alt_R | gdk::Key::Meta_L | gdk::Key::Meta_R
    ) || state.contains(gdk::ModifierType::ALT_MASK);
    let is_modifier = matches!(
        keyval,
        gdk::Key::Control_L
            | gdk::Key::Control_R
            | gdk::Key::Alt_L
            | gdk::Key::Alt_R
            | gdk::Key::Meta_L
            | gdk::Key::Meta_R
    );
    control && alt && is_modifier
}

impl ConsoleView {
    pub(super) fn setup_input(&self) {
        let keys = gtk::EventControllerKey::new();
        keys.set_propagation_phase(gtk::PropagationPhase::Capture);
        keys.connect_key_pressed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, keyval, keycode, state| view.key(keyval, keycode, state, true)
        ));
        keys.connect_key_released(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, keyval, keycode, state| {
                view.key(keyval, keycode, state, false);
            }
        ));
        self.add_controller(keys);

        let motion = gtk::EventControllerMotion::new();
        motion.connect_motion(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_, x, y| view.motion(x, y)
        ));
        motion.connect_leave(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| view.pointer_left()
        ));
        self.add_controller(motion);

        let click = gtk::GestureClick::builder().button(0).build();
        click.connect_pressed(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |gesture, _, x, y| {
                // A relative pointer's grabbing click is not the guest's: its pointer is
                // not under the local one.
                let grabbing = view.relative_pointer() && !view.grabbed();
                view.grab_focus();
                view.set_grabbed(true);
                if !grabbing {
                    view.motion(x, y);
                    view.button(gesture, true);
                }
            }
        ));
        click.connect_released(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |gesture, _, x, y| {
                view.motion(x, y);
                view.button(gesture, false);
            }
        ));
        self.add_controller(click);

        let scroll = gtk::EventControllerScroll::new(
            gtk::EventControllerScrollFlags::BOTH_AXES | gtk::EventControllerScrollFlags::DISCRETE,
        );
        scroll.connect_scroll(glib::clone!(
            #[weak(rename_to = view)]
            self,
            #[upgrade_or]
            glib::Propagation::Proceed,
            move |_, dx, dy| {
                if !view.pointer_forwarded() {
                    return glib::Propagation::Proceed;
                }
                let steps = [
                    (dy < 0.0, Scroll::Up),
                    (dy > 0.0, Scroll::Down),
                    (dx < 0.0, Scroll::Left),
                    (dx > 0.0, Scroll::Right),
                ];
                for (happened, step) in steps {
                    if happened {
                        view.send(Input::Scroll(step));
                    }
                }
                glib::Propagation::Stop
            }
        ));
        self.add_controller(scroll);

        let focus = gtk::EventControllerFocus::new();
        focus.connect_leave(glib::clone!(
            #[weak(rename_to = view)]
            self,
            move |_| {
                view.send(Input::ReleaseAll);
                view.set_grabbed(false);
            }
        ));
        self.add_controller(focus);
    }

    /// A key went down or up: `keycode` is the physical key (GDK's hardware keycode).
    fn key(
        &self,
        keyval: gdk::Key,
        keycode: u32,
        state: gdk::ModifierType,
        down: bool,
    ) -> glib::Propagation {
        if !self.connected() {
            return glib::Propagation::Proceed;
        }
        if down && self.grabbed() && is_release_combo(keyval, state) {
            self.send(Input::ReleaseAll);
            self.set_grabbed(false);
            return glib::Propagation::Stop;
        }
        if let Some(keysym) = keyval_to_keysym(keyval.into_glib()) {
            let arrived = if down { input_times::now() } else { None };
            // The guest's locks follow this side's before a key types anything; a lock
            // key itself is in the middle of changing them.
            if down && !matches!(keyval, gdk::Key::Caps_Lock | gdk::Key::Num_Lock) {
                if let Some(locks) = self.local_locks() {
                    self.send(Input::Locks(locks));
                }
            }
            self.send(Input::Key {
                keysym,
                keycode: (keycode != 0).then_some(keycode),
                down,
            });
            if let Some(seconds) = arrived {
                input_times::key_pressed(seconds, keysym);
            }
        }
        glib::Propagation::Stop
    }

    /// Which lock keys are on at this keyboard.
    pub(super) fn local_locks(&self) -> Option<Locks> {
        let keyboard = self.display().default_seat()?.keyboard()?;
        Some(Locks {
            caps_lock: keyboard.is_caps_locked(),
            num_lock: keyboard.is_num_locked(),
        })
    }

    /// The local pointer moved to (`x`, `y`): a position through the scaling, or motion
    /// while a relative pointer is grabbed.
    fn motion(&self, x: f64, y: f64) {
        if !self.connected() {
            return;
        }
        if self.pointer_grabbed() {
            self.relative_motion(x, y);
        } else if !self.relative_pointer() {
            let (x, y) = self.viewport().to_framebuffer(x, y);
            self.send(Input::Motion { x, y });
        }
    }

    fn button(&self, gesture: &gtk::GestureClick, down: bool) {
        let button = gesture.current_button();
        if self.connected() && self.pointer_forwarded() && (1..=3).contains(&button) {
            self.send(Input::Button {
                button: button as u8,
                down,
            });
        }
    }

    /// Grabs or releases the keyboard: while grabbed, the desktop's own shortcuts
    /// (Alt+Tab, Super, …) go to the guest.
    pub(super) fn set_grabbed(&self, grabbed: bool) {
        let grabbed = grabbed && self.connected();
        if self.imp().grabbed.replace(grabbed) == grabbed {
            return;
        }
        if let Some(toplevel) = self
            .native()
            .and_then(|n| n.surface())
            .and_downcast::<gdk::Toplevel>()
        {
            if grabbed {
                toplevel.inhibit_system_shortcuts(None::<&gdk::Event>);
            } else {
                toplevel.restore_system_shortcuts();
            }
        }
        self.update_pointer_grab();
        self.notify_grabbed();
    }
}

#[cfg(test)]
mod tests {
    use super::is_release_combo;
    use gtk::gdk::{Key, ModifierType};

    #[test]
    fn ctrl_then_alt_and_alt_then_ctrl_release() {
        assert!(is_release_combo(Key::Alt_L, ModifierType::CONTROL_MASK));
        assert!(is_release_combo(Key::Control_R, ModifierType::ALT_MASK));
        assert!(!is_release_combo(Key::Alt_L, ModifierType::empty()));
        assert!(!is_release_combo(
            Key::Delete,
            ModifierType::CONTROL_MASK | ModifierType::ALT_MASK
        ));
    }
}
