//! GTK only: the application, its windows and widgets.

mod add_connection;
mod application;
mod connection;
mod console_page;
mod console_view;
mod console_window;
mod details;
mod domain;
mod domain_action;
mod domain_list;
pub(crate) mod host;
mod preferences;
mod settings;
pub(crate) mod util;
pub(crate) mod window;
mod wizard;

pub use application::Application;
pub use connection::{connection_title, Connection};
pub use console_page::ConsolePage;
pub use console_view::ConsoleView;
pub use console_window::ConsoleWindow;
pub use details::DomainDetails;
pub use domain::Domain;
pub use domain_list::DomainList;
pub use window::Window;
