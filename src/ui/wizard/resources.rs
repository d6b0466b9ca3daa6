//! The memory and virtual CPUs of the machine, with a warning when the host has less
//! memory free than asked for.

use super::page::{WizardPage, WizardPageImpl};
use crate::ui::util::Closures;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/wizard/resources.ui")]
    #[properties(wrapper_type = super::ResourcesPage)]
    pub struct ResourcesPage {
        /// The memory field, in MiB.
        #[property(get, set)]
        pub memory: RefCell<String>,
        /// The virtual CPUs field.
        #[property(get, set)]
        pub vcpus: RefCell<String>,
        /// What may go wrong with these numbers though they are allowed, one a line.
        #[property(get, set)]
        pub warnings: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for ResourcesPage {
        const NAME: &'static str = "VdWizardResourcesPage";
        type Type = super::ResourcesPage;
        type ParentType = WizardPage;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for ResourcesPage {}
    impl WidgetImpl for ResourcesPage {}
    impl BoxImpl for ResourcesPage {}
    impl WizardPageImpl for ResourcesPage {}
}

glib::wrapper! {
    pub struct ResourcesPage(ObjectSubclass<imp::ResourcesPage>)
        @extends WizardPage, gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}
