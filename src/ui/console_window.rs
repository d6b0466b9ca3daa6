//! A virtual machine's console in its own window: a [`ConsolePage`] with F11 for
//! fullscreen. The window's title (and accessible name) holds the machine's name.

use crate::i18n::gettext_f;
use crate::ui::{Connection, ConsolePage, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/console_window.ui")]
    pub struct ConsoleWindow {
        #[template_child]
        pub page: TemplateChild<ConsolePage>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConsoleWindow {
        const NAME: &'static str = "VdConsoleWindow";
        type Type = super::ConsoleWindow;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            ConsolePage::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for ConsoleWindow {
        fn constructed(&self) {
            self.parent_constructed();
            let shortcuts = gtk::ShortcutController::new();
            shortcuts.set_scope(gtk::ShortcutScope::Managed);
            shortcuts.add_shortcut(gtk::Shortcut::new(
                gtk::ShortcutTrigger::parse_string("F11"),
                Some(gtk::CallbackAction::new(|widget, _| {
                    if let Some(window) = widget.downcast_ref::<gtk::Window>() {
                        window.set_fullscreened(!window.is_fullscreen());
                    }
                    glib::Propagation::Stop
                })),
            ));
            self.obj().add_controller(shortcuts);
        }
    }

    impl WidgetImpl for ConsoleWindow {}
    impl WindowImpl for ConsoleWindow {
        fn close_request(&self) -> glib::Propagation {
            self.page.close_session();
            self.parent_close_request()
        }
    }
    impl AdwWindowImpl for ConsoleWindow {}
}

glib::wrapper! {
    pub struct ConsoleWindow(ObjectSubclass<imp::ConsoleWindow>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl ConsoleWindow {
    /// Opens the console of `domain` on `connection`.
    pub fn new(application: &gtk::Application, connection: &Connection, domain: &Domain) -> Self {
        let window: Self = glib::Object::builder()
            .property("application", application)
            .build();
        let title = gettext_f(
            // Translators: the console window's title; {name} is the virtual machine.
            "{name} — Console",
            &[("name", &domain.name())],
        );
        window.set_title(Some(&title));
        window.imp().page.set_target(Some((connection, domain)));
        window
    }

    pub fn domain(&self) -> Option<Domain> {
        self.imp().page.domain()
    }
}
