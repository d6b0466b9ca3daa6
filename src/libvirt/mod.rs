//! GUI-free: everything that talks to libvirt.
//!
//! ```text
//!  libvirt event loop thread            connection worker thread (one per URI)
//!  (events::ensure_event_loop)          (worker::spawn)
//!  ┌──────────────────────────┐  Msg   ┌──────────────────────────────────────┐  Event
//!  │ domain / close events    │ ─────▶ │ owns virt::Connect, re-reads the one │ ─────▶ async-channel
//!  │ callbacks just forward   │ (mpsc) │ domain an event names, polls stats   │        (UI main loop)
//!  └──────────────────────────┘        └──────────────────────────────────────┘
//!                                                    ▲ Command (async-channel), Request
//!                                                    │ with a one-shot Reply, answered
//! ```
//!
//! - [`events`]: the process-wide libvirt event loop and the small safe wrapper over the
//!   parts of the C API that the `virt` crate lacks for events and statistics.
//! - [`ffi`]: the same for a guest's addresses, its agent's facts and the host's CPU and
//!   memory counters.
//! - [`auth`]: libvirt's own authentication (SASL, libssh): the credentials it asks for
//!   go to the window; a small unsafe wrapper over `virConnectOpenAuth`. These three and
//!   `migration::cabi` are the only modules with `unsafe`.
//! - [`addresses`]: a guest's IP addresses, from its agent, DHCP lease or ARP.
//! - [`guest_info`]: what the guest agent tells of the guest (hostname, OS, time zone,
//!   users, filesystems).
//! - [`deletion`]: deleting a machine: the storage offered with it, and removing exactly
//!   what the user confirmed.
//! - [`domain`]: [`DomainInfo`] and [`DomainStats`], plain data parsed from domain XML and
//!   from bulk statistics, with the rate math as pure functions.
//! - [`edit`]: changing an existing machine: typed edits, live where libvirt can.
//! - [`graphics`]: a domain's display: which device is VNC, libvirt's socket to it, where
//!   it listens on its host, the VNC password from the secure domain XML.
//! - [`text_console`]: a domain's serial console as a stream, for the Text Console.
//! - [`ssh`]: one SSH master connection per remote host, shared by libvirt's connection
//!   and the consoles' tunnels to the displays there.
//! - [`requests`]: [`Request`]s, the questions the UI asks a worker, each answered once on
//!   its own [`Reply`] channel.
//! - [`clone`]: full and linked clones of a shut-off machine, all or nothing.
//! - [`snapshots`]: a machine's snapshots, the kind a new one must be, their screenshots.
//! - [`history`]: the recent statistics of a domain, bounded rings for graphs.
//! - [`install`]: finishing a machine's install phase once its installer's run ended.
//! - [`migration`]: moving a machine to another host: pre-checks, the destination's
//!   volumes, progress and Cancel (with the one other small FFI wrapper, `migration::cabi`).
//! - [`host_info`], [`networks`]: what Host Details shows, the virtual networks.
//! - [`host_load`]: the host's CPU and memory use, sampled with the domain statistics.
//! - [`storage`]: storage pools and volumes: listing, creating, deleting, uploading.
//! - [`tags`]: a machine's tags, in its domain metadata under Virtdeck's namespace.
//! - [`uri`]: a connection's friendly name.
//! - [`worker`]: the connection worker: [`Command`] in, [`Event`] out.
//! - [`error`]: libvirt's error messages made readable.
#![deny(unsafe_code)]

pub mod addresses;
#[allow(unsafe_code)]
pub mod auth;
pub mod clone;
pub mod deletion;
pub mod domain;
pub mod edit;
pub mod error;
#[allow(unsafe_code)]
pub mod events;
#[allow(unsafe_code)]
pub mod ffi;
pub mod first_looks;
pub mod graphics;
pub mod guest_info;
pub mod history;
pub mod host_info;
pub mod host_load;
pub mod install;
pub mod migration;
pub mod networks;
pub mod requests;
pub mod snapshots;
pub mod ssh;
pub mod storage;
pub mod tags;
pub mod text_console;
pub mod uri;
pub mod worker;

pub use addresses::{AddressSource, GuestAddresses, GuestNic};
pub use clone::{CloneFailure, CloneKind, CloneProgress, CloneRequest};
pub use deletion::{storage_choices, DeleteStorage, StorageChoice};
pub use domain::{DomainInfo, DomainState, DomainStats, Tablet};
pub use guest_info::{GuestFacts, GuestFilesystem, GuestInfo, GuestOs, GuestUser};
pub use history::{Series, StatsHistory};
pub use host_info::{HostInfo, PoolUse};
pub use host_load::{HostLoad, MemoryUse};
pub use migration::{
    MigrationError, MigrationOptions, MigrationProgress, MigrationRequest, StorageCopy,
};
pub use networks::{
    ForwardMode, Ipv4Subnet, Lease, NetworkChange, NetworkDetails, NetworkError, NetworkRequest,
    NetworkSpec, TakenSubnet, VirtualNetwork,
};
pub use requests::{Answer, DescribeRequest, Reply, Request, RequestError};
pub use snapshots::{SnapshotError, SnapshotInfo, SnapshotKind, SnapshotRequest, Snapshots};
pub use storage::{
    Field, PoolChange, PoolInfo, PoolKind, PoolSource, PoolSpec, StorageError, StorageRequest,
    VolumeFormat, VolumeInfo, VolumeSpec,
};
pub use tags::HostsRequest;
pub use uri::{distinct_titles, ConnectionKind, ConnectionName};
pub use worker::{
    spawn, Action, Command, ConnectionHandle, ConnectionState, DisconnectReason, Event,
    WorkerOptions,
};
