//! GTK only: the application, its windows and widgets.

mod add_connection;
mod application;
mod connection;
mod details;
mod domain;
mod domain_list;
mod preferences;
mod settings;
mod window;
mod wizard;

pub use application::Application;
pub use connection::{connection_title, Connection};
pub use details::DomainDetails;
pub use domain::Domain;
pub use domain_list::DomainList;
pub use window::Window;
