//! The machine's disk: a new one in a storage pool, an existing image, or none.

use super::choices::choose_file;
use super::page::{WizardPage, WizardPageImpl};
use crate::spec::create::DEFAULT_POOL;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};

/// Which disk the machine gets: the radio buttons of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, glib::Enum)]
#[enum_type(name = "VdStorageKind")]
pub enum StorageKind {
    #[default]
    New,
    Existing,
    None,
}

mod imp {
    use super::*;

    #[derive(Default, CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/wizard/storage.ui")]
    #[properties(wrapper_type = super::StoragePage)]
    pub struct StoragePage {
        #[template_child]
        pub new_disk_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub existing_disk_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub no_disk_radio: TemplateChild<gtk::CheckButton>,
        #[template_child]
        pub pool_row: TemplateChild<adw::ComboRow>,

        #[property(get, set = Self::set_kind, explicit_notify, builder(StorageKind::New))]
        pub kind: Cell<StorageKind>,
        /// The size field of a new disk, in GiB.
        #[property(get, set)]
        pub disk_size: RefCell<String>,
        /// The storage pool of a new disk (the chosen one of the pool row).
        #[property(get, set)]
        pub pool: RefCell<String>,
        /// The path field of an existing disk image.
        #[property(get, set)]
        pub existing_path: RefCell<String>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StoragePage {
        const NAME: &'static str = "VdWizardStoragePage";
        type Type = super::StoragePage;
        type ParentType = WizardPage;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for StoragePage {}
    impl WidgetImpl for StoragePage {}
    impl BoxImpl for StoragePage {}
    impl WizardPageImpl for StoragePage {}

    impl StoragePage {
        fn set_kind(&self, kind: StorageKind) {
            let radio = match kind {
                StorageKind::New => &self.new_disk_radio,
                StorageKind::Existing => &self.existing_disk_radio,
                StorageKind::None => &self.no_disk_radio,
            };
            // Its toggled handler changes the property.
            radio.set_active(true);
        }
    }

    #[gtk::template_callbacks]
    impl StoragePage {
        #[template_callback]
        fn on_kind_toggled(&self) {
            let kind = if self.existing_disk_radio.is_active() {
                StorageKind::Existing
            } else if self.no_disk_radio.is_active() {
                StorageKind::None
            } else {
                StorageKind::New
            };
            if self.kind.replace(kind) != kind {
                self.obj().notify_kind();
            }
        }

        #[template_callback]
        async fn on_browse(&self) {
            let obj = self.obj().clone();
            if let Some(path) = choose_file(&obj).await {
                obj.set_existing_path(path);
            }
        }
    }
}

glib::wrapper! {
    pub struct StoragePage(ObjectSubclass<imp::StoragePage>)
        @extends WizardPage, gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl StoragePage {
    /// Offers the active storage pools, the default one first.
    pub fn set_pools(&self, pools: &[String]) {
        let mut names: Vec<&str> = pools.iter().map(String::as_str).collect();
        names.sort_by_key(|n| *n != DEFAULT_POOL);
        if !names.contains(&DEFAULT_POOL) {
            names.insert(0, DEFAULT_POOL);
        }
        self.imp()
            .pool_row
            .set_model(Some(&gtk::StringList::new(&names)));
    }
}
