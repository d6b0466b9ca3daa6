//! Virtdeck: a GTK 4 / libadwaita manager for the virtual machines of a Linux host.
//!
//! # Threads and data flow
//!
//! ```text
//! libvirt event loop thread ──callbacks──▶ connection worker ──async-channel──▶ GTK main loop
//!                                               ▲                                    │
//! GTK actions ──Command (async-channel)─────────┘                                    ▼
//!                                                               gio::ListModel of GObjects ──▶ widgets
//! ```
//!
//! - [`libvirt`], [`host`], [`spec`]: GUI-free. libvirt calls block, so they never run on the GTK
//!   main thread: one worker thread per connection owns it, takes `Command`s and sends
//!   `Event`s, which the main loop applies to the list models.
//! - [`ui`]: GTK only, depends on the modules above and never the other way round.

pub mod config;
pub mod console;
pub mod host;
pub mod i18n;
pub mod libvirt;
pub mod spec;
pub mod ui;

use gtk::prelude::*;

/// Starts the application: logging, translations, resources, then the GTK main loop.
pub fn run() -> glib::ExitCode {
    init_logging();
    i18n::init();
    gio::resources_register_include!("virtdeck.gresource")
        .expect("the resource bundle is compiled into the binary");
    ui::Application::new().run()
}

/// Logs go to stderr. The level comes from `RUST_LOG` (default `warn`); `G_MESSAGES_DEBUG`
/// naming `all` or `virtdeck` turns on debug output too, as in other GNOME applications.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let glib_debug = std::env::var("G_MESSAGES_DEBUG")
        .map(|v| v.split([',', ' ']).any(|d| d == "all" || d == "virtdeck"))
        .unwrap_or(false);
    let default = if glib_debug {
        "virtdeck=debug,warn"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
