//! The main window: header bar, primary menu and the connections with their machines.

use crate::i18n::{gettext, gettext_f};
use crate::ui::{Application, Connection};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window.ui")]
    pub struct Window {
        #[template_child]
        pub toast_overlay: TemplateChild<adw::ToastOverlay>,
        #[template_child]
        pub stack: TemplateChild<gtk::Stack>,
        #[template_child]
        pub connection_list: TemplateChild<gtk::ListBox>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Window {
        const NAME: &'static str = "VdWindow";
        type Type = super::Window;
        type ParentType = adw::ApplicationWindow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for Window {}

    impl WidgetImpl for Window {}

    impl WindowImpl for Window {
        fn close_request(&self) -> glib::Propagation {
            self.obj().save_window_state();
            self.parent_close_request()
        }
    }

    impl ApplicationWindowImpl for Window {}
    impl AdwApplicationWindowImpl for Window {}
}

glib::wrapper! {
    pub struct Window(ObjectSubclass<imp::Window>)
        @extends adw::ApplicationWindow, gtk::ApplicationWindow, gtk::Window, gtk::Widget,
        @implements gio::ActionGroup, gio::ActionMap, gtk::Buildable,
            gtk::ConstraintTarget, gtk::Native, gtk::Root, gtk::ShortcutManager;
}

impl Window {
    pub fn new(app: &Application) -> Self {
        let window: Self = glib::Object::builder().property("application", app).build();
        window.restore_window_state(app.settings());
        window.bind_connections(app.connections());
        window
    }

    fn application_settings(&self) -> Option<gio::Settings> {
        self.application()
            .and_downcast::<Application>()
            .map(|app| app.settings().clone())
    }

    fn restore_window_state(&self, settings: &gio::Settings) {
        self.set_default_size(settings.int("window-width"), settings.int("window-height"));
        if settings.boolean("window-maximized") {
            self.maximize();
        }
    }

    fn save_window_state(&self) {
        let Some(settings) = self.application_settings() else {
            return;
        };
        let (width, height) = self.default_size();
        let saved = settings
            .set_int("window-width", width)
            .and_then(|_| settings.set_int("window-height", height))
            .and_then(|_| settings.set_boolean("window-maximized", self.is_maximized()));
        if let Err(e) = saved {
            tracing::warn!("cannot save the window size: {e}");
        }
    }

    fn bind_connections(&self, connections: &gio::ListStore) {
        let imp = self.imp();
        imp.connection_list.bind_model(Some(connections), |item| {
            let connection = item
                .downcast_ref::<Connection>()
                .expect("the connection list holds connections");
            let row = adw::ActionRow::builder()
                .title(connection.title())
                .subtitle(connection.uri())
                .build();
            row.add_css_class("property");
            row.upcast()
        });
        let update = glib::clone!(
            #[weak(rename_to = window)]
            self,
            move |model: &gio::ListStore, _, _, _| window.show_page_for(model)
        );
        connections.connect_items_changed(update);
        self.show_page_for(connections);
    }

    fn show_page_for(&self, connections: &gio::ListStore) {
        let page = if connections.n_items() == 0 {
            "empty"
        } else {
            "connections"
        };
        self.imp().stack.set_visible_child_name(page);
    }

    /// Shows `message` (plain text, not markup) as a toast.
    pub fn add_toast(&self, message: &str) {
        let title = glib::markup_escape_text(message);
        self.imp().toast_overlay.add_toast(adw::Toast::new(&title));
    }

    /// Opens the New Virtual Machine assistant.
    pub fn show_creator(&self) {
        self.add_toast(&gettext(
            "Creating virtual machines is not available in this version yet",
        ));
    }

    /// Opens the console of the machine called `name`.
    pub fn show_domain_console(&self, name: &str) {
        self.add_toast(&gettext_f(
            // Translators: {name} is the name of a virtual machine.
            "The console of “{name}” is not available in this version yet",
            &[("name", name)],
        ));
    }
}
