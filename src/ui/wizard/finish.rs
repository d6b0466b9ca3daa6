//! Finish: check the spec once more against a fresh look at the host, then have the
//! connection's worker create the machine while the summary page shows the progress.

use super::build::set_text;
use super::load::read_host;
use super::page::Page;
use super::Wizard;
use crate::i18n::{gettext, gettext_f};
use crate::spec::create::Progress;
use crate::spec::VmSpec;
use crate::ui::backend::Request;
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
