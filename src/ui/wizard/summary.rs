//! The last page: the machine's name, a review of every choice, the firmware, and whether
//! to start the machine once it is made.

use super::page::{WizardPage, WizardPageImpl};
use crate::i18n::gettext;
use crate::ui::util::Closures;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/wizard/summary.ui")]
    #[properties(wrapper_type = super::SummaryPage)]
    pub struct SummaryPage {
        #[template_child]
        pub bios_radio: TemplateChild<gtk::CheckButton>,

        /// The name field.
        #[property(get, set)]
        pub vm_name: RefCell<String>,
        /// Every choice of the wizard, one a line.
        #[property(get, set)]
        pub review: RefCell<String>,
        /// UEFI firmware is chosen (else BIOS).
        #[property(get, set)]
        pub uefi: Cell<bool>,
        /// The host has OVMF, the UEFI firmware: else BIOS it is.
        #[property(get, set = Self::set_uefi_available)]
        pub uefi_available: Cell<bool>,
        /// Start the machine and open its console once it is made.
        #[property(get, set)]
        pub start: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SummaryPage {
        const NAME: &'static str = "VdWizardSummaryPage";
        type Type = super::SummaryPage;
        type ParentType = WizardPage;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for SummaryPage {}
    impl WidgetImpl for SummaryPage {}
    impl BoxImpl for SummaryPage {}
    impl WizardPageImpl for SummaryPage {}

    impl SummaryPage {
        fn set_uefi_available(&self, available: bool) {
            self.uefi_available.set(available);
            if !available {
                self.bios_radio.set_active(true);
            }
        }
    }

    #[gtk::template_callbacks]
    impl SummaryPage {
        #[template_callback(function)]
        fn uefi_label(available: bool) -> String {
            if available {
                gettext("UEFI")
            } else {
                gettext("UEFI (not available: OVMF is not installed)")
            }
        }
    }
}

glib::wrapper! {
    pub struct SummaryPage(ObjectSubclass<imp::SummaryPage>)
        @extends WizardPage, gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}
