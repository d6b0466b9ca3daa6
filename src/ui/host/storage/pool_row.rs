//! A storage pool on the Storage page: its name and facts, a bar of how full it is,
//! switches to run it and to start it with the host ([`RunSwitches`], asking the page's
//! `storage.run-pool` and `storage.autostart-pool`), Refresh and Delete.

use super::items::StoragePool;
use crate::i18n::gettext_f;
use crate::ui::host::run_switches::RunSwitches;
use adw::subclass::prelude::*;
use gtk::glib;
use gtk::prelude::*;
use std::cell::RefCell;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/pool_row.ui")]
    #[properties(wrapper_type = super::StoragePoolRow)]
    pub struct StoragePoolRow {
        #[property(get, construct_only)]
        pool: RefCell<Option<StoragePool>>,
        #[template_child]
        bar: TemplateChild<gtk::LevelBar>,
        #[template_child]
        bar_label: TemplateChild<gtk::Label>,
        #[template_child]
        usage_label: TemplateChild<gtk::Label>,
        #[template_child]
        switches: TemplateChild<RunSwitches>,
        #[template_child]
        refresh_button: TemplateChild<gtk::Button>,
        #[template_child]
        refresh_label: TemplateChild<gtk::Label>,
        #[template_child]
        delete_button: TemplateChild<gtk::Button>,
        #[template_child]
        delete_label: TemplateChild<gtk::Label>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StoragePoolRow {
        const NAME: &'static str = "VdStoragePoolRow";
        type Type = super::StoragePoolRow;
        type ParentType = adw::ActionRow;

        fn class_init(klass: &mut Self::Class) {
            StoragePool::ensure_type();
            RunSwitches::ensure_type();
            klass.bind_template();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for StoragePoolRow {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let Some(pool) = obj.pool() else {
                return;
            };
            for (property, target, target_property) in [
                ("name", obj.upcast_ref::<gtk::Widget>(), "title"),
                ("facts", obj.upcast_ref(), "subtitle"),
                ("used", self.bar.upcast_ref(), "value"),
                ("usage", self.usage_label.upcast_ref(), "label"),
            ] {
                pool.bind_property(property, target, target_property)
                    .sync_create()
                    .build();
            }
            // A row's pool keeps its name.
            let name = pool.name();
            self.bar_label.set_label(&gettext_f(
                // Translators: {name} is a storage pool.
                "Space used in {name}",
                &[("name", &name)],
            ));
            self.refresh_label.set_label(&gettext_f(
                // Translators: {name} is a storage pool.
                "Refresh {name}",
                &[("name", &name)],
            ));
            self.delete_label.set_label(&gettext_f(
                // Translators: {name} is a storage pool.
                "Delete {name}",
                &[("name", &name)],
            ));
            self.switches
                .set_item(Some(pool.upcast_ref::<glib::Object>()));
            for button in [&*self.refresh_button, &*self.delete_button] {
                button.set_action_target_value(Some(&name.to_variant()));
            }
        }
    }
    impl WidgetImpl for StoragePoolRow {}
    impl ListBoxRowImpl for StoragePoolRow {}
    impl PreferencesRowImpl for StoragePoolRow {}
    impl ActionRowImpl for StoragePoolRow {}
}

glib::wrapper! {
    pub struct StoragePoolRow(ObjectSubclass<imp::StoragePoolRow>)
        @extends adw::ActionRow, adw::PreferencesRow, gtk::ListBoxRow, gtk::Widget,
        @implements gtk::Actionable, gtk::Buildable, gtk::ConstraintTarget;
}

impl StoragePoolRow {
    pub fn new(pool: &StoragePool) -> Self {
        glib::Object::builder().property("pool", pool).build()
    }
}
