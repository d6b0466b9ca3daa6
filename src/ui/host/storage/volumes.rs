//! The volumes of one pool, shown as a subpage of Host Details: each with its format,
//! size, allocation and the machines that use it; New Volume…, Upload File… (with
//! progress and Cancel), Resize… and Delete.

use super::dialogs;
use super::items::{request_words, StoragePool, StorageVolume};
use super::volume_row::StorageVolumeRow;
use crate::i18n::{gettext, gettext_f};
use crate::spec::is_iso_name;
use crate::ui::backend::{Request, RequestError, StorageRequest, VolumeInfo};
use crate::ui::util::{show_error, Failure};
use crate::ui::Connection;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod imp {
    use super::*;

    #[derive(Default, gtk::CompositeTemplate, glib::Properties)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/host/storage/volumes.ui")]
    #[properties(wrapper_type = super::VolumesView)]
    pub struct VolumesView {
        #[property(get, construct_only)]
        pub connection: RefCell<Option<Connection>>,
        #[property(get, construct_only)]
        pub pool: RefCell<Option<StoragePool>>,
        /// Shown in a volume chooser: choosing a volume answers it.
        #[property(get, construct_only)]
        pub choosing: Cell<bool>,
        /// Only ISO images can be chosen.
        #[property(get, construct_only)]
        pub iso_only: Cell<bool>,
        /// "Volumes of “pool”".
        #[property(get, set)]
        pub title: RefCell<String>,
        #[property(get, set)]
        pub usage: RefCell<String>,
        /// What the empty list says.
        #[property(get, set)]
        pub placeholder: RefCell<String>,
        #[property(get, set)]
        pub uploading: Cell<bool>,
        #[property(get, set)]
        pub upload_fraction: Cell<f64>,
        #[property(get, set)]
        pub upload_text: RefCell<String>,
        /// Set to stop the upload under way.
        pub cancel: RefCell<Option<Arc<AtomicBool>>>,
        /// The volumes last read, to check new names against.
        pub infos: RefCell<Vec<VolumeInfo>>,
        #[template_child]
        pub volumes: TemplateChild<gio::ListStore>,
        #[template_child]
        pub volume_list: TemplateChild<gtk::ListBox>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for VolumesView {
        const NAME: &'static str = "VdPoolVolumesView";
        type Type = super::VolumesView;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            StorageVolume::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
            klass.install_action("volumes.create", None, |view, _, _| {
                dialogs::create_volume(view);
            });
            klass.install_action("volumes.upload", None, |view, _, _| {
                dialogs::upload(view);
            });
            let by_name = |act: fn(&super::VolumesView, String)| {
                move |view: &super::VolumesView, _: &str, target: Option<&glib::Variant>| {
                    if let Some(name) = target.and_then(|t| t.get::<String>()) {
                        act(view, name);
                    }
                }
            };
            klass.install_action(
                "volumes.resize",
                Some(glib::VariantTy::STRING),
                by_name(dialogs::resize_volume),
            );
            klass.install_action(
                "volumes.delete",
                Some(glib::VariantTy::STRING),
                by_name(dialogs::delete_volume),
            );
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl VolumesView {
        #[template_callback]
        fn back(&self) {
            if let Some(window) = self.obj().root().and_downcast::<adw::PreferencesWindow>() {
                window.close_subpage();
            }
        }

        #[template_callback]
        fn cancel_upload(&self) {
            if let Some(cancel) = self.cancel.borrow().as_ref() {
                cancel.store(true, Ordering::Relaxed);
            }
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for VolumesView {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            if let Some(pool) = obj.pool() {
                obj.set_title(gettext_f(
                    // Translators: {name} is a storage pool.
                    "Volumes of “{name}”",
                    &[("name", &pool.name())],
                ));
                pool.bind_property("usage", &*obj, "usage")
                    .sync_create()
                    .build();
            }
            let (choosing, iso_only) = (obj.choosing(), obj.iso_only());
            let pool = obj.pool_name();
            self.volume_list
                .bind_model(Some(&*self.volumes), move |item| {
                    match item.downcast_ref::<StorageVolume>() {
                        Some(volume) => {
                            let row = StorageVolumeRow::new(volume);
                            if choosing && (!iso_only || is_iso_name(&volume.name())) {
                                // Choosing the row answers the volume to the chooser.
                                row.set_activatable(true);
                                row.set_action_name(Some("chooser.choose"));
                                row.set_action_target_value(Some(
                                    &(pool.as_str(), volume.name(), volume.path()).to_variant(),
                                ));
                            }
                            row.upcast()
                        }
                        None => gtk::Label::new(None).upcast(),
                    }
                });
            obj.reload();
        }

        fn dispose(&self) {
            // A view closed during an upload stops it.
            self.cancel_upload();
        }
    }

    impl WidgetImpl for VolumesView {}
    impl BoxImpl for VolumesView {}
}

glib::wrapper! {
    pub struct VolumesView(ObjectSubclass<imp::VolumesView>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl VolumesView {
    pub fn new(
        connection: &Connection,
        pool: &StoragePool,
        choosing: bool,
        iso_only: bool,
    ) -> Self {
        glib::Object::builder()
            .property("connection", connection)
            .property("pool", pool)
            .property("choosing", choosing)
            .property("iso-only", iso_only)
            .build()
    }

    pub(super) fn pool_name(&self) -> String {
        self.pool().map(|p| p.name()).unwrap_or_default()
    }

    pub(super) fn volume_infos(&self) -> Vec<VolumeInfo> {
        self.imp().infos.borrow().clone()
    }

    /// Reads the volumes again and shows them.
    pub(super) fn reload(&self) {
        let Some(connection) = self.connection() else {
            return;
        };
        let pool = self.pool_name();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                let answer = connection
                    .request(|reply| Request::Storage(StorageRequest::Volumes { pool, reply }))
                    .await;
                let imp = view.imp();
                match answer {
                    Ok(volumes) => {
                        let items: Vec<StorageVolume> =
                            volumes.iter().map(StorageVolume::new).collect();
                        imp.volumes.splice(0, imp.volumes.n_items(), &items);
                        imp.infos.replace(volumes);
                        let active = view.pool().is_some_and(|p| p.active());
                        view.set_placeholder(if active {
                            gettext("No volumes")
                        } else {
                            gettext("The pool is not running: start it to see its volumes.")
                        });
                    }
                    Err(reason) => {
                        imp.volumes.remove_all();
                        view.set_placeholder(request_words(&reason));
                    }
                }
                view.set_sensitive(true);
            }
        ));
    }

    /// Sends `request` to the worker; tells `failed` with the reason when it fails, and
    /// shows the volumes again either way.
    pub(super) fn ask(
        &self,
        request: impl FnOnce(crate::ui::backend::Reply<()>) -> StorageRequest + 'static,
        failed: String,
    ) {
        let Some(connection) = self.connection() else {
            return;
        };
        self.set_sensitive(false);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                let outcome = connection
                    .request(|reply| Request::Storage(request(reply)))
                    .await;
                if let Err(reason) = outcome {
                    show_error(&view, &Failure::with_detail(failed, request_words(&reason)));
                }
                view.reload();
            }
        ));
    }

    /// Copies `file` (of `size` bytes) into new volume `name`, showing its progress.
    pub(super) fn start_upload(&self, file: PathBuf, name: String, size: u64) {
        let Some(connection) = self.connection() else {
            return;
        };
        if self.uploading() {
            return;
        }
        let cancel = Arc::new(AtomicBool::new(false));
        self.imp().cancel.replace(Some(cancel.clone()));
        self.set_uploading(true);
        self.set_upload_fraction(0.0);
        let (progress, reports) = async_channel::unbounded::<u64>();
        let volume_name = name.clone();
        let words = move |sent: u64| {
            gettext_f(
                // Translators: {name} is a new volume, {sent} and {size} sizes such as "12 MB".
                "Uploading “{name}”: {sent} of {size}",
                &[
                    ("name", &volume_name),
                    ("sent", &glib::format_size(sent)),
                    ("size", &glib::format_size(size)),
                ],
            )
        };
        self.set_upload_text(words(0));
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                while let Ok(sent) = reports.recv().await {
                    view.set_upload_fraction(if size == 0 {
                        1.0
                    } else {
                        sent as f64 / size as f64
                    });
                    view.set_upload_text(words(sent));
                }
            }
        ));
        let pool = self.pool_name();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = view)]
            self,
            async move {
                let outcome =
                    upload_into_pool(&connection, pool, name.clone(), file, progress, cancel).await;
                view.imp().cancel.replace(None);
                view.set_uploading(false);
                match outcome {
                    Ok(_) => {
                        if let Some(window) = view.root().and_downcast::<adw::PreferencesWindow>() {
                            window.add_toast(adw::Toast::new(&glib::markup_escape_text(
                                &gettext_f(
                                    // Translators: {name} is a storage volume.
                                    "“{name}” was uploaded.",
                                    &[("name", &name)],
                                ),
                            )));
                        }
                    }
                    Err(reason) => show_error(
                        &view,
                        &Failure::with_detail(
                            gettext_f(
                                // Translators: {name} is a storage volume.
                                "“{name}” was not uploaded",
                                &[("name", &name)],
                            ),
                            request_words(&reason),
                        ),
                    ),
                }
                view.reload();
            }
        ));
    }
}

/// Copies local `file` into a new volume `name` of pool `pool` on `connection`'s host (see
/// [`StorageRequest::Upload`]): the bytes sent go to `progress`, `cancel` stops it, and a
/// volume that is not complete is removed again.
pub(crate) async fn upload_into_pool(
    connection: &Connection,
    pool: String,
    name: String,
    file: PathBuf,
    progress: async_channel::Sender<u64>,
    cancel: Arc<AtomicBool>,
) -> Result<u64, RequestError> {
    connection
        .request(|reply| {
            Request::Storage(StorageRequest::Upload {
                pool,
                name,
                file,
                progress,
                cancel,
                reply,
            })
        })
        .await
}
