//! A row of the connections sidebar: the connection's title, its state in words and how
//! many virtual machines it has, bound to the [`Connection`]'s properties.

use crate::ui::Connection;
use gtk::glib;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window/sidebar/connection_row.ui")]
    #[properties(wrapper_type = super::ConnectionRow)]
    pub struct ConnectionRow {
        /// The connection shown (`None` only while the template is built).
        #[property(get, construct_only)]
        pub connection: RefCell<Option<Connection>>,
        #[template_child]
        pub title: TemplateChild<gtk::Label>,
        #[template_child]
        pub status: TemplateChild<gtk::Label>,
        #[template_child]
        pub summary: TemplateChild<gtk::Label>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ConnectionRow {
        const NAME: &'static str = "VdConnectionRow";
        type Type = super::ConnectionRow;
        type ParentType = gtk::ListBoxRow;

        fn class_init(klass: &mut Self::Class) {
            Connection::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ConnectionRow {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let Some(connection) = obj.connection() else {
                return;
            };
            connection
                .bind_property("uri", &*obj, "tooltip-text")
                .sync_create()
                .build();
            connection
                .bind_property("distinct-title", &*self.title, "label")
                .sync_create()
                .build();
            for (property, label) in [("status", &*self.status), ("summary", &*self.summary)] {
                connection
                    .bind_property(property, label, "label")
                    .sync_create()
                    .build();
                // Labels with nothing to say are hidden.
                connection
                    .bind_property(property, label, "visible")
                    .transform_to(|_, text: String| Some(!text.is_empty()))
                    .sync_create()
                    .build();
            }
        }
    }
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
