//! "Keep this configuration?": what changed and how long until it is undone.

use crate::i18n::ngettext;
use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/bridge_dialogs/keep.ui")]
    #[properties(wrapper_type = super::KeepConfigurationDialog)]
    pub struct KeepConfigurationDialog {
        /// What changed, in sentences.
        #[property(get, construct_only)]
        pub what: RefCell<String>,
        /// Whole seconds left to answer.
        #[property(get, set)]
        pub seconds_left: Cell<u64>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for KeepConfigurationDialog {
        const NAME: &'static str = "VdKeepConfigurationDialog";
        type Type = super::KeepConfigurationDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl KeepConfigurationDialog {
        /// The body with `seconds` left.
        #[template_callback(function)]
        fn countdown_text(what: Option<&str>, seconds: u64) -> String {
            let left = ngettext(
                "Without an answer, the previous configuration comes back in {seconds} second.",
                "Without an answer, the previous configuration comes back in {seconds} seconds.",
                seconds.try_into().unwrap_or(u32::MAX),
            )
            .replace("{seconds}", &seconds.to_string());
            format!("{}\n\n{left}", what.unwrap_or_default())
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for KeepConfigurationDialog {}
    impl WidgetImpl for KeepConfigurationDialog {}
    impl WindowImpl for KeepConfigurationDialog {}
    impl MessageDialogImpl for KeepConfigurationDialog {}
}

glib::wrapper! {
    pub struct KeepConfigurationDialog(ObjectSubclass<imp::KeepConfigurationDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl KeepConfigurationDialog {
    pub fn new(parent: &impl IsA<gtk::Window>, what: &str, seconds_left: u64) -> Self {
        glib::Object::builder()
            .property("transient-for", parent)
            .property("what", what)
            .property("seconds-left", seconds_left)
            .build()
    }
}
