//! The Host Details window of a connection: its Overview, Networking and Storage pages.

use super::networking::NetworkingPage;
use super::overview::OverviewPage;
use super::storage::StoragePage;
use crate::ui::Connection;
use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/window.ui")]
    #[properties(wrapper_type = super::HostWindow)]
    pub struct HostWindow {
        /// The connection whose host is shown; the pages follow it.
        #[property(get, construct_only)]
        pub connection: RefCell<Option<Connection>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for HostWindow {
        const NAME: &'static str = "VdHostWindow";
        type Type = super::HostWindow;
        type ParentType = adw::PreferencesWindow;

        fn class_init(klass: &mut Self::Class) {
            OverviewPage::ensure_type();
            NetworkingPage::ensure_type();
            StoragePage::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for HostWindow {}
    impl WidgetImpl for HostWindow {}
    impl WindowImpl for HostWindow {}
    impl AdwWindowImpl for HostWindow {}
    impl PreferencesWindowImpl for HostWindow {}
}

glib::wrapper! {
    pub struct HostWindow(ObjectSubclass<imp::HostWindow>)
        @extends adw::PreferencesWindow, adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl HostWindow {
    pub fn new(parent: &impl IsA<gtk::Window>, connection: &Connection) -> Self {
        glib::Object::builder()
            .property("transient-for", parent)
            .property("connection", connection)
            .build()
    }
}
