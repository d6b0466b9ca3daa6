//! The Performance page of the details: the followed machine's CPU, memory, disk and
//! network over the last minutes, each a [`Graph`] with its value in words beside it.
//! Everything is bound in the template; the graphs draw only while this page is shown.

use crate::ui::graph::Graph;
use crate::ui::Domain;
use gtk::subclass::prelude::*;
use gtk::{glib, prelude::*, CompositeTemplate};
use std::cell::RefCell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::PerformancePage)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/performance.ui")]
    pub struct PerformancePage {
        /// The machine shown, or none.
        #[property(get, set, nullable)]
        pub domain: RefCell<Option<Domain>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for PerformancePage {
        const NAME: &'static str = "VdPerformancePage";
        type Type = super::PerformancePage;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            Graph::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for PerformancePage {}
    impl WidgetImpl for PerformancePage {}
    impl BoxImpl for PerformancePage {}
}

glib::wrapper! {
    pub struct PerformancePage(ObjectSubclass<imp::PerformancePage>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}
