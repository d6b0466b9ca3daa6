//! Finish: check the spec once more against a fresh look at the host, then have the
//! connection's worker create the machine while the summary page shows the progress.

use super::build::set_text;
use super::load::read_host;
use super::page::Page;
use super::upload::image_to_upload;
use super::Wizard;
use crate::i18n::{gettext, gettext_f};
use crate::spec::create::{Made, Progress};
use crate::spec::VmSpec;
use crate::ui::backend::{Request, RequestError, StorageError};
use crate::ui::Connection;
use crate::ui::InWords;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

fn progress_text(progress: &Progress) -> (String, Option<f64>) {
    match progress {
        Progress::PreparingStorage => (gettext("Preparing the storage pool…"), None),
        Progress::AllocatingDisk { fraction } => (gettext("Allocating the disk…"), Some(*fraction)),
        Progress::Defining => (gettext("Defining the virtual machine…"), None),
        Progress::Starting => (gettext("Starting the virtual machine…"), None),
    }
}

impl Wizard {
    fn show_progress(&self, progress: &Progress) {
        let imp = self.imp();
        let (text, fraction) = progress_text(progress);
        imp.progress_label.set_label(&text);
        match fraction {
            Some(fraction) => imp.progress_bar.set_fraction(fraction),
            None => imp.progress_bar.pulse(),
        }
    }

    pub(super) fn finish(&self) {
        let imp = self.imp();
        if !Page::Summary.can_go_on(self) {
            return;
        }
        let Some(connection) = imp.source_page.connection() else {
            return;
        };
        set_text(&imp.summary_problems, "");
        self.set_busy(true);
        imp.progress_label.set_label(&gettext("Checking the host…"));
        imp.progress_bar.pulse();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                // Bridges and names may have changed since the host was read.
                if let Some(reading) = read_host(&connection).await {
                    wizard.imp().facts.replace(Some(reading.facts));
                }
                match wizard.show_review() {
                    Some(spec) => wizard.create(&connection, spec).await,
                    None => wizard.set_busy(false),
                }
            }
        ));
    }

    /// Creates the machine on `connection`'s worker, showing each step as it begins; a
    /// local image for a remote host is uploaded first.
    async fn create(&self, connection: &Connection, mut spec: VmSpec) {
        let paths_are_local =
            matches!(&*self.imp().facts.borrow(), Some(Ok(f)) if f.paths_are_local);
        let uploaded = match image_to_upload(&spec, paths_are_local) {
            Some(upload) => match self.upload_image(connection, upload, &mut spec).await {
                Ok(uploaded) => Some(uploaded),
                Err(error) => {
                    self.set_busy(false);
                    set_text(&self.imp().summary_problems, &not_uploaded(&error));
                    return;
                }
            },
            None => None,
        };
        let (progress, steps) = async_channel::unbounded();
        // Ends when the worker drops `progress`, after the last step.
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                while let Ok(step) = steps.recv().await {
                    wizard.show_progress(&step);
                }
            }
        ));
        let outcome = connection
            .request(|reply| Request::CreateVm {
                spec: Box::new(spec.clone()),
                progress,
                reply,
            })
            .await;
        let mut left_upload = None;
        // Where the image went, said once the machine is made.
        let mut went = None;
        if let (Ok(_), Some(uploaded)) = (&outcome, &uploaded) {
            went = Some(gettext_f(
                // Translators: {name} is an image file uploaded for the new machine, {pool} the storage pool on the host it went into.
                "The image “{name}” was uploaded into the pool “{pool}” of the host.",
                &[("name", &uploaded.name), ("pool", &uploaded.pool)],
            ));
        }
        if let (Err(_), Some(uploaded)) = (&outcome, uploaded) {
            let (pool, name) = (uploaded.pool.clone(), uploaded.name.clone());
            if let Err(error) = self.remove_upload(connection, uploaded).await {
                left_upload = Some(gettext_f(
                    // Translators: {name} is a volume uploaded for the machine, {pool} its storage pool on the host; {reason} says why it stayed.
                    "The uploaded image “{name}” stays in the pool “{pool}” of the host: {reason}",
                    &[
                        ("name", &name),
                        ("pool", &pool),
                        ("reason", &error.in_words()),
                    ],
                ));
            }
        }
        self.set_busy(false);
        match outcome {
            Ok(created) => {
                tracing::info!(name = %created.name, "created from the wizard");
                if let Some(window) = self.imp().window.upgrade() {
                    window.reveal_domain(&spec.uri, &created.name, created.started);
                    if let Some(went) = went {
                        window.toast(&went);
                    }
                }
                self.close();
            }
            Err(error) => {
                let text = not_created(&error, &spec.name);
                let text = match left_upload {
                    Some(left) => format!("{text}\n{left}"),
                    None => text,
                };
                set_text(&self.imp().summary_problems, &text);
            }
        }
    }
}

/// Why the local image did not reach the remote host; the upload leaves no volume behind.
fn not_uploaded(error: &RequestError) -> String {
    if matches!(error, RequestError::Storage(StorageError::Cancelled)) {
        return gettext(
            "The upload was cancelled and the virtual machine was not created. Nothing was left behind.",
        );
    }
    gettext_f(
        // Translators: {reason} says why the image file could not be copied to the remote host.
        "The installation image could not be uploaded to the host, so the virtual machine was not created. {reason} Nothing was left behind.",
        &[("reason", &error.in_words())],
    )
}

/// Why the machine `name` was not created, and what of it the user has to remove: that
/// nothing was left behind is said only when the worker removed everything it made.
fn not_created(error: &RequestError, name: &str) -> String {
    let (reason, left_behind) = match error {
        RequestError::Create(failure) => (failure.error.to_string(), &failure.left_behind[..]),
        // The worker stopped half-way: what it made may still be there.
        RequestError::Stopped => {
            return gettext_f(
                // Translators: {reason} says why; {name} is the new machine's name.
                "The virtual machine was not created. {reason} Part of it may be left behind: look for a virtual machine called “{name}” and its disk image, and remove them before you try again.",
                &[("reason", &error.in_words()), ("name", name)],
            );
        }
        other => (other.in_words(), &[][..]),
    };
    if left_behind.is_empty() {
        return gettext_f(
            // Translators: {reason} is libvirt's explanation.
            "The virtual machine was not created. {reason} Nothing was left behind; go back to change your choices and try again.",
            &[("reason", &reason)],
        );
    }
    let items: Vec<String> = left_behind
        .iter()
        .map(|left| match &left.what {
            Made::Domain(name) => gettext_f(
                // Translators: a line of a list of what could not be removed; {reason} is libvirt's.
                "• the virtual machine “{name}”: {reason}",
                &[("name", name), ("reason", &left.reason)],
            ),
            Made::Volume(path) => gettext_f(
                // Translators: a line of a list of what could not be removed; {reason} is libvirt's.
                "• the disk image {path}: {reason}",
                &[("path", path), ("reason", &left.reason)],
            ),
        })
        .collect();
    gettext_f(
        // Translators: {reason} is libvirt's explanation; {leftovers} is a list, one item a line.
        "The virtual machine was not created. {reason} What was made on the way could not all be removed; remove these yourself, then go back to change your choices and try again:\n{leftovers}",
        &[("reason", &reason), ("leftovers", &items.join("\n"))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::create::{CreateError, CreateFailure, Leftover};

    fn failure(left_behind: Vec<Leftover>) -> RequestError {
        RequestError::Create(CreateFailure {
            error: CreateError::Start {
                reason: "No bridge.".into(),
            },
            left_behind,
        })
    }

    #[test]
    fn nothing_left_behind_only_after_a_clean_rollback() {
        let clean = not_created(&failure(Vec::new()), "vm");
        assert!(clean.contains("Nothing was left behind"), "{clean}");
        assert!(
            clean.contains("could not be started: No bridge."),
            "{clean}"
        );

        let left = not_created(
            &failure(vec![
                Leftover {
                    what: Made::Domain("vm".into()),
                    reason: "Busy.".into(),
                },
                Leftover {
                    what: Made::Volume("/p/vm.qcow2".into()),
                    reason: "Permission denied.".into(),
                },
            ]),
            "vm",
        );
        assert!(!left.contains("Nothing was left behind"), "{left}");
        assert!(
            left.contains("\n• the virtual machine “vm”: Busy."),
            "{left}"
        );
        assert!(
            left.ends_with("\n• the disk image /p/vm.qcow2: Permission denied."),
            "{left}"
        );

        let stopped = not_created(&RequestError::Stopped, "vm");
        assert!(!stopped.contains("Nothing was left behind"), "{stopped}");
        assert!(stopped.contains("“vm”"), "{stopped}");
        let offline = not_created(&RequestError::NotConnected, "vm");
        assert!(offline.contains("Nothing was left behind"), "{offline}");
    }
}
