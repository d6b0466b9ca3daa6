//! Finish: check the spec once more against a fresh look at the host, then have the
//! connection's worker create the machine while the summary page shows the progress.

use super::build::set_text;
use super::load::read_host;
use super::Wizard;
use crate::i18n::{gettext, gettext_f};
use crate::libvirt::Request;
use crate::spec::create::Progress;
use crate::spec::VmSpec;
use crate::ui::Connection;
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
    fn set_busy(&self, busy: bool) {
        let imp = self.imp();
        imp.busy.set(busy);
        imp.stack.set_sensitive(!busy);
        imp.back_button.set_sensitive(!busy);
        imp.cancel_button.set_sensitive(!busy);
        imp.progress_box.set_visible(busy);
        if busy {
            set_text(&imp.summary_problems, "");
        }
        self.check_page();
    }

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
        if self.imp().busy.get() || !self.check_page() {
            return;
        }
        self.set_busy(true);
        self.imp()
            .progress_label
            .set_label(&gettext("Checking the host…"));
        self.imp().progress_bar.pulse();
        let Some(connection) = self.connection() else {
            return;
        };
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = wizard)]
            self,
            async move {
                // Bridges and names may have changed since the host was read.
                let reading = read_host(&connection).await;
                let imp = wizard.imp();
                if let Some(reading) = reading {
                    imp.networks.replace(reading.networks);
                    imp.facts.replace(Some(reading.facts));
                }
                let (spec, review) = wizard.review();
                match spec {
                    Some(spec) if review.problems.is_empty() => {
                        wizard.create(&connection, spec).await
                    }
                    _ => {
                        wizard.set_busy(false);
                    }
                }
            }
        ));
    }

    /// Creates the machine on `connection`'s worker, showing each step as it begins.
    async fn create(&self, connection: &Connection, spec: VmSpec) {
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
        self.set_busy(false);
        match outcome {
            Ok(created) => {
                tracing::info!(name = %created.name, "created from the wizard");
                if let Some(window) = self.imp().window.upgrade() {
                    window.reveal_domain(&spec.uri, &created.name, created.started);
                }
                self.close();
            }
            Err(error) => set_text(
                &self.imp().summary_problems,
                &gettext_f(
                    // Translators: {reason} is libvirt's explanation.
                    "The virtual machine was not created. {reason} Nothing was left behind; go back to change your choices and try again.",
                    &[("reason", &error.to_string())],
                ),
            ),
        }
    }
}
