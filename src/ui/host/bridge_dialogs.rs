//! Creating a bridge from a NIC and deleting one: ask first, make the change off the main
//! thread, then "Keep this configuration?" with a countdown that restores the previous
//! state unless the user keeps the new one. The countdown shown here follows the one that
//! counts, the privileged helper's (or NetworkManager's): it restores the state by itself
//! when nobody keeps the change, even when this window or the app is gone.

mod create;
mod delete;
mod keep;

use super::networking::NetworkingPage;
use crate::host::net::{self, NetError, PendingChange, Runner};
use crate::i18n::{gettext, gettext_f};
use crate::ui::util::run_blocking;
use crate::ui::util::{show_error, Failure, UserError};
use adw::prelude::*;
use create::CreateBridgeDialog;
use delete::DeleteBridgeDialog;
use gtk::glib;
use keep::KeepConfigurationDialog;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// A change of the network that was tried.
#[derive(Debug, Clone, Copy)]
enum Tried {
    Create,
    Delete,
    Keep,
    Restore,
    AllowForSessions,
}

/// A change of the network that failed: what was tried, and why.
struct NetFailure {
    tried: Tried,
    error: NetError,
}

impl Tried {
    /// That it failed, in one sentence.
    fn failed(self) -> String {
        match self {
            Tried::Create => gettext("The bridge was not created"),
            Tried::Delete => gettext("The bridge was not deleted"),
            Tried::Keep => gettext("The new configuration could not be kept"),
            Tried::Restore => gettext("The previous configuration could not be restored"),
            Tried::AllowForSessions => gettext("The bridge could not be allowed"),
        }
    }
}

impl UserError for NetFailure {
    fn title(&self) -> String {
        self.tried.failed()
    }

    fn detail(&self) -> Option<String> {
        Some(self.error.to_string())
    }
}

/// Asks for the bridge's name and STP, then makes bridge from `nic`.
pub(super) fn create(page: &NetworkingPage, nic: &str) {
    let Some(window) = page.window() else {
        return;
    };
    let dialog = CreateBridgeDialog::new(&window, nic, page.links());
    dialog.connect_response(
        Some("create"),
        glib::clone!(
            #[weak]
            page,
            move |dialog, _| {
                let request = dialog.request();
                let what = gettext_f(
                    // Translators: {bridge} is a new bridge, {nic} a network card.
                    "Bridge “{bridge}” was created from “{nic}”.",
                    &[("bridge", &request.name), ("nic", &request.nic)],
                );
                run_change(&page, what, Tried::Create, move |runner| {
                    net::create_bridge(runner, &request)
                });
            }
        ),
    );
    dialog.present();
}

/// Asks before deleting `bridge`, then deletes it.
pub(super) fn delete(page: &NetworkingPage, bridge: &str) {
    let Some(window) = page.window() else {
        return;
    };
    let dialog = DeleteBridgeDialog::new(&window, bridge);
    dialog.connect_response(
        Some("delete"),
        glib::clone!(
            #[weak]
            page,
            move |dialog, _| {
                let bridge = dialog.bridge();
                let what = gettext_f(
                    // Translators: {bridge} is the name of a network bridge.
                    "Bridge “{bridge}” was deleted.",
                    &[("bridge", &bridge)],
                );
                run_change(&page, what, Tried::Delete, move |runner| {
                    net::delete_bridge(runner, &bridge)
                });
            }
        ),
    );
    dialog.present();
}

/// Lets `qemu:///session` VMs use `bridge` through qemu-bridge-helper.
pub(super) fn allow_for_session(page: &NetworkingPage, bridge: &str) {
    let name = bridge.to_owned();
    glib::spawn_future_local(glib::clone!(
        #[weak]
        page,
        async move {
            let bridge = name.clone();
            let outcome =
                run_blocking(move || net::allow_bridge_for_session(&Runner::local(), &bridge))
                    .await;
            let message = match outcome {
                Some(Ok(true)) => gettext_f(
                    // Translators: {bridge} is the name of a network bridge.
                    "Virtual machines of user sessions may now use bridge “{bridge}”",
                    &[("bridge", &name)],
                ),
                Some(Ok(false)) => gettext_f(
                    // Translators: {bridge} is the name of a network bridge.
                    "Virtual machines of user sessions could already use bridge “{bridge}”",
                    &[("bridge", &name)],
                ),
                Some(Err(error)) => {
                    let tried = Tried::AllowForSessions;
                    return show_error(&page, &NetFailure { tried, error });
                }
                None => return show_error(&page, &Failure::new(Tried::AllowForSessions.failed())),
            };
            page.tell(&message);
        }
    ));
}

/// Makes the change off the main thread, then asks whether to keep it; `what` says what
/// it did ("Bridge “br0” was created from “eth1”.").
fn run_change(
    page: &NetworkingPage,
    what: String,
    tried: Tried,
    change: impl FnOnce(&Runner) -> Result<PendingChange, NetError> + Send + 'static,
) {
    page.set_sensitive(false);
    glib::spawn_future_local(glib::clone!(
        #[weak]
        page,
        async move {
            let outcome = run_blocking(move || change(&Runner::local())).await;
            match outcome {
                Some(Ok(pending)) => confirm(&page, pending, &what),
                Some(Err(error)) => {
                    page.reload();
                    show_error(&page, &NetFailure { tried, error });
                }
                None => page.reload(),
            }
        }
    ));
}

/// "Keep this configuration?" with a countdown; Revert or running out restores the
/// previous state.
fn confirm(page: &NetworkingPage, pending: PendingChange, what: &str) {
    page.reload();
    let mut what = what.to_owned();
    if pending.through_network_manager() {
        what += "\n\n";
        what += &gettext(
            "NetworkManager made the change and brings the previous configuration back by itself, even if this window is closed.",
        );
    }
    let Some(window) = page.window() else {
        // Nobody can answer: put things back.
        restore(None, pending, String::new());
        return;
    };
    let dialog = KeepConfigurationDialog::new(&window, &what, seconds_left(&pending));

    // The timer holds the change itself: it is restored when due even if the windows are
    // gone by then.
    let countdown = Rc::new(Countdown {
        pending: RefCell::new(Some(pending)),
        source: RefCell::new(None),
        dialog: dialog.downgrade(),
        page: page.downgrade(),
    });
    let source = glib::timeout_add_seconds_local(
        1,
        glib::clone!(
            #[strong]
            countdown,
            move || countdown.tick()
        ),
    );
    countdown.source.replace(Some(source));
    dialog.connect_response(None, move |_, response| countdown.answer(response));
    dialog.present();
}

/// A pending change waiting for Keep or Revert.
struct Countdown {
    pending: RefCell<Option<PendingChange>>,
    /// The one-second timer.
    source: RefCell<Option<glib::SourceId>>,
    dialog: glib::WeakRef<KeepConfigurationDialog>,
    page: glib::WeakRef<NetworkingPage>,
}

/// Whole seconds left to answer, rounded up.
fn seconds_left(pending: &PendingChange) -> u64 {
    pending.remaining(Instant::now()).as_secs_f64().ceil() as u64
}

impl Countdown {
    /// Every second: show the time left, or restore the old state when it is up.
    fn tick(&self) -> glib::ControlFlow {
        let due = self
            .pending
            .borrow()
            .as_ref()
            .map(|p| p.is_due(Instant::now()));
        match due {
            Some(false) => {
                if let (Some(dialog), Some(p)) = (self.dialog.upgrade(), &*self.pending.borrow()) {
                    dialog.set_seconds_left(seconds_left(p));
                }
                return glib::ControlFlow::Continue;
            }
            Some(true) => {
                if let Some(p) = self.pending.take() {
                    let message = gettext(
                        "The change was not confirmed in time; the previous configuration is back.",
                    );
                    restore(self.page.upgrade().as_ref(), p, message);
                }
            }
            None => {}
        }
        // The source ends by returning Break; it must not be removed again.
        self.source.take();
        if let Some(dialog) = self.dialog.upgrade() {
            dialog.close();
        }
        glib::ControlFlow::Break
    }

    /// The dialog's answer: keep the change, or anything else restores the old state.
    fn answer(&self, response: &str) {
        if let Some(source) = self.source.take() {
            source.remove();
        }
        let Some(p) = self.pending.take() else {
            return;
        };
        let page = self.page.upgrade();
        if response == "keep" {
            settle(
                page.as_ref(),
                gettext("The new configuration is kept"),
                Tried::Keep,
                move || p.keep(),
            );
        } else {
            let message = gettext("The previous configuration is back");
            restore(page.as_ref(), p, message);
        }
    }
}

/// Restores the state before `pending` (or waits for the helper, which restores it by
/// itself when the countdown is up), then says `message` (or what went wrong) on `page`
/// if it is still there.
fn restore(page: Option<&NetworkingPage>, pending: PendingChange, message: String) {
    settle(page, message, Tried::Restore, move || {
        pending.revert().map(drop)
    });
}

/// Keeps or restores off the main thread with `work`, then says `message` (or that
/// `tried` failed and why) on `page` if it is still there.
fn settle(
    page: Option<&NetworkingPage>,
    message: String,
    tried: Tried,
    work: impl FnOnce() -> Result<(), NetError> + Send + 'static,
) {
    let page = page.map(|p| {
        p.set_sensitive(false);
        p.downgrade()
    });
    glib::spawn_future_local(async move {
        let outcome = run_blocking(work).await;
        let Some(page) = page.and_then(|p| p.upgrade()) else {
            if let Some(Err(error)) = outcome {
                let failure = NetFailure { tried, error };
                tracing::error!("{}: {}", failure.title(), failure.error);
            }
            return;
        };
        page.reload();
        match outcome {
            Some(Ok(())) => page.tell(&message),
            Some(Err(error)) => show_error(&page, &NetFailure { tried, error }),
            None => {}
        }
    });
}
