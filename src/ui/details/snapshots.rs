//! The Snapshots page of the details: the followed machine's snapshots as a tree (children
//! indented under their parent), the current one marked, each with its screenshot, name,
//! time, state then, kind and description; taking one ([`CreateDialog`]), reverting to one
//! (asked first, [`RevertDialog`]), deleting one or one with its children.
//!
//! What a snapshot is made of, and which kind a machine takes, is decided by the worker
//! (`backend::snapshots`); the page asks it and shows the answer. One operation at a time:
//! while one runs the page says which and its actions are off, so nothing starts twice.

mod create_dialog;
mod revert_dialog;
mod row;

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::snapshots::ExternalReason;
use crate::ui::backend::{
    Request, RequestError, SnapshotError, SnapshotInfo, SnapshotKind, SnapshotRequest, Snapshots,
};
use crate::ui::util::{show_error, BoundObject, Closures, Failure};
use crate::ui::{Connection, Domain, InWords};
use gtk::subclass::prelude::*;
use gtk::{gio, glib, prelude::*, CompositeTemplate};
use std::cell::{Cell, RefCell};

pub use create_dialog::CreateDialog;
pub use revert_dialog::RevertDialog;

/// The page's actions, in the `snapshots` group; those with a snapshot take its name.
const ACTIONS: [&str; 4] = [
    "snapshots.create",
    "snapshots.revert",
    "snapshots.delete",
    "snapshots.delete-children",
];

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::SnapshotsPage)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/details/snapshots.ui")]
    pub struct SnapshotsPage {
        #[template_child]
        pub list: TemplateChild<gtk::ListBox>,
        /// The machine shown, or none.
        #[property(get = Self::domain, set = Self::set_domain, nullable, type = Option<Domain>)]
        pub domain: BoundObject<Domain>,
        /// The connection the machine is on, which does the work.
        #[property(get, set = Self::set_connection, nullable)]
        pub connection: RefCell<Option<Connection>>,
        /// What runs now, in words ("Taking a snapshot…"); empty when idle.
        #[property(get)]
        pub busy: RefCell<String>,
        /// What a new snapshot will be, or why none can be taken.
        #[property(get)]
        pub plan: RefCell<String>,
        /// Whether a snapshot can be taken now.
        #[property(get)]
        pub can_create: Cell<bool>,
        /// Whether the machine has no snapshots.
        #[property(get)]
        pub empty: Cell<bool>,
        /// The last answer: the snapshots, in tree order.
        pub snapshots: RefCell<Vec<SnapshotInfo>>,
        /// Rows of [`SnapshotInfo`]s (in `BoxedAnyObject`s) with their depth in the tree.
        pub rows: gio::ListStore,
    }

    impl Default for SnapshotsPage {
        fn default() -> Self {
            Self {
                list: TemplateChild::default(),
                domain: BoundObject::default(),
                connection: RefCell::default(),
                busy: RefCell::default(),
                plan: RefCell::default(),
                can_create: Cell::default(),
                empty: Cell::new(true),
                snapshots: RefCell::default(),
                rows: gio::ListStore::new::<glib::BoxedAnyObject>(),
            }
        }
    }

    impl SnapshotsPage {
        fn domain(&self) -> Option<Domain> {
            self.domain.get()
        }

        fn set_domain(&self, domain: Option<Domain>) {
            let obj = self.obj();
            let followed = self.domain.follow(domain.as_ref(), |domain| {
                // Started or stopped: a new snapshot's memory and the current marker change.
                vec![domain.connect_active_notify(glib::clone!(
                    #[weak]
                    obj,
                    move |_| obj.refresh()
                ))]
            });
            if followed {
                obj.show(Vec::new(), String::new(), false);
                obj.refresh();
            }
        }

        fn set_connection(&self, connection: Option<Connection>) {
            if *self.connection.borrow() != connection {
                self.connection.replace(connection);
                self.obj().refresh();
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for SnapshotsPage {
        const NAME: &'static str = "VdSnapshotsPage";
        type Type = super::SnapshotsPage;
        type ParentType = gtk::Box;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            Closures::bind_template_callbacks(klass);
            klass.install_action("snapshots.create", None, |page, _, _| {
                page.ask_create();
            });
            klass.install_action(
                "snapshots.revert",
                Some(glib::VariantTy::STRING),
                |page, _, name| {
                    if let Some(name) = name.and_then(|n| n.str()) {
                        page.ask_revert(name);
                    }
                },
            );
            for (action, children) in [
                ("snapshots.delete", false),
                ("snapshots.delete-children", true),
            ] {
                klass.install_action(
                    action,
                    Some(glib::VariantTy::STRING),
                    move |page, _, name| {
                        if let Some(name) = name.and_then(|n| n.str()) {
                            page.delete(name.to_owned(), children);
                        }
                    },
                );
            }
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for SnapshotsPage {
        fn constructed(&self) {
            self.parent_constructed();
            self.list.bind_model(Some(&self.rows), |item| {
                let item = item.downcast_ref::<glib::BoxedAnyObject>().expect("a row");
                let (snapshot, depth) = &*item.borrow::<(SnapshotInfo, usize)>();
                row::snapshot_row(snapshot, *depth).upcast()
            });
            self.obj().set_actions_enabled();
        }
    }

    impl WidgetImpl for SnapshotsPage {}
    impl BoxImpl for SnapshotsPage {}
}

glib::wrapper! {
    pub struct SnapshotsPage(ObjectSubclass<imp::SnapshotsPage>)
        @extends gtk::Box, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Orientable;
}

impl SnapshotsPage {
    /// The names of the snapshots shown.
    pub fn names(&self) -> Vec<String> {
        self.imp()
            .snapshots
            .borrow()
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    /// Asks the worker for the machine's snapshots and shows them, unless an operation
    /// runs (it refreshes when done).
    fn refresh(&self) {
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        if !self.busy().is_empty() {
            return;
        }
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let uuid = domain.uuid();
                let answer = connection
                    .request(|reply| Request::Snapshot(SnapshotRequest::List { uuid, reply }))
                    .await;
                if page.domain().as_ref() != Some(&domain) {
                    return;
                }
                match answer {
                    Ok(Snapshots { list, plan }) => {
                        let running = domain.active();
                        let (words, can) = match plan {
                            Ok(kind) => (plan_words(kind, running), true),
                            Err(error) => (snapshot_error_words(&error), false),
                        };
                        page.show(list, words, can);
                    }
                    Err(error) => page.show(Vec::new(), error.in_words(), false),
                }
            }
        ));
    }

    fn show(&self, list: Vec<SnapshotInfo>, plan: String, can_create: bool) {
        let imp = self.imp();
        let rows: Vec<glib::BoxedAnyObject> = (0..list.len())
            .map(|i| {
                let depth = crate::ui::backend::snapshots::depth(&list, i);
                glib::BoxedAnyObject::new((list[i].clone(), depth))
            })
            .collect();
        let empty = list.is_empty();
        imp.snapshots.replace(list);
        imp.rows.splice(0, imp.rows.n_items(), &rows);
        if imp.empty.replace(empty) != empty {
            self.notify_empty();
        }
        if *imp.plan.borrow() != plan {
            imp.plan.replace(plan);
            self.notify_plan();
        }
        if imp.can_create.replace(can_create) != can_create {
            self.notify_can_create();
        }
        self.set_actions_enabled();
    }

    fn set_busy(&self, what: String) {
        self.imp().busy.replace(what);
        self.notify_busy();
        self.set_actions_enabled();
    }

    /// Nothing starts while something runs; a snapshot is taken only when the worker said
    /// which kind it can be.
    fn set_actions_enabled(&self) {
        let idle = self.busy().is_empty();
        for action in ACTIONS {
            let enabled = idle && (action != "snapshots.create" || self.can_create());
            self.action_set_enabled(action, enabled);
        }
    }

    fn ask_create(&self) {
        let dialog = CreateDialog::new(self);
        dialog.set_transient_for(self.root().and_downcast_ref::<gtk::Window>());
        dialog.present();
    }

    fn ask_revert(&self, name: &str) {
        let dialog = RevertDialog::new(self, name);
        dialog.set_transient_for(self.root().and_downcast_ref::<gtk::Window>());
        dialog.present();
    }

    /// Takes snapshot `name`; then reverts to `then_revert` if given (the revert dialog's
    /// "Take Snapshot and Revert").
    pub fn create(&self, name: String, description: String, then_revert: Option<String>) {
        let title = gettext("Could not take the snapshot");
        self.run(
            gettext("Taking a snapshot…"),
            title,
            move |uuid, reply| SnapshotRequest::Create {
                uuid,
                name,
                description,
                reply,
            },
            move |page, _| {
                if let Some(target) = then_revert {
                    page.revert(target);
                }
            },
        );
    }

    /// Reverts to snapshot `name`, without asking.
    pub fn revert(&self, name: String) {
        let title = gettext("Could not revert to the snapshot");
        self.run(
            gettext("Reverting…"),
            title,
            |uuid, reply| SnapshotRequest::Revert { uuid, name, reply },
            |_, _| {},
        );
    }

    fn delete(&self, name: String, children: bool) {
        let title = gettext("Could not delete the snapshot");
        self.run(
            gettext("Deleting…"),
            title,
            move |uuid, reply| SnapshotRequest::Delete {
                uuid,
                name,
                children,
                reply,
            },
            |_, _| {},
        );
    }

    /// Runs one operation on the worker, saying `doing` meanwhile; a failure is told under
    /// `failed`; `then` follows a success. The list is read again afterwards.
    fn run<T: 'static>(
        &self,
        doing: String,
        failed: String,
        make: impl FnOnce(String, crate::ui::backend::Reply<T>) -> SnapshotRequest + 'static,
        then: impl FnOnce(&Self, T) + 'static,
    ) {
        let (Some(domain), Some(connection)) = (self.domain(), self.connection()) else {
            return;
        };
        if !self.busy().is_empty() {
            return;
        }
        self.set_busy(doing);
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = page)]
            self,
            async move {
                let uuid = domain.uuid();
                let answer = connection
                    .request(move |reply| Request::Snapshot(make(uuid, reply)))
                    .await;
                page.set_busy(String::new());
                match answer {
                    Ok(value) => then(&page, value),
                    Err(error) => {
                        let detail = request_error_words(&error);
                        show_error(&page, &Failure::with_detail(failed, detail));
                    }
                }
                page.refresh();
            }
        ));
    }
}

/// What a new snapshot will be, in words.
fn plan_words(kind: SnapshotKind, running: bool) -> String {
    match (kind, running) {
        (SnapshotKind::Internal, true) => {
            gettext("New snapshots are internal (in the qcow2 disks) and keep the memory.")
        }
        (SnapshotKind::Internal, false) => {
            gettext("New snapshots are internal (in the qcow2 disks).")
        }
        (SnapshotKind::External, true) => gettext(
            "New snapshots are external (overlay files beside the disks) and keep the memory.",
        ),
        (SnapshotKind::External, false) => {
            gettext("New snapshots are external (overlay files beside the disks).")
        }
    }
}

fn kind_word(kind: SnapshotKind) -> String {
    match kind {
        SnapshotKind::Internal => gettext("internal"),
        SnapshotKind::External => gettext("external"),
    }
}

fn reason_words(reason: &ExternalReason) -> String {
    match reason {
        ExternalReason::Uefi => gettext("it boots with UEFI"),
        ExternalReason::NotQcow2 { target, format } => gettext_f(
            // Translators: {disk} is a disk's target such as vda, {format} an image format such as raw.
            "its disk {disk} is {format}, not qcow2",
            &[("disk", target), ("format", format)],
        ),
        ExternalReason::None => gettext("all its writable disks are qcow2"),
    }
}

/// A refusal in the user's language.
fn snapshot_error_words(error: &SnapshotError) -> String {
    match error {
        SnapshotError::MixedKinds {
            existing,
            needed,
            reason,
        } => gettext_f(
            // Translators: {existing} and {needed} are "internal" or "external"; {reason} says why, e.g. "it boots with UEFI".
            "This machine’s snapshots are {existing}, but a new one would have to be {needed} ({reason}). The two kinds cannot be mixed on one machine: delete the existing snapshots first.",
            &[
                ("existing", &kind_word(existing.0)),
                ("needed", &kind_word(needed.0)),
                ("reason", &reason_words(reason)),
            ],
        ),
        SnapshotError::NoDisk => gettext("This machine has no writable disk to snapshot."),
        SnapshotError::EmptyName => gettext("A snapshot needs a name."),
        SnapshotError::BadName => gettext("A snapshot name cannot contain “/” or begin with “.”."),
        SnapshotError::NameTaken(name) => gettext_f(
            // Translators: {name} is a snapshot's name.
            "There is already a snapshot called “{name}”.",
            &[("name", name)],
        ),
        SnapshotError::NoPlaceForMemory => gettext(
            "There is no writable disk or UEFI variable file to keep the memory state beside.",
        ),
        SnapshotError::Xml(_) => error.to_string(),
    }
}

fn request_error_words(error: &RequestError) -> String {
    match error {
        RequestError::Snapshot(error) => snapshot_error_words(error),
        other => other.in_words(),
    }
}

/// A new snapshot's default name: the time now.
fn default_name() -> String {
    glib::DateTime::now_local()
        .and_then(|now| now.format("%Y-%m-%d %H.%M.%S"))
        .map(String::from)
        .unwrap_or_else(|_| gettext("Snapshot"))
}

/// Whether `name` can be a new snapshot's name next to `existing`; why not, in words.
fn name_problem(name: &str, existing: &[String]) -> Option<String> {
    crate::ui::backend::snapshots::check_name(name.trim(), existing.iter().map(String::as_str))
        .err()
        .map(|e| snapshot_error_words(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_typed() {
        let existing = vec!["a".to_owned()];
        assert_eq!(name_problem("b", &existing), None);
        assert_eq!(
            name_problem("a", &existing).as_deref(),
            Some("There is already a snapshot called “a”.")
        );
        assert!(name_problem("", &existing).is_some());
        assert_eq!(name_problem(&default_name(), &existing), None);
    }
}
