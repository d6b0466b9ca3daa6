//! Cloning a shut-off machine: a new name (checked as it is typed against the machines of
//! the connection), full or linked, then the copy with its progress and Cancel. What the
//! clone is made of is the worker's business (`backend::clone`); a failure is told through
//! the error path, with anything that could not be removed.

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::clone::CloneError;
use crate::ui::backend::{CloneKind, CloneProgress, CloneRequest, Request, RequestError};
use crate::ui::domain::format_memory;
use crate::ui::util::{show_error, Closures, Failure};
use crate::ui::{Connection, Domain, InWords};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{glib, CompositeTemplate};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::CloneDialog)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/clone_dialog.ui")]
    pub struct CloneDialog {
        #[template_child]
        pub name: TemplateChild<gtk::Entry>,
        #[template_child]
        pub linked: TemplateChild<gtk::CheckButton>,
        /// The machine to clone.
        #[property(get, construct_only)]
        pub domain: RefCell<Option<Domain>>,
        #[property(get, construct_only)]
        pub connection: RefCell<Option<Connection>>,
        /// Why the name cannot be used; empty when it can.
        #[property(get)]
        pub problem: RefCell<String>,
        /// A clone is being made.
        #[property(get)]
        pub cloning: Cell<bool>,
        /// How far, 0 to 1, and in words.
        #[property(get)]
        pub fraction: Cell<f64>,
        #[property(get)]
        pub progress: RefCell<String>,
        /// Set to stop the clone at its next step.
        pub cancel: Arc<AtomicBool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for CloneDialog {
        const NAME: &'static str = "VdCloneDialog";
        type Type = super::CloneDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_callbacks();
            Closures::bind_template_callbacks(klass);
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl CloneDialog {
        #[template_callback]
        fn name_changed(&self) {
            let obj = self.obj();
            let problem = obj.name_problem(self.name.text().trim());
            if *self.problem.borrow() != problem {
                self.problem.replace(problem);
                obj.notify_problem();
            }
        }

        #[template_callback]
        fn cancel_clicked(&self) {
            if self.cloning.get() {
                self.cancel.store(true, Ordering::Relaxed);
                self.obj()
                    .set_progress(None, gettext("Cancelling after this step…"));
            } else {
                self.obj().close();
            }
        }

        #[template_callback]
        fn clone_clicked(&self) {
            self.obj().start();
        }

        #[template_callback(function)]
        fn can_clone(problem: Option<&str>, cloning: bool) -> bool {
            problem.is_none_or(str::is_empty) && !cloning
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for CloneDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            let source = obj.domain().map(|d| d.name()).unwrap_or_default();
            obj.set_title(Some(&gettext_f(
                // Translators: {name} is the name of a virtual machine.
                "Clone “{name}”",
                &[("name", &source)],
            )));
            self.name.set_text(&gettext_f(
                // Translators: the default name of a clone; {name} is the original's.
                "{name}-clone",
                &[("name", &source)],
            ));
            self.name_changed();
        }
    }

    impl WidgetImpl for CloneDialog {}
    impl WindowImpl for CloneDialog {
        fn close_request(&self) -> glib::Propagation {
            // A clone on its way is cancelled, not abandoned half-made.
            if self.cloning.get() {
                self.cancel_clicked();
                return glib::Propagation::Stop;
            }
            glib::Propagation::Proceed
        }
    }
    impl AdwWindowImpl for CloneDialog {}
}

glib::wrapper! {
    pub struct CloneDialog(ObjectSubclass<imp::CloneDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native,
            gtk::Root, gtk::ShortcutManager;
}

/// Opens the clone dialog for `domain`, over `widget`'s window.
pub fn open(widget: &gtk::Widget, connection: &Connection, domain: &Domain) {
    let dialog: CloneDialog = glib::Object::builder()
        .property("domain", domain)
        .property("connection", connection)
        .build();
    dialog.set_transient_for(widget.root().and_downcast_ref::<gtk::Window>());
    dialog.present();
}

/// Lets the template `domain` start again; a failure goes through the error path.
pub fn unmark_template(widget: &gtk::Widget, connection: &Connection, domain: &Domain) {
    let uuid = domain.uuid();
    let (widget, connection) = (widget.clone(), connection.clone());
    glib::spawn_future_local(async move {
        let answer = connection
            .request(|reply| {
                Request::Clone(CloneRequest::SetTemplate {
                    uuid,
                    template: false,
                    reply,
                })
            })
            .await;
        if let Err(error) = answer {
            show_error(
                &widget,
                &Failure::with_detail(gettext("Could not unmark the template"), error.in_words()),
            );
        }
    });
}

impl CloneDialog {
    /// Why `name` cannot be the clone's name, in words; empty when it can.
    fn name_problem(&self, name: &str) -> String {
        if name.is_empty() {
            return gettext("A virtual machine needs a name.");
        }
        if name.contains('/') {
            return gettext("A name cannot contain “/”.");
        }
        match self.connection() {
            Some(c) if c.domain_by_name(name).is_some() => gettext_f(
                // Translators: {name} is the name of a virtual machine.
                "There is already a virtual machine called “{name}”.",
                &[("name", name)],
            ),
            _ => String::new(),
        }
    }

    fn set_progress(&self, fraction: Option<f64>, words: String) {
        let imp = self.imp();
        if let Some(fraction) = fraction {
            imp.fraction.set(fraction);
            self.notify_fraction();
        }
        imp.progress.replace(words);
        self.notify_progress();
    }

    fn set_cloning(&self, cloning: bool) {
        self.imp().cloning.set(cloning);
        self.notify_cloning();
    }

    fn start(&self) {
        let imp = self.imp();
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        if imp.cloning.get() || !self.problem().is_empty() {
            return;
        }
        let name = imp.name.text().trim().to_owned();
        let kind = if imp.linked.is_active() {
            CloneKind::Linked
        } else {
            CloneKind::Full
        };
        imp.cancel.store(false, Ordering::Relaxed);
        self.set_cloning(true);
        self.set_progress(Some(0.0), gettext("Starting…"));
        let (progress, steps) = async_channel::unbounded::<CloneProgress>();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                while let Ok(step) = steps.recv().await {
                    if !dialog.imp().cancel.load(Ordering::Relaxed) {
                        dialog.set_progress(Some(fraction(&step)), progress_words(&step));
                    }
                }
            }
        ));
        let cancel = imp.cancel.clone();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let uuid = domain.uuid();
                let answer = connection
                    .request(|reply| {
                        Request::Clone(CloneRequest::Clone {
                            uuid,
                            name,
                            kind,
                            progress,
                            cancel,
                            reply,
                        })
                    })
                    .await;
                dialog.set_cloning(false);
                let parent = dialog.transient_for();
                dialog.close();
                match answer {
                    Ok(_) => {}
                    Err(RequestError::Clone(failure))
                        if failure.error == CloneError::Cancelled
                            && failure.left_behind.is_empty() => {}
                    Err(error) => {
                        let title = gettext_f(
                            // Translators: {name} is the name of a virtual machine.
                            "Could not clone “{name}”",
                            &[("name", &domain.name())],
                        );
                        let failure = Failure::with_detail(title, failure_words(&error));
                        match parent {
                            Some(parent) => show_error(&parent, &failure),
                            None => show_error(&dialog, &failure),
                        }
                    }
                }
            }
        ));
    }
}

fn fraction(step: &CloneProgress) -> f64 {
    let disk = if step.total == 0 {
        1.0
    } else {
        (step.done as f64 / step.total as f64).min(1.0)
    };
    ((step.disk - 1) as f64 + disk) / step.disks.max(1) as f64
}

fn progress_words(step: &CloneProgress) -> String {
    gettext_f(
        // Translators: {disk} and {disks} count disks, {target} is a disk such as vda, {done} and {total} are sizes.
        "Disk {disk} of {disks} ({target}): {done} of {total}",
        &[
            ("disk", &step.disk.to_string()),
            ("disks", &step.disks.to_string()),
            ("target", &step.target),
            ("done", &format_memory(step.done / 1024)),
            ("total", &format_memory(step.total / 1024)),
        ],
    )
}

/// Why the clone failed, and what the user has to remove by hand.
fn failure_words(error: &RequestError) -> String {
    let RequestError::Clone(failure) = error else {
        return error.in_words();
    };
    let reason = match &failure.error {
        CloneError::Running => gettext(
            "Shut the machine down first: a running machine’s disks change while they are copied.",
        ),
        CloneError::Cancelled => gettext("The clone was cancelled."),
        other => other.to_string(),
    };
    if failure.left_behind.is_empty() {
        return gettext_f(
            // Translators: {reason} says why.
            "{reason} Nothing was left behind.",
            &[("reason", &reason)],
        );
    }
    let mut words = gettext_f(
        // Translators: {reason} says why; a list of files follows.
        "{reason} These could not be removed:",
        &[("reason", &reason)],
    );
    for (path, why) in &failure.left_behind {
        words.push_str(&format!("\n• {path}: {why}"));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_spans_all_disks() {
        let step = |disk, done| CloneProgress {
            disk,
            disks: 2,
            target: "vda".into(),
            done,
            total: 100,
        };
        assert_eq!(fraction(&step(1, 0)), 0.0);
        assert_eq!(fraction(&step(1, 100)), 0.5);
        assert_eq!(fraction(&step(2, 50)), 0.75);
        assert_eq!(fraction(&step(2, 100)), 1.0);
    }
}
