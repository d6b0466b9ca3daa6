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
mod run_switches;
mod storage;
pub(crate) use storage::chooser::choose_volume;
pub(crate) use storage::upload_into_pool;
pub(crate) mod text;
mod vnet_dialogs;
pub(crate) use vnet_dialogs::request_words as network_request_words;
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

/// Tells how a change ended: `done` as a toast when it worked, else the error path with
/// `failed` as the title and the reason as its detail.
fn report(widget: &impl IsA<gtk::Widget>, outcome: Result<(), String>, done: &str, failed: &str) {
    match outcome {
        Ok(()) => {
            if let Some(window) = widget.root().and_downcast::<adw::PreferencesWindow>() {
                window.add_toast(adw::Toast::new(&gtk::glib::markup_escape_text(done)));
            }
        }
        Err(reason) => crate::ui::util::show_error(
            widget,
            &crate::ui::util::Failure::with_detail(failed, reason),
        ),
    }
}

/// Marks a dialog's field as wrong (the error style) or not.
fn mark_wrong(row: &impl IsA<gtk::Widget>, wrong: bool) {
    if wrong {
        row.add_css_class("error");
    } else {
        row.remove_css_class("error");
    }
}

/// Opens the Host Details window of `connection`.
pub fn present(parent: &impl IsA<gtk::Window>, connection: &Connection) {
    let window = window::HostWindow::new(parent, connection);
    window.present();
}
