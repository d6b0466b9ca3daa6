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
//!   parts of the C API that the `virt` crate lacks. It and `migration::cabi` are the only
//!   modules with `unsafe`.
//! - [`addresses`]: a guest's IP addresses, from its agent, DHCP lease or ARP.
//! - [`deletion`]: deleting a machine: the storage offered with it, and removing exactly
//!   what the user confirmed.
//! - [`domain`]: [`DomainInfo`] and [`DomainStats`], plain data parsed from domain XML and
//!   from bulk statistics, with the rate math as pure functions.
//! - [`graphics`]: a domain's display: libvirt's socket to it, the VNC password from the
//!   secure domain XML.
//! - [`requests`]: [`Request`]s, the questions the UI asks a worker, each answered once on
//!   its own [`Reply`] channel.
//! - [`history`]: the recent statistics of a domain, bounded rings for graphs.
//! - [`migration`]: moving a machine to another host: pre-checks, the destination's
//!   volumes, progress and Cancel (with the one other small FFI wrapper, `migration::cabi`).
//! - [`host_info`], [`networks`]: what Host Details shows, the virtual networks.
//! - [`storage`]: storage pools and volumes: listing, creating, deleting, uploading.
//! - [`uri`]: a connection's friendly name.
//! - [`worker`]: the connection worker: [`Command`] in, [`Event`] out.
//! - [`error`]: libvirt's error messages made readable.
#![deny(unsafe_code)]

pub mod addresses;
pub mod deletion;
pub mod domain;
pub mod error;
#[allow(unsafe_code)]
pub mod events;
pub mod graphics;
pub mod history;
pub mod host_info;
pub mod migration;
pub mod networks;
pub mod requests;
pub mod storage;
pub mod uri;
pub mod worker;

pub use addresses::{AddressSource, GuestAddresses, GuestNic};
pub use deletion::{storage_choices, DeleteStorage, StorageChoice};
pub use domain::{DomainInfo, DomainState, DomainStats, Tablet};
pub use history::{Series, StatsHistory};
pub use host_info::{HostInfo, PoolUse};
pub use migration::{
    MigrationError, MigrationOptions, MigrationProgress, MigrationRequest, StorageCopy,
};
pub use networks::{
    ForwardMode, Ipv4Subnet, Lease, NetworkChange, NetworkDetails, NetworkError, NetworkRequest,
    NetworkSpec, TakenSubnet, VirtualNetwork,
};
pub use requests::{Answer, Reply, Request, RequestError};
pub use storage::{
    Field, PoolChange, PoolInfo, PoolKind, PoolSource, PoolSpec, StorageError, StorageRequest,
    VolumeFormat, VolumeInfo, VolumeSpec,
};
pub use uri::{ConnectionKind, ConnectionName};
pub use worker::{
    spawn, Action, Command, ConnectionHandle, ConnectionState, DisconnectReason, Event,
    WorkerOptions,
};
