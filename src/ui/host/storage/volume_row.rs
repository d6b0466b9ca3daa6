//! A volume of a pool: its name, format, sizes and the machines that use it, with
//! Resize… and Delete (the view's `volumes.resize` and `volumes.delete`).

use super::items::StorageVolume;
use crate::i18n::gettext_f;
use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/volume_row.ui")]
    #[properties(wrapper_type = super::StorageVolumeRow)]
    pub struct StorageVolumeRow {
        #[property(get, construct_only)]
        volume: RefCell<Option<StorageVolume>>,
        #[template_child]
        resize_button: TemplateChild<gtk::Button>,
        #[template_child]
        resize_label: TemplateChild<gtk::Label>,
        #[template_child]
        delete_button: TemplateChild<gtk::Button>,
        #[template_child]
        delete_label: TemplateChild<gtk::Label>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StorageVolumeRow {
        const NAME: &'static str = "VdStorageVolumeRow";
        type Type = super::StorageVolumeRow;
        type ParentType = adw::ActionRow;

        fn class_init(klass: &mut Self::Class) {
            StorageVolume::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for StorageVolumeRow {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let Some(volume) = obj.volume() else {
                return;
            };
            for (property, target) in [("name", "title"), ("facts", "subtitle")] {
                volume
                    .bind_property(property, &*obj, target)
                    .sync_create()
                    .build();
            }
            let name = volume.name();
            self.resize_label.set_label(&gettext_f(
                // Translators: {name} is a storage volume.
                "Resize {name}",
                &[("name", &name)],
            ));
            self.delete_label.set_label(&gettext_f(
                // Translators: {name} is a storage volume.
                "Delete {name}",
                &[("name", &name)],
            ));
            for button in [&*self.resize_button, &*self.delete_button] {
                button.set_action_target_value(Some(&name.to_variant()));
            }
        }
    }
    impl WidgetImpl for StorageVolumeRow {}
    impl ListBoxRowImpl for StorageVolumeRow {}
    impl PreferencesRowImpl for StorageVolumeRow {}
    impl ActionRowImpl for StorageVolumeRow {}
}

glib::wrapper! {
    pub struct StorageVolumeRow(ObjectSubclass<imp::StorageVolumeRow>)
        @extends adw::ActionRow, adw::PreferencesRow, gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl StorageVolumeRow {
    pub fn new(volume: &StorageVolume) -> Self {
        glib::Object::builder().property("volume", volume).build()
    }
}
