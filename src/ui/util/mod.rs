//! Plumbing every screen shares, written once: signal handlers held on a bound object,
//! context menus, blocking work off the main thread, and the one way an error reaches the
//! user.

mod blocking;
mod bound;
mod closures;
mod context_menu;
mod error;

pub use blocking::run_blocking;
pub use bound::BoundObject;
pub use closures::Closures;
pub use context_menu::add_context_menu;
pub(crate) use error::error_dialog;
pub use error::{show_error, Failure, UserError};
