//! A storage pool on the Storage page: its name and facts, a bar of how full it is,
//! switches to run it and to start it with the host (they ask the page's
//! `storage.run-pool` and `storage.autostart-pool`), Refresh and Delete.

use super::items::StoragePool;
use crate::i18n::gettext_f;
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
        run_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        run_label: TemplateChild<gtk::Label>,
        #[template_child]
        autostart_switch: TemplateChild<gtk::Switch>,
        #[template_child]
        autostart_label: TemplateChild<gtk::Label>,
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
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl StoragePoolRow {
        /// A switch the user turned asks the page; one the pool's state turned says nothing.
        #[template_callback]
        fn run_changed(&self, on: bool) -> bool {
            if self.obj().pool().is_some_and(|p| p.active() != on) {
                self.obj().ask("storage.run-pool", on);
            }
            false
        }

        #[template_callback]
        fn autostart_changed(&self, on: bool) -> bool {
            if self.obj().pool().is_some_and(|p| p.autostart() != on) {
                self.obj().ask("storage.autostart-pool", on);
            }
            false
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
                ("active", self.run_switch.upcast_ref(), "active"),
                ("autostart", self.autostart_switch.upcast_ref(), "active"),
                ("persistent", self.autostart_switch.upcast_ref(), "visible"),
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
            self.run_label.set_label(&gettext_f(
                // Translators: {name} is a storage pool.
                "Run {name}",
                &[("name", &name)],
            ));
            self.autostart_label.set_label(&gettext_f(
                // Translators: {name} is a storage pool.
                "Start {name} with the host",
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

    /// Activates the page's `action` for this row's pool, turning it `on` or off.
    fn ask(&self, action: &str, on: bool) {
        if let Some(pool) = self.pool() {
            crate::ui::host::ask_page(self, action, pool.name(), on);
        }
    }
}
