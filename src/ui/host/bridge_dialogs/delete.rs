//! "Delete Bridge “br0”?"

use crate::host::net::Runner;
use crate::i18n::gettext_f;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::{Cell, OnceCell};

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/bridge_dialogs/delete.ui")]
    #[properties(wrapper_type = super::DeleteBridgeDialog)]
    pub struct DeleteBridgeDialog {
        #[property(get, construct_only)]
        pub bridge: OnceCell<String>,
        /// The change asks for administrator rights (polkit).
        #[property(get)]
        pub escalates: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DeleteBridgeDialog {
        const NAME: &'static str = "VdDeleteBridgeDialog";
        type Type = super::DeleteBridgeDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for DeleteBridgeDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_heading(Some(&gettext_f(
                // Translators: {bridge} is the name of a network bridge.
                "Delete Bridge “{bridge}”?",
                &[("bridge", &obj.bridge())],
            )));
            self.escalates.set(Runner::local().escalates());
            obj.notify_escalates();
        }
    }

    impl WidgetImpl for DeleteBridgeDialog {}
    impl WindowImpl for DeleteBridgeDialog {}
    impl MessageDialogImpl for DeleteBridgeDialog {}
}

glib::wrapper! {
    pub struct DeleteBridgeDialog(ObjectSubclass<imp::DeleteBridgeDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl DeleteBridgeDialog {
    pub fn new(parent: &impl IsA<gtk::Window>, bridge: &str) -> Self {
        glib::Object::builder()
            .property("transient-for", parent)
            .property("bridge", bridge)
            .build()
    }
}
