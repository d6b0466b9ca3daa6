//! A GObject a widget follows, with the signal handlers it connected on it: replacing or
//! clearing the object disconnects them, so no screen keeps handlers on an object it no
//! longer shows.

use gtk::glib;
use gtk::prelude::*;
use std::cell::RefCell;

/// The followed object and its handlers. Dropping it disconnects them too.
pub struct BoundObject<T: IsA<glib::Object>> {
    bound: RefCell<Option<(T, Vec<glib::SignalHandlerId>)>>,
}

impl<T: IsA<glib::Object>> Default for BoundObject<T> {
    fn default() -> Self {
        Self {
            bound: RefCell::new(None),
        }
    }
}

impl<T: IsA<glib::Object>> BoundObject<T> {
    /// Follows `object` with `handlers` (connected on it), after letting go of the last one.
    pub fn set(&self, object: T, handlers: Vec<glib::SignalHandlerId>) {
        self.clear();
        self.bound.replace(Some((object, handlers)));
    }

    /// Follows `object` (none: nothing) with the handlers `connect` makes on it, after
    /// letting go of the last one; `false`, doing nothing, when it is already followed.
    pub fn follow(
        &self,
        object: Option<&T>,
        connect: impl FnOnce(&T) -> Vec<glib::SignalHandlerId>,
    ) -> bool {
        if object == self.bound.borrow().as_ref().map(|(o, _)| o) {
            return false;
        }
        match object {
            Some(object) => {
                self.clear();
                let handlers = connect(object);
                self.set(object.clone(), handlers);
            }
            None => self.clear(),
        }
        true
    }

    /// Disconnects the handlers and lets go of the object.
    pub fn clear(&self) {
        // The borrow ends before disconnecting: a handler may run code that looks here.
        let old = self.bound.take();
        if let Some((object, handlers)) = old {
            for handler in handlers {
                object.disconnect(handler);
            }
        }
    }

    /// The followed object.
    pub fn get(&self) -> Option<T> {
        self.bound.borrow().as_ref().map(|(o, _)| o.clone())
    }

    /// Whether `object` is the one followed.
    pub fn is(&self, object: &T) -> bool {
        self.bound
            .borrow()
            .as_ref()
            .is_some_and(|(o, _)| o == object)
    }
}

impl<T: IsA<glib::Object>> Drop for BoundObject<T> {
    fn drop(&mut self) {
        self.clear();
    }
}
