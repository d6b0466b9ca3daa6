//! Asks before deleting a virtual machine, offering to delete its storage too: a check
//! box per disk image (those other machines use too, CD-ROMs and read-only disks start
//! unchecked), and the UEFI variables and TPM state, which are kept unless checked. The
//! worker deletes exactly the paths that are checked when the user confirms.
//!
//! The list follows the machine: a disk plugged in while the dialog is open appears. The
//! images are read for the dialog (the list keeps no devices), with the other machines of
//! the host that use them.

mod storage_row;

use crate::i18n::gettext_f;
use crate::ui::backend::{Command, DeleteStorage, DescribeRequest, Request, StorageChoice};
use crate::ui::util::BoundObject;
use crate::ui::{Connection, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};
use std::cell::{Cell, RefCell};
use storage_row::{StorageItem, StorageRow};

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::DeleteDialog)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window/delete_dialog.ui")]
    pub struct DeleteDialog {
        #[template_child]
        pub delete_storage: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub volume_list: TemplateChild<gtk::ListBox>,
        #[template_child]
        pub delete_nvram: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub delete_tpm: TemplateChild<gtk::CheckButton>,
        /// The machine to delete.
        #[property(get, construct_only)]
        pub domain: RefCell<Option<Domain>>,
        #[property(get, construct_only)]
        pub connection: RefCell<Option<Connection>>,
        /// Its disk images, as [`StorageItem`]s.
        #[template_child]
        pub volumes: TemplateChild<gio::ListStore>,
        /// Whether there is anything to offer: disk images, UEFI variables, TPM state.
        #[property(get)]
        pub has_storage: Cell<bool>,
        #[property(get)]
        pub has_volumes: Cell<bool>,
        #[property(get)]
        pub has_nvram: Cell<bool>,
        #[property(get)]
        pub has_tpm: Cell<bool>,
        /// The machine, followed while the dialog is open.
        pub followed: BoundObject<Domain>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DeleteDialog {
        const NAME: &'static str = "VdDeleteDialog";
        type Type = super::DeleteDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            StorageItem::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for DeleteDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            self.volume_list.bind_model(Some(&*self.volumes), |item| {
                let item = item.downcast_ref::<StorageItem>().expect("a storage item");
                StorageRow::new(item).upcast()
            });
            // Set here, not bound in the template: GTK 4.8 warns when a dialog with a
            // binding on its own property goes away.
            let name = obj.domain().map(|d| d.name()).unwrap_or_default();
            obj.set_heading(Some(&gettext_f(
                // Translators: {name} is the name of a virtual machine.
                "Delete “{name}”?",
                &[("name", &name)],
            )));
            let Some(domain) = obj.domain() else {
                return;
            };
            let handler = domain.connect_revision_notify(glib::clone!(
                #[weak]
                obj,
                move |domain| obj.read_storage(domain)
            ));
            self.followed.set(domain.clone(), vec![handler]);
            obj.read_storage(&domain);
        }

        fn dispose(&self) {
            self.followed.clear();
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
                    storage: obj.confirmed_storage(),
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

impl DeleteDialog {
    /// Asks the connection for the disk images of `domain` (the list keeps no devices)
    /// and lists them; until the answer, nothing is offered. Answers come in the order
    /// asked.
    fn read_storage(&self, domain: &Domain) {
        self.show_storage(domain, None);
        let Some(connection) = self.connection() else {
            return;
        };
        let uuid = domain.uuid();
        let domain = domain.clone();
        connection.ask_for(
            self,
            |reply| Request::Describe(DescribeRequest::Storage { uuid, reply }),
            move |obj, answer| match answer {
                Ok(choices) => obj.show_storage(&domain, Some(&choices)),
                // Gone or disconnected: the dialog offers what it had.
                Err(error) => tracing::debug!(%error, "could not read the storage"),
            },
        );
    }

    /// Lists `choices` (the disk images of `domain`), keeping what the user checked or
    /// unchecked for images already listed; the list is replaced only when its images
    /// changed. `None`: not known yet, the list is kept.
    fn show_storage(&self, domain: &Domain, choices: Option<&[StorageChoice]>) {
        let imp = self.imp();
        let old: Vec<StorageItem> = imp.volumes.iter().filter_map(Result::ok).collect();
        let Some(choices) = choices else {
            self.show_flags(domain, !old.is_empty());
            return;
        };
        let items: Vec<StorageItem> = choices
            .iter()
            .map(|choice| {
                let before = old.iter().find(|item| item.path() == choice.path);
                let checked = before.map_or(choice.checked_by_default(), |b| b.checked());
                StorageItem::new(choice, checked)
            })
            .collect();
        let same = old.len() == items.len()
            && old
                .iter()
                .zip(&items)
                .all(|(a, b)| a.path() == b.path() && a.note() == b.note());
        if !same {
            imp.volumes.splice(0, imp.volumes.n_items(), &items);
        }
        self.show_flags(domain, !items.is_empty());
    }

    /// Whether images, UEFI variables and TPM state are offered.
    fn show_flags(&self, domain: &Domain, volumes: bool) {
        let imp = self.imp();
        let flags = [
            (&imp.has_volumes, volumes, "has-volumes"),
            (&imp.has_nvram, domain.has_nvram(), "has-nvram"),
            (&imp.has_tpm, domain.has_tpm_state(), "has-tpm"),
        ];
        let any = flags.iter().any(|(_, value, _)| *value);
        for (cell, value, name) in flags
            .into_iter()
            .chain([(&imp.has_storage, any, "has-storage")])
        {
            if cell.replace(value) != value {
                self.notify(name);
            }
        }
    }

    /// What the user confirmed to delete: nothing unless "Also delete its storage" is
    /// checked, then exactly the checked images, UEFI variables and TPM state.
    fn confirmed_storage(&self) -> DeleteStorage {
        let imp = self.imp();
        if !(self.has_storage() && imp.delete_storage.is_active()) {
            return DeleteStorage::default();
        }
        DeleteStorage {
            volumes: imp
                .volumes
                .iter::<StorageItem>()
                .filter_map(Result::ok)
                .filter(|item| item.checked())
                .map(|item| item.path())
                .collect(),
            nvram: self.has_nvram() && imp.delete_nvram.is_active(),
            tpm: self.has_tpm() && imp.delete_tpm.is_active(),
        }
    }
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
