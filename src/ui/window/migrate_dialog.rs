//! Moves a virtual machine to another connected host: the destination among the other
//! connections that are connected, live or not, copying the storage (all of it, or only the
//! top layer over backing images the destination has) or not, a bandwidth limit, host to
//! host (peer-to-peer); then a progress bar with the rate, what remains and the expected
//! pause, and Cancel. The worker runs
//! the migration ([`MigrationRequest::Migrate`]); the outcome is a toast: in the main window
//! when the machine moved (the dialog closes), in the dialog when it did not (it stays open,
//! the machine still where it was).

use crate::i18n::{gettext, gettext_f};
use crate::ui::backend::{
    MigrationError, MigrationOptions, MigrationProgress, MigrationRequest, Request, RequestError,
    StorageCopy,
};
use crate::ui::util::{error_dialog, show_error, Failure};
use crate::ui::{Application, Connection, Domain};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::{gio, glib, CompositeTemplate};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod imp {
    use super::*;
    use glib::Properties;

    #[derive(Default, CompositeTemplate, Properties)]
    #[properties(wrapper_type = super::MigrateDialog)]
    #[template(resource = "/io/github/virtdeck/Virtdeck/ui/window/migrate_dialog.ui")]
    pub struct MigrateDialog {
        #[template_child]
        pub hosts: TemplateChild<gtk::StringList>,
        #[template_child]
        pub destination: TemplateChild<adw::ComboRow>,
        #[template_child]
        pub live: TemplateChild<gtk::Switch>,
        #[template_child]
        pub copy_storage: TemplateChild<gtk::Switch>,
        #[template_child]
        pub bandwidth: TemplateChild<gtk::SpinButton>,
        #[template_child]
        pub incremental: TemplateChild<gtk::Switch>,
        #[template_child]
        pub peer_to_peer: TemplateChild<gtk::Switch>,
        /// The machine to move.
        #[property(get, construct_only)]
        pub domain: RefCell<Option<Domain>>,
        /// Its connection, the source.
        #[property(get, construct_only)]
        pub connection: RefCell<Option<Connection>>,
        /// Whether a migration runs.
        #[property(get)]
        pub running: Cell<bool>,
        /// The opposite of `running`: the options and Migrate are usable.
        #[property(get)]
        pub idle: Cell<bool>,
        #[property(get)]
        pub fraction: Cell<f64>,
        /// "120 MB of 300 MB — 12 MB/s, 180 MB to go", on the progress bar.
        #[property(get)]
        pub progress_text: RefCell<String>,
        /// The URIs of the hosts offered, in the order of `hosts`.
        pub uris: RefCell<Vec<String>>,
        /// Set to cancel the running migration.
        pub cancel: RefCell<Option<Arc<AtomicBool>>>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for MigrateDialog {
        const NAME: &'static str = "VdMigrateDialog";
        type Type = super::MigrateDialog;
        type ParentType = adw::Window;

        fn class_init(klass: &mut Self::Class) {
            klass.bind_template();
            klass.bind_template_instance_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[glib::derived_properties]
    impl ObjectImpl for MigrateDialog {
        fn constructed(&self) {
            self.parent_constructed();
            let obj = self.obj();
            obj.set_running(false);
            let name = obj.domain().map(|d| d.name()).unwrap_or_default();
            obj.set_title(Some(&gettext_f(
                // Translators: {name} is the name of a virtual machine.
                "Migrate “{name}”",
                &[("name", &name)],
            )));
            obj.offer_hosts();
        }
    }

    impl WidgetImpl for MigrateDialog {}
    impl WindowImpl for MigrateDialog {
        fn close_request(&self) -> glib::Propagation {
            // Closing while it runs would hide a migration that goes on.
            if self.running.get() {
                return glib::Propagation::Stop;
            }
            glib::Propagation::Proceed
        }
    }
    impl AdwWindowImpl for MigrateDialog {}
}

glib::wrapper! {
    pub struct MigrateDialog(ObjectSubclass<imp::MigrateDialog>)
        @extends adw::Window, gtk::Window, gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget, gtk::Native, gtk::Root,
            gtk::ShortcutManager;
}

#[gtk::template_callbacks]
impl MigrateDialog {
    #[template_callback]
    fn on_cancel(&self) {
        match self.imp().cancel.borrow().as_ref() {
            Some(cancel) if self.running() => {
                cancel.store(true, Ordering::Relaxed);
                self.set_progress_text(gettext("Cancelling…"));
            }
            _ => self.close(),
        }
    }

    #[template_callback]
    fn on_migrate(&self) {
        let imp = self.imp();
        let (Some(connection), Some(domain)) = (self.connection(), self.domain()) else {
            return;
        };
        let index = imp.destination.selected() as usize;
        let Some(destination) = imp.uris.borrow().get(index).cloned() else {
            show_error(
                self,
                &Failure::new(gettext(
                    "Connect to another host first: it is the destination.",
                )),
            );
            return;
        };
        // Typed digits count even when the field still has the focus.
        imp.bandwidth.update();
        let options = MigrationOptions {
            destination,
            live: imp.live.is_active(),
            storage: match (imp.copy_storage.is_active(), imp.incremental.is_active()) {
                (false, _) => StorageCopy::Shared,
                (true, false) => StorageCopy::Full,
                (true, true) => StorageCopy::Incremental,
            },
            peer_to_peer: imp.peer_to_peer.is_active(),
            bandwidth_mib: imp.bandwidth.value() as u64,
        };
        let host = imp
            .hosts
            .string(index as u32)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let cancel = Arc::new(AtomicBool::new(false));
        imp.cancel.replace(Some(cancel.clone()));
        self.set_running(true);
        self.set_fraction(0.0);
        self.set_progress_text(gettext("Starting…"));
        let (progress, progress_rx) = async_channel::unbounded::<MigrationProgress>();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                while let Ok(p) = progress_rx.recv().await {
                    dialog.show_progress(&p);
                }
            }
        ));
        let uuid = domain.uuid();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = dialog)]
            self,
            async move {
                let result = connection
                    .request(|reply| {
                        Request::Migration(MigrationRequest::Migrate {
                            uuid,
                            options,
                            progress,
                            cancel,
                            reply,
                        })
                    })
                    .await;
                dialog.set_running(false);
                dialog.imp().cancel.replace(None);
                dialog.finished(&domain.name(), &host, result);
            }
        ));
    }
}

impl MigrateDialog {
    fn set_running(&self, running: bool) {
        self.imp().running.set(running);
        self.imp().idle.set(!running);
        self.notify_running();
        self.notify_idle();
    }

    fn set_fraction(&self, fraction: f64) {
        self.imp().fraction.set(fraction);
        self.notify_fraction();
    }

    fn set_progress_text(&self, text: String) {
        self.imp().progress_text.replace(text);
        self.notify_progress_text();
    }

    fn show_progress(&self, p: &MigrationProgress) {
        if !self.running() {
            return;
        }
        self.set_fraction(p.fraction());
        let mut text = gettext_f(
            // Translators: {done}, {total} and {remaining} are amounts of data ("120 MB"),
            // {rate} is one per second.
            "{done} of {total} — {rate}/s, {remaining} to go",
            &[
                ("done", &glib::format_size(p.processed)),
                ("total", &glib::format_size(p.total)),
                ("rate", &glib::format_size(p.rate)),
                ("remaining", &glib::format_size(p.remaining)),
            ],
        );
        if let Some(downtime) = p.downtime_ms {
            text.push_str(&gettext_f(
                // Translators: appended to the progress; {ms} is a number of milliseconds,
                // the machine's expected pause when it switches over to the destination.
                ", a pause of about {ms} ms",
                &[("ms", &downtime.to_string())],
            ));
        }
        self.set_progress_text(text);
    }

    /// The other connected hosts, by the names the sidebar gives them.
    fn offer_hosts(&self) {
        let Some(app) = gio::Application::default().and_downcast::<Application>() else {
            return;
        };
        let own = self.connection().map(|c| c.uri()).unwrap_or_default();
        let offered: Vec<Connection> = app
            .connections()
            .iter::<Connection>()
            .flatten()
            .filter(|c| c.uri() != own && c.connected())
            .collect();
        for connection in &offered {
            self.imp().hosts.append(&connection.distinct_title());
        }
        self.imp()
            .uris
            .replace(offered.iter().map(Connection::uri).collect());
    }

    fn finished(&self, name: &str, host: &str, result: Result<(), RequestError>) {
        match result {
            Ok(()) => {
                let parent = self.transient_for().and_downcast::<crate::ui::Window>();
                self.close();
                if let Some(window) = parent {
                    window.toast(&gettext_f(
                        // Translators: {name} is a virtual machine, {host} a host.
                        "“{name}” now runs on {host}.",
                        &[("name", name), ("host", host)],
                    ));
                }
            }
            Err(error) => show_error(self, &failure(name, &error)),
        }
    }
}

/// Why the machine did not move, in the user's language: the cause as the title when
/// Virtdeck knows it, else "not migrated" with libvirt's words behind Details.
fn failure(name: &str, error: &RequestError) -> Failure {
    let not_migrated = || {
        gettext_f(
            // Translators: {name} is a virtual machine.
            "“{name}” was not migrated; it is still where it was",
            &[("name", name)],
        )
    };
    let RequestError::Migration(error) = error else {
        return Failure::with_detail(not_migrated(), error.to_string());
    };
    let title = match error {
        MigrationError::SameHost => gettext("The destination is the host the machine is on."),
        MigrationError::NameTaken(n) => {
            // Translators: {name} is a machine, network, bridge or file.
            gettext_f(
                "The destination already has a machine called “{name}”.",
                &[("name", n)],
            )
        }
        MigrationError::UuidTaken(n) => {
            // Translators: {name} is a machine, network, bridge or file.
            gettext_f(
                "The destination already has this machine (as “{name}”).",
                &[("name", n)],
            )
        }
        MigrationError::NetworkMissing(n) => {
            // Translators: {name} is a machine, network, bridge or file.
            gettext_f(
                "The destination has no virtual network “{name}”.",
                &[("name", n)],
            )
        }
        MigrationError::NetworkInactive(n) =>
        // Translators: {name} is a machine, network, bridge or file.
        {
            gettext_f(
                "The virtual network “{name}” is not running on the destination.",
                &[("name", n)],
            )
        }
        MigrationError::BridgeMissing(n) =>
        // Translators: {name} is a machine, network, bridge or file.
        {
            gettext_f("The destination has no bridge “{name}”.", &[("name", n)])
        }
        MigrationError::CpuIncompatible => {
            gettext("The destination’s CPU cannot run this machine’s CPU model.")
        }
        MigrationError::NoPoolForDisk(n) =>
        // Translators: {name} is a machine, network, bridge or file.
        {
            gettext_f(
                "The destination has no storage pool for “{name}”, so its copy has nowhere to go.",
                &[("name", n)],
            )
        }
        MigrationError::OfflineCopy => gettext("An offline migration cannot copy storage."),
        MigrationError::Cancelled => gettext("The migration was cancelled."),
        MigrationError::Destination(_)
        | MigrationError::DiskSizeDiffers { .. }
        | MigrationError::DiskFormat { .. }
        | MigrationError::Libvirt(_) => {
            return Failure::with_detail(not_migrated(), error.to_string());
        }
    };
    Failure::new(title)
}

/// Says why several selected machines dropped on `destination` are not migrated: the
/// Migrate dialog moves one machine at a time.
pub fn refuse_several(widget: &gtk::Widget, domains: &[Domain], destination: &Connection) {
    let names: Vec<String> = domains.iter().map(Domain::name).collect();
    error_dialog(
        widget,
        &gettext("Migrate One Machine at a Time"),
        &gettext_f(
            // Translators: {count} is a number of virtual machines (2 or more), {names} their names, {host} the host they were dropped on.
            "{count} machines are selected ({names}). Migrating moves one machine: drag a single machine onto “{host}”, or select just one and choose Migrate….",
            &[
                ("count", &names.len().to_string()),
                ("names", &names.join(", ")),
                ("host", &destination.distinct_title()),
            ],
        ),
    );
}

/// Opens the Migrate dialog for `domain` of `connection`, over `widget`'s window.
pub fn open_migrate(widget: &gtk::Widget, connection: &Connection, domain: &Domain) {
    open_migrate_to(widget, connection, domain, None);
}

/// Opens the Migrate dialog with the host of URI `destination` chosen, when offered.
pub fn open_migrate_to(
    widget: &gtk::Widget,
    connection: &Connection,
    domain: &Domain,
    destination: Option<&str>,
) {
    let dialog: MigrateDialog = glib::Object::builder()
        .property("domain", domain)
        .property("connection", connection)
        .build();
    let offered = destination.and_then(|d| dialog.imp().uris.borrow().iter().position(|u| u == d));
    if let Some(index) = offered {
        dialog.imp().destination.set_selected(index as u32);
    }
    dialog.set_transient_for(widget.root().and_downcast_ref::<gtk::Window>());
    dialog.present();
}
