//! The Host Details window of a connection: what the host is (hypervisor, processors,
//! memory, whether KVM works) and its networking (network cards, bridges, libvirt's
//! virtual networks), with creating and deleting bridges, and its storage pools and volumes.
//!
//! libvirt is asked through the connection's worker ([`Connection::request`]); work on this
//! computer that blocks (the KVM check, `ip`, NetworkManager, `/proc`, the daemon's sockets)
//! runs on gio's thread pool through `util::run_blocking`. The window only shows the results.

mod bridge_dialogs;
mod link_row;
mod networking;
mod overview;
mod storage;
pub(crate) mod text;
mod vnet_dialogs;
mod vnet_row;
mod vnets;
mod window;

use crate::ui::Connection;
use adw::prelude::*;

/// Activates `action` of the page around `row` for the thing called `name`, turning it
/// `on` or off: how a row's switch asks its page.
fn ask_page(row: &impl IsA<gtk::Widget>, action: &str, name: String, on: bool) {
    let target = (name, on).to_variant();
    if let Err(e) = row.activate_action(action, Some(&target)) {
        tracing::error!("{action}: {e}");
    }
}

/// Opens the Host Details window of `connection`.
pub fn present(parent: &impl IsA<gtk::Window>, connection: &Connection) {
    let window = window::HostWindow::new(parent, connection);
    window.present();
}
