mod auth;
mod clipboard;
pub mod connection;
pub mod connector;
mod messages;
mod security;
pub mod vencrypt;

pub use connection::VncClient;
pub use connector::VncConnector;
pub use vencrypt::{TlsUpgrade, TlsUpgradeFuture, VeNCryptSubtype};

mod resize;
