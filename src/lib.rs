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
//!   `Event`s, which the main loop applies to the list models. What the UI needs answered
//!   (host facts, networks, a console socket, creating a VM) is a `Request` to the same
//!   worker with a one-shot reply, awaited on the main loop.
//! - [`ui`]: GTK only, depends on the modules above and never the other way round.

pub mod askpass;
pub mod config;
pub mod console;
pub mod host;
pub mod i18n;
pub mod libvirt;
pub mod spec;
pub mod ui;

use gtk::prelude::*;

/// Starts the application: logging, translations, resources, then the GTK main loop. As
/// `virtdeck --net-helper` or `virtdeck --bridge-conf-helper` it is the privileged network
/// helper instead ([`host::net::privileged`]), which runs no GTK code at all.
pub fn run() -> glib::ExitCode {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if askpass::is_asker(&argv0) {
        // ssh runs us as its askpass program: ask the running window, print the answer.
        let prompt = args.first().map(|p| p.to_string_lossy().into_owned());
        return askpass::child::main(std::path::Path::new(&argv0), &prompt.unwrap_or_default());
    }
    if let Some(mode) = host::net::protocol::Mode::from_args(&args) {
        init_logging();
        if args.len() > 1 {
            tracing::error!("{} takes no other arguments", mode.flag());
            return glib::ExitCode::FAILURE;
        }
        return host::net::privileged::main(mode).into();
    }
    prefer_cairo_without_gpu();
    libvirt::ffi::limit_malloc_arenas(2);
    // Before any thread exists: it sets SSH_ASKPASS for every ssh this process starts.
    let askpass = askpass::Rendezvous::install();
    init_logging();
    if let Err(error) = &askpass {
        tracing::warn!("SSH prompts cannot reach the window: {error}");
    }
    i18n::init();
    gio::resources_register_include!("virtdeck.gresource")
        .expect("the resource bundle is compiled into the binary");
    let app = ui::Application::new();
    if let Ok(askpass) = askpass {
        app.set_askpass(askpass);
    }
    app.run()
}

/// Without a GPU render node GTK's GL renderer runs on Mesa's software rasteriser, which
/// is slower than cairo for this interface and costs about 50 MB of memory (llvmpipe). Then
/// draw with cairo and do not load GL at all, unless the user chose a renderer. Runs before
/// any other thread exists, so changing the environment is safe.
fn prefer_cairo_without_gpu() {
    let has_render_node = std::fs::read_dir("/dev/dri")
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        })
        .unwrap_or(false);
    let chosen =
        std::env::var_os("GSK_RENDERER").is_some() || std::env::var_os("GDK_DEBUG").is_some();
    if !has_render_node && !chosen {
        std::env::set_var("GSK_RENDERER", "cairo");
        std::env::set_var("GDK_DEBUG", "gl-disable");
    }
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
