//! A local installation image on a remote host: the host cannot see this computer's
//! files, so before the machine is made the image is uploaded into the chosen pool there
//! ([`UPLOAD_POOL`] unless another was chosen; the storage upload, with its progress in the creation's progress bar and Cancel
//! Upload), and the machine's CD-ROM is that volume. A cancelled or failed upload leaves
//! no volume behind (the upload removes it); a machine that is not made after the upload
//! takes the uploaded volume away with it.

use super::Wizard;
use crate::i18n::gettext_f;
use crate::spec::validate::{upload_volume_name, UPLOAD_POOL};
use crate::spec::{InstallMethod, VmSpec};
use crate::ui::backend::{Request, RequestError, StorageRequest};
use crate::ui::host::upload_into_pool;
use crate::ui::Connection;
use adw::subclass::prelude::*;
use gtk::glib;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A volume the wizard uploaded for the machine it is making.
pub(super) struct Uploaded {
    pub pool: String,
    pub name: String,
}

/// The local image `spec` installs from when it has to be uploaded to the connection's
/// host first (a local ISO on a host whose paths are not this computer's), and the pool
/// it goes into.
pub(super) fn image_to_upload(spec: &VmSpec, paths_are_local: bool) -> Option<(PathBuf, String)> {
    match &spec.install {
        InstallMethod::LocalIso { path, upload_pool } if !paths_are_local => Some((
            PathBuf::from(path.trim()),
            upload_pool.as_deref().unwrap_or(UPLOAD_POOL).to_owned(),
        )),
        _ => None,
    }
}

impl Wizard {
    /// Uploads `file` into `pool` on `connection`'s host, showing its progress, and points
    /// `spec`'s installation at the new volume.
    pub(super) async fn upload_image(
        &self,
        connection: &Connection,
        (file, pool): (PathBuf, String),
        spec: &mut VmSpec,
    ) -> Result<Uploaded, RequestError> {
        let imp = self.imp();
        let name = upload_volume_name(&file.to_string_lossy());
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let cancel = Arc::new(AtomicBool::new(false));
        imp.upload_cancel.replace(Some(cancel.clone()));
        self.set_uploading(true);
        let (progress, reports) = async_channel::unbounded::<u64>();
        let words = {
            let name = name.clone();
            let pool = pool.clone();
            move |sent: u64| {
                gettext_f(
                    // Translators: {name} is an image file, {pool} a storage pool on the remote host, {sent} and {size} sizes such as "12 MB".
                    "Uploading “{name}” to the pool “{pool}” of the host: {sent} of {size}",
                    &[
                        ("name", &name),
                        ("pool", &pool),
                        ("sent", &glib::format_size(sent)),
                        ("size", &glib::format_size(size)),
                    ],
                )
            }
        };
        imp.progress_label.set_label(&words(0));
        imp.progress_bar.set_fraction(0.0);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                while let Ok(sent) = reports.recv().await {
                    let imp = wizard.imp();
                    imp.progress_label.set_label(&words(sent));
                    imp.progress_bar.set_fraction(if size == 0 {
                        1.0
                    } else {
                        sent as f64 / size as f64
                    });
                }
            }
        ));
        let outcome = upload_into_pool(
            connection,
            pool.clone(),
            name.clone(),
            file,
            progress,
            cancel,
        )
        .await;
        imp.upload_cancel.replace(None);
        self.set_uploading(false);
        outcome?;
        tracing::info!(volume = %name, pool = %pool, "uploaded the installation image");
        spec.install = InstallMethod::StorageVolume {
            pool: pool.clone(),
            volume: name.clone(),
        };
        Ok(Uploaded { pool, name })
    }

    /// Deletes the volume uploaded for a machine that was not made; the reason when that
    /// failed.
    pub(super) async fn remove_upload(
        &self,
        connection: &Connection,
        uploaded: Uploaded,
    ) -> Result<(), RequestError> {
        connection
            .request(|reply| {
                Request::Storage(StorageRequest::DeleteVolume {
                    pool: uploaded.pool,
                    name: uploaded.name,
                    reply,
                })
            })
            .await
    }
}
