//! Finish: check the spec once more against a fresh look at the host, then create the
//! machine on a worker thread while the summary page shows the progress.

use super::build::set_text;
use super::load::read_host;
use super::page::Page;
use super::Wizard;
use crate::i18n::{gettext, gettext_f};
use crate::spec::create::{create_vm, Created, Progress};
use crate::spec::VmSpec;
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib};

/// What the creating thread reports.
enum Report {
    Step(Progress),
    Done(Result<Created, String>),
}

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
        let Some(uri) = imp.source_page.connection().map(|c| c.uri()) else {
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
                if let Ok(reading) = gio::spawn_blocking(move || read_host(&uri)).await {
                    wizard.imp().facts.replace(Some(reading.facts));
                }
                match wizard.show_review() {
                    Some(spec) => wizard.create(spec).await,
                    None => wizard.set_busy(false),
                }
            }
        ));
    }

    async fn create(&self, spec: VmSpec) {
        let (sender, receiver) = async_channel::unbounded();
        let thread_spec = spec.clone();
        let spawned = std::thread::Builder::new()
            .name("create-vm".into())
            .spawn(move || {
                let step = sender.clone();
                let mut progress = move |p: Progress| {
                    let _ = step.send_blocking(Report::Step(p));
                };
                let result = create_vm(&thread_spec, &mut progress).map_err(|e| e.to_string());
                let _ = sender.send_blocking(Report::Done(result));
            });
        let mut outcome = Err(gettext("The creation could not begin."));
        if spawned.is_ok() {
            while let Ok(report) = receiver.recv().await {
                match report {
                    Report::Step(progress) => self.show_progress(&progress),
                    Report::Done(result) => {
                        outcome = result;
                        break;
                    }
                }
            }
        }
        self.set_busy(false);
        match outcome {
            Ok(created) => {
                tracing::info!(name = %created.name, "created from the wizard");
                if let Some(window) = self.imp().window.upgrade() {
                    window.reveal_domain(&spec.uri, &created.name, created.started);
                }
                self.close();
            }
            Err(reason) => set_text(
                &self.imp().summary_problems,
                &gettext_f(
                    // Translators: {reason} is libvirt's explanation.
                    "The virtual machine was not created. {reason} Nothing was left behind; go back to change your choices and try again.",
                    &[("reason", &reason)],
                ),
            ),
        }
    }
}
