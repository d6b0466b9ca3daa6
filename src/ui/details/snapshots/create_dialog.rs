//! Asks for a new snapshot's name (the time now by default, checked as it is typed) and
//! description, and says what the snapshot will be (internal or external, with memory).

use super::{default_name, name_problem, SnapshotsPage};
use crate::ui::util::Closures;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::RefCell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::CreateDialog)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/snapshots/create_dialog.ui")]
    pub struct CreateDialog {
        #[template_child]
        pub name: TemplateChild<gtk::Entry>,
        #[template_child]
        pub description: TemplateChild<gtk::Entry>,
        /// The page that takes the snapshot.
        #[property(get, construct_only)]
        pub page: RefCell<Option<SnapshotsPage>>,
        /// Why the name cannot be used; empty when it can.
        #[property(get)]
        pub problem: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for CreateDialog {
        const NAME: &'static str = "VdSnapshotCreateDialog";
        type Type = super::CreateDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl CreateDialog {
        #[template_callback]
        fn name_changed(&self) {
            let obj = self.obj();
            let existing = obj.page().map(|p| p.names()).unwrap_or_default();
            let problem = name_problem(&self.name.text(), &existing).unwrap_or_default();
            obj.set_response_enabled("take", problem.is_empty());
            if *self.problem.borrow() != problem {
                self.problem.replace(problem);
                obj.notify_problem();
            }
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for CreateDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            // Set here, not bound: GTK 4.8 warns when a dialog with a binding on its own
            // property goes away.
            obj.set_body(&obj.page().map(|p| p.plan()).unwrap_or_default());
            self.name.set_text(&default_name());
            self.name_changed();
        }
    }

    impl WidgetImpl for CreateDialog {}
    impl WindowImpl for CreateDialog {}

    impl MessageDialogImpl for CreateDialog {
        fn response(&self, response: &str) {
            if let ("take", Some(page)) = (response, self.obj().page()) {
                page.create(
                    self.name.text().trim().to_owned(),
                    self.description.text().into(),
                    None,
                );
            }
            self.parent_response(response);
        }
    }
}

glib::wrapper! {
    pub struct CreateDialog(ObjectSubclass<imp::CreateDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

impl CreateDialog {
    pub fn new(page: &SnapshotsPage) -> Self {
        glib::Object::builder().property("page", page).build()
    }
}
