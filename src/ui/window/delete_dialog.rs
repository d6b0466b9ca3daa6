//! Asks before deleting a virtual machine, offering to delete its disk images too.

use crate::i18n::gettext_f;
use crate::ui::backend::Command;
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::RefCell;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::DeleteDialog)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window/delete_dialog.ui")]
    pub struct DeleteDialog {
        #[template_child]
        pub delete_storage: TemplateChild<gtk::CheckButton>,
        /// The machine to delete.
        #[property(get, construct_only)]
        pub domain: RefCell<Option<Domain>>,
        #[property(get, construct_only)]
        pub connection: RefCell<Option<Connection>>,
        /// The disk images that "Also delete its storage" deletes, one a line.
        #[property(get)]
        pub volumes: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DeleteDialog {
        const NAME: &'static str = "VdDeleteDialog";
        type Type = super::DeleteDialog;
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
    impl DeleteDialog {
        #[template_callback(function)]
        fn has_text(text: Option<String>) -> bool {
            text.is_some_and(|t| !t.is_empty())
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for DeleteDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let volumes: Vec<String> = obj
                .domain()
                .map(|d| d.info().disks)
                .unwrap_or_default()
                .iter()
                .filter(|d| !d.read_only)
                .filter_map(|d| d.source_path().map(str::to_owned))
                .collect();
            self.volumes.replace(volumes.join("\n"));
            obj.notify_volumes();
            // Set here, not bound in the template: GTK 4.8 warns when a dialog with a
            // binding on its own property goes away.
            let name = obj.domain().map(|d| d.name()).unwrap_or_default();
            obj.set_heading(Some(&gettext_f(
                // Translators: {name} is the name of a virtual machine.
                "Delete “{name}”?",
                &[("name", &name)],
            )));
        }
    }

    impl WidgetImpl for DeleteDialog {}
    impl WindowImpl for DeleteDialog {}

    impl MessageDialogImpl for DeleteDialog {
        fn response(&self, response: &str) {
            let obj = self.obj();
            if let ("delete", Some(connection), Some(domain)) =
                (response, obj.connection(), obj.domain())
            {
                connection.send(Command::Delete {
                    uuid: domain.uuid(),
                    delete_storage: !self.volumes.borrow().is_empty()
                        && self.delete_storage.is_active(),
                });
            }
            self.parent_response(response);
        }
    }
}

glib::wrapper! {
    pub struct DeleteDialog(ObjectSubclass<imp::DeleteDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

/// Asks, over the window of `widget`, before deleting `domain` of `connection`.
pub fn confirm_delete(widget: &gtk::Widget, connection: &Connection, domain: &Domain) {
    let dialog: DeleteDialog = glib::Object::builder()
        .property("domain", domain)
        .property("connection", connection)
        .build();
    dialog.set_transient_for(widget.root().and_downcast_ref::<gtk::Window>());
    dialog.present();
}
