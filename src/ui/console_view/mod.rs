//! The console widget: draws a guest's screen from the session's shared framebuffer and
//! forwards keyboard and mouse input to it.
//!
//! The session thread decodes into the framebuffer and only says "damaged"; on the next
//! frame the widget rebuilds the damaged tiles (1024×32) as render nodes holding their
//! pixels at the size they are drawn (render.rs). Input (input.rs) is mapped through the same
//! [`Viewport`] the drawing uses, or sent as motion when the guest's pointer is relative
//! (pointer.rs).
#![deny(unsafe_code)]

mod clipboard;
mod input;
mod paste;
mod pointer;
mod render;
#[allow(unsafe_code)]
mod warp;

use crate::console::{
    ConnectOptions, ConsoleError, ConsoleEvent, ConsoleSession, ConsoleSource, Input,
    RelativeMotion, Scaling, SendKey, Viewport,
};
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, glib};
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;
    use glib::subclass::Signal;
    use glib::Properties;
    use std::sync::OnceLock;

    #[derive(Default, Properties)]
    #[properties(wrapper_type = super::ConsoleView)]
    pub struct ConsoleView {
        /// Whether a session is connected and showing the guest.
        #[property(get)]
        pub connected: Cell<bool>,
        /// Whether keyboard input is grabbed (system shortcuts go to the guest).
        #[property(get)]
        pub grabbed: Cell<bool>,
        /// Fit the guest screen into the widget (true) or show it one to one.
        #[property(get, set = Self::set_fit, default = true)]
        pub fit: Cell<bool>,
        /// The guest has no absolute pointer (tablet): motion is sent as relative, and a
        /// grab takes the pointer too.
        #[property(get, set = Self::set_relative_pointer)]
        pub relative_pointer: Cell<bool>,
        /// The guest's screen can be resized from here (ExtendedDesktopSize).
        #[property(get)]
        pub guest_resizable: Cell<bool>,
        /// Local motion while the pointer is grabbed in relative mode.
        pub motion: Cell<RelativeMotion>,
        pub session: RefCell<Option<ConsoleSession>>,
        pub tiles: RefCell<render::Tiles>,
        pub fb_size: Cell<(u32, u32)>,
        /// A generation counter, so events of a replaced session are ignored.
        pub generation: Cell<u64>,
        /// Why the last session ended, when it failed.
        pub last_error: RefCell<Option<ConsoleError>>,
        pub(super) clipboard_state: RefCell<clipboard::ClipboardState>,
        pub clipboard_handler: RefCell<Option<glib::SignalHandlerId>>,
    }

    impl ConsoleView {
        fn set_fit(&self, fit: bool) {
            self.fit.set(fit);
            self.obj().queue_resize();
        }

        fn set_relative_pointer(&self, relative: bool) {
            if self.relative_pointer.replace(relative) != relative {
                let obj = self.obj();
                if relative {
                    obj.send(Input::StartRelative);
                }
                obj.update_pointer_grab();
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConsoleView {
        const NAME: &'static str = "VdConsoleView";
        type Type = super::ConsoleView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("console");
            klass.set_accessible_role(gtk::AccessibleRole::Img);
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ConsoleView {
        fn constructed(&self) {
            self.parent_constructed();
            self.fit.set(true);
            let obj = self.obj();
            obj.set_focusable(true);
            obj.set_hexpand(true);
            obj.set_vexpand(true);
            obj.set_overflow(gtk::Overflow::Hidden);
            obj.setup_input();
            obj.setup_clipboard();
        }

        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                // The session ended; the argument is the reason in words, or empty when
                // it was closed from this side.
                vec![
                    Signal::builder("disconnected")
                        .param_types([String::static_type()])
                        .build(),
                    // The server refused to resize the guest's screen; the argument says
                    // why. "Resize Guest to Window" is no longer offered in this session.
                    Signal::builder("guest-resize-failed")
                        .param_types([String::static_type()])
                        .build(),
                ]
            })
        }

        fn dispose(&self) {
            self.session.take();
            self.obj().dispose_clipboard();
        }
    }

    impl WidgetImpl for ConsoleView {
        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            self.obj().draw(snapshot);
        }

        fn measure(&self, orientation: gtk::Orientation, _for_size: i32) -> (i32, i32, i32, i32) {
            let obj = self.obj();
            let (w, h) = self.fb_size.get();
            let natural = if self.fit.get() {
                0
            } else {
                let scale = obj.scale_factor().max(1);
                let size = if orientation == gtk::Orientation::Horizontal {
                    w
                } else {
                    h
                };
                i32::try_from(size).unwrap_or(i32::MAX) / scale
            };
            let minimum = if self.fit.get() { 0 } else { natural };
            (minimum, natural, -1, -1)
        }
    }
}

glib::wrapper! {
    pub struct ConsoleView(ObjectSubclass<imp::ConsoleView>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for ConsoleView {
    fn default() -> Self {
        glib::Object::new()
    }
}

impl ConsoleView {
    /// Connects to `source`; the previous session, if any, is closed.
    pub fn open(&self, source: ConsoleSource, options: ConnectOptions) {
        let imp = self.imp();
        self.close();
        let generation = imp.generation.get() + 1;
        imp.generation.set(generation);
        imp.last_error.replace(None);
        self.reset_clipboard();
        let session = ConsoleSession::open(source, options);
        if self.relative_pointer() {
            session.send(Input::StartRelative);
        }
        let events = session.events().clone();
        imp.session.replace(Some(session));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                while let Ok(event) = events.recv().await {
                    if view.imp().generation.get() != generation {
                        return;
                    }
                    view.handle(event);
                }
            }
        ));
    }

    /// Closes the session, releasing every key and button first.
    pub fn close(&self) {
        self.send(Input::ReleaseAll);
        // What the closed session still says is not news.
        let imp = self.imp();
        imp.generation.set(imp.generation.get() + 1);
        self.set_grabbed(false);
        if self.imp().session.take().is_some() {
            self.set_connected(false);
        }
        self.set_guest_resizable(false);
    }

    fn handle(&self, event: ConsoleEvent) {
        let imp = self.imp();
        match event {
            ConsoleEvent::Connected { width, height } => {
                self.resized(width, height);
                self.set_connected(true);
            }
            ConsoleEvent::Resized { width, height } => self.resized(width, height),
            ConsoleEvent::Damaged => self.queue_draw(),
            ConsoleEvent::CursorChanged => self.update_cursor(),
            ConsoleEvent::Bell => self.error_bell(),
            // The guest's clipboard reaches this side's only while the console has the
            // focus, never in the background (clipboard.rs).
            event @ (ConsoleEvent::CutText(_)
            | ConsoleEvent::ClipboardExtended
            | ConsoleEvent::GuestClipboardChanged { .. }
            | ConsoleEvent::ClipboardRequested) => self.clipboard_event(event),
            ConsoleEvent::DesktopResized(Ok(_)) => {}
            ConsoleEvent::DesktopResized(Err(reason)) => {
                // QEMU refuses for video models without a way to tell the guest (VGA).
                self.set_guest_resizable(false);
                self.emit_by_name::<()>("guest-resize-failed", &[&reason]);
            }
            ConsoleEvent::GuestResizable(resizable) => self.set_guest_resizable(resizable),
            ConsoleEvent::Disconnected { error } => {
                imp.session.take();
                self.set_grabbed(false);
                self.set_connected(false);
                self.set_guest_resizable(false);
                // A server's words can hold a NUL, which no GLib string can.
                let reason = error
                    .as_ref()
                    .map(|e| e.to_string().replace('\0', ""))
                    .unwrap_or_default();
                imp.last_error.replace(error);
                self.emit_by_name::<()>("disconnected", &[&reason]);
            }
        }
    }

    fn set_guest_resizable(&self, resizable: bool) {
        if self.imp().guest_resizable.replace(resizable) != resizable {
            self.notify_guest_resizable();
        }
    }

    fn set_connected(&self, connected: bool) {
        if self.imp().connected.replace(connected) != connected {
            self.notify_connected();
        }
    }

    fn resized(&self, width: u32, height: u32) {
        let imp = self.imp();
        imp.fb_size.set((width, height));
        imp.tiles.borrow_mut().clear();
        self.queue_resize();
        self.queue_draw();
    }

    /// Where the guest screen is drawn and how the pointer maps onto it.
    pub fn viewport(&self) -> Viewport {
        let (fb_width, fb_height) = self.imp().fb_size.get();
        Viewport {
            widget_width: f64::from(self.width()),
            widget_height: f64::from(self.height()),
            scale_factor: f64::from(self.scale_factor().max(1)),
            fb_width,
            fb_height,
            scaling: if self.fit() {
                Scaling::Fit
            } else {
                Scaling::OneToOne {
                    scroll_x: 0.0,
                    scroll_y: 0.0,
                }
            },
        }
    }

    pub fn send(&self, input: Input) {
        if let Some(session) = self.imp().session.borrow().as_ref() {
            session.send(input);
        }
    }

    /// Types a key combination such as Ctrl+Alt+Del.
    pub fn send_key(&self, key: SendKey) {
        self.send(Input::SendKey(key));
    }

    /// Asks the guest to take the widget's size as its screen size.
    pub fn resize_guest_to_widget(&self) {
        let scale = self.scale_factor().max(1);
        let width = u16::try_from(self.width() * scale).unwrap_or(u16::MAX);
        let height = u16::try_from(self.height() * scale).unwrap_or(u16::MAX);
        if let Some(session) = self.imp().session.borrow().as_ref() {
            session.resize_desktop(width, height);
        }
    }

    /// The guest screen as a texture, for screenshots.
    pub fn screen_texture(&self) -> Option<gdk::Texture> {
        let session = self.imp().session.borrow();
        let framebuffer = session.as_ref()?.framebuffer().clone();
        let fb = framebuffer.lock().ok()?;
        render::texture(fb.width(), fb.height(), fb.pixels())
    }

    /// Why the last session ended, when it failed (read in a `disconnected` handler).
    pub fn last_error(&self) -> Option<ConsoleError> {
        self.imp().last_error.borrow().clone()
    }

    pub fn connect_guest_resize_failed<F: Fn(&Self, &str) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "guest-resize-failed",
            false,
            glib::closure_local!(move |view: &Self, reason: String| f(view, &reason)),
        )
    }

    pub fn connect_disconnected<F: Fn(&Self, &str) + 'static>(
        &self,
        f: F,
    ) -> glib::SignalHandlerId {
        self.connect_closure(
            "disconnected",
            false,
            glib::closure_local!(move |view: &Self, reason: String| f(view, &reason)),
        )
    }
}
