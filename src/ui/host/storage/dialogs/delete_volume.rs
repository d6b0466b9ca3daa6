//! "Delete volume “x”?": its data is lost; the worker refuses while a machine uses it.

use crate::i18n::gettext_f;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/delete_volume.ui")]
    pub struct DeleteVolumeDialog {}

    #[glib::object_subclass]
    impl ObjectSubclass for DeleteVolumeDialog {
        const NAME: &'static str = "VdDeleteVolumeDialog";
        type Type = super::DeleteVolumeDialog;
        type ParentType = adw::MessageDialog;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    impl ObjectImpl for DeleteVolumeDialog {}
    impl WidgetImpl for DeleteVolumeDialog {}
    impl WindowImpl for DeleteVolumeDialog {}
    impl MessageDialogImpl for DeleteVolumeDialog {}
}

glib::wrapper! {
    pub struct DeleteVolumeDialog(ObjectSubclass<imp::DeleteVolumeDialog>)
        @extends adw::MessageDialog, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

impl DeleteVolumeDialog {
    pub fn new(parent: &impl IsA<gtk::Window>, name: &str) -> Self {
        let dialog: Self = glib::Object::builder()
            .property("transient-for", parent)
            .build();
        dialog.set_heading(Some(&gettext_f(
            // Translators: {name} is a storage volume.
            "Delete Volume “{name}”?",
            &[("name", name)],
        )));
        dialog
    }
}
