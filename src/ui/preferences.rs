//! The Preferences window: the application's settings, each bound to its widget.

use crate::ui::Application;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};
use std::cell::OnceCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/preferences.ui")]
    #[properties(wrapper_type = super::PreferencesWindow)]
    pub struct PreferencesWindow {
        /// The settings shown and changed.
        #[property(get, construct_only)]
        pub settings: OnceCell<gio::Settings>,
        #[template_child]
        pub interval: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub scale_to_fit: TemplateChild<gtk::Switch>,
        #[template_child]
        pub sparklines: TemplateChild<gtk::Switch>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PreferencesWindow {
        const NAME: &'static str = "VdPreferencesWindow";
        type Type = super::PreferencesWindow;
        type ParentType = adw::PreferencesWindow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for PreferencesWindow {
        fn constructed(&self) {
            self.parent_constructed();
            let settings = self.obj().settings();
            settings
                .bind("stats-interval", &*self.interval, "value")
                .build();
            settings
                .bind("console-scale-to-fit", &*self.scale_to_fit, "active")
                .build();
            settings
                .bind("cpu-sparklines", &*self.sparklines, "active")
                .build();
        }
    }

    impl WidgetImpl for PreferencesWindow {}
    impl WindowImpl for PreferencesWindow {}
    impl AdwWindowImpl for PreferencesWindow {}
    impl PreferencesWindowImpl for PreferencesWindow {}
}

glib::wrapper! {
    pub struct PreferencesWindow(ObjectSubclass<imp::PreferencesWindow>)
        @extends adw::PreferencesWindow, adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl PreferencesWindow {
    pub fn new(settings: &gio::Settings, parent: &impl IsA<gtk::Window>) -> Self {
        glib::Object::builder()
            .property("settings", settings)
            .property("transient-for", parent)
            .build()
    }
}

/// Opens the Preferences window over the main window.
pub fn present(app: &Application) {
    let window = PreferencesWindow::new(app.settings(), &app.main_window());
    window.present();
}
