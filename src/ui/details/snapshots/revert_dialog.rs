//! Asks before reverting to a snapshot: the machine's state now is lost unless it is kept
//! in a new snapshot first, which one button does.

use super::{default_name, SnapshotsPage};
use crate::i18n::gettext_f;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;
use std::cell::RefCell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, gtk::CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::RevertDialog)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/snapshots/revert_dialog.ui")]
    pub struct RevertDialog {
        /// The page that reverts.
        #[property(get, construct_only)]
        pub page: RefCell<Option<SnapshotsPage>>,
        /// The snapshot to go back to.
        #[property(get, construct_only)]
        pub snapshot: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for RevertDialog {
        const NAME: &'static str = "VdSnapshotRevertDialog";
        type Type = super::RevertDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for RevertDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_heading(Some(&gettext_f(
                // Translators: {name} is a snapshot's name.
                "Revert to “{name}”?",
                &[("name", &obj.snapshot())],
            )));
        }
    }

    impl WidgetImpl for RevertDialog {}
    impl WindowImpl for RevertDialog {}

    impl MessageDialogImpl for RevertDialog {
        fn response(&self, response: &str) {
            let obj = self.obj();
            if let Some(page) = obj.page() {
                match response {
                    "revert" => page.revert(obj.snapshot()),
                    "snapshot" => page.create(default_name(), String::new(), Some(obj.snapshot())),
                    _ => {}
                }
            }
            self.parent_response(response);
        }
    }
}

glib::wrapper! {
    pub struct RevertDialog(ObjectSubclass<imp::RevertDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl RevertDialog {
    pub fn new(page: &SnapshotsPage, snapshot: &str) -> Self {
        glib::Object::builder()
            .property("page", page)
            .property("snapshot", snapshot)
            .build()
    }
}
