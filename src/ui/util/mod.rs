//! Plumbing every screen shares, written once: signal handlers held on a bound object,
//! the banner that offers Reload when a machine changed elsewhere, context menus, pages
//! built the first time they are shown, status page icons loaded when shown, blocking work
//! off the main thread, asking about the machine a screen shows, and the one way an error
//! reaches the user.

mod blocking;
mod bound;
mod changed_elsewhere;
mod closures;
mod context_menu;
mod error;
mod lazy_page;
mod shows_domain;
mod status_icons;

pub use blocking::run_blocking;
pub use bound::BoundObject;
pub use changed_elsewhere::ChangedElsewhereBanner;
pub use closures::Closures;
pub use context_menu::add_context_menu;
pub(crate) use error::error_dialog;
pub use error::{show_error, Failure, UserError};
pub use lazy_page::LazyPage;
pub use shows_domain::ShowsDomain;
pub use status_icons::load_status_icons_when_shown;
