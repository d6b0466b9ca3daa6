//! A row of the connections sidebar: the connection's title, its state in words and how
//! many virtual machines it has, bound to the [`Connection`]'s properties.

use crate::ui::Connection;
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::OnceCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window/sidebar/connection_row.ui")]
    #[properties(wrapper_type = super::ConnectionRow)]
    pub struct ConnectionRow {
        /// The connection shown.
        #[property(get, construct_only)]
        pub connection: OnceCell<Connection>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConnectionRow {
        const NAME: &'static str = "VdConnectionRow";
        type Type = super::ConnectionRow;
        type ParentType = gtk::ListBoxRow;

        fn class_init(klass: &mut Self::Class) {
            Connection::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl ConnectionRow {
        /// Labels with nothing to say are hidden.
        #[template_callback(function)]
        fn not_empty(text: Option<&str>) -> bool {
            text.is_some_and(|t| !t.is_empty())
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ConnectionRow {}
    impl WidgetImpl for ConnectionRow {}
    impl ListBoxRowImpl for ConnectionRow {}
}

glib::wrapper! {
    pub struct ConnectionRow(ObjectSubclass<imp::ConnectionRow>)
        @extends gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl ConnectionRow {
    pub fn new(connection: &Connection) -> Self {
        glib::Object::builder()
            .property("connection", connection)
            .build()
    }
}
