//! One libvirt connection as the UI sees it: its worker, its state in words and the list
//! model of its domains, which libvirt's events keep current.

use crate::i18n::{gettext, gettext_f, ngettext};
use crate::ui::backend::{
    self, Command, ConnectionKind, ConnectionName, ConnectionState, DomainInfo, Event, Reply,
    Request, RequestError, WorkerOptions,
};
use crate::ui::{Domain, HostLoadHistory};
use gtk::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gio, glib};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

mod imp {
    use super::*;
    use glib::subclass::Signal;
    use glib::Properties;
    use std::sync::OnceLock;

    #[derive(Default, Properties)]
    #[properties(wrapper_type = super::Connection)]
    pub struct Connection {
        /// The libvirt URI, e.g. `qemu:///system`.
        #[property(get, construct_only)]
        pub uri: RefCell<String>,
        /// What the user reads: "QEMU/KVM", "QEMU/KVM User session", …
        #[property(get)]
        pub title: RefCell<String>,
        /// The title in this window: with the URI when another connection of the window
        /// has the same title, "Test (test:///default)" (see [`Application::connections`]).
        #[property(get, set)]
        pub distinct_title: RefCell<String>,
        /// The state in words: "Connected", "Disconnected — reconnecting", …
        #[property(get)]
        pub status: RefCell<String>,
        #[property(get)]
        pub connected: Cell<bool>,
        /// Whether the worker is opening the connection (the first time or again).
        #[property(get)]
        pub connecting: Cell<bool>,
        /// "12 virtual machines" once the list is loaded.
        #[property(get)]
        pub summary: RefCell<String>,
        /// The host's recent CPU and memory use.
        #[property(get)]
        pub host_load: RefCell<HostLoadHistory>,
        /// Whether the list of the current connection has arrived.
        pub loaded: Cell<bool>,
        pub domains: OnceCell<gio::ListStore>,
        pub by_uuid: RefCell<HashMap<String, Domain>>,
        /// The machines whose statistics the worker samples (the ones shown), by UUID;
        /// `None` until the worker was told (it samples all of them until then).
        pub stats_watched: RefCell<Option<HashSet<String>>>,
        /// A look at what is shown is queued (after the list changed).
        pub watch_queued: Cell<bool>,
        /// Dropping it (with the connection) lets the worker thread end by itself.
        pub handle: OnceCell<backend::ConnectionHandle>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for Connection {
        const NAME: &'static str = "VdConnection";
        type Type = super::Connection;
    }

    #[glib::derived_properties]
    impl ObjectImpl for Connection {
        fn signals() -> &'static [Signal] {
            static SIGNALS: OnceLock<Vec<Signal>> = OnceLock::new();
            SIGNALS.get_or_init(|| {
                // A command failed; the argument is a readable sentence.
                vec![Signal::builder("error")
                    .param_types([String::static_type()])
                    .build()]
            })
        }

        fn dispose(&self) {
            if let Some(handle) = self.handle.get() {
                let _ = handle.commands.try_send(Command::Quit);
            }
        }
    }
}

glib::wrapper! {
    pub struct Connection(ObjectSubclass<imp::Connection>);
}

impl Connection {
    /// Starts a worker for `uri`, connecting right away when `autoconnect`; with
    /// `stats_interval` of `None` no statistics are sampled.
    pub fn new(uri: &str, stats_interval: Option<Duration>, autoconnect: bool) -> Self {
        let connection: Self = glib::Object::builder().property("uri", uri).build();
        let title = connection_title(uri);
        connection.imp().distinct_title.replace(title.clone());
        connection.imp().title.replace(title);
        let status = if autoconnect {
            gettext("Connecting…")
        } else {
            gettext("Disconnected")
        };
        connection.set_status(&status, false, autoconnect);
        let handle = backend::spawn(
            uri.to_owned(),
            WorkerOptions {
                stats_interval,
                autoconnect,
            },
        );
        let events = handle.events.clone();
        let _ = connection.imp().handle.set(handle);
        glib::spawn_future_local(glib::clone!(
            #[weak]
            connection,
            async move {
                while let Ok(event) = events.recv().await {
                    connection.apply(event);
                }
            }
        ));
        connection
    }

    /// The domains, a list of [`Domain`]s in libvirt's order.
    pub fn domains(&self) -> &gio::ListStore {
        self.imp()
            .domains
            .get_or_init(gio::ListStore::new::<Domain>)
    }

    pub fn send(&self, command: Command) {
        if let Some(handle) = self.imp().handle.get() {
            if handle.commands.try_send(command).is_err() {
                self.emit_error(&gettext("The connection has stopped"));
            }
        }
    }

    /// Sends the request `make` builds and hands the answer to `show` with `owner`, unless
    /// `owner` is gone by then (a closed dialog).
    pub fn ask_for<O: IsA<glib::Object>, T: 'static>(
        &self,
        owner: &O,
        make: impl FnOnce(Reply<T>) -> Request + 'static,
        show: impl FnOnce(&O, Result<T, RequestError>) + 'static,
    ) {
        let connection = self.clone();
        let owner = owner.downgrade();
        glib::spawn_future_local(async move {
            let answer = connection.request(make).await;
            if let Some(owner) = owner.upgrade() {
                show(&owner, answer);
            }
        });
    }

    /// Asks the connection's worker and waits for its answer, without blocking the main
    /// loop: `connection.request(Request::Networks).await`, or with arguments
    /// `connection.request(|reply| Request::VncPassword { uuid, reply }).await`. All of the
    /// UI's libvirt calls go this way, over this one connection.
    pub async fn request<T>(
        &self,
        make: impl FnOnce(Reply<T>) -> Request,
    ) -> Result<T, RequestError> {
        match self.imp().handle.get() {
            Some(handle) => handle.ask(make).recv().await,
            None => Err(RequestError::Stopped),
        }
    }

    /// Runs `command` and waits for its outcome: its failure as the answer instead of an
    /// `error` signal (for actions on several machines, which report each one's result).
    pub async fn run(&self, command: Command) -> Result<(), RequestError> {
        let (reply, answer) = Reply::new();
        self.send(Command::Reported {
            command: Box::new(command),
            reply,
        });
        answer.recv().await
    }

    /// Whether `domain` is one of this connection's machines (not a namesake elsewhere).
    pub fn owns(&self, domain: &Domain) -> bool {
        self.imp().by_uuid.borrow().get(&domain.uuid()) == Some(domain)
    }

    pub fn connect_error<F: Fn(&Self, &str) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_closure(
            "error",
            false,
            glib::closure_local!(move |connection: &Self, message: String| {
                f(connection, &message)
            }),
        )
    }

    fn emit_error(&self, message: &str) {
        self.emit_by_name::<()>("error", &[&message]);
    }

    fn set_status(&self, status: &str, connected: bool, connecting: bool) {
        let imp = self.imp();
        // All set before any is notified: a handler of one sees the others current.
        imp.status.replace(status.to_owned());
        imp.connecting.set(connecting);
        let changed = imp.connected.replace(connected) != connected;
        self.notify_status();
        if changed {
            self.notify_connected();
        }
    }

    fn update_summary(&self) {
        let n = self.domains().n_items();
        let summary = if self.imp().loaded.get() {
            ngettext("{n} virtual machine", "{n} virtual machines", n)
                .replace("{n}", &n.to_string())
        } else {
            String::new()
        };
        self.imp().summary.replace(summary);
        self.notify_summary();
    }

    fn apply(&self, event: Event) {
        match event {
            Event::ConnectionState(state) => self.apply_state(state),
            Event::Listed(infos) => {
                self.imp().loaded.set(true);
                self.replace_all(infos);
            }
            Event::Snapshot(infos) => {
                self.imp().loaded.set(true);
                // A new session: its host graph starts anew.
                self.host_load().clear();
                let count = infos.len();
                self.replace_all(infos);
                // benches/hosts reads this line: every machine described in full.
                tracing::debug!(uri = %self.uri(), count, "domain list complete");
                queue_release_free_memory();
            }
            Event::DomainAdded(info) | Event::DomainChanged(info) => self.upsert(info),
            Event::DomainRemoved(uuid) => self.remove(&uuid),
            Event::ConfigChanged(uuid) => {
                let domain = self.imp().by_uuid.borrow().get(&uuid).cloned();
                if let Some(domain) = domain {
                    domain.config_changed();
                }
            }
            Event::Stats(stats) => {
                let mut addresses_wanted = Vec::new();
                {
                    let by_uuid = self.imp().by_uuid.borrow();
                    for (uuid, stats) in stats {
                        if let Some(domain) = by_uuid.get(&uuid) {
                            domain.set_stats(stats);
                            if wants_address(domain) {
                                addresses_wanted.push(domain.clone());
                            }
                        }
                    }
                }
                addresses_wanted
                    .iter()
                    .for_each(|d| self.read_first_address(d));
            }
            Event::HostLoad(load) => {
                self.host_load().push(&load);
                self.watch_shown_stats();
            }
            Event::Error { message, .. } => self.emit_error(&message),
        }
    }

    /// Asks the worker for the first address of `domain` for the list, from the DHCP
    /// lease or ARP: the agent of a busy guest may take seconds (the details ask it).
    fn read_first_address(&self, domain: &Domain) {
        let uuid = domain.uuid();
        glib::spawn_future_local(glib::clone!(
            #[weak(rename_to = connection)]
            self,
            #[weak]
            domain,
            async move {
                let answer = connection
                    .request(|reply| Request::GuestAddresses {
                        uuid,
                        agent: false,
                        reply,
                    })
                    .await;
                match answer {
                    Ok(addresses) => {
                        if let Some(first) = addresses.first() {
                            domain.set_address(first);
                        }
                    }
                    Err(error) => tracing::debug!("no address for the list: {error}"),
                }
            }
        ));
    }

    fn apply_state(&self, state: ConnectionState) {
        let connecting = matches!(state, ConnectionState::Connecting);
        let (status, connected) = match state {
            ConnectionState::Connecting => (gettext("Connecting…"), false),
            ConnectionState::Connected { .. } => (gettext("Connected"), true),
            ConnectionState::Disconnected {
                retry_in: Some(_), ..
            } => (gettext("Disconnected — reconnecting"), false),
            ConnectionState::Disconnected { retry_in: None, .. } => {
                (gettext("Disconnected"), false)
            }
            ConnectionState::Failed { message } => (
                gettext_f(
                    // Translators: {reason} is libvirt's explanation.
                    "Cannot connect: {reason}",
                    &[("reason", &message)],
                ),
                false,
            ),
        };
        self.set_status(&status, connected, connecting);
        if !connected {
            self.imp().loaded.set(false);
            self.replace_all(Vec::new());
        }
        self.update_summary();
    }

    /// Makes the list `infos`: the machines already there (from a first look at a long
    /// list) take their new description in place, the others come and go. Where the
    /// first look was filled in, the views filter and sort the whole list again (a
    /// selection made in that second or two is dropped).
    fn replace_all(&self, infos: Vec<DomainInfo>) {
        let started = std::time::Instant::now();
        let imp = self.imp();
        let mut stale = std::mem::take(&mut *imp.by_uuid.borrow_mut());
        let mut kept = 0;
        let mut added = Vec::new();
        let mut by_uuid = HashMap::with_capacity(infos.len());
        for info in infos {
            let domain = match stale.remove(&info.uuid) {
                Some(domain) => {
                    domain.update(info);
                    kept += 1;
                    domain
                }
                None => {
                    let domain = Domain::new(info);
                    added.push(domain.clone());
                    domain
                }
            };
            by_uuid.insert(domain.uuid(), domain);
        }
        let count = by_uuid.len();
        imp.by_uuid.replace(by_uuid);
        let store = self.domains();
        if kept == 0 {
            store.splice(0, store.n_items(), &added);
        } else {
            for domain in stale.values() {
                if let Some(position) = store.find(domain) {
                    store.remove(position);
                }
            }
            store.extend_from_slice(&added);
            // Filters and sorters do not follow the machines' properties: the search, the
            // tag filter and the sorting look at the tags, memory and vCPUs now known.
            let n = store.n_items();
            store.items_changed(0, n, n);
        }
        self.update_summary();
        self.queue_watch_shown_stats();
        tracing::debug!(count, kept, elapsed = ?started.elapsed(), "list replaced");
    }

    fn upsert(&self, info: DomainInfo) {
        let existing = self.imp().by_uuid.borrow().get(&info.uuid).cloned();
        match existing {
            Some(domain) => domain.update(info),
            None => {
                let domain = Domain::new(info);
                self.imp()
                    .by_uuid
                    .borrow_mut()
                    .insert(domain.uuid(), domain.clone());
                self.domains().append(&domain);
                self.update_summary();
                self.queue_watch_shown_stats();
            }
        }
    }

    fn remove(&self, uuid: &str) {
        let removed = self.imp().by_uuid.borrow_mut().remove(uuid);
        if let Some(domain) = removed {
            let store = self.domains();
            if let Some(position) = store.find(&domain) {
                store.remove(position);
            }
            self.update_summary();
        }
    }

    /// Tells the worker which running machines' statistics something shows (rows on
    /// screen, the selected machine's details), when that changed: only those are
    /// sampled, however many the host runs. Looked at every tick, and soon after the list
    /// changed.
    fn watch_shown_stats(&self) {
        let imp = self.imp();
        let shown: HashSet<String> = imp
            .by_uuid
            .borrow()
            .iter()
            // The state from the description, not the `active` property: a property
            // read by name looks its spec up under a global lock, ten thousand a tick.
            .filter(|(_, d)| d.state().is_active() && d.stats_shown())
            .map(|(uuid, _)| uuid.clone())
            .collect();
        if imp.stats_watched.borrow().as_ref() == Some(&shown) {
            return;
        }
        tracing::debug!(uri = %self.uri(), shown = shown.len(), "statistics of the machines shown");
        let old = imp.stats_watched.replace(Some(shown.clone()));
        {
            let by_uuid = imp.by_uuid.borrow();
            // Until now the worker sampled all of them.
            let old = old.unwrap_or_else(|| by_uuid.keys().cloned().collect());
            old.difference(&shown)
                .filter_map(|uuid| by_uuid.get(uuid))
                .for_each(Domain::forget_stats);
        }
        self.send(Command::WatchStats(shown.into_iter().collect()));
    }

    /// [`Self::watch_shown_stats`] once the views made their rows for a changed list.
    fn queue_watch_shown_stats(&self) {
        if self.imp().watch_queued.replace(true) {
            return;
        }
        glib::timeout_add_local_once(
            Duration::from_millis(300),
            glib::clone!(
                #[weak(rename_to = connection)]
                self,
                move || {
                    connection.imp().watch_queued.set(false);
                    connection.watch_shown_stats();
                }
            ),
        );
    }

    pub fn domain_by_name(&self, name: &str) -> Option<Domain> {
        self.imp()
            .by_uuid
            .borrow()
            .values()
            .find(|d| d.name() == name)
            .cloned()
    }
}

/// The name a connection goes by in the window, translated.
pub fn connection_title(uri: &str) -> String {
    let name = ConnectionName::parse(uri);
    let base = match name.kind {
        ConnectionKind::QemuSystem => gettext("QEMU/KVM"),
        ConnectionKind::QemuSession => gettext("QEMU/KVM User session"),
        ConnectionKind::Test => gettext("Test"),
        ConnectionKind::Other => return uri.to_owned(),
    };
    match name.host {
        Some(host) => gettext_f(
            // Translators: {connection} is e.g. "QEMU/KVM", {host} a host name.
            "{connection}: {host}",
            &[("connection", &base), ("host", &host)],
        ),
        None => base,
    }
}

/// A request's failure as the user reads it: the worker's own sentences in the user's
/// language, libvirt's reasons as libvirt gave them.
pub trait InWords {
    fn in_words(&self) -> String;
}

impl InWords for RequestError {
    fn in_words(&self) -> String {
        match self {
            RequestError::NotConnected => gettext("Not connected."),
            RequestError::Stopped => gettext("The connection has stopped."),
            other => other.to_string(),
        }
    }
}

/// Whether the list should ask for `domain`'s address after this sample: only while a row
/// shows it (each ask costs the host a few calls, and a host may run thousands of
/// machines), at once, then every tenth sample while none is known, every hundredth once
/// one is.
fn wants_address(domain: &Domain) -> bool {
    if !domain.address_shown() {
        return false;
    }
    let every = if domain.address().is_empty() { 10 } else { 100 };
    domain.take_address_turn(every)
}

/// Hands the memory freed with a whole list's descriptions (the machines keep only what
/// the list shows) back to the system, once for lists that arrive within a second of
/// each other (several hosts connecting at once).
fn queue_release_free_memory() {
    thread_local! {
        static QUEUED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if QUEUED.with(|queued| queued.replace(true)) {
        return;
    }
    glib::timeout_add_local_once(Duration::from_secs(1), || {
        QUEUED.with(|queued| queued.set(false));
        backend::ffi::release_free_memory();
    });
}
