//! Requests: what the UI asks of a connection and waits to hear back about, answered on the
//! worker's own connection, so that one connection (one SSH login) serves a host.
//!
//! A [`Request`] travels in [`Command::Request`](super::Command::Request). Each variant
//! carries a [`Reply`], the sending half of a one-shot channel; the asker waits on the
//! [`Answer`] that belongs to it ([`ConnectionHandle::ask`](super::ConnectionHandle::ask)
//! makes the pair and sends the command). The worker sends exactly one result:
//! [`RequestError::NotConnected`] while it has no connection, and when the worker stops
//! before answering, the dropped reply makes the answer [`RequestError::Stopped`], so no
//! asker waits forever.
//!
//! The worker runs requests one at a time between its other work; a request blocks it for
//! as long as libvirt takes (creating a machine: allocating its disk), unless it is
//! answered on a thread of its own ([`Reply::answer_in_background`]). Either kind tells
//! the worker through a [`Refresher`] which machines to re-read when it changed them
//! without an event (a template mark).

use std::fmt;
use std::os::fd::OwnedFd;

use virt::connect::Connect;

use super::addresses::{self, GuestAddresses};
use super::clone::{self, CloneFailure, CloneRequest};
use super::deletion::{self, StorageChoice};
use super::domain::DomainInfo;
use super::edit::{self, EditFailure, EditRequest};
use super::error::describe;
use super::guest_info::{self, GuestFacts};
use super::host_info::{self, HostInfo};
use super::migration::{self, MigrationError, MigrationRequest};
use super::networks::{self, NetworkChange, NetworkError, NetworkRequest, VirtualNetwork};
use super::snapshots::{self, SnapshotError, SnapshotRequest};
use super::storage::{self, StorageError, StorageRequest};
use super::uri::ConnectionName;
use super::worker::Refresher;
use super::{graphics, Command};
use crate::spec::create::{self, CreateFailure, Created, Progress};
use crate::spec::{facts, DomainType, HostFacts, VmSpec};

/// A question for the connection worker, with the [`Reply`] to answer it on.
#[derive(Debug)]
pub enum Request {
    /// What Host Details shows about the host.
    HostInfo(Reply<HostInfo>),
    /// The virtual networks, sorted by name.
    Networks(Reply<Vec<VirtualNetwork>>),
    /// Start or stop a virtual network, or set its autostart.
    ChangeNetwork {
        name: String,
        change: NetworkChange,
        reply: Reply<()>,
    },
    /// A socket connected to the VNC server of a running domain (its VNC display among
    /// several; [`graphics::DisplayError`] when it has none), past its password: for a
    /// console on the computer the connection's host is.
    GraphicsSocket { uuid: String, reply: Reply<OwnedFd> },
    /// Where a domain's display is, for a console on another computer.
    Display(graphics::DisplayRequest),
    /// The guest's IP addresses: from its agent (unless `agent` is false: the agent of a
    /// busy guest may take seconds), else the DHCP lease, else ARP (see
    /// [`addresses::read`]). Not running, or no source with addresses, is an answer too.
    GuestAddresses {
        uuid: String,
        agent: bool,
        reply: Reply<GuestAddresses>,
    },
    /// What the guest agent tells of the guest (see [`guest_info::read`]); a guest without
    /// an answering agent, or a machine not running, is an answer too.
    GuestInfo {
        uuid: String,
        reply: Reply<GuestFacts>,
    },
    /// The VNC password in the domain's secure XML; `None` when it has none.
    VncPassword {
        uuid: String,
        reply: Reply<Option<String>>,
    },
    /// What a [`VmSpec`] is checked against (memory, pools, volumes, names, networks,
    /// bridges, UEFI) for a machine of `domain_type`. Only reads.
    HostFacts {
        domain_type: DomainType,
        reply: Reply<HostFacts>,
    },
    /// Make sure storage pool `name` exists and runs; the default pool is created when
    /// missing (as virt-manager does).
    EnsurePool { name: String, reply: Reply<()> },
    /// Create the machine, all or nothing (see [`create::create_vm_on`]). Each step is sent
    /// to `progress` as it begins; the worker drops that sender when it is done.
    CreateVm {
        spec: Box<VmSpec>,
        progress: async_channel::Sender<Progress>,
        reply: Reply<Created>,
    },
    /// The connection's storage pools and volumes (the Storage page).
    Storage(StorageRequest),
    /// Making, reading and deleting virtual networks (the Networking page).
    Network(NetworkRequest),
    /// A machine's snapshots (see [`snapshots`]).
    Snapshot(SnapshotRequest),
    /// Cloning a machine (see [`clone`]).
    Clone(CloneRequest),
    /// Read or change an existing machine (the hardware page).
    Edit(EditRequest),
    /// The machines of a host: tags ([`tags`](super::tags)).
    Hosts(super::tags::HostsRequest),
    /// Moving a machine to another host.
    Migration(MigrationRequest),
    /// One machine in full, for the screens that show more than the list keeps.
    Describe(DescribeRequest),
}

/// What the list does not keep of each machine (its devices), read for the one machine a
/// screen shows.
#[derive(Debug)]
pub enum DescribeRequest {
    /// The machine's description with its disks, network interfaces and displays, read
    /// afresh.
    Domain {
        uuid: String,
        reply: Reply<DomainInfo>,
    },
    /// The local disk images the machine uses, each with the other machines of the host
    /// that use it too ([`deletion::storage_choices`]), for the delete dialog.
    Storage {
        uuid: String,
        reply: Reply<Vec<StorageChoice>>,
    },
}

/// Why a request has no answer. Each message is a sentence.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("Not connected.")]
    NotConnected,
    /// The worker stopped (or never started) before answering.
    #[error("The connection has stopped.")]
    Stopped,
    /// What libvirt said, made readable ([`describe`]).
    #[error("{0}")]
    Libvirt(String),
    /// The machine was not created; the failure names what could not be removed again.
    #[error(transparent)]
    Create(#[from] CreateFailure),
    #[error(transparent)]
    Storage(StorageError),
    #[error(transparent)]
    Network(NetworkError),
    /// The domain's display cannot be reached (SPICE only, none, not listening).
    #[error(transparent)]
    Display(#[from] graphics::DisplayError),
    /// A snapshot request refused before libvirt was asked.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The machine was not cloned; the failure names what could not be removed again.
    #[error(transparent)]
    Clone(#[from] CloneFailure),
    /// An edit refused before anything changed.
    #[error(transparent)]
    Edit(#[from] EditFailure),
    #[error(transparent)]
    Migration(MigrationError),
}

impl From<crate::spec::edit::EditError> for RequestError {
    fn from(error: crate::spec::edit::EditError) -> Self {
        Self::Edit(error.into())
    }
}

impl From<virt::error::Error> for RequestError {
    fn from(error: virt::error::Error) -> Self {
        Self::Libvirt(describe(&error))
    }
}

/// The worker's half of a one-shot channel: it answers a request once.
pub struct Reply<T> {
    sender: async_channel::Sender<Result<T, RequestError>>,
}

/// The asker's half: the one result, or [`RequestError::Stopped`] when the reply was
/// dropped unanswered.
pub struct Answer<T> {
    receiver: async_channel::Receiver<Result<T, RequestError>>,
}

impl<T> Reply<T> {
    /// A reply and the answer it reaches.
    pub fn new() -> (Self, Answer<T>) {
        let (sender, receiver) = async_channel::bounded(1);
        (Self { sender }, Answer { receiver })
    }

    pub(super) fn send(self, result: Result<T, RequestError>) {
        // The asker may have gone (its window closed): nobody to tell.
        let _ = self.sender.try_send(result);
    }

    /// Answers with what `f` makes of the connection, or with
    /// [`RequestError::NotConnected`] when there is none.
    pub(super) fn answer(
        self,
        conn: Option<&Connect>,
        f: impl FnOnce(&Connect) -> Result<T, RequestError>,
    ) {
        self.send(conn.map_or(Err(RequestError::NotConnected), f));
    }

    /// [`Reply::answer`] on a thread of its own named `thread`, for requests that take
    /// minutes (copies, uploads, snapshots with memory): the worker goes on serving the
    /// connection's other requests and events meanwhile. libvirt connections are shared
    /// between threads. A job that changes what the list shows without an event moves a
    /// clone of the [`Refresher`] into `f` and asks it before returning, so the refresh is
    /// queued before the answer goes out.
    pub(super) fn answer_in_background(
        self,
        conn: Option<&Connect>,
        thread: &str,
        f: impl FnOnce(&Connect) -> Result<T, RequestError> + Send + 'static,
    ) where
        T: Send + 'static,
    {
        let Some(conn) = conn.cloned() else {
            self.send(Err(RequestError::NotConnected));
            return;
        };
        let sender = self.sender.clone();
        let spawned = std::thread::Builder::new()
            .name(thread.to_owned())
            .spawn(move || self.send(f(&conn)));
        if let Err(e) = spawned {
            tracing::error!("could not start a {thread} thread: {e}");
            let _ = sender.try_send(Err(RequestError::Stopped));
        }
    }
}

impl<T> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reply")
    }
}

impl<T> Answer<T> {
    pub async fn recv(self) -> Result<T, RequestError> {
        self.receiver
            .recv()
            .await
            .unwrap_or(Err(RequestError::Stopped))
    }

    /// [`Answer::recv`] for threads that may block (tests, other workers).
    pub fn recv_blocking(self) -> Result<T, RequestError> {
        self.receiver
            .recv_blocking()
            .unwrap_or(Err(RequestError::Stopped))
    }
}

impl Request {
    /// Builds a request with `make` and wraps it in a command; returns the answer to wait on.
    pub fn command<T>(make: impl FnOnce(Reply<T>) -> Request) -> (Command, Answer<T>) {
        let (reply, answer) = Reply::new();
        (Command::Request(make(reply)), answer)
    }

    fn name(&self) -> &'static str {
        match self {
            Self::HostInfo(_) => "HostInfo",
            Self::Networks(_) => "Networks",
            Self::ChangeNetwork { .. } => "ChangeNetwork",
            Self::GraphicsSocket { .. } => "GraphicsSocket",
            Self::Display(request) => request.name(),
            Self::GuestAddresses { .. } => "GuestAddresses",
            Self::GuestInfo { .. } => "GuestInfo",
            Self::VncPassword { .. } => "VncPassword",
            Self::HostFacts { .. } => "HostFacts",
            Self::EnsurePool { .. } => "EnsurePool",
            Self::CreateVm { .. } => "CreateVm",
            Self::Storage(request) => request.name(),
            Self::Network(request) => request.name(),
            Self::Snapshot(request) => request.name(),
            Self::Clone(request) => request.name(),
            Self::Edit(edit) => edit.name(),
            Self::Hosts(request) => request.name(),
            Self::Migration(request) => request.name(),
            Self::Describe(DescribeRequest::Domain { .. }) => "Describe::Domain",
            Self::Describe(DescribeRequest::Storage { .. }) => "Describe::Storage",
        }
    }
}

/// Answers `request` on `conn`, the worker's connection to `uri` if it has one. Blocks,
/// except for requests answered in the background. `refresher` re-reads machines that a
/// request changed without an event.
pub(super) fn serve(conn: Option<&Connect>, uri: &str, refresher: &Refresher, request: Request) {
    tracing::debug!(
        request = request.name(),
        connected = conn.is_some(),
        "request"
    );
    match request {
        Request::HostInfo(reply) => {
            let local = !ConnectionName::parse(uri).is_remote();
            reply.answer(conn, |c| Ok(host_info::read(c, local)?));
        }
        Request::Networks(reply) => reply.answer(conn, |c| Ok(networks::list(c)?)),
        Request::ChangeNetwork {
            name,
            change,
            reply,
        } => reply.answer(conn, |c| Ok(networks::apply(c, &name, change)?)),
        Request::GraphicsSocket { uuid, reply } => {
            reply.answer(conn, |c| graphics::open_socket(c, &uuid));
        }
        Request::Display(request) => graphics::serve(conn, request),
        Request::GuestAddresses { uuid, agent, reply } => {
            reply.answer(conn, |c| Ok(addresses::read(c, &uuid, agent)?));
        }
        Request::GuestInfo { uuid, reply } => {
            reply.answer(conn, |c| Ok(guest_info::read(c, &uuid)?));
        }
        Request::VncPassword { uuid, reply } => {
            reply.answer(conn, |c| Ok(graphics::read_vnc_password(c, &uuid)?));
        }
        Request::HostFacts { domain_type, reply } => {
            reply.answer(conn, |c| Ok(facts::gather(c, domain_type)?));
        }
        Request::EnsurePool { name, reply } => {
            reply.answer(conn, |c| {
                create::ensure_pool(c, &name)
                    .map(drop)
                    .map_err(|error| RequestError::Create(CreateFailure::nothing_made(error)))
            });
        }
        Request::CreateVm {
            spec,
            progress,
            reply,
        } => reply.answer(conn, move |c| {
            // Moved in, so the sender is dropped before the reply goes out: the asker has
            // every step by the time it has the answer.
            let mut report = |step| {
                let _ = progress.try_send(step);
            };
            Ok(create::create_vm_on(c, &spec, &mut report)?)
        }),
        Request::Storage(request) => storage::serve(conn, request),
        Request::Network(request) => networks::serve(conn, request),
        Request::Snapshot(request) => snapshots::serve(conn, request),
        Request::Clone(request) => clone::serve(conn, refresher, request),
        Request::Edit(request) => {
            edit::serve(conn, !ConnectionName::parse(uri).is_remote(), request);
        }
        Request::Hosts(request) => super::tags::serve(conn, request),
        Request::Migration(request) => migration::serve(conn, request),
        Request::Describe(DescribeRequest::Domain { uuid, reply }) => {
            reply.answer(conn, |c| super::worker::read_in_full(c, &uuid));
        }
        Request::Describe(DescribeRequest::Storage { uuid, reply }) => {
            reply.answer(conn, |c| Ok(deletion::read_storage_choices(c, &uuid)?));
        }
    }
}
