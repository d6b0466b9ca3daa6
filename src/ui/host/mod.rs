//! The Host Details window of a connection: what the host is (hypervisor, processors,
//! memory, whether KVM works) and its networking (network cards, bridges, libvirt's
//! virtual networks), with creating and deleting bridges.
//!
//! libvirt is asked through the connection's worker ([`Connection::request`]); what blocks
//! on this computer (the KVM check, `ip`) runs on a worker thread through [`off_main`]. The
//! window only shows the results.

mod bridge_dialogs;
mod networking;
mod overview;
pub(crate) mod text;
mod vnets;

use crate::i18n::gettext;
use crate::ui::Connection;
use adw::prelude::*;
use gtk::{gio, glib};

/// Runs `f` on a worker thread and gives its result back on the main loop; `None` when it
/// panicked (which is logged).
pub(crate) async fn off_main<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    match gio::spawn_blocking(f).await {
        Ok(value) => Some(value),
        Err(_) => {
            tracing::error!("a background task panicked");
            None
        }
    }
}

/// Opens the Host Details window of `connection`.
pub fn present(parent: &impl IsA<gtk::Window>, connection: &Connection) {
    let window = adw::PreferencesWindow::builder()
        .title(gettext("Host Details"))
        .transient_for(parent)
        .search_enabled(false)
        .default_width(680)
        .default_height(720)
        .build();
    window.add(&overview::page(connection));
    window.add(&networking::page(connection));
    window.present();
}

/// Tells the user that `heading` failed, and why (`message`).
pub(crate) fn show_error(window: &impl IsA<gtk::Window>, heading: &str, message: &str) {
    crate::ui::util::show_error(
        window.as_ref().upcast_ref::<gtk::Widget>(),
        &crate::ui::util::Failure::with_detail(heading, message),
    );
}

/// A switch that screen readers announce as `label` (gtk-rs cannot set accessible labels
/// before GTK 4.10, a builder definition can).
pub(crate) fn labelled_switch(label: &str) -> gtk::Switch {
    let ui = format!(
        r#"<interface><object class="GtkSwitch" id="switch"><property name="valign">center</property><accessibility><property name="label">{}</property></accessibility></object></interface>"#,
        glib::markup_escape_text(label)
    );
    gtk::Builder::from_string(&ui)
        .object("switch")
        .expect("the definition has a switch")
}
