//! The Storage page of Host Details: the connection's storage pools, each with its type,
//! how full it is, whether it runs and starts with the host; Add Pool…, refresh and
//! delete; choosing a pool shows its volumes (a subpage, [`volumes::VolumesView`]).
//!
//! Everything is asked of the connection's worker (`Request::Storage`); the page shows the
//! answers.

pub mod chooser;
mod dialogs;
pub(super) mod items;
mod pool_row;
mod volume_row;
mod volumes;
pub(crate) use volumes::upload_into_pool;

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{ConnectionName, PoolChange, PoolInfo, Request, StorageRequest};
use crate::ui::util::{show_error, Failure};
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};
use items::{request_words, StoragePool};
use pool_row::StoragePoolRow;
use std::cell::{Cell, RefCell};

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage.ui")]
    #[properties(wrapper_type = super::StoragePage)]
    pub struct StoragePage {
        /// The connection whose storage is shown; setting it reads it.
        #[property(get, set = Self::set_connection, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// Shown in a volume chooser: a pool's volumes can be chosen.
        #[property(get, set)]
        pub choosing: Cell<bool>,
        /// In a chooser: only ISO images can be chosen.
        #[property(get, set)]
        pub iso_only: Cell<bool>,
        /// The pools were read once.
        #[property(get, set)]
        pub loaded: Cell<bool>,
        /// What the empty list says: no pools, or why they could not be read.
        #[property(get, set)]
        pub placeholder: RefCell<String>,
        /// The pools last read, to check new names against.
        pub infos: RefCell<Vec<PoolInfo>>,
        #[template_child]
        pub pools: TemplateChild<gio::ListStore>,
        #[template_child]
        pub pool_list: TemplateChild<gtk::ListBox>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for StoragePage {
        const NAME: &'static str = "VdHostStoragePage";
        type Type = super::StoragePage;
        type ParentType = adw::PreferencesPage;

        fn class_init(klass: &mut Self::Class) {
            Connection::ensure_type();
            StoragePool::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
            klass.install_action("storage.add-pool", None, |page, _, _| {
                dialogs::add_pool(page);
            });
            let by_name = |act: fn(&super::StoragePage, String)| {
                move |page: &super::StoragePage, _: &str, target: Option<&glib::Variant>| {
                    if let Some(name) = target.and_then(|t| t.get::<String>()) {
                        act(page, name);
                    }
                }
            };
            klass.install_action(
                "storage.refresh-pool",
                Some(glib::VariantTy::STRING),
                by_name(|page, name| page.change(name, PoolChange::Refresh)),
            );
            let switch = |change: fn(bool) -> PoolChange| {
                move |page: &super::StoragePage, _: &str, target: Option<&glib::Variant>| {
                    if let Some((name, on)) = target.and_then(|t| t.get::<(String, bool)>()) {
                        page.change(name, change(on));
                    }
                }
            };
            let name_and_state = glib::VariantTy::new("(sb)").expect("a valid type");
            klass.install_action(
                "storage.run-pool",
                Some(name_and_state),
                switch(|on| {
                    if on {
                        PoolChange::Start
                    } else {
                        PoolChange::Stop
                    }
                }),
            );
            klass.install_action(
                "storage.autostart-pool",
                Some(name_and_state),
                switch(PoolChange::Autostart),
            );
            klass.install_action(
                "storage.delete-pool",
                Some(glib::VariantTy::STRING),
                by_name(dialogs::delete_pool),
            );
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl StoragePage {
        /// A chosen pool shows its volumes.
        #[template_callback]
        fn pool_activated(&self, row: &gtk::ListBoxRow) {
            let index = u32::try_from(row.index()).unwrap_or(u32::MAX);
            if let Some(pool) = self.pools.item(index).and_downcast::<StoragePool>() {
                self.obj().open_pool(&pool);
            }
        }
    }

    impl StoragePage {
        fn set_connection(&self, connection: Option<Connection>) {
            if *self.connection.borrow() == connection {
                return;
            }
            self.connection.replace(connection);
            self.obj().reload();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for StoragePage {
        fn constructed(&self) {
            self.parent_constructed();
            self.pool_list
                .bind_model(Some(&*self.pools), |item| match item.downcast_ref() {
                    Some(pool) => StoragePoolRow::new(pool).upcast(),
                    None => gtk::Label::new(None).upcast(),
                });
        }
    }

    impl WidgetImpl for StoragePage {}
    impl PreferencesPageImpl for StoragePage {}
}

glib::wrapper! {
    pub struct StoragePage(ObjectSubclass<imp::StoragePage>)
        @extends adw::PreferencesPage, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl StoragePage {
    /// The connection is to another computer, whose paths are not looked at here.
    pub(super) fn remote(&self) -> bool {
        self.connection()
            .is_some_and(|c| ConnectionName::parse(&c.uri()).is_remote())
    }

    pub(super) fn pool_infos(&self) -> Vec<PoolInfo> {
        self.imp().infos.borrow().clone()
    }

    pub(super) fn pool_items(&self) -> Vec<StoragePool> {
        self.imp()
            .pools
            .iter::<StoragePool>()
            .filter_map(Result::ok)
            .collect()
    }

    pub(super) fn window(&self) -> Option<adw::PreferencesWindow> {
        self.root().and_downcast()
    }

    /// Tells the user that something worked: `message` (plain text) as a toast.
    pub(super) fn tell(&self, message: &str) {
        if let Some(window) = self.window() {
            window.add_toast(adw::Toast::new(&glib::markup_escape_text(message)));
        }
    }

    /// Reads the pools again and shows them.
    pub(super) fn reload(&self) {
        let Some(connection) = self.connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let pools = connection
                    .request(|reply| Request::Storage(StorageRequest::Pools(reply)))
                    .await;
                page.show(pools.map_err(|e| request_words(&e)));
                page.set_sensitive(true);
            }
        ));
    }

    fn show(&self, pools: Result<Vec<PoolInfo>, String>) {
        let imp = self.imp();
        match pools {
            Ok(pools) => {
                let items: Vec<StoragePool> = pools.iter().map(StoragePool::new).collect();
                crate::ui::host::networking::update_store(&imp.pools, &items);
                imp.infos.replace(pools);
                self.set_placeholder(gettext("No storage pools"));
            }
            Err(reason) => {
                imp.pools.remove_all();
                imp.infos.replace(Vec::new());
                self.set_placeholder(reason);
            }
        }
        self.set_loaded(true);
    }

    /// Has the worker make `change` to pool `name`, says when it failed, and shows the
    /// pools again.
    pub(super) fn change(&self, name: String, change: PoolChange) {
        let Some(connection) = self.connection() else {
            return;
        };
        self.set_sensitive(false);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let outcome = connection
                    .request(|reply| {
                        Request::Storage(StorageRequest::ChangePool {
                            name: name.clone(),
                            change,
                            reply,
                        })
                    })
                    .await;
                match outcome {
                    Err(reason) => show_error(
                        &page,
                        &Failure::with_detail(failed(change, &name), request_words(&reason)),
                    ),
                    Ok(()) if matches!(change, PoolChange::Delete { .. }) => {
                        page.tell(&gettext_f(
                            // Translators: {name} is a storage pool.
                            "Pool “{name}” was deleted.",
                            &[("name", &name)],
                        ));
                    }
                    Ok(()) => {}
                }
                page.reload();
            }
        ));
    }

    /// Shows the volumes of `pool` as a subpage of the window.
    fn open_pool(&self, pool: &StoragePool) {
        let (Some(window), Some(connection)) = (self.window(), self.connection()) else {
            return;
        };
        let view = volumes::VolumesView::new(&connection, pool, self.choosing(), self.iso_only());
        window.present_subpage(&view);
    }
}

/// What did not happen to pool `name`, as a toast says it.
fn failed(change: PoolChange, name: &str) -> String {
    let pattern = match change {
        // Translators: {name} is a storage pool.
        PoolChange::Start => gettext("Pool “{name}” could not be started"),
        // Translators: {name} is a storage pool.
        PoolChange::Stop => gettext("Pool “{name}” could not be stopped"),
        // Translators: {name} is a storage pool.
        PoolChange::Refresh => gettext("Pool “{name}” could not be refreshed"),
        PoolChange::Autostart(_) => {
            // Translators: {name} is a storage pool.
            gettext("Whether pool “{name}” starts with the host could not be changed")
        }
        // Translators: {name} is a storage pool.
        PoolChange::Delete { .. } => gettext("Pool “{name}” was not deleted"),
    };
    pattern.replace("{name}", name)
}
