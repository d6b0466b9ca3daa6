//! The relative pointer: a guest without a tablet gets motion, not positions. Local and
//! guest pointers cannot stay aligned, so a click into the console grabs the pointer with
//! the keyboard (Ctrl+Alt releases both): the local pointer is hidden and its motion
//! forwarded. Without a grab, motion is not forwarded.
//!
//! On X11 the hidden pointer goes back to the middle of the widget after each motion, so
//! that it never stops at an edge of the screen or leaves the widget; the motion the warp
//! itself causes lands where the motion is anchored and counts as none. Wayland (GTK 4.8)
//! cannot move the pointer: motion is forwarded while the pointer is over the widget and
//! stops where it leaves.

use super::{warp, ConsoleView};
use crate::console::Input;
use gtk::prelude::*;
use gtk::subclass::prelude::*;

impl ConsoleView {
    /// Whether the pointer is the guest's: relative mode with a grab.
    pub(super) fn pointer_grabbed(&self) -> bool {
        self.relative_pointer() && self.grabbed()
    }

    /// Whether pointer input goes to the guest: always for an absolute pointer, with a
    /// grab for a relative one.
    pub(super) fn pointer_forwarded(&self) -> bool {
        !self.relative_pointer() || self.grabbed()
    }

    /// Hides and centres the local pointer while it is grabbed, shows it again after.
    pub(super) fn update_pointer_grab(&self) {
        self.imp().motion.take();
        if self.pointer_grabbed() {
            self.set_cursor_from_name(Some("none"));
            self.recentre();
        } else {
            self.set_cursor(None::<&gtk::gdk::Cursor>);
            self.update_cursor();
        }
    }

    /// The local pointer moved to (`x`, `y`) while grabbed in relative mode.
    pub(super) fn relative_motion(&self, x: f64, y: f64) {
        let imp = self.imp();
        let mut motion = imp.motion.get();
        let moved = motion.to(x, y, f64::from(self.scale_factor().max(1)));
        imp.motion.set(motion);
        if let Some((dx, dy)) = moved {
            self.send(Input::MoveBy { dx, dy });
        }
        let (centre_x, centre_y) = self.centre();
        if (x - centre_x).abs() >= 1.0 || (y - centre_y).abs() >= 1.0 {
            self.recentre();
        }
    }

    /// The pointer left the widget: where it comes back is no motion.
    pub(super) fn pointer_left(&self) {
        self.imp().motion.take();
    }

    /// The middle of the widget, in whole logical pixels: the warp lands on a whole
    /// device pixel, and the motion it causes must come out as none.
    fn centre(&self) -> (f64, f64) {
        (f64::from(self.width() / 2), f64::from(self.height() / 2))
    }

    /// Warps the local pointer to the middle of the widget (X11 only), where the next
    /// motion starts.
    fn recentre(&self) {
        let (x, y) = self.centre();
        if warp::warp_pointer(self.upcast_ref(), x, y) {
            let mut motion = self.imp().motion.get();
            motion.anchor(x, y);
            self.imp().motion.set(motion);
        }
    }
}
