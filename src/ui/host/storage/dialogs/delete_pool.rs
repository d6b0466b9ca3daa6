//! "Delete pool “x”?": removing a pool from libvirt keeps its data; deleting its data too
//! removes the volumes of a directory or a volume group. A disk, a share or a target keeps
//! its data either way, which the question says.

use super::super::items::StoragePool;
use crate::i18n::{gettext, gettext_f};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/delete_pool.ui")]
    pub struct DeletePoolDialog {}

    #[glib::object_subclass]
    impl ObjectSubclass for DeletePoolDialog {
        const NAME: &'static str = "VdDeletePoolDialog";
        type Type = super::DeletePoolDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for DeletePoolDialog {}
    impl WidgetImpl for DeletePoolDialog {}
    impl WindowImpl for DeletePoolDialog {}
    impl MessageDialogImpl for DeletePoolDialog {}
}

glib::wrapper! {
    pub struct DeletePoolDialog(ObjectSubclass<imp::DeletePoolDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl DeletePoolDialog {
    pub fn new(parent: &impl IsA<gtk::Window>, pool: &StoragePool) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        let name = pool.name();
        let source = pool.source();
        dialog.set_heading(Some(&gettext_f(
            // Translators: {name} is a storage pool.
            "Delete Pool “{name}”?",
            &[("name", &name)],
        )));
        let body = if pool.data_goes() {
            gettext_f(
                // Translators: {source} is a directory or an LVM volume group.
                "“Remove Pool, Keep Data” only makes libvirt forget the pool: its volumes stay in {source}. “Delete Pool and Data” deletes every volume in it and {source} itself; it is refused while a virtual machine uses one of them.",
                &[("source", &source)],
            )
        } else {
            gettext_f(
                // Translators: {source} is a disk, an NFS share or an iSCSI target.
                "libvirt forgets the pool and unmounts it; the data on {source} stays where it is.",
                &[("source", &source)],
            )
        };
        dialog.set_body(&body);
        if !pool.data_goes() {
            dialog.set_response_label("forget", &gettext("_Remove Pool"));
            dialog.set_response_enabled("delete", false);
        }
        dialog
    }
}
