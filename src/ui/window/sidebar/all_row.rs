//! The first row of the sidebar, "All Virtual Machines": every connected host's machines,
//! with how many there are.

use crate::i18n::ngettext;
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib};
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window/sidebar/all_row.ui")]
    #[properties(wrapper_type = super::AllRow)]
    pub struct AllRow {
        /// Every connection's machines.
        #[property(get, construct_only)]
        pub domains: RefCell<Option<gio::ListModel>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for AllRow {
        const NAME: &'static str = "VdAllRow";
        type Type = super::AllRow;
        type ParentType = gtk::ListBoxRow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks(functions)]
    impl AllRow {
        #[template_callback]
        fn summary(n: u32) -> String {
            ngettext("{n} virtual machine", "{n} virtual machines", n)
                .replace("{n}", &n.to_string())
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for AllRow {}
    impl WidgetImpl for AllRow {}
    impl ListBoxRowImpl for AllRow {}
}

glib::wrapper! {
    pub struct AllRow(ObjectSubclass<imp::AllRow>)
        @extends gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl AllRow {
    pub fn new(domains: &impl IsA<gio::ListModel>) -> Self {
        glib::Object::builder()
            .property("domains", domains.as_ref())
            .build()
    }
}
