//! GTK only: the application, its windows and widgets.

mod add_connection;
mod application;
mod connection;
mod settings;
mod window;

pub use application::Application;
pub use connection::Connection;
pub use window::Window;

/// The name a connection goes by in the window.
pub fn connection_title(uri: &str) -> String {
    uri.to_owned()
}
