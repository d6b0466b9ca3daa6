//! A virtual machine's serial console in a window of its own: a VTE terminal on the stream
//! the connection's worker opens (`virDomainOpenConsole`, see
//! [`crate::ui::backend::text_console`]), so it works over a remote connection too, in the
//! same login. For machines without a screen, and for rescue when the graphics fail.
//!
//! What the user types goes to the guest as the terminal commits it; what the guest writes
//! is fed to the terminal. The window's subtitle is the title the guest gives its terminal.
//!
//! The terminal is VTE's `VteTerminal` (libvte-2.91-gtk4), used through GObject: its type
//! is registered before the template is built, signals and properties are generic, and
//! [`vte::feed`] is the one C call. (The `vte4` crate needs GTK 4.10's `Accessible` type
//! from gtk4-rs 0.11; this application builds for GTK 4.8.)
//!
//! When the stream ends (the machine stopped, another console took the port), the window
//! says so and offers Reconnect.

mod vte;

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::graphics::DisplayRequest;
use crate::ui::backend::text_console::{ConsoleOutput, TextConsole};
use crate::ui::backend::Request;
use crate::ui::InWords;
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/text_console.ui")]
    pub struct TextConsoleWindow {
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        /// A `VteTerminal`.
        #[template_child]
        pub terminal: TemplateChild<gtk::Widget>,
        #[template_child]
        pub closed_page: TemplateChild<adw::StatusPage>,
        /// The machine and its connection.
        pub target: RefCell<Option<(Connection, Domain)>>,
        /// The open stream, while there is one.
        pub console: RefCell<Option<TextConsole>>,
        /// Counts openings, so that an answer to an earlier one is ignored.
        pub attempt: Cell<u32>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TextConsoleWindow {
        const NAME: &'static str = "VdTextConsoleWindow";
        type Type = super::TextConsoleWindow;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            vte::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
            klass.install_action("text-console.reconnect", None, |window, _, _| {
                window.open_stream()
            });
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl TextConsoleWindow {
        /// What the user typed (or pasted), as the terminal encodes it: `commit`'s text,
        /// among the signal's values (connected swapped: the terminal comes last).
        #[template_callback]
        fn committed(&self, #[rest] values: &[glib::Value]) {
            let text = values.iter().find_map(|v| v.get::<String>().ok());
            if let (Some(text), Some(console)) = (text, self.console.borrow().as_ref()) {
                console.send(text.as_bytes());
            }
        }
    }

    impl ObjectImpl for TextConsoleWindow {}
    impl WidgetImpl for TextConsoleWindow {}
    impl WindowImpl for TextConsoleWindow {
        fn close_request(&self) -> glib::Propagation {
            self.attempt.set(self.attempt.get() + 1);
            self.console.take();
            self.parent_close_request()
        }
    }
    impl AdwWindowImpl for TextConsoleWindow {}
}

glib::wrapper! {
    pub struct TextConsoleWindow(ObjectSubclass<imp::TextConsoleWindow>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl TextConsoleWindow {
    /// Shows the text console of `domain`: its open window, else a new one.
    pub fn show(application: &gtk::Application, connection: &Connection, domain: &Domain) {
        let open = application
            .windows()
            .into_iter()
            .filter_map(|w| w.downcast::<Self>().ok())
            .find(|w| w.domain().as_ref() == Some(domain));
        let window = open.unwrap_or_else(|| {
            let window: Self = glib::Object::builder()
                .property("application", application)
                .build();
            let title = gettext_f(
                // Translators: the text console window's title; {name} is the virtual machine.
                "{name} — Text Console",
                &[("name", &domain.name())],
            );
            window.set_title(Some(&title));
            window
                .imp()
                .target
                .replace(Some((connection.clone(), domain.clone())));
            window.open_stream();
            window
        });
        window.present();
    }

    pub fn domain(&self) -> Option<Domain> {
        self.imp().target.borrow().as_ref().map(|(_, d)| d.clone())
    }

    /// Opens the serial console's stream (again) and feeds it to the terminal.
    fn open_stream(&self) {
        let imp = self.imp();
        let Some((connection, domain)) = imp.target.borrow().clone() else {
            return;
        };
        imp.console.take();
        let attempt = imp.attempt.get() + 1;
        imp.attempt.set(attempt);
        imp.stack.set_visible_child_name("connecting");
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = window)]
            self,
            async move {
                let uuid = domain.uuid();
                let answer = connection
                    .request(|reply| Request::Display(DisplayRequest::TextConsole { uuid, reply }))
                    .await;
                let imp = window.imp();
                if imp.attempt.get() != attempt {
                    return; // closed or reopened meanwhile
                }
                let console = match answer {
                    Ok(console) => console,
                    Err(error) => return window.show_closed(Some(error.in_words())),
                };
                let output = console.output();
                imp.console.replace(Some(console));
                imp.stack.set_visible_child_name("terminal");
                imp.terminal.grab_focus();
                while let Ok(message) = output.recv().await {
                    if imp.attempt.get() != attempt {
                        return;
                    }
                    match message {
                        ConsoleOutput::Data(bytes) => vte::feed(&imp.terminal, &bytes),
                        ConsoleOutput::Closed(reason) => return window.show_closed(reason),
                    }
                }
            }
        ));
    }

    /// The "disconnected" state, with Reconnect, saying `reason`.
    fn show_closed(&self, reason: Option<String>) {
        let imp = self.imp();
        imp.console.take();
        let reason = reason.unwrap_or_else(|| {
            gettext(
                "The serial console closed: the machine stopped, or another console took it over.",
            )
        });
        imp.closed_page
            .set_description(Some(&glib::markup_escape_text(&reason)));
        imp.stack.set_visible_child_name("closed");
    }
}
