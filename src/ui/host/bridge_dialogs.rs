//! Creating a bridge from a NIC and deleting one: ask first, make the change off the main
//! thread, then "Keep this configuration?" with a countdown that restores the previous
//! state unless the user keeps the new one.

use super::networking::NetworkPage;
use super::{off_main, show_error};
use crate::host::net::{
    self, validate_bridge_name, BridgeRequest, NetError, PendingChange, Runner, DEFAULT_BRIDGE,
};
use crate::i18n::{gettext, gettext_f, ngettext};
use adw::prelude::*;
use gtk::glib;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

/// What a network change did, for the words of the dialogs.
struct Done {
    /// "Bridge “br0” was created from “eth1”."
    what: String,
    /// Heading of the dialog when the change fails.
    failed: String,
}

/// A dialog above the page's window asking `heading`, answered "cancel" when closed.
fn question(page: &NetworkPage, heading: &str, body: &str) -> Option<adw::MessageDialog> {
    let dialog = adw::MessageDialog::builder()
        .transient_for(&page.window()?)
        .modal(true)
        .heading(heading)
        .body(body)
        .close_response("cancel")
        .default_response("cancel")
        .build();
    Some(dialog)
}

/// Asks for the bridge's name and STP, then makes bridge from `nic`.
pub(super) fn create(page: &NetworkPage, nic: &str) {
    let Some(dialog) = question(
        page,
        &gettext_f(
            // Translators: {nic} is a network card such as eth0.
            "Create a Bridge from “{nic}”?",
            &[("nic", nic)],
        ),
        &gettext_f(
            // Translators: {nic} is a network card such as eth0.
            "The IP configuration of “{nic}” (its addresses and routes) moves to the new bridge, and “{nic}” joins the bridge. Connections may stop for a moment. The change lasts until the computer restarts.",
            &[("nic", nic)],
        ),
    ) else {
        return;
    };
    dialog.set_default_response(Some("create"));
    let name = adw::EntryRow::builder()
        .title(gettext("Bridge name"))
        .text(DEFAULT_BRIDGE)
        .build();
    let stp = super::labelled_switch(&gettext("Spanning tree protocol (STP)"));
    let stp_row = adw::ActionRow::builder()
        .title(gettext("Spanning tree protocol (STP)"))
        .subtitle(gettext(
            "Only needed when bridges connect the same networks in a loop",
        ))
        .activatable_widget(&stp)
        .build();
    stp_row.add_suffix(&stp);
    let list = gtk::ListBox::builder()
        .selection_mode(gtk::SelectionMode::None)
        .css_classes(["boxed-list"])
        .build();
    list.append(&name);
    list.append(&stp_row);
    let problem = gtk::Label::builder()
        .wrap(true)
        .xalign(0.0)
        .css_classes(["error", "caption"])
        .visible(false)
        .build();
    let content = gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(12)
        .build();
    content.append(&list);
    content.append(&problem);
    if Runner::local().escalates() {
        content.append(&privileges_note());
    }
    dialog.set_extra_child(Some(&content));
    dialog.add_responses(&[
        ("cancel", &gettext("_Cancel")),
        ("create", &gettext("C_reate Bridge")),
    ]);
    dialog.set_response_appearance("create", adw::ResponseAppearance::Suggested);

    let links = page.links();
    name.connect_changed(glib::clone!(
        #[weak]
        dialog,
        #[weak]
        problem,
        move |entry| {
            let check = validate_bridge_name(&entry.text(), &links);
            if let Err(e) = &check {
                problem.set_label(&e.to_string());
            }
            problem.set_visible(check.is_err());
            dialog.set_response_enabled("create", check.is_ok());
        }
    ));
    let nic = nic.to_owned();
    dialog.connect_response(
        Some("create"),
        glib::clone!(
            #[weak]
            page,
            move |_, _| {
                let request = BridgeRequest {
                    nic: nic.clone(),
                    name: name.text().to_string(),
                    stp: stp.is_active(),
                };
                let done = Done {
                    what: gettext_f(
                        // Translators: {bridge} is a new bridge, {nic} a network card.
                        "Bridge “{bridge}” was created from “{nic}”.",
                        &[("bridge", &request.name), ("nic", &request.nic)],
                    ),
                    failed: gettext("The bridge was not created"),
                };
                run_change(&page, done, move |runner| {
                    net::create_bridge(runner, &request)
                });
            }
        ),
    );
    dialog.present();
}

/// Asks before deleting `bridge`, then deletes it.
pub(super) fn delete(page: &NetworkPage, bridge: &str) {
    let Some(dialog) = question(
        page,
        &gettext_f(
            // Translators: {bridge} is the name of a network bridge.
            "Delete Bridge “{bridge}”?",
            &[("bridge", bridge)],
        ),
        &gettext(
            "Its addresses and routes go back to the network card that joined it. Virtual machines attached to the bridge lose their network.",
        ),
    ) else {
        return;
    };
    if Runner::local().escalates() {
        dialog.set_extra_child(Some(&privileges_note()));
    }
    dialog.add_responses(&[
        ("cancel", &gettext("_Cancel")),
        ("delete", &gettext("_Delete Bridge")),
    ]);
    dialog.set_response_appearance("delete", adw::ResponseAppearance::Destructive);
    let bridge = bridge.to_owned();
    dialog.connect_response(
        Some("delete"),
        glib::clone!(
            #[weak]
            page,
            move |_, _| {
                let done = Done {
                    what: gettext_f(
                        // Translators: {bridge} is the name of a network bridge.
                        "Bridge “{bridge}” was deleted.",
                        &[("bridge", &bridge)],
                    ),
                    failed: gettext("The bridge was not deleted"),
                };
                let bridge = bridge.clone();
                run_change(&page, done, move |runner| {
                    net::delete_bridge(runner, &bridge)
                });
            }
        ),
    );
    dialog.present();
}

/// Lets `qemu:///session` VMs use `bridge` through qemu-bridge-helper.
pub(super) fn allow_for_session(page: &NetworkPage, bridge: &str) {
    let name = bridge.to_owned();
    glib::spawn_future_local(glib::clone!(
        #[weak]
        page,
        async move {
            let bridge = name.clone();
            let outcome =
                off_main(move || net::allow_bridge_for_session(&Runner::local(), &bridge)).await;
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
                Some(Err(e)) => e.to_string(),
                None => gettext("The bridge could not be allowed"),
            };
            page.toast(&message);
        }
    ));
}

/// "… you will be asked for your password (polkit)": pkexec for iproute2, NetworkManager
/// itself for its changes; both ask through polkit.
fn privileges_note() -> gtk::Label {
    gtk::Label::builder()
        .label(gettext(
            "Changing the network needs administrator rights: you will be asked for your password (polkit).",
        ))
        .wrap(true)
        .xalign(0.0)
        .css_classes(["caption"])
        .build()
}

/// Makes the change off the main thread, then asks whether to keep it.
fn run_change(
    page: &NetworkPage,
    done: Done,
    change: impl FnOnce(&Runner) -> Result<PendingChange, NetError> + Send + 'static,
) {
    page.set_sensitive(false);
    glib::spawn_future_local(glib::clone!(
        #[weak]
        page,
        async move {
            let outcome = off_main(move || change(&Runner::local())).await;
            match outcome {
                Some(Ok(pending)) => confirm(&page, pending, &done.what),
                Some(Err(e)) => {
                    page.reload();
                    if let Some(window) = page.window() {
                        show_error(&window, &done.failed, &e.to_string());
                    }
                }
                None => page.reload(),
            }
        }
    ));
}

/// The body of the countdown dialog with `seconds` left.
fn countdown_text(what: &str, seconds: u64) -> String {
    let left = ngettext(
        "Without an answer, the previous configuration comes back in {seconds} second.",
        "Without an answer, the previous configuration comes back in {seconds} seconds.",
        seconds.try_into().unwrap_or(u32::MAX),
    )
    .replace("{seconds}", &seconds.to_string());
    format!("{what}\n\n{left}")
}

/// "Keep this configuration?" with a countdown; Revert or running out restores the
/// previous state.
fn confirm(page: &NetworkPage, pending: PendingChange, what: &str) {
    page.reload();
    let mut what = what.to_owned();
    if pending.through_network_manager() {
        what += "\n\n";
        what += &gettext(
            "NetworkManager made the change and brings the previous configuration back by itself, even if this window is closed.",
        );
    }
    let what = what.as_str();
    let Some(window) = page.window() else {
        // Nobody can answer: put things back.
        restore(None, pending, String::new());
        return;
    };
    let dialog = adw::MessageDialog::builder()
        .transient_for(&window)
        .modal(true)
        .heading(gettext("Keep this configuration?"))
        .body(countdown_text(what, seconds_left(&pending)))
        .close_response("revert")
        .default_response("keep")
        .build();
    dialog.add_responses(&[("revert", &gettext("_Revert")), ("keep", &gettext("_Keep"))]);
    dialog.set_response_appearance("keep", adw::ResponseAppearance::Suggested);

    // The timer holds the change itself: it is restored when due even if the windows are
    // gone by then.
    let countdown = Rc::new(Countdown {
        pending: RefCell::new(Some(pending)),
        source: RefCell::new(None),
        dialog: dialog.downgrade(),
        page: page.downgrade(),
        what: what.to_owned(),
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
    dialog: glib::WeakRef<adw::MessageDialog>,
    page: glib::WeakRef<NetworkPage>,
    what: String,
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
                    dialog.set_body(&countdown_text(&self.what, seconds_left(p)));
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
                gettext("The new configuration could not be kept"),
                move || p.confirm(&Runner::local()),
            );
        } else {
            let message = gettext("The previous configuration is back");
            restore(page.as_ref(), p, message);
        }
    }
}

/// Restores the state before `pending`, then says `message` (or what went wrong) on
/// `page` if it is still there.
fn restore(page: Option<&NetworkPage>, pending: PendingChange, message: String) {
    settle(
        page,
        message,
        gettext("The previous configuration could not be restored"),
        move || pending.expire(&Runner::local()),
    );
}

/// Keeps or restores off the main thread with `work`, then says `message` (or `failed` and
/// what went wrong) on `page` if it is still there.
fn settle(
    page: Option<&NetworkPage>,
    message: String,
    failed: String,
    work: impl FnOnce() -> Result<(), NetError> + Send + 'static,
) {
    let page = page.map(|p| {
        p.set_sensitive(false);
        p.downgrade()
    });
    glib::spawn_future_local(async move {
        let outcome = off_main(work).await;
        let Some(page) = page.and_then(|p| p.upgrade()) else {
            if let Some(Err(e)) = outcome {
                tracing::error!("{failed}: {e}");
            }
            return;
        };
        page.reload();
        match outcome {
            Some(Ok(())) => page.toast(&message),
            Some(Err(e)) => {
                if let Some(window) = page.window() {
                    show_error(&window, &failed, &e.to_string());
                }
            }
            None => {}
        }
    });
}
