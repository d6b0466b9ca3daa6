//! Asking for a console's VNC password when the domain XML has none to offer, or the one
//! it has was refused. What the user types stays in the page's memory only.

use super::ConsolePage;
use crate::i18n::{gettext, gettext_f};
use adw::prelude::*;
use adw::subclass::prelude::*;
use gtk::glib;

/// Asks for the password of `name`'s console above the page's window (the entry hides
/// what is typed); `refused` says the
/// last one was not accepted. `answer` gets the password, or `None` on Cancel.
pub fn ask(
    page: &ConsolePage,
    name: &str,
    refused: bool,
    answer: impl Fn(Option<String>) + 'static,
) {
    // Not a GtkPasswordEntry: GTK 4.8's stays connected to the keyboard's Caps Lock
    // state after it is finalized, and warns on every later change.
    let entry = gtk::Entry::builder()
        .visibility(false)
        .input_purpose(gtk::InputPurpose::Password)
        .activates_default(true)
        .build();
    let body = if refused {
        gettext("The password was not accepted.")
    } else {
        gettext("The virtual machine's display is protected by a password.")
    };
    let heading = gettext_f(
        // Translators: {name} is the name of a virtual machine.
        "Password for {name}'s Console",
        &[("name", name)],
    );
    let dialog = adw::MessageDialog::builder()
        .modal(true)
        .title(&heading)
        .heading(&heading)
        .body(body)
        .extra_child(&entry)
        .close_response("cancel")
        .default_response("connect")
        .build();
    dialog.set_transient_for(page.root().and_downcast_ref::<gtk::Window>());
    dialog.add_responses(&[
        ("cancel", &gettext("_Cancel")),
        ("connect", &gettext("_Connect")),
    ]);
    dialog.set_response_appearance("connect", adw::ResponseAppearance::Suggested);
    dialog.connect_response(
        None,
        glib::clone!(
            #[weak]
            entry,
            move |_, response| {
                let password = (response == "connect").then(|| entry.text().to_string());
                // The entry's text is not needed any more.
                entry.set_text("");
                answer(password);
            }
        ),
    );
    dialog.present();
    entry.grab_focus();
}

impl ConsolePage {
    /// The console wants a password (`refused`: the last one was wrong): asks, then
    /// reconnects with the answer; Cancel leaves the page disconnected.
    pub(super) fn ask_password(&self, refused: bool) {
        let Some(domain) = self.domain() else {
            return;
        };
        let answer = glib::clone!(
            #[weak(rename_to = page)]
            self,
            #[strong]
            domain,
            move |password: Option<String>| {
                if page.domain().as_ref() != Some(&domain) {
                    return; // the page shows another machine now
                }
                let cancelled = password.is_none();
                page.imp().password.replace(password);
                if cancelled {
                    page.show_disconnected(&gettext(
                        "The console needs a password, and none was given.",
                    ));
                } else if page.is_mapped() {
                    page.connect_console();
                }
            }
        );
        ask(self, &domain.name(), refused, answer);
    }
}
