//! Plumbing every screen shares, written once: signal handlers held on a bound object,
//! context menus, and the one way an error reaches the user.

mod bound;
mod closures;
mod context_menu;
mod error;

pub use bound::BoundObject;
pub use closures::Closures;
pub use context_menu::add_context_menu;
pub use error::{show_error, Failure, UserError};
