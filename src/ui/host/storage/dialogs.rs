//! The Storage page's dialogs and what their answers do: Add Pool…, New Volume…, Resize…,
//! Upload File…, and the questions before deleting a pool or a volume.

mod delete_pool;
mod delete_volume;
mod new_pool;
mod upload;
mod volume;

use super::volumes::VolumesView;
use super::StoragePage;
use crate::i18n::gettext_f;
use crate::ui::backend::{Field, PoolChange, StorageError, StorageRequest};
use adw::prelude::*;
use gtk::glib;

/// Marks the row of the field `error` is about with the error style, the others without;
/// returns the error's words, or "" when there is none.
fn mark_fields(rows: &[(Field, &gtk::Widget)], error: Option<&StorageError>) -> String {
    let field = error.and_then(StorageError::field);
    for (row_field, row) in rows {
        crate::ui::host::mark_wrong(*row, Some(*row_field) == field);
    }
    error.map(super::items::storage_words).unwrap_or_default()
}

pub(super) fn add_pool(page: &StoragePage) {
    let Some(window) = page.window() else {
        return;
    };
    let dialog = new_pool::NewPoolDialog::new(&window, page.pool_infos(), !page.remote());
    dialog.connect_response(
        Some("create"),
        glib::clone!(
            #[weak]
            page,
            move |dialog, _| {
                let spec = dialog.spec();
                let Some(connection) = page.connection() else {
                    return;
                };
                page.set_sensitive(false);
                glib::spawn_future_local(glib::clone!(
                    #[weak]
                    page,
                    async move {
                        let name = spec.name.clone();
                        let outcome = connection
                            .request(|reply| {
                                crate::ui::backend::Request::Storage(StorageRequest::CreatePool {
                                    spec,
                                    reply,
                                })
                            })
                            .await;
                        crate::ui::host::report(
                            &page,
                            outcome.map_err(|e| super::items::request_words(&e)),
                            &gettext_f(
                                // Translators: {name} is a storage pool.
                                "Pool “{name}” was created.",
                                &[("name", &name)],
                            ),
                            &gettext_f(
                                // Translators: {name} is a storage pool.
                                "Pool “{name}” was not created",
                                &[("name", &name)],
                            ),
                        );
                        page.reload();
                    }
                ));
            }
        ),
    );
    dialog.present();
}

pub(super) fn delete_pool(page: &StoragePage, name: String) {
    let Some(window) = page.window() else {
        return;
    };
    let Some(pool) = page
        .pool_items()
        .into_iter()
        .find(|pool| pool.name() == name)
    else {
        return;
    };
    let dialog = delete_pool::DeletePoolDialog::new(&window, &pool);
    dialog.connect_response(
        None,
        glib::clone!(
            #[weak]
            page,
            move |_, response| {
                let data = match response {
                    "forget" => false,
                    "delete" => true,
                    _ => return,
                };
                page.change(name.clone(), PoolChange::Delete { data });
            }
        ),
    );
    dialog.present();
}

/// The window of `view`, over which its dialogs open.
fn window_of(view: &VolumesView) -> Option<gtk::Window> {
    gtk::prelude::WidgetExt::root(view).and_downcast()
}

/// Shows `dialog`; when it answers `response`, `then` acts for `view` (if still there).
fn present_then<D: IsA<adw::MessageDialog> + IsA<gtk::Window>>(
    view: &VolumesView,
    dialog: D,
    response: &str,
    then: impl Fn(&VolumesView, &D) + 'static,
) {
    let view = view.downgrade();
    dialog.connect_response(Some(response), move |dialog, _| {
        if let Some(view) = view.upgrade() {
            then(&view, dialog);
        }
    });
    dialog.present();
}

pub(super) fn create_volume(view: &VolumesView) {
    let Some(window) = window_of(view) else {
        return;
    };
    let dialog = volume::VolumeDialog::for_new(&window, view.volume_infos());
    present_then(view, dialog, "apply", |view, dialog| {
        let spec = dialog.spec();
        let pool = view.pool_name();
        let failed = gettext_f(
            // Translators: {name} is a storage volume.
            "Volume “{name}” was not created",
            &[("name", &spec.name)],
        );
        view.ask(
            move |reply| StorageRequest::CreateVolume { pool, spec, reply },
            failed,
        );
    });
}

pub(super) fn resize_volume(view: &VolumesView, name: String) {
    let Some(window) = window_of(view) else {
        return;
    };
    let Some(info) = view.volume_infos().into_iter().find(|v| v.name == name) else {
        return;
    };
    let dialog = volume::VolumeDialog::for_resize(&window, &info);
    present_then(view, dialog, "apply", move |view, dialog| {
        let capacity = dialog.spec().capacity;
        let pool = view.pool_name();
        let failed = gettext_f(
            // Translators: {name} is a storage volume.
            "Volume “{name}” was not resized",
            &[("name", &name)],
        );
        let name = name.clone();
        view.ask(
            move |reply| StorageRequest::ResizeVolume {
                pool,
                name,
                capacity,
                reply,
            },
            failed,
        );
    });
}

pub(super) fn delete_volume(view: &VolumesView, name: String) {
    let Some(window) = window_of(view) else {
        return;
    };
    let dialog = delete_volume::DeleteVolumeDialog::new(&window, &name);
    present_then(view, dialog, "delete", move |view, _| {
        let pool = view.pool_name();
        let failed = gettext_f(
            // Translators: {name} is a storage volume.
            "Volume “{name}” was not deleted",
            &[("name", &name)],
        );
        let name = name.clone();
        view.ask(
            move |reply| StorageRequest::DeleteVolume { pool, name, reply },
            failed,
        );
    });
}

pub(super) fn upload(view: &VolumesView) {
    let Some(window) = window_of(view) else {
        return;
    };
    let dialog = upload::UploadDialog::new(&window, view.volume_infos());
    present_then(view, dialog, "upload", |view, dialog| {
        let (file, name) = dialog.choice();
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        view.start_upload(file, name, size);
    });
}
