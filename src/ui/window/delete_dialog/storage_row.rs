//! A disk image in the Delete dialog: the item (its path, whether it is to be deleted, why
//! it is not offered checked) and its row, a check box named by the path.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{domain::DiskDevice, StorageChoice};
use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;
use std::cell::{Cell, RefCell};

mod item {
    use super::*;

    #[derive(Default, glib::Properties)]
    #[properties(wrapper_type = super::StorageItem)]
    pub struct StorageItem {
        /// The image's path, which is what the worker deletes.
        #[property(get, construct_only)]
        path: RefCell<String>,
        /// Why it is not offered checked, in words; empty for a disk of this machine only.
        #[property(get, construct_only)]
        note: RefCell<String>,
        /// Whether the user wants it deleted.
        #[property(get, set)]
        checked: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StorageItem {
        const NAME: &'static str = "VdStorageItem";
        type Type = super::StorageItem;
    }

    #[glib::derived_properties]
    impl ObjectImpl for StorageItem {}
}

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window/delete_dialog/storage_row.ui")]
    #[properties(wrapper_type = super::StorageRow)]
    pub struct StorageRow {
        #[property(get, construct_only)]
        item: RefCell<Option<super::StorageItem>>,
        #[template_child]
        check: TemplateChild<gtk::CheckButton>,
        #[template_child]
        note: TemplateChild<gtk::Label>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StorageRow {
        const NAME: &'static str = "VdStorageRow";
        type Type = super::StorageRow;
        type ParentType = gtk::ListBoxRow;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for StorageRow {
        fn constructed(&self) {
            self.parent_constructed();
            let Some(item) = self.obj().item() else {
                return;
            };
            item.bind_property("path", &*self.check, "label")
                .sync_create()
                .build();
            item.bind_property("checked", &*self.check, "active")
                .sync_create()
                .bidirectional()
                .build();
            item.bind_property("note", &*self.note, "label")
                .sync_create()
                .build();
            item.bind_property("note", &*self.note, "visible")
                .transform_to(|_, note: String| Some(!note.is_empty()))
                .sync_create()
                .build();
        }
    }

    impl WidgetImpl for StorageRow {}
    impl ListBoxRowImpl for StorageRow {}
}

glib::wrapper! {
    /// A disk image the Delete dialog offers to delete.
    pub struct StorageItem(ObjectSubclass<item::StorageItem>);
}

glib::wrapper! {
    pub struct StorageRow(ObjectSubclass<imp::StorageRow>)
        @extends gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl StorageItem {
    /// The item of `choice`, checked as given.
    pub fn new(choice: &StorageChoice, checked: bool) -> Self {
        glib::Object::builder()
            .property("path", &choice.path)
            .property("note", note(choice))
            .property("checked", checked)
            .build()
    }
}

impl StorageRow {
    pub fn new(item: &StorageItem) -> Self {
        glib::Object::builder().property("item", item).build()
    }
}

/// What makes `choice` one to think twice about: other machines use it, it is a CD-ROM,
/// read-only or shareable.
fn note(choice: &StorageChoice) -> String {
    let mut parts = Vec::new();
    if !choice.used_by.is_empty() {
        let names: Vec<String> = choice.used_by.iter().map(|n| format!("“{n}”")).collect();
        parts.push(gettext_f(
            // Translators: {names} are the names of other virtual machines, e.g. “web”, “db”.
            "Also used by {names}",
            &[("names", &names.join(", "))],
        ));
    }
    match choice.device {
        DiskDevice::Cdrom => parts.push(gettext("CD-ROM")),
        DiskDevice::Floppy => parts.push(gettext("Floppy disk")),
        DiskDevice::Lun => parts.push(gettext("Host device")),
        DiskDevice::Disk | DiskDevice::Other(_) => {}
    }
    if choice.read_only && choice.device == DiskDevice::Disk {
        parts.push(gettext("Read-only"));
    }
    if choice.shareable {
        parts.push(gettext("Shareable"));
    }
    parts.join(" · ")
}
