//! One thread per connection, owning its `virt::Connect`: [`Command`]s in, [`Event`]s out.
//!
//! The worker lists the domains once ([`Event::Snapshot`]); after that only domain events
//! change the list: lifecycle events, and devices plugged into or out of a running domain
//! (a hot-plugged disk changes no lifecycle state). An event callback (on the libvirt
//! event loop thread) just forwards the domain's UUID here; the worker re-reads that one
//! domain and sends
//! [`Event::DomainAdded`], [`Event::DomainChanged`] or [`Event::DomainRemoved`]. Statistics
//! come from one bulk call per interval. When the connection dies the worker reconnects with
//! backoff and sends a fresh snapshot. With statistics off and nothing happening, the
//! thread sleeps in a blocking receive.
//!
//! Two kinds of command, one way each:
//! - **Fire and forget** (start, shut down, delete, …): the effect comes back as list
//!   events, a failure as [`Event::Error`].
//! - **Requests**, whenever the asker needs an answer: [`Command::Request`] carries a
//!   [`Request`], each variant with a typed [`Reply`](super::requests::Reply) (a one-shot
//!   channel). [`ConnectionHandle::ask`] sends one and gives back its
//!   [`Answer`](super::requests::Answer) to await. The worker answers on its own
//!   connection, or with "Not connected."; a worker that is gone answers "The connection
//!   has stopped." Everything the UI needs from libvirt goes through here, so the UI never
//!   opens a connection of its own. The requests are served in [`super::requests`].

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use virt::connect::Connect;
use virt::domain::Domain;
use virt_sys as sys;

use super::deletion::{self, DeleteStorage};
use super::domain::{
    compute_stats, Disk, DiskDevice, DomainInfo, DomainState, DomainStats, ListedFacts,
    StatsSample, Tablet, USB_TABLET_XML,
};
use super::error::{describe, is_no_domain, is_transient_open_error, is_unsupported};
use super::events::{
    self, stats, CloseCallbackRegistration, CloseReason, DomainEvent, DomainEventId,
    DomainEventRegistration,
};
use super::first_looks::{self, Opening, FIRST_LOOKS};
use super::host_load::{self, cpu_percent, CpuTimes, HostLoad};
use super::install;
use super::requests::{self, Answer, Reply, Request, RequestError};
use super::uri;

/// Keepalive: a ping every 5 s, the connection counts as dead after 3 unanswered.
const KEEPALIVE_INTERVAL_SECS: i32 = 5;
const KEEPALIVE_COUNT: u32 = 3;
/// From this many domains on, the list is shown from a first look ([`Event::Listed`])
/// while their XML is read: at a round trip each, a few hundred take a noticeable time.
pub const FIRST_LOOK_FROM: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// How often to send [`Event::Stats`]; `None` turns statistics off.
    pub stats_interval: Option<Duration>,
    /// Open the connection right away, as if [`Command::Connect`] had been sent.
    pub autoconnect: bool,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            // The GSettings schema's default of `stats-interval`.
            stats_interval: Some(Duration::from_secs(3)),
            autoconnect: true,
        }
    }
}

/// What the UI asks of a connection. Domains are named by UUID.
#[derive(Debug)]
pub enum Command {
    Connect,
    Disconnect,
    Start(String),
    /// Ask the guest to shut down (ACPI).
    Shutdown(String),
    Reboot(String),
    /// Pull the plug.
    ForceOff(String),
    Pause(String),
    /// Resume a paused domain, or wake a power-management suspended one.
    Resume(String),
    /// Stop if running, undefine (with managed save and snapshot/checkpoint metadata),
    /// then delete exactly the storage the user confirmed: the volumes at
    /// `storage.volumes`, and the UEFI variables and TPM state only when asked (they are
    /// kept otherwise). The worker re-reads nothing to decide what to delete.
    Delete {
        uuid: String,
        storage: DeleteStorage,
    },
    /// Save the running machine's memory and stop it (managed save); the next
    /// [`Command::Start`] resumes it.
    Save(String),
    /// Throw away the saved memory of a machine that [`Command::Save`] stopped: the next
    /// start boots afresh.
    DiscardSaved(String),
    /// Add a USB tablet to the domain's configuration, and to the running guest when the
    /// hypervisor can plug it in live (else it arrives at the next start). The domain is
    /// re-read afterwards; its [`DomainInfo::tablet`] tells which happened.
    AddTablet(String),
    /// Sample statistics now instead of waiting for the next tick.
    RefreshStats,
    /// Change the statistics interval; `None` stops sampling (e.g. while the window is hidden).
    SetStatsInterval(Option<Duration>),
    /// Sample only these domains (by UUID) from now on: the ones something shows. Until
    /// the first of these, every active domain is sampled. New ones are sampled at once,
    /// so that their first rates come with the next tick.
    WatchStats(Vec<String>),
    /// A question answered on its own reply channel; see [`ConnectionHandle::ask`].
    Request(Request),
    /// Runs `command` and answers whether it worked: its failure goes to `reply` (the
    /// first one, as the machine's result) instead of an [`Event::Error`]. For actions on
    /// several machines at once, which report each machine's result.
    Reported {
        command: Box<Command>,
        reply: Reply<()>,
    },
    Quit,
}

/// What an [`Event::Error`] was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Connect,
    Start,
    Shutdown,
    Reboot,
    ForceOff,
    Pause,
    Resume,
    Delete,
    DeleteStorage,
    Save,
    DiscardSaved,
    AddTablet,
    /// Redefining a machine whose installer's run ended ([`super::install`]).
    FinishInstall,
    Stats,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// [`Command::Disconnect`].
    Requested,
    /// The open connection closed (daemon stopped or died, keepalive timeout, I/O error).
    Closed(CloseReason),
    /// Opening failed with this (readable) message; it may work on a later try.
    OpenFailed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    Connecting,
    /// `hypervisor` is the driver name (e.g. "QEMU"), `version` its version ("10.0.0").
    Connected {
        hypervisor: String,
        version: String,
    },
    /// Not connected; with `retry_in`, the worker tries again by itself after that delay.
    Disconnected {
        reason: DisconnectReason,
        retry_in: Option<Duration>,
    },
    /// This URI cannot work (unknown driver, bad URI, unsupported); no retry.
    /// [`Command::Connect`] tries once more.
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    ConnectionState(ConnectionState),
    /// A first look at a long domain list, from a few calls whatever its length
    /// ([`DomainInfo::listed`]: names and states, not yet `detailed`); the
    /// [`Event::Snapshot`] with every domain in full follows.
    Listed(Vec<DomainInfo>),
    /// The whole domain list; replaces whatever the UI had (also after a reconnect).
    Snapshot(Vec<DomainInfo>),
    DomainAdded(DomainInfo),
    DomainChanged(DomainInfo),
    /// The UUID of a domain that no longer exists.
    DomainRemoved(String),
    /// The UUID of a domain whose configuration may have changed (it was defined, or its
    /// metadata changed), though maybe nothing the list shows: for screens that show its
    /// configuration, which read it again. Nothing is read for the list.
    ConfigChanged(String),
    /// Rates of the active domains since the previous sample, by UUID.
    Stats(Vec<(String, DomainStats)>),
    /// The host's CPU and memory use, at the same tick as [`Event::Stats`].
    HostLoad(HostLoad),
    /// A command or background task failed; `message` is one readable sentence.
    Error {
        action: Action,
        domain: Option<String>,
        message: String,
    },
}

/// The UI's end of a connection worker.
#[derive(Debug)]
pub struct ConnectionHandle {
    pub commands: async_channel::Sender<Command>,
    pub events: async_channel::Receiver<Event>,
    thread: Option<thread::JoinHandle<()>>,
}

impl ConnectionHandle {
    /// Sends the request `make` builds around its reply, and returns the answer to wait on:
    /// `handle.ask(Request::Networks).recv().await`, or for a request with arguments
    /// `handle.ask(|reply| Request::VncPassword { uuid, reply })`.
    pub fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Answer<T> {
        let (command, answer) = Request::command(make);
        // A stopped worker drops the request with its reply, which the answer reports.
        let _ = self.commands.try_send(command);
        answer
    }

    /// Sends [`Command::Quit`] and waits for the worker to finish.
    pub fn quit_and_join(mut self) {
        let _ = self.commands.try_send(Command::Quit);
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the connection worker panicked");
            }
        }
    }
}

/// Starts the worker of `uri`. It stops on [`Command::Quit`], when every command sender is
/// dropped, or when the event receiver is dropped.
pub fn spawn(uri: String, options: WorkerOptions) -> ConnectionHandle {
    events::ensure_event_loop();
    let (commands, command_rx) = async_channel::unbounded();
    let (event_tx, events) = async_channel::unbounded();
    let (inbox_tx, inbox_rx) = mpsc::channel();

    // The worker waits on one std channel with a timeout; commands are moved over to it.
    let forward_rx = command_rx.clone();
    let forward_tx = inbox_tx.clone();
    let forwarder = thread::Builder::new()
        .name("virtdeck-commands".into())
        .spawn(move || {
            while let Ok(command) = forward_rx.recv_blocking() {
                if forward_tx.send(Msg::Command(command)).is_err() {
                    return;
                }
            }
            let _ = forward_tx.send(Msg::CommandsClosed);
        });

    let failed_tx = event_tx.clone();
    let panic_tx = event_tx.clone();
    let worker = Worker::new(uri, options, event_tx, inbox_tx);
    let thread = forwarder.and_then(|_| {
        thread::Builder::new()
            .name("virtdeck-connection".into())
            .spawn(move || {
                let run = std::panic::catch_unwind(AssertUnwindSafe(|| worker.run(inbox_rx)));
                if run.is_err() {
                    let _ = panic_tx.try_send(Event::ConnectionState(ConnectionState::Failed {
                        message: "The connection stopped because of an internal error.".into(),
                    }));
                }
                // Ends the forwarder; later commands fail to send.
                command_rx.close();
            })
    });
    let thread = match thread {
        Ok(thread) => Some(thread),
        Err(error) => {
            let _ = failed_tx.try_send(Event::ConnectionState(ConnectionState::Failed {
                message: format!("Could not start the connection thread: {error}."),
            }));
            None
        }
    };
    ConnectionHandle {
        commands,
        events,
        thread,
    }
}

/// The delay before reconnection attempt number `attempt` (0-based): 0.5 s, 1 s, 2 s, 4 s,
/// 8 s, then 10 s.
pub fn backoff(attempt: u32) -> Duration {
    let millis = 500u64.saturating_mul(1u64 << attempt.min(16));
    Duration::from_millis(millis.min(10_000))
}

/// Whether a domain event may have changed the domain's persistent configuration.
fn changes_config(kind: &events::DomainEventKind) -> bool {
    matches!(
        kind,
        events::DomainEventKind::MetadataChange
            | events::DomainEventKind::Lifecycle {
                event: events::LifecycleEvent::Defined,
                ..
            }
    )
}

/// Everything the worker thread waits for.
enum Msg {
    Command(Command),
    CommandsClosed,
    /// From a lifecycle callback of the session numbered `generation`.
    Domain {
        generation: u64,
        event: DomainEvent,
    },
    Closed {
        generation: u64,
        reason: CloseReason,
    },
    /// From a [`Refresher`]: re-read these domains.
    Refresh(Vec<String>),
}

/// Has the worker re-read machines (by UUID) after a change that sends no event, such as a
/// template mark: given to each request, also to one answered on a thread of its own
/// ([`Reply::answer_in_background`]), which asks when its job is done. It sends on the
/// worker's own inbox, whose end does not decide when the worker stops (it stops on
/// [`Command::Quit`], when the commands or the events close): a job that outlives the
/// worker keeps nothing alive, and its refresh then goes nowhere.
#[derive(Clone)]
pub(super) struct Refresher(mpsc::Sender<Msg>);

impl Refresher {
    /// Queues the refresh of `uuids` behind what the worker has already received, and
    /// ahead of anything sent after this returns.
    pub(super) fn domains(&self, uuids: Vec<String>) {
        // A worker that has stopped has no list to refresh.
        let _ = self.0.send(Msg::Refresh(uuids));
    }
}

/// An open connection. The registrations are declared (and so dropped) before the
/// connection they belong to.
struct Session {
    _close: Option<CloseCallbackRegistration>,
    _lifecycle: DomainEventRegistration,
    /// Devices plugged into or out of running domains (a hot-plugged disk), which no
    /// lifecycle event announces.
    _devices: Vec<DomainEventRegistration>,
    /// What the UI was last told about each domain, by UUID.
    known: HashMap<String, Known>,
    conn: Connect,
}

/// What the worker keeps of a domain the UI was told about: the few facts it uses itself
/// and a digest of the rest to tell a change from a repeat. The UI has the whole
/// [`DomainInfo`]; a second copy per domain here cost megabytes on hosts with thousands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Known {
    digest: u64,
    active: bool,
    vcpus: u32,
    memory_kib: u64,
    tpm_state: bool,
}

impl Known {
    fn of(info: &DomainInfo) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        info.hash(&mut hasher);
        Self {
            digest: hasher.finish(),
            active: info.state.is_active(),
            vcpus: info.vcpus,
            memory_kib: info.memory_kib,
            tpm_state: info.tpm_state,
        }
    }
}

struct Worker {
    uri: String,
    events: async_channel::Sender<Event>,
    inbox: mpsc::Sender<Msg>,
    autoconnect: bool,
    session: Option<Session>,
    /// Numbers sessions, so that messages from callbacks of an old one are ignored.
    generation: u64,
    attempt: u32,
    retry_at: Option<Instant>,
    stats_interval: Option<Duration>,
    next_stats: Option<Instant>,
    samples: HashMap<String, (StatsSample, Instant)>,
    /// The domains [`Command::WatchStats`] asked for; `None`: every active one.
    watch: Option<HashSet<String>>,
    /// This session's handles of the watched domains, looked up once each.
    watched: HashMap<String, Domain>,
    /// The host's CPU counters at the previous sample.
    host_cpu: Option<CpuTimes>,
    last_stats_error: Option<String>,
    ui_gone: bool,
    /// While a [`Command::Reported`] runs: its failures, kept for its reply.
    reported: Option<Vec<String>>,
}

#[derive(Debug)]
enum ReadError {
    Libvirt(virt::error::Error),
    Xml(super::domain::DomainXmlError),
}

impl ReadError {
    fn message(&self) -> String {
        match self {
            Self::Libvirt(e) => describe(e),
            Self::Xml(e) => super::error::readable_message(&e.to_string()),
        }
    }
}

impl From<virt::error::Error> for ReadError {
    fn from(e: virt::error::Error) -> Self {
        Self::Libvirt(e)
    }
}

impl Worker {
    fn new(
        uri: String,
        options: WorkerOptions,
        events: async_channel::Sender<Event>,
        inbox: mpsc::Sender<Msg>,
    ) -> Self {
        Self {
            uri,
            events,
            inbox,
            autoconnect: options.autoconnect,
            session: None,
            generation: 0,
            attempt: 0,
            retry_at: None,
            stats_interval: options.stats_interval.filter(|d| !d.is_zero()),
            next_stats: None,
            samples: HashMap::new(),
            watch: None,
            watched: HashMap::new(),
            host_cpu: None,
            last_stats_error: None,
            ui_gone: false,
            reported: None,
        }
    }

    fn run(mut self, inbox: mpsc::Receiver<Msg>) {
        if self.autoconnect {
            self.connect();
        }
        while !self.ui_gone {
            let msg = match self.next_deadline() {
                None => match inbox.recv() {
                    Ok(msg) => msg,
                    Err(_) => break,
                },
                Some(deadline) => {
                    match inbox.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                        Ok(msg) => msg,
                        Err(RecvTimeoutError::Timeout) => {
                            self.on_timer();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            match msg {
                Msg::Command(Command::Quit) | Msg::CommandsClosed => break,
                Msg::Command(command) => self.handle_command(command),
                Msg::Domain { generation, event } if generation == self.generation => {
                    if install::ended_by_guest(&event.kind) {
                        self.finish_install(&event.uuid);
                    }
                    if changes_config(&event.kind) {
                        self.emit(Event::ConfigChanged(event.uuid.clone()));
                    }
                    self.refresh_domain(&event.uuid);
                }
                Msg::Closed { generation, reason } if generation == self.generation => {
                    self.connection_lost(reason);
                }
                // Whichever session asked, the current one reads the domain as it is now.
                Msg::Refresh(uuids) => {
                    for uuid in &uuids {
                        self.refresh_domain(uuid);
                    }
                }
                Msg::Domain { .. } | Msg::Closed { .. } => {}
            }
        }
        self.session = None;
        tracing::debug!(uri = %self.uri, "connection worker stopped");
    }

    fn emit(&mut self, event: Event) {
        if self.events.try_send(event).is_err() {
            self.ui_gone = true;
        }
    }

    fn error(&mut self, action: Action, domain: Option<&str>, message: String) {
        tracing::debug!(?action, ?domain, %message, "command failed");
        if let Some(reported) = &mut self.reported {
            reported.push(message);
            return;
        }
        self.emit(Event::Error {
            action,
            domain: domain.map(str::to_owned),
            message,
        });
    }

    fn next_deadline(&self) -> Option<Instant> {
        let stats = self.session.as_ref().and(self.next_stats);
        match (self.retry_at, stats) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_timer(&mut self) {
        let now = Instant::now();
        if self.retry_at.is_some_and(|t| t <= now) {
            self.connect();
        }
        if self.session.is_some() && self.next_stats.is_some_and(|t| t <= now) {
            self.collect_stats();
        }
    }

    // ----- connection -----

    fn connect(&mut self) {
        self.retry_at = None;
        self.emit(Event::ConnectionState(ConnectionState::Connecting));
        // Over SSH through the host's shared master connection (one login for everything);
        // credentials libvirt itself asks for go to the window.
        let uri = super::ssh::libvirt_uri(&self.uri).into_owned();
        let opening = FIRST_LOOKS.opening();
        let outcome = super::auth::open(&uri).and_then(|conn| self.open_session(conn, opening));
        if let Err(error) = outcome {
            let message = describe(&error);
            tracing::debug!(uri = %self.uri, %error, "could not connect");
            if is_transient_open_error(&error) && uri::has_known_driver(&self.uri) {
                let delay = backoff(self.attempt);
                self.attempt = self.attempt.saturating_add(1);
                self.retry_at = Some(Instant::now() + delay);
                self.emit(Event::ConnectionState(ConnectionState::Disconnected {
                    reason: DisconnectReason::OpenFailed(message),
                    retry_in: Some(delay),
                }));
            } else {
                self.emit(Event::ConnectionState(ConnectionState::Failed { message }));
            }
        }
    }

    /// Subscribes to events, then lists the domains, so that no change falls in between.
    /// `opening` counts this host among those opening until its first look is out.
    fn open_session(
        &mut self,
        conn: Connect,
        opening: Opening<'_>,
    ) -> Result<(), virt::error::Error> {
        self.generation += 1;
        let generation = self.generation;
        if let Err(error) = conn.set_keep_alive(KEEPALIVE_INTERVAL_SECS, KEEPALIVE_COUNT) {
            // Local drivers have nothing to keep alive.
            tracing::debug!(%error, "keepalive not available");
        }
        let tx = self.inbox.clone();
        let close = events::register_close_callback(&conn, move |reason| {
            let _ = tx.send(Msg::Closed { generation, reason });
        })
        .map_err(|error| tracing::warn!(%error, "no close notifications for this connection"))
        .ok();
        let subscribe = |id| {
            let tx = self.inbox.clone();
            events::register_domain_event(&conn, id, move |event| {
                let _ = tx.send(Msg::Domain { generation, event });
            })
        };
        let lifecycle = subscribe(DomainEventId::Lifecycle)?;
        let devices = [
            DomainEventId::DeviceAdded,
            DomainEventId::DeviceRemoved,
            DomainEventId::MetadataChange,
        ]
        .into_iter()
        .filter_map(|id| {
            subscribe(id)
                .map_err(|error| tracing::warn!(?id, %error, "no device events"))
                .ok()
        })
        .collect();

        let hypervisor = conn.driver_type().unwrap_or_default();
        let version = conn.hyp_version().map(format_version).unwrap_or_default();
        let listing = Listing::read(&conn)?;
        self.attempt = 0;
        self.emit(Event::ConnectionState(ConnectionState::Connected {
            hypervisor,
            version,
        }));
        let long = listing.domains.len() >= FIRST_LOOK_FROM;
        if long {
            self.emit(Event::Listed(listing.first_look()));
        }
        drop(opening);
        if long && !FIRST_LOOKS.wait_settled(first_looks::AT_MOST) {
            tracing::debug!(uri = %self.uri, "reading in full while other hosts still open");
        }
        let domains = listing.read_all()?;
        drop(listing);
        let known = domains
            .iter()
            .map(|d| (d.uuid.clone(), Known::of(d)))
            .collect();
        self.emit(Event::Snapshot(domains));
        // The list's XML and temporaries are free now, but resident until trimmed.
        super::ffi::release_free_memory();
        self.session = Some(Session {
            _close: close,
            _lifecycle: lifecycle,
            _devices: devices,
            known,
            conn,
        });
        self.samples.clear();
        self.host_cpu = None;
        self.next_stats = None;
        if self.stats_interval.is_some() {
            // The baseline; the first rates follow one interval later.
            self.collect_stats();
        }
        Ok(())
    }

    fn connection_lost(&mut self, reason: CloseReason) {
        if reason == CloseReason::Client {
            return;
        }
        tracing::info!(uri = %self.uri, ?reason, "connection closed");
        self.drop_session();
        let delay = backoff(0);
        self.attempt = 1;
        self.retry_at = Some(Instant::now() + delay);
        self.emit(Event::ConnectionState(ConnectionState::Disconnected {
            reason: DisconnectReason::Closed(reason),
            retry_in: Some(delay),
        }));
    }

    fn drop_session(&mut self) {
        self.session = None;
        self.watched.clear();
        self.samples.clear();
        self.host_cpu = None;
        self.next_stats = None;
        self.last_stats_error = None;
    }

    // ----- domain list -----

    /// Re-reads one domain after an event about it and tells the UI what changed.
    fn refresh_domain(&mut self, uuid: &str) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let read = session
            .conn
            .lookup_domain_by_uuid_string(uuid)
            .map_err(ReadError::from)
            .and_then(|dom| read_domain(&dom, Seen::Live));
        let event = match read {
            Ok(info) => match session.known.insert(uuid.to_owned(), Known::of(&info)) {
                None => Some(Event::DomainAdded(info)),
                Some(old) if old != Known::of(&info) => Some(Event::DomainChanged(info)),
                Some(_) => None,
            },
            Err(ReadError::Libvirt(e)) if is_no_domain(&e) => {
                self.samples.remove(uuid);
                session
                    .known
                    .remove(uuid)
                    .map(|_| Event::DomainRemoved(uuid.to_owned()))
            }
            Err(error) => {
                tracing::warn!(uuid, error = %error.message(), "could not re-read a domain");
                None
            }
        };
        if let Some(event) = event {
            self.emit(event);
        }
    }

    /// The guest of `uuid` shut itself down: if that ended its install run, redefine it
    /// with its final configuration and start it again.
    fn finish_install(&mut self, uuid: &str) {
        let Some(session) = &self.session else {
            return;
        };
        let finished = session
            .conn
            .lookup_domain_by_uuid_string(uuid)
            .map_err(install::FinishError::from)
            .and_then(|dom| install::finish_if_ended(&dom, true));
        if let Err(error) = finished {
            let message = match &error {
                install::FinishError::Libvirt(e) => describe(e),
                other => other.to_string(),
            };
            self.error(Action::FinishInstall, Some(uuid), message);
        }
    }

    // ----- commands -----

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Connect => {
                if self.session.is_none() {
                    self.attempt = 0;
                    self.connect();
                }
            }
            Command::Disconnect => {
                self.retry_at = None;
                self.drop_session();
                self.emit(Event::ConnectionState(ConnectionState::Disconnected {
                    reason: DisconnectReason::Requested,
                    retry_in: None,
                }));
            }
            Command::Start(uuid) => self.start(&uuid),
            Command::Shutdown(uuid) => self.on_domain(Action::Shutdown, &uuid, |d| d.shutdown()),
            Command::Reboot(uuid) => self.on_domain(Action::Reboot, &uuid, |d| d.reboot(0)),
            Command::ForceOff(uuid) => self.on_domain(Action::ForceOff, &uuid, |d| d.destroy()),
            Command::Pause(uuid) => self.on_domain(Action::Pause, &uuid, |d| d.suspend()),
            Command::Resume(uuid) => {
                self.on_domain(Action::Resume, &uuid, |d| match d.state()?.0.to_raw() {
                    sys::VIR_DOMAIN_PMSUSPENDED => d.pm_wakeup(0),
                    _ => d.resume(),
                })
            }
            Command::Delete { uuid, storage } => self.delete(&uuid, &storage),
            Command::Save(uuid) => self.on_domain(Action::Save, &uuid, |d| d.managed_save(0)),
            Command::DiscardSaved(uuid) => {
                self.on_domain(Action::DiscardSaved, &uuid, |d| d.managed_save_remove(0));
                // No lifecycle event tells of it.
                self.refresh_domain(&uuid);
            }
            Command::AddTablet(uuid) => self.add_tablet(&uuid),
            Command::RefreshStats => self.collect_stats(),
            Command::SetStatsInterval(interval) => {
                self.stats_interval = interval.filter(|d| !d.is_zero());
                self.samples.clear();
                self.host_cpu = None;
                self.next_stats = None;
                if self.stats_interval.is_some() {
                    self.collect_stats();
                }
            }
            Command::WatchStats(uuids) => {
                let watch: HashSet<String> = uuids.into_iter().collect();
                let added = self
                    .watch
                    .as_ref()
                    .is_none_or(|old| watch.iter().any(|uuid| !old.contains(uuid)));
                self.samples.retain(|uuid, _| watch.contains(uuid));
                self.watched.retain(|uuid, _| watch.contains(uuid));
                self.watch = Some(watch);
                if added && self.stats_interval.is_some() {
                    self.collect_stats();
                }
            }
            Command::Request(request) => {
                let conn = self.session.as_ref().map(|s| &s.conn);
                let refresher = Refresher(self.inbox.clone());
                requests::serve(conn, &self.uri, &refresher, request);
            }
            Command::Reported { command, reply } => {
                self.reported = Some(Vec::new());
                self.handle_command(*command);
                let failure = self.reported.take().unwrap_or_default().into_iter().next();
                reply.send(failure.map_or(Ok(()), |m| Err(RequestError::Libvirt(m))));
            }
            Command::Quit => {}
        }
    }

    fn lookup(&mut self, action: Action, uuid: &str) -> Option<Domain> {
        let Some(session) = &self.session else {
            self.error(action, Some(uuid), "Not connected.".to_owned());
            return None;
        };
        match session.conn.lookup_domain_by_uuid_string(uuid) {
            Ok(dom) => Some(dom),
            Err(e) => {
                self.error(action, Some(uuid), describe(&e));
                None
            }
        }
    }

    /// Runs `op` on the domain; the resulting state change arrives as a lifecycle event.
    fn on_domain<F>(&mut self, action: Action, uuid: &str, op: F)
    where
        F: FnOnce(&Domain) -> Result<(), virt::error::Error>,
    {
        let Some(dom) = self.lookup(action, uuid) else {
            return;
        };
        if let Err(e) = op(&dom) {
            self.error(action, Some(uuid), describe(&e));
        }
    }

    /// Starts the domain unless it is the template of linked clones, whose disks they read
    /// (asked of libvirt, not of what the UI was told: marking sends no event).
    fn start(&mut self, uuid: &str) {
        let Some(dom) = self.lookup(Action::Start, uuid) else {
            return;
        };
        let kind = sys::VIR_DOMAIN_METADATA_ELEMENT as i32;
        if dom
            .metadata(kind, Some(super::clone::TEMPLATE_NS), 0)
            .is_ok()
        {
            let name = dom.name().unwrap_or_default();
            self.error(
                Action::Start,
                Some(uuid),
                format!("“{name}” is the template of linked clones and is not started: unmark it as a template first."),
            );
            return;
        }
        if let Err(e) = dom.create() {
            self.error(Action::Start, Some(uuid), describe(&e));
        }
    }

    fn add_tablet(&mut self, uuid: &str) {
        let Some(dom) = self.lookup(Action::AddTablet, uuid) else {
            return;
        };
        let added = (|| {
            if dom.is_persistent()? {
                dom.attach_device_flags(USB_TABLET_XML, sys::VIR_DOMAIN_AFFECT_CONFIG)?;
            }
            if dom.is_active()? {
                let live = dom.attach_device_flags(USB_TABLET_XML, sys::VIR_DOMAIN_AFFECT_LIVE);
                match live {
                    // A persistent domain gets it at the next start.
                    Err(e) if dom.is_persistent()? => {
                        tracing::info!(uuid, "no live USB tablet: {}", e.message())
                    }
                    other => other?,
                }
            }
            Ok::<_, virt::error::Error>(())
        })();
        if let Err(e) = added {
            self.error(Action::AddTablet, Some(uuid), describe(&e));
        }
        self.refresh_domain(uuid);
    }

    fn delete(&mut self, uuid: &str, storage: &DeleteStorage) {
        let Some(dom) = self.lookup(Action::Delete, uuid) else {
            return;
        };
        // Only to know whether an old daemon could keep the TPM state; what is deleted is
        // what the command says.
        let has_tpm_state = self
            .session
            .as_ref()
            .and_then(|s| s.known.get(uuid))
            .is_none_or(|info| info.tpm_state);
        let removed = (|| {
            if dom.is_active()? {
                dom.destroy()?;
            }
            if dom.is_persistent()? {
                return Ok(deletion::undefine(&dom, storage, has_tpm_state));
            }
            Ok::<_, virt::error::Error>(Ok(()))
        })();
        let message = match removed {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(describe(&e)),
        };
        if let Some(message) = message {
            self.error(Action::Delete, Some(uuid), message);
            return;
        }
        for path in &storage.volumes {
            let Some(session) = &self.session else {
                return;
            };
            if let Err(message) = deletion::delete_volume(&session.conn, path) {
                self.error(Action::DeleteStorage, Some(uuid), message);
            }
        }
    }

    // ----- statistics -----

    /// One bulk call for the active domains watched (or every active one); rates against
    /// the previous sample.
    fn collect_stats(&mut self) {
        let Some(session) = &self.session else {
            return;
        };
        let groups =
            stats::STATE | stats::CPU_TOTAL | stats::BALLOON | stats::INTERFACE | stats::BLOCK;
        let result = match &self.watch {
            None => bulk_stats(&session.conn, groups, stats::ONLY_ACTIVE),
            Some(watch) => watched_stats(session, &mut self.watched, watch, groups),
        };
        let now = Instant::now();
        self.next_stats = self.stats_interval.map(|interval| now + interval);
        let records = match result {
            Ok(records) => records,
            Err(e) => {
                let message = describe(&e);
                if self.last_stats_error.as_ref() != Some(&message) {
                    self.last_stats_error = Some(message.clone());
                    self.error(Action::Stats, None, message);
                }
                return;
            }
        };
        self.last_stats_error = None;
        let mut rates = Vec::new();
        let mut samples = HashMap::with_capacity(records.len());
        for record in records {
            let sample = StatsSample::from_params(&record.params);
            if let Some((prev, taken)) = self.samples.get(&record.uuid) {
                let vcpus = session.known.get(&record.uuid).map_or(1, |d| d.vcpus);
                let st = compute_stats(prev, &sample, now.duration_since(*taken), vcpus);
                rates.push((record.uuid.clone(), st));
            }
            samples.insert(record.uuid, (sample, now));
        }
        let had_previous = !self.samples.is_empty();
        self.samples = samples;
        if had_previous || !rates.is_empty() {
            self.emit(Event::Stats(rates));
        }
        self.sample_host();
    }

    /// The host's CPU and memory use at the same tick, with the memory of the running
    /// machines as the worker knows them (no call for that).
    fn sample_host(&mut self) {
        let Some(session) = &self.session else {
            return;
        };
        let (cpu, memory) = host_load::read(&session.conn);
        let running: Vec<&Known> = session.known.values().filter(|d| d.active).collect();
        let load = HostLoad {
            cpu_percent: self.host_cpu.zip(cpu).and_then(|(a, b)| cpu_percent(a, b)),
            memory,
            committed_kib: running.iter().map(|d| d.memory_kib).sum(),
            running: u32::try_from(running.len()).unwrap_or(u32::MAX),
        };
        self.host_cpu = cpu;
        self.emit(Event::HostLoad(load));
    }
}

/// A host's domains as two calls and a bulk statistics call list them:
/// `virConnectListAllDomains` (and its transient and managed-save subsets, usually
/// empty) and `virConnectGetAllDomainStats` for every domain's run state and disk
/// capacities. Over the remote protocol each call is a round trip, so a long
/// list is shown from these first ([`Listing::first_look`]); reading each domain's XML
/// ([`Listing::read_all`]), one round trip per domain, follows.
struct Listing {
    domains: Vec<Domain>,
    transient: HashSet<String>,
    saved: HashSet<String>,
    facts: HashMap<String, ListedFacts>,
}

impl Listing {
    fn read(conn: &Connect) -> Result<Self, virt::error::Error> {
        let domains = conn.list_all_domains(0)?;
        let uuids = |flags| -> Result<HashSet<String>, virt::error::Error> {
            conn.list_all_domains(flags)?
                .iter()
                .map(Domain::uuid_string)
                .collect()
        };
        let transient = uuids(sys::VIR_CONNECT_LIST_DOMAINS_TRANSIENT)?;
        let saved = uuids(sys::VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE)?;
        let facts = match bulk_stats(conn, stats::STATE | stats::BLOCK, 0) {
            Ok(records) => records
                .into_iter()
                .map(|r| (r.uuid, ListedFacts::from_params(&r.params)))
                .collect(),
            Err(error) => {
                tracing::debug!(%error, "no bulk statistics: reading each domain");
                HashMap::new()
            }
        };
        Ok(Self {
            domains,
            transient,
            saved,
            facts,
        })
    }

    /// The facts the listing gave about `uuid`, when the statistics had its state.
    fn listed(&self, uuid: &str) -> Option<(&ListedFacts, DomainState, bool, bool)> {
        let facts = self.facts.get(uuid)?;
        let state = facts.state?;
        let persistent = !self.transient.contains(uuid);
        let saved = !state.is_active() && self.saved.contains(uuid);
        Some((facts, state, persistent, saved))
    }

    /// What the calls so far tell of each domain, no further call made (a domain's name,
    /// UUID and id come with its handle). Domains the statistics left out are left out
    /// here too; [`Listing::read_all`] asks them alone.
    fn first_look(&self) -> Vec<DomainInfo> {
        self.domains
            .iter()
            .filter_map(|dom| {
                let uuid = dom.uuid_string().ok()?;
                let (_, state, persistent, saved) = self.listed(&uuid)?;
                let name = dom.name().ok()?;
                let mut info = DomainInfo::listed(name, uuid, dom.id(), state, persistent);
                info.saved = saved;
                Some(info)
            })
            .collect()
    }

    /// Every domain in full: one XML read per domain.
    fn read_all(&self) -> Result<Vec<DomainInfo>, virt::error::Error> {
        let started = std::time::Instant::now();
        let mut infos = Vec::with_capacity(self.domains.len());
        for dom in &self.domains {
            let uuid = dom.uuid_string()?;
            let read = match self.listed(&uuid) {
                Some((facts, state, persistent, saved)) => {
                    read_domain_xml(dom, state, persistent, saved, Seen::Listing).map(|mut info| {
                        for disk in info.disks.iter_mut().filter(|d| has_size(d)) {
                            disk.size_bytes = facts.capacities.get(&disk.target).copied();
                        }
                        info
                    })
                }
                // Not in the statistics (defined since) or no state there: ask it alone.
                None => read_domain(dom, Seen::Listing),
            };
            match read {
                Ok(info) => infos.push(info),
                // Gone since the listing: its Undefined event is on the way.
                Err(ReadError::Libvirt(e)) if is_no_domain(&e) => {}
                Err(error) => {
                    tracing::warn!(error = %error.message(), "skipping a domain that cannot be read");
                }
            }
        }
        tracing::debug!(count = infos.len(), elapsed = ?started.elapsed(), "read the domains");
        Ok(infos)
    }
}

/// `virConnectGetAllDomainStats` without waiting for domains busy with a job, on daemons
/// that know how (libvirt 4.5 and later).
fn bulk_stats(
    conn: &Connect,
    groups: u32,
    flags: u32,
) -> Result<Vec<events::DomainStatsRecord>, virt::error::Error> {
    match events::all_domain_stats(conn, groups, flags | stats::NOWAIT) {
        Err(e) if is_unsupported(&e) => events::all_domain_stats(conn, groups, flags),
        other => other,
    }
}

/// The statistics of the active domains of `watch`, in one call, with the handles of
/// `watched` (looked up there the first time).
fn watched_stats(
    session: &Session,
    watched: &mut HashMap<String, Domain>,
    watch: &HashSet<String>,
    groups: u32,
) -> Result<Vec<events::DomainStatsRecord>, virt::error::Error> {
    let active = |uuid: &String| session.known.get(uuid).is_some_and(|d| d.active);
    for uuid in watch.iter().filter(|uuid| active(uuid)) {
        if !watched.contains_key(uuid) {
            // Not found: it is gone, and its event is on the way.
            if let Ok(dom) = session.conn.lookup_domain_by_uuid_string(uuid) {
                watched.insert(uuid.clone(), dom);
            }
        }
    }
    let domains: Vec<&Domain> = watch
        .iter()
        .filter(|uuid| active(uuid))
        .filter_map(|uuid| watched.get(uuid))
        .collect();
    match events::list_domain_stats(&domains, groups, stats::NOWAIT) {
        Err(e) if is_unsupported(&e) => events::list_domain_stats(&domains, groups, 0),
        other => other,
    }
}

/// One domain with a call for each fact: after an event about it, or when the bulk
/// statistics left it out.
fn read_domain(dom: &Domain, seen: Seen) -> Result<DomainInfo, ReadError> {
    let (state, _reason) = dom.state()?;
    let state = DomainState::from_raw(state.to_raw());
    let persistent = dom.is_persistent()?;
    let saved = !state.is_active() && dom.has_managed_save(0).unwrap_or(false);
    let mut info = read_domain_xml(dom, state, persistent, saved, seen)?;
    for disk in info.disks.iter_mut().filter(|d| has_size(d)) {
        disk.size_bytes = dom.block_info(&disk.target, 0).ok().map(|b| b.capacity);
    }
    Ok(info)
}

/// The machine `uuid` in full, read afresh: [`requests::DescribeRequest::Domain`]. Read
/// while the worker watches, so an install found ended is finished as its event would.
pub(super) fn read_in_full(conn: &Connect, uuid: &str) -> Result<DomainInfo, RequestError> {
    let dom = conn.lookup_domain_by_uuid_string(uuid)?;
    read_domain(&dom, Seen::Live).map_err(|error| RequestError::Libvirt(error.message()))
}

/// Disks whose size the list shows: those with an image, not CD-ROMs or floppies.
fn has_size(disk: &Disk) -> bool {
    disk.device == DiskDevice::Disk && disk.source.is_some()
}

/// When a domain is read: whether its changes since the worker connected were watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Listed when the worker (re)connects: what happened before, nobody saw.
    Listing,
    /// Re-read while connected: a change since the listing happened while the worker
    /// watched, even when this read comes before the event that reports it.
    Live,
}

/// The domain's XML read into a [`DomainInfo`], with the facts that are not in it.
fn read_domain_xml(
    dom: &Domain,
    state: DomainState,
    persistent: bool,
    saved: bool,
    seen: Seen,
) -> Result<DomainInfo, ReadError> {
    let mut xml = dom.xml_desc(0)?;
    if install::is_pending(&xml) {
        // Its install run ended: finish it now. Started again only when the run ended
        // while the worker watched (a re-read after the guest's Shutdown event can come
        // before its Stopped event); one that ended while nobody watched waits for the user.
        match install::finish_if_ended(dom, seen == Seen::Live) {
            Ok(install::Finished::Nothing) => {}
            Ok(_) => xml = dom.xml_desc(0)?,
            Err(error) => tracing::warn!(%error, "could not finish an install"),
        }
    }
    let mut info = DomainInfo::from_xml(&xml, state, persistent).map_err(ReadError::Xml)?;
    if info.tablet == Tablet::Missing && persistent && state.is_active() {
        let inactive = dom.xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)?;
        let config = DomainInfo::from_xml(&inactive, state, persistent).map_err(ReadError::Xml)?;
        if config.tablet == Tablet::Present {
            info.tablet = Tablet::AtNextStart;
        }
    }
    info.saved = saved;
    Ok(info)
}

/// libvirt's `major * 1_000_000 + minor * 1000 + micro` as text.
pub fn format_version(version: u32) -> String {
    format!(
        "{}.{}.{}",
        version / 1_000_000,
        version / 1000 % 1000,
        version % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_seconds() {
        let secs: Vec<f64> = (0..8).map(|a| backoff(a).as_secs_f64()).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]);
        assert_eq!(backoff(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn the_default_stats_interval_is_the_settings_default() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/io.github.virtdeck.Virtdeck.gschema.xml"
        );
        let schema = std::fs::read_to_string(path).expect("the GSettings schema");
        let doc = roxmltree::Document::parse(&schema).expect("schema XML");
        let default = doc
            .descendants()
            .find(|n| n.has_tag_name("key") && n.attribute("name") == Some("stats-interval"))
            .and_then(|key| key.children().find(|n| n.has_tag_name("default")))
            .and_then(|d| d.text())
            .expect("stats-interval has a default");
        let seconds: u64 = default.trim().parse().expect("a number of seconds");
        assert_eq!(
            WorkerOptions::default().stats_interval,
            Some(Duration::from_secs(seconds))
        );
    }

    #[test]
    fn versions() {
        assert_eq!(format_version(10_002_001), "10.2.1");
        assert_eq!(format_version(2_000), "0.2.0");
    }

    #[test]
    fn a_uri_that_cannot_work_fails_without_retrying() {
        let handle = spawn(
            "nosuchdriver:///system".into(),
            WorkerOptions {
                stats_interval: None,
                autoconnect: true,
            },
        );
        let first = handle.events.recv_blocking().unwrap();
        assert_eq!(first, Event::ConnectionState(ConnectionState::Connecting));
        match handle.events.recv_blocking().unwrap() {
            Event::ConnectionState(ConnectionState::Failed { message }) => {
                assert!(message.ends_with('.'), "{message}");
            }
            other => panic!("expected Failed, got {other:?}"),
        }
        // Nothing more comes: no retry loop.
        std::thread::sleep(Duration::from_millis(800));
        assert!(handle.events.try_recv().is_err());
        handle.quit_and_join();
    }

    #[test]
    fn commands_without_a_connection_report_errors_and_quit_ends_the_thread() {
        let handle = spawn(
            "test:///default".into(),
            WorkerOptions {
                stats_interval: None,
                autoconnect: false,
            },
        );
        handle
            .commands
            .send_blocking(Command::Start("x".into()))
            .unwrap();
        match handle.events.recv_blocking().unwrap() {
            Event::Error {
                action,
                domain,
                message,
            } => {
                assert_eq!(action, Action::Start);
                assert_eq!(domain.as_deref(), Some("x"));
                assert_eq!(message, "Not connected.");
            }
            other => panic!("unexpected {other:?}"),
        }
        handle.quit_and_join();
    }

    #[test]
    fn dropping_the_command_sender_stops_the_worker() {
        let handle = spawn(
            "test:///default".into(),
            WorkerOptions {
                stats_interval: None,
                autoconnect: false,
            },
        );
        let ConnectionHandle {
            commands,
            events,
            thread,
        } = handle;
        drop(commands);
        thread.unwrap().join().unwrap();
        assert!(events.recv_blocking().is_err(), "event channel closed");
    }
}
