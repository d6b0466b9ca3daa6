//! GTK only: the application, its windows and widgets.
//!
//! Screens are composite templates (`src/ui/<path>.rs` with `data/resources/ui/<path>.ui`);
//! what a user can do to a machine is a `domain_action::DomainAction`; errors reach the user
//! through `util::show_error`; libvirt is reached only through the connection's worker
//! ([`Connection::send`], [`Connection::request`]), whose vocabulary the UI names
//! `backend`.

/// The connection workers' vocabulary as the UI uses it: commands, requests and the plain
/// data they carry (domains, states, host facts). Under its own name here, so that the
/// paths of the libvirt bindings (the `virt` crate) never appear in `src/ui`
/// (`tests/architecture.rs`).
pub(crate) use crate::libvirt as backend;

mod add_connection;
mod application;
mod clone_dialog;
mod connection;
mod console_page;
mod console_view;
mod console_window;
mod credentials;
mod details;
mod domain;
mod domain_action;
mod domain_list;
mod graph;
pub(crate) mod host;
mod host_load;
mod preferences;
mod settings;
mod tags_dialog;
mod text_console;
pub(crate) mod util;
pub(crate) mod window;
mod wizard;

pub use application::Application;
pub use connection::{connection_title, Connection, InWords};
pub use console_page::ConsolePage;
pub use console_view::ConsoleView;
pub use console_window::ConsoleWindow;
pub use details::DomainDetails;
pub use domain::Domain;
pub use domain_list::DomainList;
pub use host_load::HostLoadHistory;
pub use text_console::TextConsoleWindow;
pub use window::Window;
