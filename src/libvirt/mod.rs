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
//!   parts of the C API that the `virt` crate lacks. With [`auth`], the only modules with `unsafe`.
//! - [`auth`]: libvirt's own authentication (SASL, libssh): the credentials it asks for
//!   go to the window; a second small unsafe wrapper, over `virConnectOpenAuth`.
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
//! - [`host_info`], [`networks`]: what Host Details shows, the virtual networks.
//! - [`tags`]: a machine's tags, in its domain metadata under Virtdeck's namespace.
//! - [`uri`]: a connection's friendly name.
//! - [`worker`]: the connection worker: [`Command`] in, [`Event`] out.
//! - [`error`]: libvirt's error messages made readable.
#![deny(unsafe_code)]

pub mod addresses;
#[allow(unsafe_code)]
pub mod auth;
pub mod deletion;
pub mod domain;
pub mod error;
#[allow(unsafe_code)]
pub mod events;
pub mod graphics;
pub mod history;
pub mod host_info;
pub mod networks;
pub mod requests;
pub mod tags;
pub mod uri;
pub mod worker;

pub use addresses::{AddressSource, GuestAddresses, GuestNic};
pub use deletion::{storage_choices, DeleteStorage, StorageChoice};
pub use domain::{DomainInfo, DomainState, DomainStats, Tablet};
pub use history::{Series, StatsHistory};
pub use host_info::{HostInfo, PoolUse};
pub use networks::{NetworkChange, VirtualNetwork};
pub use requests::{Answer, Reply, Request, RequestError};
pub use tags::HostsRequest;
pub use uri::{ConnectionKind, ConnectionName};
pub use worker::{
    spawn, Action, Command, ConnectionHandle, ConnectionState, DisconnectReason, Event,
    WorkerOptions,
};
